"""Conversations: chats, messages and status trails read from real captures of every gateway."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from helpers.bundled import body_of, fixture, fixtures_root

from hookcatcher.check.validation import Validator
from hookcatcher.core import catalog, chats
from hookcatcher.core.capture import Capture
from hookcatcher.core.chats import chat_of
from hookcatcher.core.conversation import NOT_CAPTURED, thread
from hookcatcher.core.messages import Message, StatusChange, messages_of, statuses_of
from hookcatcher.receive.ingest import build_capture

ANA = "5511900000001@s.whatsapp.net"
JSON = [("content-type", "application/json")]


def capture(
    validator: Validator, body: Any, capture_id: int, headers: list[tuple[str, str]] = JSON
) -> Capture:
    """A capture as the server builds it, with the id the store would give."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    built = build_capture(validator, "POST", "/", "", headers, "127.0.0.1:1", raw)
    built.id = capture_id
    return built


def from_fixture(validator: Validator, name: str, capture_id: int = 1) -> Capture:
    headers = [(key, value) for key, value in fixture(name)["headers"]]
    return capture(validator, body_of(name), capture_id, headers)


def envelope(name: str, event: str, data: Any) -> dict[str, Any]:
    """A bundled fixture's envelope carrying another event and data."""
    body = copy.deepcopy(fixture(name)["body"])
    body["event"], body["data"] = event, data
    return body


def evolution(event: str, data: Any) -> dict[str, Any]:
    return envelope("evolution/v2/messages.upsert.text", event, data)


def all_fixtures() -> list[str]:
    root = fixtures_root()
    return sorted(str(path.relative_to(root).with_suffix("")) for path in root.rglob("*.json"))


NEW_MESSAGE_EVENTS = {
    "messages.upsert",
    "send.message",
    "messages.set",
    "messages/post",
    "messages/put",
}


@pytest.mark.parametrize("name", all_fixtures())
def test_every_fixture_reads_without_error_and_message_events_name_their_chat(
    validator: Validator, name: str
) -> None:
    found = from_fixture(validator, name)
    assert (found.provider, found.event) == (fixture(name)["provider"], fixture(name)["event"])
    chat = chat_of(found)
    messages, statuses = messages_of(found), statuses_of(found)
    if found.event in NEW_MESSAGE_EVENTS:
        assert chat is not None and "@" in chat
        assert messages and messages[0].chat == chat
        assert all(message.text and message.id for message in messages)
    assert all(isinstance(status, StatusChange) and status.status for status in statuses)


@pytest.mark.parametrize(
    "name, chat",
    [
        ("evolution/v2/qrcode.updated", None),
        ("evolution/v2/connection.update.open", None),
        ("evolution/v2/messages.update.read", ANA),
        ("evolution/v1/chats.set", "5521900000002@s.whatsapp.net"),  # v1 names the JID `id`
        ("evolution/v2/chats.delete", "5511900000005@s.whatsapp.net"),  # bare JIDs
        ("evolution/v2/group-participants.update.add", "120363000000000001@g.us"),
        ("codechat/v1.3/messages.set", ANA),  # the first of two items
        ("codechat/v1.3/chats.upsert", "5511900000003@s.whatsapp.net"),  # id is the row
        ("codechat/v2/messages.update.read", None),  # names a row id, no chat
        ("codechat/2026/messages.update.read", None),
        ("codechat/2026/groups.update", "120363000000000001@g.us"),
        ("codechat/2026/message.batch.created", None),
        ("whapi/statuses.post.read", ANA),  # the recipient
        ("whapi/messages.delete", None),  # message ids only
        ("whapi/chats.patch", "5511900000002@s.whatsapp.net"),
        ("whapi/channel.patch.qr", None),
    ],
)
def test_chat_of_looks_where_each_event_keeps_it(
    validator: Validator, name: str, chat: str | None
) -> None:
    assert chat_of(from_fixture(validator, name)) == chat


def test_chat_tables_name_only_catalog_events() -> None:
    for name in chats._CHAT_PATHS:
        assert catalog.find("evolution", name) or catalog.find("codechat", name), name
    payloads = {key for event in catalog.PROVIDERS["whapi"].events for key in event.payload}
    assert set(chats._WHAPI_CHAT) <= payloads


@pytest.mark.parametrize(
    "name, kind, text",
    [
        (
            "evolution/v1/messages.upsert.text",
            "text",
            "Good morning! https://example.com/order/123",
        ),
        ("evolution/v1/messages.upsert.image", "image", "[image]"),
        ("evolution/v2/messages.upsert.image", "image", "The damaged box"),
        ("evolution/v2/messages.upsert.reaction", "reaction", "\N{THUMBS UP SIGN}"),
        ("evolution/v2/messages.upsert.poll", "poll", "Best delivery slot?"),
        ("codechat/v1.0-1.2/messages.upsert.group-image", "image", "Our new shelf"),
        ("codechat/v1.3/messages.upsert.group-image", "image", "Delivery schedule"),
        ("codechat/v2/messages.upsert.text", "text", "Can I change my delivery address?"),
        ("codechat/2026/messages.upsert.text", "text", "Hi! Is my order ready?"),
        ("whapi/messages.post.image", "image", "Here is the receipt"),
        ("whapi/messages.post.location", "location", "Example Store"),
        ("whapi/messages.post.reaction", "reaction", "\N{THUMBS UP SIGN}"),
        ("whapi/messages.post.poll", "poll", "Team lunch on Friday?"),
    ],
)
def test_kind_and_human_text(validator: Validator, name: str, kind: str, text: str) -> None:
    [message] = messages_of(from_fixture(validator, name))
    assert (message.kind, message.text) == (kind, text)


def test_message_fields_from_each_generation(validator: Validator) -> None:
    [v12] = messages_of(from_fixture(validator, "codechat/v1.0-1.2/send.message.text", 4))
    assert v12 == Message(
        chat=ANA,
        id="BAE5F0A1B2C3D4E5",
        from_me=True,
        sender=None,
        kind="text",
        text="Yes, we open at 9am.",
        timestamp=1696420860,
        capture_id=4,
        event="send.message",
    )  # timestamp was a string
    [v2] = messages_of(from_fixture(validator, "codechat/v2/send.message.text"))
    assert (v2.id, v2.row_id, v2.sender) == (
        "3EB0F1E2D3C4B5A69788",
        "d1f0c0de-0000-4000-8000-000000000012",
        None,
    )
    [new] = messages_of(from_fixture(validator, "codechat/2026/send.message.text"))
    assert (new.id, new.row_id, new.from_me) == ("3EB0D4C3B2A1F0E9D8C7B6", "2048", True)
    [whapi] = messages_of(from_fixture(validator, "whapi/messages.post.text"))
    assert (whapi.sender, whapi.from_me, whapi.timestamp, whapi.event) == (
        "Diego Example",
        False,
        1763712200,
        "messages/post",
    )
    assert [m.chat for m in messages_of(from_fixture(validator, "evolution/v2/messages.set"))] == [
        ANA,
        ANA,
    ]


def test_timestamps_of_every_form(validator: Validator) -> None:
    long = evolution(
        "messages.upsert",
        {
            "key": {"remoteJid": ANA, "fromMe": False, "id": "L1"},
            "message": {"conversation": "x"},
            "messageTimestamp": {"low": 1763712000, "high": 0, "unsigned": False},
        },
    )
    assert messages_of(capture(validator, long, 1))[0].timestamp == 1763712000
    [edit] = messages_of(from_fixture(validator, "evolution/v2/messages.edited.edit"))
    assert edit.timestamp == 1763712659  # timestampMs
    [status] = statuses_of(from_fixture(validator, "codechat/2026/messages.update.read"))
    assert status.timestamp == int(datetime(2026, 7, 4, 18, 5, tzinfo=timezone.utc).timestamp())
    [v1] = statuses_of(from_fixture(validator, "evolution/v1/messages.update.delivered"))
    assert v1.timestamp == 1719990005  # datetime in milliseconds
    weird = evolution("messages.upsert", {"key": {"id": "W"}, "messageTimestamp": True})
    assert messages_of(capture(validator, weird, 1))[0].timestamp is None


def evolution_v2_conversation(validator: Validator) -> list[Capture]:
    other = "5511900000009@s.whatsapp.net"
    bodies = [
        evolution(
            "messages.upsert",
            {
                "key": {"remoteJid": other, "fromMe": False, "id": "3EB0OTHER0000000001"},
                "pushName": "Bia Example",
                "message": {"conversation": "Are you open?"},
                "messageType": "conversation",
                "messageTimestamp": 1763711000,
            },
        ),
        fixture("evolution/v2/messages.upsert.text")["body"],
        fixture("evolution/v2/send.message.text")["body"],
    ]
    sent = {
        "keyId": "3EB0A7B8C9D0E1F2A3B4",
        "remoteJid": ANA,
        "fromMe": True,
        "instanceId": "0b7c2f0e-6a8d-4c1e-9a51-1f2e3d4c5b6a",
    }
    for status in ("SERVER_ACK", "DELIVERY_ACK", "DELIVERY_ACK", "READ"):
        bodies.append(evolution("messages.update", {**sent, "status": status}))
    return [capture(validator, body, number) for number, body in enumerate(bodies, start=1)]


def test_evolution_v2_conversation_threads_with_a_status_trail(validator: Validator) -> None:
    captures = evolution_v2_conversation(validator)
    # The TUI only has captures read back from the API's JSON.
    threads = thread(Capture.from_json(found.to_json(include_raw=False)) for found in captures)
    assert [(t.chat, t.last_capture_id) for t in threads] == [
        (ANA, 7),
        ("5511900000009@s.whatsapp.net", 1),
    ]
    ana = threads[0]
    assert (ana.provider, ana.instance) == ("evolution", "sales")
    assert [(m.from_me, m.sender, m.text, m.event) for m in ana.messages] == [
        (False, "Ana Example", "Hi, is my order on its way?", "messages.upsert"),
        (True, None, "Your order has shipped.", "send.message"),
    ]
    assert ana.trail("3EB0A7B8C9D0E1F2A3B4") == ["SERVER_ACK", "DELIVERY_ACK", "READ"]
    assert ana.trail("3EB0C4F1A2B3C4D5E6F7") == []
    assert [s.capture_id for s in ana.statuses] == [4, 5, 6, 7]


def test_most_recent_activity_comes_first(validator: Validator) -> None:
    captures = evolution_v2_conversation(validator)
    late = evolution(
        "messages.upsert",
        {
            "key": {"remoteJid": "5511900000009@s.whatsapp.net", "fromMe": False, "id": "3EB0LATE"},
            "message": {"conversation": "Hello?"},
        },
    )
    threads = thread([*captures, capture(validator, late, 8)])
    assert [t.chat for t in threads] == ["5511900000009@s.whatsapp.net", ANA]


def test_trail_follows_arrival_not_list_order(validator: Validator) -> None:
    captures = evolution_v2_conversation(validator)
    [ana, _] = thread(reversed(captures))
    assert ana.trail("3EB0A7B8C9D0E1F2A3B4") == ["SERVER_ACK", "DELIVERY_ACK", "READ"]


def test_sent_message_reported_twice_is_shown_once(validator: Validator) -> None:
    sent = fixture("evolution/v2/send.message.text")["body"]
    echo = evolution("messages.upsert", {**sent["data"], "pushName": "Você"})
    [only] = thread([capture(validator, sent, 1), capture(validator, echo, 2)])
    assert [(m.id, m.event, m.sender) for m in only.messages] == [
        ("3EB0A7B8C9D0E1F2A3B4", "send.message", None)
    ]
    assert only.last_capture_id == 2


def test_status_that_overtakes_its_message_still_lands_on_it(validator: Validator) -> None:
    update = evolution(
        "messages.update",
        {"keyId": "3EB0A7B8C9D0E1F2A3B4", "remoteJid": ANA, "fromMe": True, "status": "SERVER_ACK"},
    )
    [only] = thread(
        [
            capture(validator, update, 1),
            from_fixture(validator, "evolution/v2/send.message.text", 2),
        ]
    )
    assert [m.kind for m in only.messages] == ["text"]
    assert only.trail("3EB0A7B8C9D0E1F2A3B4") == ["SERVER_ACK"]


def test_whapi_conversation_keeps_the_gateway_words(validator: Validator) -> None:
    incoming = fixture("whapi/messages.post.reply")["body"]
    outgoing = copy.deepcopy(fixture("whapi/messages.post.text")["body"])
    outgoing["messages"][0].update(
        id="Rb2Vc4Xe6Gn8Jm0-pQ1sW3yU5iO",
        from_me=True,
        chat_id=ANA,
        from_name="Example Store",
        text={"body": "On Saturday?"},
    )
    delivered = fixture("whapi/statuses.post.delivered")["body"]
    read = fixture("whapi/statuses.post.read")["body"]
    threads = thread(
        capture(validator, body, number)
        for number, body in enumerate([incoming, outgoing, delivered, read], start=1)
    )
    [ana] = threads
    assert (ana.chat, ana.instance, ana.last_capture_id) == (ANA, "EXAMPLE-M72HC", 4)
    assert [(m.from_me, m.sender, m.text) for m in ana.messages] == [
        (False, "Ana Example", "Yes, Saturday morning works for me."),
        (True, "Example Store", "On Saturday?"),
    ]
    assert ana.trail("Rb2Vc4Xe6Gn8Jm0-pQ1sW3yU5iO") == ["delivered", "read"]


def test_status_for_a_message_not_captured_shows_a_placeholder(validator: Validator) -> None:
    [group] = thread([from_fixture(validator, "whapi/statuses.put", 3)])
    [missing] = group.messages
    assert group.chat == "120363000000000001@g.us"
    assert (missing.id, missing.text, missing.captured, missing.from_me, missing.capture_id) == (
        "Gr4Ou5Pm6Sg7Re8-aD9bC0dE1fG",
        NOT_CAPTURED,
        False,
        True,
        3,
    )
    assert group.trail(missing.id) == ["read"]


def test_codechat_v2_status_joins_its_message_by_row_id(validator: Validator) -> None:
    update = fixture("codechat/v2/messages.update.read")["body"]
    delivered = copy.deepcopy(update)
    delivered["data"]["status"] = "DELIVERY_ACK"
    headers = [(k, v) for k, v in fixture("codechat/v2/messages.update.read")["headers"]]
    threads = thread(
        [
            from_fixture(validator, "codechat/v2/messages.upsert.text", 1),
            from_fixture(validator, "codechat/v2/send.message.text", 2),
            capture(validator, delivered, 3, headers),
            capture(validator, update, 4, headers),
        ]
    )
    [chat] = threads
    assert chat.chat == "5531900000003@s.whatsapp.net"
    assert [(m.from_me, m.text) for m in chat.messages] == [
        (False, "Can I change my delivery address?"),
        (True, "Yes, send us the new address."),
    ]
    assert chat.trail("3EB0F1E2D3C4B5A69788") == ["DELIVERY_ACK", "READ"]
    assert {(s.message_id, s.chat) for s in chat.statuses} == {
        ("3EB0F1E2D3C4B5A69788", "5531900000003@s.whatsapp.net")
    }


def test_codechat_v2_status_alone_waits_in_a_thread_without_chat(validator: Validator) -> None:
    [orphan] = thread([from_fixture(validator, "codechat/v2/messages.update.read", 9)])
    assert orphan.chat is None
    assert [(m.id, m.text) for m in orphan.messages] == [
        ("d1f0c0de-0000-4000-8000-000000000012", NOT_CAPTURED)
    ]
    assert orphan.trail("d1f0c0de-0000-4000-8000-000000000012") == ["READ"]


def test_codechat_2026_trail_and_row_ids_stay_within_their_instance(validator: Validator) -> None:
    name = "codechat/2026/messages.update.read"
    headers = [(k, v) for k, v in fixture(name)["headers"]]
    updates = []
    for status in ("sent", "delivered", "read"):
        body = copy.deepcopy(fixture(name)["body"])
        body["data"]["status"] = status
        updates.append(body)
    elsewhere = copy.deepcopy(fixture(name)["body"])
    elsewhere["instance"]["name"] = "sales"  # the same row id on another instance
    captures = [
        from_fixture(validator, "codechat/2026/messages.upsert.text", 1),
        from_fixture(validator, "codechat/2026/send.message.text", 2),
    ]
    captures += [
        capture(validator, body, number, headers)
        for number, body in enumerate([*updates, elsewhere], start=3)
    ]
    sales, support = thread(captures)
    assert (support.instance, support.chat) == ("support", ANA)
    assert [m.text for m in support.messages] == [
        "Hi! Is my order ready?",
        "Yes, you can pick it up after 2pm.",
    ]
    assert support.trail("3EB0D4C3B2A1F0E9D8C7B6") == ["sent", "delivered", "read"]
    assert (sales.instance, sales.chat, [m.id for m in sales.messages]) == ("sales", None, ["2048"])


def test_edits_and_deletions_sit_on_the_message_they_change(validator: Validator) -> None:
    threads = thread(
        [
            from_fixture(validator, "evolution/v2/messages.upsert.text", 1),
            from_fixture(validator, "evolution/v2/messages.edited.edit", 2),
            from_fixture(validator, "evolution/v2/messages.update.edit", 3),
            from_fixture(validator, "evolution/v2/messages.edited.edit", 4),  # a retried delivery
        ]
    )
    [ana] = threads
    assert [(m.kind, m.id, m.text) for m in ana.messages] == [
        ("text", "3EB0C4F1A2B3C4D5E6F7", "Hi, is my order on its way?"),
        ("edit", "3EB0C4F1A2B3C4D5E6F7", "Hi, is my order #123 on its way?"),
    ]
    assert ana.trail("3EB0C4F1A2B3C4D5E6F7") == ["DELETED"]  # Evolution's word for an edit
    [revoke] = messages_of(from_fixture(validator, "evolution/v2/messages.edited.revoke"))
    assert (revoke.kind, revoke.text) == ("delete", "[deleted]")


def test_whapi_deletion_takes_the_chat_of_its_message(validator: Validator) -> None:
    posted = copy.deepcopy(fixture("whapi/messages.post.text")["body"])
    posted["messages"][0]["id"] = "Dl3Et4Ed5Ms6Gx7-rM8vD9eL0aB"
    [chat] = thread(
        [capture(validator, posted, 1), from_fixture(validator, "whapi/messages.delete", 2)]
    )
    assert chat.chat == "5541900000004@s.whatsapp.net"
    assert [(m.kind, m.chat) for m in chat.messages] == [("text", chat.chat), ("delete", chat.chat)]
    [alone] = thread([from_fixture(validator, "whapi/messages.delete", 2)])
    assert (alone.chat, alone.messages[0].kind) == (None, "delete")
    [edit] = messages_of(from_fixture(validator, "whapi/messages.patch"))
    assert (edit.kind, edit.id, edit.text) == (
        "edit",
        "Ed1It2Me3Ss4Ag5-eX6aM7pL8eA",
        "I will pick it up at 4pm",
    )


HOSTILE_DATA: list[Any] = [
    None,
    5,
    "text",
    True,
    [],
    [None, 5, "x", []],
    {},
    {"key": 5},
    {"key": None},
    {"key": {"id": 5.5, "remoteJid": ["x"]}},
    {"key": {"id": ["x"]}, "message": {"a": 1}},
    {
        "key": {"id": "A", "fromMe": "yes"},
        "message": "hi",
        "messageType": 7,
        "messageTimestamp": {"low": "1", "high": None},
    },
    {
        "key": {"id": "A"},
        "message": {
            "ephemeralMessage": {
                "message": {
                    "ephemeralMessage": {
                        "message": {
                            "viewOnceMessage": {"message": {"ephemeralMessage": {"message": {}}}}
                        }
                    }
                }
            }
        },
    },
    {"keyId": {}, "content": 5},
    {"keyId": "B", "content": [1], "messageTimestamp": "soon"},
    {"keyId": "B", "messageTimestamp": "9" * 400, "messageType": ""},
    {"keyId": "C", "status": ["READ"], "datetime": float("1e300")},
    {"keyId": "C", "status": True, "dateTime": "2026-99-99T00:00:00Z"},
    {"messageId": True, "status": "read"},
    {"type": {"x": 1}, "key": {"id": "D"}},
    {"chatJid": 5, "messageId": None},
    {"update": [1, 2]},
]
EVENTS = [
    "messages.upsert",
    "send.message",
    "messages.set",
    "messages.update",
    "messages.delete",
    "messages.edited",
    "send.message.update",
    "chats.delete",
    "presence.update",
]


@pytest.mark.parametrize("event", EVENTS)
def test_hostile_evolution_and_codechat_bodies_never_raise(
    validator: Validator, event: str
) -> None:
    headers = [(k, v) for k, v in fixture("codechat/2026/messages.upsert.text")["headers"]]
    for number, data in enumerate(HOSTILE_DATA):
        for body, sent_with in (
            (evolution(event, data), JSON),
            (envelope("codechat/2026/messages.upsert.text", event, data), headers),
        ):
            found = capture(validator, body, number, sent_with)
            chat = chat_of(found)
            assert chat is None or isinstance(chat, str)
            for item in (*messages_of(found), *statuses_of(found)):
                assert isinstance(item, (Message, StatusChange))
            if not isinstance(data, (dict, list)) or data in ([], {}):
                assert (chat, messages_of(found), statuses_of(found)) == (None, [], [])
            thread([found])


def test_hostile_whole_bodies_give_nothing(validator: Validator) -> None:
    bodies: list[Any] = [
        [],
        None,
        5,
        "x",
        {"data": 5},
        {"event": "messages.upsert", "data": 5},
        b"\xff\xfe not json",
        b"",
    ]
    whapi = {"type": "messages", "event": "post"}
    bodies += [
        {"messages": 5, "event": whapi},
        {"messages": [5, None, [], {"id": 5}], "event": whapi},
        {"statuses": {"id": "x", "status": ["read"]}, "event": whapi},
        {"messages_removed": [5, None, ""], "event": whapi},
        {"messages_updates": [{"after_update": "x"}], "event": whapi},
        {"chats": [], "event": {"type": "chats", "event": "post"}},
    ]
    for number, body in enumerate(bodies):
        found = capture(validator, body, number)
        assert (chat_of(found), messages_of(found), statuses_of(found)) == (None, [], []), body
        assert thread([found]) == []


def test_partial_message_is_kept_with_what_it_has(validator: Validator) -> None:
    upsert = evolution("messages.upsert", {"key": {"id": "A"}})
    [message] = messages_of(capture(validator, upsert, 1))
    assert (message.chat, message.from_me, message.kind, message.text, message.sender) == (
        None,
        False,
        "unknown",
        "[unknown]",
        None,
    )
    update = evolution("messages.update", {"id": "A", "status": 3})
    [status] = statuses_of(capture(validator, update, 2))
    assert (status.message_id, status.status, status.chat) == ("A", "3", None)


def test_events_lists_every_event_a_conversation_reads(validator) -> None:
    """The conversation view fetches only EVENTS: any fixture that yields messages or
    statuses must be of one of them."""
    from hookcatcher.core.messages import EVENTS

    readers = 0
    for path in sorted(fixtures_root().rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        capture = build_capture(
            validator,
            "POST",
            "/",
            "",
            [tuple(h) for h in document["headers"]],
            "127.0.0.1:1",
            json.dumps(document["body"]).encode(),
        )
        if messages_of(capture) or statuses_of(capture):
            readers += 1
            assert (capture.provider, capture.event) in EVENTS, path.name
    assert readers > 20
