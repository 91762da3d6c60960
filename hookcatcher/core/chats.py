"""Which chat a capture is about (`chat_of`), for every gateway and generation.

Runs for every row of a capture list (the API's summary view, the inspector), so it reads
only the one or two places its event keeps the chat; kept apart from the messages and
statuses a conversation view reads (core/messages.py), which only that view needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hookcatcher.core import catalog, lenient
from hookcatcher.core.capture import UNKNOWN, Capture
from hookcatcher.core.lenient import Path

__all__ = ["chat_of"]

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
        found = accept(lenient.dig(item, path))
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
                return _locate(lenient.first(body[key]), paths, lenient.text)
        return None
    if capture.provider in ("evolution", "codechat"):
        paths = _CHAT_PATHS.get(capture.event or "")
        return _locate(lenient.first(body.get("data")), paths, lenient.jid) if paths else None
    return None
