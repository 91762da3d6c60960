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

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from hookcatcher.core.capture import Capture
from hookcatcher.core.messages import MISSING, Message, StatusChange, messages_of, statuses_of

__all__ = ["Thread", "NOT_CAPTURED", "thread"]

NOT_CAPTURED = "(message not captured)"
_CHANGES = frozenset({"edit", "delete"})  # kinds that act on an earlier message


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
                        kind=MISSING,
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
