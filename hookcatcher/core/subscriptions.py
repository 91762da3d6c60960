"""What each gateway's webhook configuration accepts as subscriptions: Evolution's event keys
per version (and the events no instance webhook ever receives), CodeChat v2's event flags,
Whapi's modes, header limit and default events.

Kept apart from the catalog's event tables because only the configuration side reads them
(the mocks, attach, doctor and the webhook plan); core/catalog.py imports these names, so they
are also found there. Imports nothing of hookcatcher.
"""

from __future__ import annotations

__all__ = [
    "EVOLUTION_EVENTS",
    "EVOLUTION_NEVER_DELIVERED",
    "CODECHAT_V2_FLAGS",
    "codechat_flag",
    "WHAPI_MODES",
    "WHAPI_MAX_HEADERS",
    "WHAPI_DEFAULT_EVENTS",
]

# What POST /webhook/set accepts in `events`: 1.8.2's jsonschema enum, and 2.3.6's
# EventController.events. A key outside these can never be in an instance's list.
EVOLUTION_EVENTS: dict[str, tuple[str, ...]] = {
    "v1": (
        "APPLICATION_STARTUP",
        "QRCODE_UPDATED",
        "MESSAGES_SET",
        "MESSAGES_UPSERT",
        "MESSAGES_UPDATE",
        "MESSAGES_DELETE",
        "SEND_MESSAGE",
        "CONTACTS_SET",
        "CONTACTS_UPSERT",
        "CONTACTS_UPDATE",
        "PRESENCE_UPDATE",
        "CHATS_SET",
        "CHATS_UPSERT",
        "CHATS_UPDATE",
        "CHATS_DELETE",
        "GROUPS_UPSERT",
        "GROUP_UPDATE",
        "GROUP_PARTICIPANTS_UPDATE",
        "CONNECTION_UPDATE",
        "LABELS_EDIT",
        "LABELS_ASSOCIATION",
        "CALL",
        "NEW_JWT_TOKEN",
        "TYPEBOT_START",
        "TYPEBOT_CHANGE_STATUS",
        "CHAMA_AI_ACTION",
    ),
    "v2": (
        "APPLICATION_STARTUP",
        "QRCODE_UPDATED",
        "MESSAGES_SET",
        "MESSAGES_UPSERT",
        "MESSAGES_EDITED",
        "MESSAGES_UPDATE",
        "MESSAGES_DELETE",
        "SEND_MESSAGE",
        "SEND_MESSAGE_UPDATE",
        "CONTACTS_SET",
        "CONTACTS_UPSERT",
        "CONTACTS_UPDATE",
        "PRESENCE_UPDATE",
        "CHATS_SET",
        "CHATS_UPSERT",
        "CHATS_UPDATE",
        "CHATS_DELETE",
        "GROUPS_UPSERT",
        "GROUP_UPDATE",
        "GROUP_PARTICIPANTS_UPDATE",
        "CONNECTION_UPDATE",
        "LABELS_EDIT",
        "LABELS_ASSOCIATION",
        "CALL",
        "TYPEBOT_START",
        "TYPEBOT_CHANGE_STATUS",
        "REMOVE_INSTANCE",
        "LOGOUT_INSTANCE",
        "INSTANCE_CREATE",
        "INSTANCE_DELETE",
        "STATUS_INSTANCE",
    ),
}

# Events Evolution sends that no instance webhook receives, whatever its events list says.
EVOLUTION_NEVER_DELIVERED: dict[str, str] = {
    "groups.update": (
        "groups.update is never delivered by Evolution API: it is checked against the key "
        "GROUPS_UPDATE, which /webhook/set does not accept (its list has GROUP_UPDATE instead), "
        "a bug in every version"
    ),
    "error": (
        "error goes to Evolution's separate errors webhook (WEBHOOK_EVENTS_ERRORS_WEBHOOK), "
        "never to an instance's webhook"
    ),
}


# CodeChat API v2's webhook event flags (PATCH .../webhook/{id}/events), in the order of its
# WebhookEvents, and the event names each one turns on. A flag covers the same event under
# every generation's spelling (group.upsert in v2, groups.upsert before and after).
CODECHAT_V2_FLAGS: dict[str, tuple[str, ...]] = {
    "qrcodeUpdate": ("qrcode.updated",),
    "stateInstance": ("state.instance",),
    "messagesSet": ("messages.set",),
    "messagesUpsert": ("messages.upsert",),
    "messagesUpdate": ("messages.update",),
    "sendMessage": ("send.message",),
    "contactsSet": ("contacts.set",),
    "contactsUpsert": ("contacts.upsert",),
    "contactsUpdate": ("contacts.update",),
    "presenceUpdate": ("presence.update",),
    "chatsSet": ("chats.set",),
    "chatsUpdate": ("chats.update",),
    "chatsUpsert": ("chats.upsert",),
    "chatsDelete": ("chats.delete",),
    "groupsUpsert": ("group.upsert", "groups.upsert"),
    "groupUpdate": ("group.update", "groups.update"),
    "groupParticipantsUpdate": (
        "group.participants:update",
        "group-participants.update",
        "groups.participants.update",
    ),
    "connectionUpdate": ("connection.update",),
    "newJwt": ("new.jwt",),
}
_CODECHAT_FLAG_OF = {name: flag for flag, names in CODECHAT_V2_FLAGS.items() for name in names}


def codechat_flag(name: str) -> str | None:
    """The CodeChat v2 flag that turns an event on, or None for events no flag covers
    (call.upsert has a v2 event page but no flag)."""
    return _CODECHAT_FLAG_OF.get(name)


WHAPI_MODES = ("body", "path", "method")  # a webhook's `mode`; body is the default
WHAPI_MAX_HEADERS = 5  # additional headers per webhook
# A webhook's `events` when left out, as OpenAPI 1.8.7 gives it ({"type": "message",
# "method": "put"}), under the current type name.
WHAPI_DEFAULT_EVENTS = (("messages", "put"),)
