"""The messages and delivery statuses a capture carries (`messages_of`, `statuses_of`), and
`EVENTS`, the events that carry them.

Every gateway keeps a message's chat, id and text somewhere else, and the places moved between
versions: Evolution and CodeChat up to 1.2 send Baileys' `key{remoteJid, id, fromMe}`, CodeChat
1.3 and later flatten it into `keyRemoteJid`/`keyId`/`keyFromMe`, Whapi sends `chat_id`/`id`.
Status events name the message by its WhatsApp id, except CodeChat v2 and 2026, which name the
gateway's own database row (`messageMessageId`, `messageId`). Threading them by chat is
core/conversation.py's.

The bodies read here may be anything: a shape that is not recognised gives nothing, never an
exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hookcatcher.core import catalog, lenient
from hookcatcher.core.capture import Capture

__all__ = ["Message", "StatusChange", "MISSING", "EVENTS", "messages_of", "statuses_of"]

MISSING = "missing"  # the kind of a message only known from its statuses


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
        return self.kind != MISSING


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
            if text := lenient.text(node.get(key)):
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
        chat=lenient.text(chat),
        id=message_id,
        from_me=lenient.flag(from_me) is True,
        sender=lenient.text(sender),
        kind=kind,
        text=_shown(kind, text),
        timestamp=lenient.seconds(timestamp),
        capture_id=capture.id,
        event=capture.event,
        row_id=row_id,
    )


def _new_message(item: dict[str, Any], capture: Capture) -> Message | None:
    key = item.get("key")
    if isinstance(key, dict):  # Baileys: Evolution, CodeChat up to 1.2
        message_id = lenient.text(key.get("id"))
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
    message_id = lenient.text(item.get("keyId"))  # CodeChat 1.3, v2 and 2026 flat rows
    if message_id is None:
        return None
    content = item.get("content")
    kind = _kind(item.get("messageType") or item.get("contentType"))
    # The row: a uuid in v2, a number in 1.3 and 2026.
    row_id = lenient.row_id(item.get("messageId")) or lenient.row_id(item.get("id"))
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
    message_id = lenient.text(key.get("id"))
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
    found = lenient.text(message_id)
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
    message_id = lenient.text(item.get("id"))
    if message_id is None:
        return None
    chat = lenient.text(item.get("chat_id")) or lenient.text(item.get("from"))
    action = item.get("action")
    if item.get("type") == "action" and isinstance(action, dict):
        act = action.get("type")
        if act in ("edit", "edited", "delete"):
            # An edit or deletion is shown on the message it targets.
            message_id = lenient.text(action.get("target")) or message_id
            kind = "delete" if act == "delete" else "edit"
            text = "[deleted]" if act == "delete" else _human_text(action.get("edited_content"))
        elif act == "reaction":
            kind, text = "reaction", lenient.text(action.get("emoji"))
        else:
            kind = _kind(act) if isinstance(act, str) else "action"
            text = lenient.text(action.get("comment"))
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
    message_id = lenient.text(item.get("id")) or lenient.text(after.get("id"))
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
        lenient.dig(item, ("trigger", "timestamp")),
    )


def _whapi_messages(body: dict[str, Any], capture: Capture) -> list[Message]:
    found = [_whapi_message(item, capture) for item in lenient.items(body.get("messages"))]
    found += [_whapi_edit(item, capture) for item in lenient.items(body.get("messages_updates"))]
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
                for item in lenient.items(body.get("data"))
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
        lenient.text(item.get("keyId"))
        or lenient.text(item.get("id"))
        or lenient.text(item.get("messageMessageId"))
        or lenient.row_id(item.get("messageId"))
    )
    status = _word(item.get("status"))
    if message_id is None or status is None:
        return None
    moment = item.get("datetime", item.get("dateTime"))
    return StatusChange(
        message_id,
        lenient.jid(item.get("remoteJid")),
        status,
        lenient.seconds(moment),
        capture.id,
        lenient.flag(item.get("fromMe")),
    )


def _whapi_status(item: dict[str, Any], capture: Capture) -> StatusChange | None:
    message_id, status = lenient.text(item.get("id")), _word(item.get("status"))
    if message_id is None or status is None:
        return None
    chat = lenient.text(item.get("chat_id")) or lenient.text(item.get("recipient_id"))
    return StatusChange(
        message_id, chat, status, lenient.seconds(item.get("timestamp")), capture.id
    )


def statuses_of(capture: Capture) -> list[StatusChange]:
    """The delivery statuses a capture carries (messages.update, Whapi statuses/post and put),
    in body order, each in the gateway's own word. Anything else gives []."""
    body = capture.body
    if not isinstance(body, dict):
        return []
    if capture.provider == "whapi":
        found = [_whapi_status(item, capture) for item in lenient.items(body.get("statuses"))]
    elif capture.provider in ("evolution", "codechat") and capture.event == "messages.update":
        found = [_status(item, capture) for item in lenient.items(body.get("data"))]
    else:
        return []
    return [status for status in found if status is not None]
