"""classify() against DESIGN.md's table, one gateway mode at a time, and the catalog's facts."""

from __future__ import annotations

import pytest
from helpers.bundled import fixture

from hookcatcher.core import catalog
from hookcatcher.core.capture import Route
from hookcatcher.core.classify import classify


def evolution_body(event: str = "messages.upsert", **extra) -> dict:
    return {"event": event, "instance": "sales", "data": {}, "destination": "http://x", **extra}


def test_evolution_suffix_rule() -> None:
    assert catalog.evolution_suffix("messages.upsert") == "messages-upsert"
    assert catalog.evolution_suffix("group-participants.update") == "group-participants-update"
    assert catalog.evolution_suffix("typebot.change-status") == "typebot-change-status"
    assert catalog.evolution_suffix("call") == "call"


@pytest.mark.parametrize(
    "path, base",
    [
        ("/messages-upsert", "/"),
        ("/webhook/evolution/messages-upsert", "/webhook/evolution"),
        ("/a/b/c/messages-upsert", "/a/b/c"),
    ],
)
def test_evolution_by_events_after_any_base(path: str, base: str) -> None:
    found = classify("POST", path, "", [], evolution_body())
    assert found.route == Route("by-events", base, "messages-upsert")
    assert (found.provider, found.event, found.instance) == (
        "evolution",
        "messages.upsert",
        "sales",
    )
    assert found.warnings == ()


def test_every_evolution_suffix_is_recognised() -> None:
    for event in catalog.PROVIDERS["evolution"].events:
        if event.suffix:
            found = classify("POST", f"/hook/{event.suffix}", "", [], None)
            assert (found.provider, found.event) == ("evolution", event.name)


def test_trailing_slash_and_query_quirks_are_warned() -> None:
    double = classify("POST", "/webhook//messages-upsert", "", [], evolution_body())
    assert double.route.base == "/webhook/"
    assert "double slash" in double.warnings[0]
    inside = classify("POST", "/hook", "t=1/messages-upsert", [], evolution_body())
    assert inside.route == Route("by-events", "/hook?t=1", "messages-upsert")
    assert "inside the query string" in inside.warnings[0]


def test_evolution_errors_webhook_has_no_instance() -> None:
    body = {
        "event": "error",
        "data": {"status": 401},
        "date_time": "x",
        "api_key": "k",
        "server_url": "s",
    }
    found = classify("POST", "/errors", "", [], body)
    assert (found.provider, found.event, found.instance) == ("evolution", "error", None)


def test_codechat_v1_is_told_from_evolution_by_its_owner() -> None:
    body = {"event": "messages.upsert", "instance": "old", "data": {}}
    assert (
        classify("POST", "/", "", [("x-owner", "55@s.whatsapp.net")], body).provider == "codechat"
    )
    assert classify("POST", "/", "owner=55@s.whatsapp.net", [], body).provider == "codechat"
    assert classify("POST", "/", "", [], body).provider == "evolution"
    # Evolution's own fields make it Evolution whatever the headers say.
    assert classify("POST", "/", "", [("x-owner", "1")], evolution_body()).provider == "evolution"


@pytest.mark.parametrize(
    "instance, name",
    [
        ({"instanceId": "i-1", "name": "helpdesk", "WhatsApp": {}, "Business": {}}, "helpdesk"),
        ({"id": 7, "name": "v13", "connectionStatus": "ONLINE"}, "v13"),
        ({"id": "abc", "connectionStatus": "online", "ownerJid": None}, "abc"),
    ],
)
def test_codechat_instance_objects(instance: dict, name: str) -> None:
    found = classify(
        "POST", "/hook", "", [], {"event": "messages.upsert", "instance": instance, "data": {}}
    )
    assert (found.provider, found.instance, found.route.mode) == ("codechat", name, "single")


def test_codechat_has_no_per_event_paths() -> None:
    body = fixture("codechat/v2/messages.upsert.text")["body"]
    found = classify("POST", "/hook/messages-upsert", "", [], body)
    assert found.provider == "codechat" and found.route == Route("single", "/hook/messages-upsert")


def test_codechat_token_refresh_and_batches() -> None:
    assert classify("POST", "/", "", [], {"event": "new.jwt", "auth": "jwt"}).provider == "codechat"
    batch = classify(
        "POST", "/", "", [], {"event": "message.batch.sent", "timestamp": "t", "data": {}}
    )
    assert (batch.provider, batch.event) == ("codechat", "message.batch.sent")
    assert catalog.find("codechat", "message.batch.sent") is not None


def test_whapi_modes() -> None:
    body = fixture("whapi/messages.post.text")["body"]
    assert classify("POST", "/wh", "", [], body).route == Route("single", "/wh")
    path = classify("POST", "/wh/messages/post", "", [], body)
    assert path.route == Route("path", "/wh", "messages/post") and path.event == "messages/post"
    method = classify("PUT", "/wh/statuses", "", [], {"statuses": []})
    assert (method.provider, method.event) == ("whapi", "statuses/put")
    assert method.route == Route("method", "/wh", "statuses")


def test_whapi_path_disagreeing_with_body_is_warned() -> None:
    body = fixture("whapi/messages.post.text")["body"]
    found = classify("POST", "/wh/statuses/post", "", [], body)
    assert found.event == "messages/post"
    assert found.warnings == (
        "the path says statuses/post (/statuses/post) but the body says messages/post",
    )


def test_whapi_legacy_type_names_in_paths() -> None:
    found = classify("POST", "/wh/message/post", "", [], {"messages": []})
    assert found.event == "messages/post"
    assert found.warnings == (
        "legacy Whapi type name 'message' in the path (current name: messages)",
    )


def test_a_body_mode_post_to_a_url_ending_in_a_type_name_stays_single() -> None:
    body = fixture("whapi/messages.post.text")["body"]
    found = classify("POST", "/integrations/chats", "", [], body)
    assert found.route == Route("single", "/integrations/chats")
    assert found.warnings == ()


def test_unrecognised_requests_are_unknown() -> None:
    for body in (None, {}, {"hello": "world"}, [1, 2], "text", {"event": "order.created"}):
        found = classify("POST", "/stripe", "", [], body)
        assert (found.provider, found.event, found.instance) == ("unknown", None, None)
        assert found.route == Route("single", "/stripe")


def test_catalog_describes_every_provider() -> None:
    described = catalog.describe(["evolution/messages.upsert", "evolution/envelope"])
    evolution = described["providers"][0]
    assert evolution["envelope_schema"] == "evolution/envelope"
    names = [e["event"] for e in evolution["events"]]
    for expected in (
        "messages.upsert",
        "send.message.update",
        "group-participants.update",
        "typebot.change-status",
        "logout.instance",
        "chama-ai.action",
        "new.jwt",
    ):
        assert expected in names
    jwt = next(e for e in evolution["events"] if e["event"] == "new.jwt")
    assert jwt["paths"] == []  # posted to the plain URL
    codechat = {e["event"]: e for e in described["providers"][1]["events"]}
    assert codechat["messages.upsert"]["versions"] == ["v1.0-1.2", "v1.3", "v2", "2026"]
    assert "group.participants:update" in codechat and "chats.updated" in codechat
    whapi = {e["event"]: e for e in described["providers"][2]["events"]}
    assert whapi["groups/put"]["payload"] == ["groups_participants"]
    assert len(whapi) == 23


def test_readme_table_is_generated_from_the_catalog() -> None:
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "README.md"
    if not readme.is_file():
        pytest.skip("needs the source checkout")
    text = readme.read_text(encoding="utf-8")
    assert catalog.update_readme(text) == text, (
        "README's event table is out of date: run\n  python -c \"import "
        "hookcatcher.core.catalog as c, "
        "pathlib; p = pathlib.Path('README.md'); p.write_text(c.update_readme(p.read_text()))\""
    )
    for provider in catalog.PROVIDERS.values():
        for event in provider.events:
            assert f"| `{event.name}` |" in text


def test_evolution_subscription_keys() -> None:
    assert catalog.evolution_key("messages.upsert") == "MESSAGES_UPSERT"
    assert catalog.evolution_key("group-participants.update") == "GROUP_PARTICIPANTS_UPDATE"
    assert catalog.evolution_key("typebot.change-status") == "TYPEBOT_CHANGE_STATUS"
    assert catalog.evolution_key("call") == "CALL"
    assert catalog.evolution_key("new.jwt") == "NEW_JWT_TOKEN"


def test_which_evolution_events_an_instance_can_subscribe_to() -> None:
    accepted = set(catalog.EVOLUTION_EVENTS["v1"]) | set(catalog.EVOLUTION_EVENTS["v2"])
    outside = set()
    for event in catalog.PROVIDERS["evolution"].events:
        key = catalog.evolution_key(event.name)
        if event.name in catalog.EVOLUTION_NEVER_DELIVERED:
            assert key not in accepted, event.name
            continue
        outside |= {
            (event.name, version)
            for version in event.versions
            if key not in catalog.EVOLUTION_EVENTS[version]
        }
    # 1.8.2 sends these, but its /webhook/set list has no key for them.
    assert outside == {
        ("instance.create", "v1"),
        ("instance.delete", "v1"),
        ("status.instance", "v1"),
    }


def test_groups_update_is_never_delivered_because_of_its_key() -> None:
    assert catalog.evolution_key("groups.update") == "GROUPS_UPDATE"
    for version in ("v1", "v2"):
        assert "GROUPS_UPDATE" not in catalog.EVOLUTION_EVENTS[version]
        assert "GROUP_UPDATE" in catalog.EVOLUTION_EVENTS[version]
    assert "GROUPS_UPDATE" in catalog.EVOLUTION_NEVER_DELIVERED["groups.update"]


def test_evolution_versions_accept_their_own_keys() -> None:
    v1, v2 = catalog.EVOLUTION_EVENTS["v1"], catalog.EVOLUTION_EVENTS["v2"]
    assert len(v1) == len(set(v1)) == 26 and len(v2) == len(set(v2)) == 31
    assert {"NEW_JWT_TOKEN", "CHAMA_AI_ACTION"} <= set(v1) - set(v2)
    assert {"MESSAGES_EDITED", "SEND_MESSAGE_UPDATE", "LOGOUT_INSTANCE", "STATUS_INSTANCE"} <= set(
        v2
    ) - set(v1)


def test_codechat_flags_name_catalog_events() -> None:
    names = {event.name for event in catalog.PROVIDERS["codechat"].events}
    assert len(catalog.CODECHAT_V2_FLAGS) == 19
    for flag, events in catalog.CODECHAT_V2_FLAGS.items():
        assert events and set(events) <= names, flag
    assert catalog.codechat_flag("messages.upsert") == "messagesUpsert"
    assert catalog.codechat_flag("qrcode.updated") == "qrcodeUpdate"
    for spelling in (
        "group.participants:update",
        "group-participants.update",
        "groups.participants.update",
    ):
        assert catalog.codechat_flag(spelling) == "groupParticipantsUpdate"
    assert catalog.codechat_flag("call.upsert") is None


def test_every_codechat_v2_event_but_call_upsert_has_a_flag() -> None:
    v2 = [e.name for e in catalog.PROVIDERS["codechat"].events if "v2" in e.versions]
    assert [name for name in v2 if catalog.codechat_flag(name) is None] == ["call.upsert"]


def test_whapi_pairs_are_the_catalog_events() -> None:
    pairs = catalog.whapi_pairs()
    assert len(pairs) == 23 and ("messages", "post") in pairs and ("groups", "put") in pairs
    for kind, method in pairs:
        assert kind in catalog.WHAPI_TYPES and method in catalog.WHAPI_METHODS
    assert catalog.WHAPI_DEFAULT_EVENTS == (("messages", "put"),)
    assert set(catalog.WHAPI_LEGACY_TYPES.values()) <= set(catalog.WHAPI_TYPES)
