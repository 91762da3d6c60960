"""Conversations: the messages and delivery statuses inside captures, threaded by chat.

Every gateway keeps a message's chat, id and text somewhere else, and the places moved between
versions: Evolution and CodeChat up to 1.2 send Baileys' `key{remoteJid, id, fromMe}`, CodeChat
1.3 and later flatten it into `keyRemoteJid`/`keyId`/`keyFromMe`, Whapi sends `chat_id`/`id`.
Status events name the message by its WhatsApp id, except CodeChat v2 and 2026, which name the
gateway's own database row (`messageMessageId`, `messageId`) and no chat at all; threading joins
them back to their message through `Message.row_id`.

The bodies read here may be anything (the captures a developer inspects are often the broken
ones): a shape that is not recognised gives nothing, never an exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from hookcatcher.core import catalog
from hookcatcher.core.capture import UNKNOWN, Capture

__all__ = [
    "Message",
    "StatusChange",
    "Thread",
    "NOT_CAPTURED",
    "EVENTS",
    "chat_of",
    "messages_of",
    "statuses_of",
    "thread",
]

NOT_CAPTURED = "(message not captured)"
_CHANGES = frozenset({"edit", "delete"})  # kinds that act on an earlier message
_MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Message:
    """One message as a conversation shows it.

    `kind` is a short word from the gateway's message type (text, image, audio, location,
    reaction, poll, ...). Two kinds act on an earlier message and carry that message's `id`:
    `edit` (text is the new text) and `delete`. `missing` stands for a message only known from
    its statuses (text is NOT_CAPTURED). `row_id` is the gateway's database id for the message,
    which CodeChat v2 and 2026 status events use instead of the WhatsApp id."""

    chat: str | None
    id: str
    from_me: bool
    sender: str | None
    kind: str
    text: str
    timestamp: int | None
    capture_id: int
    event: str | None
    row_id: str | None = None

    @property
    def captured(self) -> bool:
        return self.kind != _MISSING


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A delivery status for one message, in the gateway's own word (READ, DELIVERY_ACK, read,
    delivered...). `message_id` is what the event names: a row id for CodeChat v2 and 2026
    until `thread` resolves it. `from_me` is None when the event does not say."""

    message_id: str
    chat: str | None
    status: str
    timestamp: int | None
    capture_id: int
    from_me: bool | None = None


def _trails(statuses: Iterable[StatusChange]) -> dict[str, tuple[str, ...]]:
    words: dict[str, list[str]] = {}
    for change in statuses:
        trail = words.setdefault(change.message_id, [])
        if not trail or trail[-1] != change.status:
            trail.append(change.status)
    return {message_id: tuple(trail) for message_id, trail in words.items()}


@dataclass(frozen=True, slots=True)
class Thread:
    """One chat of one instance: its messages in arrival order and the statuses they got.

    `chat` is None for the statuses and changes whose event names no chat and whose message
    was never captured (CodeChat v2 and 2026 statuses, Whapi deletions): they are kept
    together rather than dropped. `last_capture_id` is the latest capture that touched the
    thread, so lists can put the liveliest chat first."""

    chat: str | None
    provider: str
    instance: str | None
    messages: tuple[Message, ...]
    statuses: tuple[StatusChange, ...]
    last_capture_id: int
    _by_message: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once: a conversation view asks for every visible message's trail.
        object.__setattr__(self, "_by_message", _trails(self.statuses))

    def trail(self, message_id: str) -> list[str]:
        """The statuses a message went through in arrival order, a repeated status once."""
        return list(self._by_message.get(message_id, ()))


# --- reading values of any type ---------------------------------------------------------

Path = tuple[str, ...]


def _dig(value: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _jid(value: Any) -> str | None:
    """Evolution and CodeChat chats are JIDs; an `id` without '@' is a database row."""
    return value if isinstance(value, str) and "@" in value else None


def _id(value: Any) -> str | None:
    """A database row id: CodeChat uses UUID strings (v2) and numbers (1.3, 2026)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _items(value: Any) -> list[dict[str, Any]]:
    """The objects of `data`: one object, or the objects of an array (other entries skipped)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


_DIGITS = re.compile(r"[0-9]{1,16}")
_MILLISECONDS = 10**11  # seconds stay below this until the year 5138
_TOO_LARGE = 10**14


def _seconds(value: Any) -> int | None:
    """Seconds since 1970 from whatever a gateway sent: a number, a decimal string, a protobuf
    Long {low, high}, or an ISO 8601 string. Values of 10^11 and up are milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _DIGITS.fullmatch(text):
            return _iso_seconds(text)
        number = int(text)
    elif isinstance(value, dict):
        low, high = value.get("low"), value.get("high")
        if type(low) is not int or type(high) is not int:
            return None
        number = (high << 32) | (low & 0xFFFFFFFF)
    else:
        return None
    if number < 0 or number >= _TOO_LARGE:
        return None
    return number // 1000 if number >= _MILLISECONDS else number


def _iso_seconds(text: str) -> int | None:
    if not 10 <= len(text) <= 40:
        return None
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"  # Python 3.10 reads no Z; 3.11 does
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return int(moment.timestamp())
    except (OverflowError, OSError, ValueError):
        return None


# --- chat_of ------------------------------------------------------------------------------

_KEYED: tuple[Path, ...] = (("key", "remoteJid"), ("keyRemoteJid",))
_CHAT_JID: tuple[Path, ...] = (("chatJid",),)
_ROW_OR_ID: tuple[Path, ...] = (("remoteJid",), ("id",))
_GROUP: tuple[Path, ...] = (("id",), ("partial", "id"))

# Where Evolution and CodeChat events keep the chat, in `data` or its first item. The names
# are the catalog's (a test holds them to it); each generation's spelling of a key is listed.
_CHAT_PATHS: dict[str, tuple[Path, ...]] = {
    "messages.upsert": _KEYED,
    "send.message": _KEYED,
    "messages.set": _KEYED,
    "messages.edited": _KEYED,
    "send.message.update": _KEYED,
    "messages.update": (("remoteJid",),),
    "messages.delete": (("remoteJid",), ("key", "remoteJid"), ("chatJid",)),
    "messages.star": _CHAT_JID,
    "messages.undecryptable": _CHAT_JID,
    "media.retry": _CHAT_JID,
    "chats.updated": _CHAT_JID,
    "presence.updated": _CHAT_JID,
    "chats.delete": ((), ("chatJid",)),  # v1-v2: an array of bare JIDs
    "chats.set": _ROW_OR_ID,
    "chats.upsert": _ROW_OR_ID,
    "chats.update": _ROW_OR_ID,
    "contacts.set": _ROW_OR_ID,
    "contacts.upsert": _ROW_OR_ID,
    "contacts.update": _ROW_OR_ID,
    "presence.update": (("id",),),
    "groups.upsert": _GROUP,
    "groups.update": _GROUP,
    "group.upsert": _GROUP,
    "group.update": _GROUP,
    "group-participants.update": (("id",),),
    "group.participants:update": (("id",),),
    "groups.participants.update": (("id",),),
    "labels.association": (("chatId",), ("association", "chatId"), ("chatJid",)),
    "call": (("chatId",),),
    "call.upsert": (("chatId",),),
    "typebot.start": (("remoteJid",),),
    "typebot.change-status": (("remoteJid",),),
    "chama-ai.action": (("remoteJid",),),
    "identity.update": (("jid",),),
    "user.about.update": (("jid",),),
    "profile.picture.update": (("jid",),),
    "news.letter": (("newsletterJid",),),
}

# Whapi: by payload key, where its first item keeps the chat. Statuses name no chat, only
# the recipient; contacts and presences are about a contact, named by number.
_WHAPI_CHAT: dict[str, tuple[Path, ...]] = {
    "messages": (("chat_id",), ("from",)),
    "messages_updates": (
        ("after_update", "chat_id"),
        ("before_update", "chat_id"),
        ("trigger", "chat_id"),
    ),
    "messages_removed_all": ((),),
    "statuses": (("chat_id",), ("recipient_id",)),
    "chats": (("id",),),
    "chats_updates": (("after_update", "id"), ("before_update", "id")),
    "chats_removed": ((),),
    "contacts": (("id",),),
    "contacts_updates": (("after_update", "id"), ("before_update", "id")),
    "groups": (("id",),),
    "groups_participants": (("group_id",),),
    "groups_updates": (("after_update", "id"), ("before_update", "id")),
    "presences": (("contact_id",),),
    "calls": (("chat_id",), ("from",)),
}
_WHAPI_PAYLOAD: dict[str, tuple[str, ...]] = {
    event.name: event.payload for event in catalog.PROVIDERS["whapi"].events
}


def _locate(item: Any, paths: tuple[Path, ...], accept: Callable[[Any], str | None]) -> str | None:
    for path in paths:
        found = accept(_dig(item, path))
        if found is not None:
            return found
    return None


def chat_of(capture: Capture) -> str | None:
    """The chat a capture is about (a JID; for Whapi contacts and presences, the contact's
    number), or None when its event concerns no chat (qrcode.updated, connection.update...)
    or names none (CodeChat v2 and 2026 messages.update).

    A body with several items (messages.set, chats.upsert, Whapi's arrays) answers with its
    first item's chat. Runs for every row of a capture list, so it reads only the one or two
    places its event keeps the chat. Worked out once per capture (kept on it)."""
    if capture._chat is UNKNOWN:
        capture._chat = _chat(capture)
    return capture._chat  # type: ignore[no-any-return]


def _chat(capture: Capture) -> str | None:
    body = capture.body
    if not isinstance(body, dict):
        return None
    if capture.provider == "whapi":
        for key in _WHAPI_PAYLOAD.get(capture.event or "") or _WHAPI_CHAT:
            paths = _WHAPI_CHAT.get(key)
            if paths is not None and key in body:
                return _locate(_first(body[key]), paths, _text)
        return None
    if capture.provider in ("evolution", "codechat"):
        paths = _CHAT_PATHS.get(capture.event or "")
        return _locate(_first(body.get("data")), paths, _jid) if paths else None
    return None


# --- message content ------------------------------------------------------------------------

_KINDS = {
    "conversation": "text",
    "extendedText": "text",
    "documentWithCaption": "document",
    "pollCreation": "poll",
    "pollUpdate": "vote",
    "ptv": "video",
    "liveLocation": "location",
    "contactsArray": "contacts",
    "templateButtonReply": "button_reply",
    "buttonsResponse": "button_reply",
    "listResponse": "list_reply",
}
_SUFFIX = re.compile(r"Message(V\d+)?$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _kind(type_name: Any) -> str:
    """A short word from a message type: `imageMessage` -> image, `pollCreationMessageV3` ->
    poll, Whapi's `voice` stays voice."""
    if not isinstance(type_name, str) or not type_name:
        return "unknown"
    base = _SUFFIX.sub("", type_name) or type_name
    return _KINDS.get(base) or _CAMEL.sub("_", base).lower()


# The human text of a content node, first found: text, caption, a place's or a poll's name...
_TEXT_KEYS = (
    "text",
    "body",
    "caption",
    "name",
    "title",
    "displayName",
    "selectedDisplayText",
    "fileName",
    "filename",
    "file_name",
    "address",
)
_NOT_CONTENT = frozenset(
    {"messageContextInfo", "base64", "mediaUrl", "speechToText", "contextInfo"}
)
_WRAPPERS = frozenset(
    {
        "ephemeralMessage",
        "viewOnceMessage",
        "viewOnceMessageV2",
        "viewOnceMessageV2Extension",
        "documentWithCaptionMessage",
        "editedMessage",
    }
)


def _human_text(node: Any) -> str | None:
    if isinstance(node, str):
        return node or None
    if isinstance(node, dict):
        for key in _TEXT_KEYS:
            if text := _text(node.get(key)):
                return text
    return None


def _shown(kind: str, text: str | None) -> str:
    if text is not None:
        return text
    # An empty reaction is how WhatsApp takes a reaction back.
    return "[reaction removed]" if kind == "reaction" else f"[{kind}]"


def _baileys_content(message: Any, message_type: Any) -> tuple[str, str | None]:
    """Kind and text of a Baileys `message` ({conversation} or {imageMessage{caption}}...),
    looking through the wrappers WhatsApp puts around ephemeral and view-once messages."""
    for _ in range(3):
        if not isinstance(message, dict):
            return _kind(message_type), None
        name: str | None
        if isinstance(message_type, str) and message_type in message:
            name = message_type
        else:
            name = next((key for key in message if key not in _NOT_CONTENT), None)
            if name is None:
                return _kind(message_type), None
        node = message[name]
        inner = node.get("message") if isinstance(node, dict) else None
        if name in _WRAPPERS and isinstance(inner, dict):
            message, message_type = inner, None
            continue
        kind = _kind(name)
        return kind, _human_text(node)
    return "unknown", None


# --- Evolution and CodeChat messages --------------------------------------------------------


def _message(
    capture: Capture,
    chat: Any,
    message_id: str,
    from_me: Any,
    sender: Any,
    kind: str,
    text: str | None,
    timestamp: Any,
    row_id: str | None = None,
) -> Message:
    return Message(
        chat=_text(chat),
        id=message_id,
        from_me=_flag(from_me) is True,
        sender=_text(sender),
        kind=kind,
        text=_shown(kind, text),
        timestamp=_seconds(timestamp),
        capture_id=capture.id,
        event=capture.event,
        row_id=row_id,
    )


def _new_message(item: dict[str, Any], capture: Capture) -> Message | None:
    key = item.get("key")
    if isinstance(key, dict):  # Baileys: Evolution, CodeChat up to 1.2
        message_id = _text(key.get("id"))
        if message_id is None:
            return None
        kind, text = _baileys_content(item.get("message"), item.get("messageType"))
        return _message(
            capture,
            key.get("remoteJid"),
            message_id,
            key.get("fromMe"),
            item.get("pushName"),
            kind,
            text,
            item.get("messageTimestamp"),
        )
    message_id = _text(item.get("keyId"))  # CodeChat 1.3, v2 and 2026 flat rows
    if message_id is None:
        return None
    content = item.get("content")
    kind = _kind(item.get("messageType") or item.get("contentType"))
    row_id = _id(item.get("messageId")) or _id(item.get("id"))  # v2 uuid; 1.3 and 2026 number
    return _message(
        capture,
        item.get("keyRemoteJid"),
        message_id,
        item.get("keyFromMe"),
        item.get("pushName"),
        kind,
        _human_text(content),
        item.get("messageTimestamp"),
        row_id,
    )


def _is(value: Any, name: str, number: int) -> bool:
    """Baileys enums arrive as names, or as numbers from Evolution 2.3.4 on."""
    return value == name or (type(value) is int and value == number)


def _protocol_change(item: dict[str, Any], capture: Capture) -> Message | None:
    """Evolution v2 messages.edited / send.message.update: the protocolMessage, whose `key` is
    the message acted on. Other protocol messages (ephemeral settings...) are no change."""
    key = item.get("key")
    if not isinstance(key, dict):
        return None
    message_id = _text(key.get("id"))
    if message_id is None:
        return None
    change = item.get("type")
    if _is(change, "REVOKE", 0):
        kind, text = "delete", "[deleted]"
    elif _is(change, "MESSAGE_EDIT", 14) or (change is None and "editedMessage" in item):
        kind, text = "edit", _baileys_content(item.get("editedMessage"), None)[1] or "[edited]"
    else:
        return None
    return _message(
        capture,
        key.get("remoteJid"),
        message_id,
        key.get("fromMe"),
        None,
        kind,
        text,
        item.get("timestampMs"),
    )


def _deletion(item: dict[str, Any], capture: Capture) -> Message | None:
    """messages.delete: Baileys' key, Evolution's stored row {key{...}}, or CodeChat 2026's
    {chatJid, messageId, keyFromMe} (where `id` is the row)."""
    key = item.get("key")
    if isinstance(key, dict):
        chat, message_id, from_me = key.get("remoteJid"), key.get("id"), key.get("fromMe")
    elif "chatJid" in item:
        chat, message_id = item.get("chatJid"), item.get("messageId")
        from_me = item.get("keyFromMe")
    else:
        chat, message_id, from_me = item.get("remoteJid"), item.get("id"), item.get("fromMe")
    found = _text(message_id)
    if found is None:
        return None
    return _message(
        capture, chat, found, from_me, None, "delete", "[deleted]", item.get("dateTime")
    )


_READERS: dict[str, Callable[[dict[str, Any], Capture], Message | None]] = {
    "messages.upsert": _new_message,
    "send.message": _new_message,
    "messages.set": _new_message,
    "messages.edited": _protocol_change,
    "send.message.update": _protocol_change,
    "messages.delete": _deletion,
}


# --- Whapi messages ---------------------------------------------------------------------------


def _whapi_content(item: dict[str, Any]) -> tuple[str, str | None]:
    type_name = item.get("type")
    node = item.get(type_name) if isinstance(type_name, str) else None
    return _kind(type_name), _human_text(node)


def _whapi_message(item: dict[str, Any], capture: Capture) -> Message | None:
    message_id = _text(item.get("id"))
    if message_id is None:
        return None
    chat = _text(item.get("chat_id")) or _text(item.get("from"))
    action = item.get("action")
    if item.get("type") == "action" and isinstance(action, dict):
        act = action.get("type")
        if act in ("edit", "edited", "delete"):
            # An edit or deletion is shown on the message it targets.
            message_id = _text(action.get("target")) or message_id
            kind = "delete" if act == "delete" else "edit"
            text = "[deleted]" if act == "delete" else _human_text(action.get("edited_content"))
        elif act == "reaction":
            kind, text = "reaction", _text(action.get("emoji"))
        else:
            kind = _kind(act) if isinstance(act, str) else "action"
            text = _text(action.get("comment"))
    else:
        kind, text = _whapi_content(item)
    return _message(
        capture,
        chat,
        message_id,
        item.get("from_me"),
        item.get("from_name"),
        kind,
        text,
        item.get("timestamp"),
    )


def _whapi_edit(item: dict[str, Any], capture: Capture) -> Message | None:
    """messages/patch: an update whose text stays the same (a reaction, say) is no edit."""
    after, before = item.get("after_update"), item.get("before_update")
    if not isinstance(after, dict):
        return None
    message_id = _text(item.get("id")) or _text(after.get("id"))
    text = _whapi_content(after)[1]
    if message_id is None or (isinstance(before, dict) and _whapi_content(before)[1] == text):
        return None
    return _message(
        capture,
        after.get("chat_id"),
        message_id,
        after.get("from_me"),
        after.get("from_name"),
        "edit",
        text or "[edited]",
        _dig(item, ("trigger", "timestamp")),
    )


def _whapi_messages(body: dict[str, Any], capture: Capture) -> list[Message]:
    found = [_whapi_message(item, capture) for item in _items(body.get("messages"))]
    found += [_whapi_edit(item, capture) for item in _items(body.get("messages_updates"))]
    removed = body.get("messages_removed")
    if isinstance(removed, list):
        found += [
            _message(capture, None, message_id, None, None, "delete", "[deleted]", None)
            for message_id in removed
            if isinstance(message_id, str) and message_id
        ]
    return [message for message in found if message is not None]


def messages_of(capture: Capture) -> list[Message]:
    """The messages a capture carries, in body order: new ones (messages.upsert,
    send.message, messages.set, Whapi messages/post and put) and changes to earlier ones
    (kinds `edit` and `delete`). Anything else, or a body of another shape, gives []."""
    body = capture.body
    if not isinstance(body, dict):
        return []
    if capture.provider == "whapi":
        return _whapi_messages(body, capture)
    if capture.provider in ("evolution", "codechat"):
        reader = _READERS.get(capture.event or "")
        if reader is not None:
            return [
                message
                for item in _items(body.get("data"))
                if (message := reader(item, capture)) is not None
            ]
    return []


_WHAPI_THREADED = frozenset({"messages", "messages_updates", "messages_removed", "statuses"})

# Every (provider, event) that messages_of or statuses_of reads: what a conversation view
# has to fetch, and nothing more.
EVENTS: frozenset[tuple[str, str]] = frozenset(
    [
        (provider, name)
        for provider in ("evolution", "codechat")
        for name in (*_READERS, "messages.update")
        if catalog.find(provider, name) is not None
    ]
    + [
        ("whapi", event.name)
        for event in catalog.PROVIDERS["whapi"].events
        if _WHAPI_THREADED.intersection(event.payload)
    ]
)


# --- statuses -------------------------------------------------------------------------------


def _word(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _status(item: dict[str, Any], capture: Capture) -> StatusChange | None:
    """messages.update, by generation: Evolution v2 {keyId, remoteJid, fromMe}; Evolution v1 and
    CodeChat 1.x {id, remoteJid, fromMe}; CodeChat v2 {messageMessageId} and 2026 {messageId},
    both row ids and no chat."""
    message_id = (
        _text(item.get("keyId"))
        or _text(item.get("id"))
        or _text(item.get("messageMessageId"))
        or _id(item.get("messageId"))
    )
    status = _word(item.get("status"))
    if message_id is None or status is None:
        return None
    moment = item.get("datetime", item.get("dateTime"))
    return StatusChange(
        message_id,
        _jid(item.get("remoteJid")),
        status,
        _seconds(moment),
        capture.id,
        _flag(item.get("fromMe")),
    )


def _whapi_status(item: dict[str, Any], capture: Capture) -> StatusChange | None:
    message_id, status = _text(item.get("id")), _word(item.get("status"))
    if message_id is None or status is None:
        return None
    chat = _text(item.get("chat_id")) or _text(item.get("recipient_id"))
    return StatusChange(message_id, chat, status, _seconds(item.get("timestamp")), capture.id)


def statuses_of(capture: Capture) -> list[StatusChange]:
    """The delivery statuses a capture carries (messages.update, Whapi statuses/post and put),
    in body order, each in the gateway's own word. Anything else gives []."""
    body = capture.body
    if not isinstance(body, dict):
        return []
    if capture.provider == "whapi":
        found = [_whapi_status(item, capture) for item in _items(body.get("statuses"))]
    elif capture.provider in ("evolution", "codechat") and capture.event == "messages.update":
        found = [_status(item, capture) for item in _items(body.get("data"))]
    else:
        return []
    return [status for status in found if status is not None]


# --- threads --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    messages: list[Message] = field(default_factory=list)
    statuses: list[StatusChange] = field(default_factory=list)
    last: int = 0


def thread(captures: Iterable[Capture]) -> list[Thread]:
    """The captures' messages threaded by instance and chat, most recent activity first.

    Arrival order is capture id order. A message the gateway sent twice under the same id
    (Evolution's send.message plus messages.upsert, a retried delivery, a history sync) is
    shown once, as it first arrived. Statuses join their message through its WhatsApp id or
    its row id, wherever they arrive, so a status that overtakes its message still lands on
    it. A status whose message was never captured adds a `missing` message (text
    NOT_CAPTURED) where the status first arrived, in the chat the status names; without one,
    in the instance's thread with chat None. Edits and deletions that name no chat (Whapi's)
    take the chat of the message they act on."""
    read = [
        (capture, messages_of(capture), statuses_of(capture))
        for capture in sorted(captures, key=lambda capture: capture.id)
    ]

    originals: dict[tuple[str, str | None, str], Message] = {}
    rows: dict[tuple[str, str | None, str], str] = {}
    for capture, messages, _ in read:
        for message in messages:
            if message.kind not in _CHANGES:
                originals.setdefault((capture.provider, capture.instance, message.id), message)
                if message.row_id is not None:
                    rows.setdefault(
                        (capture.provider, capture.instance, message.row_id), message.id
                    )

    drafts: dict[tuple[str, str | None, str | None], _Draft] = {}
    shown: set[tuple[Any, ...]] = set()

    def draft(capture: Capture, chat: str | None) -> _Draft:
        found = drafts.setdefault((capture.provider, capture.instance, chat), _Draft())
        found.last = capture.id
        return found

    for capture, messages, statuses in read:
        scope = (capture.provider, capture.instance)
        for message in messages:
            if message.kind in _CHANGES:
                original = originals.get((*scope, message.id))
                if message.chat is None and original is not None:
                    message = replace(message, chat=original.chat, from_me=original.from_me)
                seen: tuple[Any, ...] = (*scope, message.kind, message.id, message.text)
                target = draft(capture, message.chat)
            else:
                seen = (*scope, "message", message.id)
                # A repeat still counts as activity, in the chat its first copy went to.
                target = draft(capture, originals[scope + (message.id,)].chat)
            if seen not in shown:
                shown.add(seen)
                target.messages.append(message)
        for status in statuses:
            message_id = status.message_id
            if (*scope, message_id) not in originals:
                message_id = rows.get((*scope, message_id), message_id)
            original = originals.get((*scope, message_id))
            chat = original.chat if original is not None else status.chat
            target = draft(capture, chat)
            if original is None and (*scope, "message", message_id) not in shown:
                shown.add((*scope, "message", message_id))
                # Delivery statuses are about messages the account sent unless the event says.
                target.messages.append(
                    Message(
                        chat=chat,
                        id=message_id,
                        from_me=status.from_me is not False,
                        sender=None,
                        kind=_MISSING,
                        text=NOT_CAPTURED,
                        timestamp=None,
                        capture_id=capture.id,
                        event=capture.event,
                    )
                )
            target.statuses.append(replace(status, message_id=message_id, chat=chat))

    threads = [
        Thread(chat, provider, instance, tuple(found.messages), tuple(found.statuses), found.last)
        for (provider, instance, chat), found in drafts.items()
    ]
    threads.sort(key=lambda item: item.last_capture_id, reverse=True)
    return threads
