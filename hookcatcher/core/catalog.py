"""The event catalog: the one place that knows every gateway's events and URL rules.

Classification (core/classify.py), validation, the `/api/catalog` endpoint and replay's
per-event URLs all read these tables, so a gateway fact is written down once. What the
gateways' configuration APIs accept as subscriptions is in core/subscriptions.py and is
importable from here too, so every gateway fact has one address.
Evolution's APPLICATION_STARTUP and CONTACTS_SET can be subscribed to but no version sends
them, so they are not here: a body naming them is reported as an unknown event.
Sources: the project's gateway reference notes (Evolution API 1.x-2.3, CodeChat's
generations, Whapi.Cloud's OpenAPI 1.8.7).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hookcatcher.core.subscriptions import (
    CODECHAT_V2_FLAGS,
    EVOLUTION_EVENTS,
    EVOLUTION_NEVER_DELIVERED,
    WHAPI_DEFAULT_EVENTS,
    WHAPI_MAX_HEADERS,
    WHAPI_MODES,
    codechat_flag,
)

__all__ = [
    "Event",
    "Provider",
    "PROVIDERS",
    "find",
    "evolution_suffix",
    "evolution_key",
    "EVOLUTION_EVENTS",
    "EVOLUTION_NEVER_DELIVERED",
    "CODECHAT_V2_FLAGS",
    "codechat_flag",
    "WHAPI_TYPES",
    "WHAPI_METHODS",
    "WHAPI_LEGACY_TYPES",
    "WHAPI_MODES",
    "WHAPI_MAX_HEADERS",
    "WHAPI_DEFAULT_EVENTS",
    "whapi_pairs",
    "describe",
    "file_stem",
]


@dataclass(frozen=True, slots=True)
class Event:
    """One event a gateway sends, under the name the gateway itself puts in the body."""

    provider: str
    name: str
    versions: tuple[str, ...]
    data: str  # the JSON type of `data` (or, for Whapi, of the payload items)
    suffix: str | None = None  # Evolution by-events path suffix; Whapi "<type>/<method>"
    payload: tuple[str, ...] = ()  # Whapi: the body keys that carry this event's items
    note: str = ""

    @property
    def schema_id(self) -> str:
        """Where this event's schema lives under schemas/: `<provider>/<file_stem(name)>`."""
        return f"{self.provider}/{file_stem(self.name)}"

    def delivery(self, mode: str = "path") -> tuple[str, str]:
        """The HTTP method and the path the gateway appends to the configured URL when it
        sends this event per event: Evolution `POST /<suffix>`; Whapi `POST /<type>/<method>`
        in path mode, `<METHOD> /<type>` in method mode. Only for events with a suffix."""
        if self.provider == "whapi":
            kind, method = (self.suffix or "").split("/")
            return (
                (method.upper(), f"/{kind}") if mode == "method" else ("POST", f"/{kind}/{method}")
            )
        return "POST", f"/{self.suffix}"

    def paths(self) -> list[str]:
        """The per-event paths the gateway appends to the configured URL, if it has any."""
        if not self.suffix:
            return []
        if self.provider == "whapi":
            return [self.delivery("path")[1], " ".join(self.delivery("method"))]
        return [self.delivery()[1]]


def file_stem(name: str) -> str:
    """An event name as a file name on any system: Whapi's '/' and CodeChat v2's ':' become
    '.', and a wildcard family is named by its prefix (`message.batch.*` -> `message.batch`)."""
    return name.replace("/", ".").replace(":", ".").removesuffix(".*")


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    title: str
    versions: tuple[str, ...]
    events: tuple[Event, ...]

    def event(self, name: str | None) -> Event | None:
        if name is None:
            return None
        for event in self.events:
            if event.name == name or (
                event.name.endswith("*") and name.startswith(event.name[:-1])
            ):
                return event
        return None


def evolution_suffix(name: str) -> str:
    """Evolution's by-events rule: every '.' and '-' becomes '-', lower case
    (`group-participants.update` -> `group-participants-update`)."""
    return re.sub(r"[.-]", "-", name).lower()


def evolution_key(name: str) -> str:
    """The key that subscribes an instance webhook to an event (Evolution's `we`): the event
    with '.' and '-' turned into '_', upper case (`messages.upsert` -> `MESSAGES_UPSERT`).
    v1's new.jwt is the exception: its key is NEW_JWT_TOKEN."""
    if name == "new.jwt":
        return "NEW_JWT_TOKEN"
    return evolution_suffix(name).replace("-", "_").upper()


def _evolution() -> Provider:
    both, v1, v2 = ("v1", "v2"), ("v1",), ("v2",)
    rows: list[tuple[str, tuple[str, ...], str, str]] = [
        ("instance.create", both, "object", ""),
        ("instance.delete", both, "object", ""),
        ("qrcode.updated", both, "object", ""),
        ("connection.update", both, "object", ""),
        ("status.instance", both, "object", "local webhook only"),
        ("messages.set", both, "array", "history sync; can be very large"),
        ("messages.upsert", both, "object", ""),
        ("messages.edited", v2, "object", "any protocolMessage, revokes included"),
        ("messages.update", both, "object", "status DELETED on edits"),
        ("messages.delete", both, "object", ""),
        ("send.message", both, "object", ""),
        ("send.message.update", v2, "object", ""),
        ("contacts.upsert", both, "array|object", "array from sync, object from a message"),
        ("contacts.update", both, "array|object", "array from sync, object from a message"),
        ("presence.update", both, "object", ""),
        ("chats.set", both, "array", ""),
        ("chats.upsert", both, "array", ""),
        ("chats.update", both, "array", ""),
        ("chats.delete", both, "array", ""),
        ("groups.upsert", both, "array", ""),
        ("groups.update", both, "array", "emitted, but not deliverable through /webhook/set"),
        ("group-participants.update", both, "object", ""),
        ("labels.edit", both, "object", "v1.7+"),
        ("labels.association", both, "object", "v1.7+"),
        ("call", both, "object", ""),
        ("typebot.start", both, "object", ""),
        ("typebot.change-status", both, "object", ""),
        ("logout.instance", v2, "null", ""),
        ("remove.instance", v2, "null", ""),
        ("chama-ai.action", v1, "object", "v1.5.1-1.8.2"),
    ]
    events = [
        Event("evolution", name, versions, data, evolution_suffix(name), note=note)
        for name, versions, data, note in rows
    ]
    # Posted to the plain configured URL, never with a suffix.
    events.append(
        Event(
            "evolution",
            "new.jwt",
            v1,
            "object",
            None,
            note="JWT renewal; posted with ?owner=<wuid>",
        )
    )
    events.append(
        Event(
            "evolution",
            "error",
            both,
            "object",
            None,
            note="the separate errors webhook (WEBHOOK_EVENTS_ERRORS_WEBHOOK)",
        )
    )
    return Provider("evolution", "Evolution API", ("v1", "v2"), tuple(events))


def _codechat() -> Provider:
    v1 = "v1.0-1.2"
    generations: dict[str, tuple[str, ...]] = {
        v1: (
            "qrcode.updated",
            "connection.update",
            "status.instance",
            "messages.set",
            "messages.upsert",
            "messages.update",
            "send.message",
            "contacts.set",
            "contacts.upsert",
            "contacts.update",
            "presence.update",
            "chats.set",
            "chats.update",
            "chats.upsert",
            "chats.delete",
            "groups.upsert",
            "groups.update",
            "group-participants.update",
            "new.jwt",
        ),
        "v1.3": (
            "qrcode.updated",
            "messages.set",
            "messages.upsert",
            "messages.update",
            "send.message",
            "contacts.set",
            "contacts.upsert",
            "contacts.update",
            "chats.set",
            "chats.upsert",
            "chats.update",
            "chats.delete",
            "presence.update",
            "groups.upsert",
            "groups.update",
            "group-participants.update",
            "connection.update",
            "status.instance",
            "new.jwt",
            "call.upsert",
            "labels.association",
            "labels.edit",
        ),
        "v2": (
            "messages.upsert",
            "messages.set",
            "messages.update",
            "qrcode.updated",
            "connection.update",
            "state.instance",
            "contacts.upsert",
            "contacts.update",
            "chats.set",
            "chats.upsert",
            "chats.update",
            "presence.update",
            "group.upsert",
            "group.update",
            "group.participants:update",
            "call.upsert",
            "send.message",
        ),
        "2026": (
            "call.upsert",
            "chats.delete",
            "chats.updated",
            "connection.update",
            "contacts.update",
            "contacts.upsert",
            "groups.participants.update",
            "groups.update",
            "groups.upsert",
            "history.sync",
            "identity.update",
            "labels.association",
            "labels.edit",
            "media.retry",
            "messages.delete",
            "messages.star",
            "messages.undecryptable",
            "messages.update",
            "messages.upsert",
            "news.letter",
            "presence.updated",
            "profile.picture.update",
            "qrcode.updated",
            "send.message",
            "settings.update",
            "status.instance",
            "user.about.update",
            "message.batch.*",
        ),
    }
    array_data = {
        "messages.set",
        "contacts.set",
        "contacts.upsert",
        "contacts.update",
        "chats.set",
        "chats.upsert",
        "chats.update",
        "chats.delete",
        "groups.upsert",
        "groups.update",
    }
    notes = {
        "message.batch.*": "global webhook only; 18 batch events, no instance in the body",
        "new.jwt": "v1.3 sends {event, auth} only",
        "send.message": "v2: name not confirmed by the v2 docs",
    }
    seen: dict[str, list[str]] = {}
    for generation, names in generations.items():
        for name in names:
            seen.setdefault(name, []).append(generation)
    # The 2026 rewrite sends an array only for these; elsewhere one object.
    array_in_2026 = {"contacts.update", "groups.upsert", "groups.update"}

    def data_of(name: str, versions: list[str]) -> str:
        if name not in array_data:
            return "object"
        if "2026" in versions and name not in array_in_2026:
            return "array|object"
        return "array"

    events = tuple(
        Event("codechat", name, tuple(versions), data_of(name, versions), note=notes.get(name, ""))
        for name, versions in seen.items()
    )
    return Provider("codechat", "CodeChat", tuple(generations), events)


WHAPI_TYPES = (
    "messages",
    "statuses",
    "chats",
    "contacts",
    "groups",
    "presences",
    "calls",
    "channel",
    "users",
    "labels",
    "service",
)
WHAPI_METHODS = ("post", "put", "patch", "delete")
# Names from older Whapi docs, still seen in examples (`/message/post`).
WHAPI_LEGACY_TYPES = {
    "message": "messages",
    "ack": "statuses",
    "chat": "chats",
    "status": "statuses",
}


def _whapi() -> Provider:
    rows: list[tuple[str, str, tuple[str, ...], str]] = [
        ("messages", "post", ("messages",), "new messages"),
        ("messages", "put", ("messages",), "messages received while offline (inferred)"),
        ("messages", "patch", ("messages_updates",), "edits: before_update, after_update"),
        ("messages", "delete", ("messages_removed", "messages_removed_all"), ""),
        ("statuses", "post", ("statuses",), "delivery and read statuses"),
        ("statuses", "put", ("statuses",), "statuses received while offline (inferred)"),
        ("chats", "post", ("chats",), ""),
        ("chats", "put", ("chats",), ""),
        ("chats", "patch", ("chats_updates",), ""),
        ("chats", "delete", ("chats_removed",), ""),
        ("contacts", "post", ("contacts",), ""),
        ("contacts", "patch", ("contacts_updates",), ""),
        ("groups", "post", ("groups",), ""),
        ("groups", "put", ("groups_participants",), "participant changes"),
        ("groups", "patch", ("groups_updates",), ""),
        ("presences", "post", ("presences",), ""),
        ("labels", "post", ("labels",), "new or changed label"),
        ("labels", "delete", ("labels_removed",), ""),
        ("calls", "post", ("calls",), ""),
        ("channel", "post", ("health",), "channel health"),
        ("channel", "patch", ("qr",), "QR code for linking"),
        ("users", "post", ("user",), "account linked"),
        ("users", "delete", ("user",), "account unlinked"),
    ]
    single = {"health", "qr", "user"}  # one object, not an array of items
    events = tuple(
        Event(
            "whapi",
            f"{kind}/{method}",
            ("1.8",),
            "object" if single & set(payload) else "array",
            f"{kind}/{method}",
            payload,
            note,
        )
        for kind, method, payload, note in rows
    )
    return Provider("whapi", "Whapi.Cloud", ("1.8",), events)


PROVIDERS: dict[str, Provider] = {p.name: p for p in (_evolution(), _codechat(), _whapi())}


def whapi_pairs() -> list[tuple[str, str]]:
    """The (type, method) pairs Whapi documents sending, as `GET /settings/events` lists them."""
    return [
        (kind, method)
        for kind, _, method in (event.name.partition("/") for event in PROVIDERS["whapi"].events)
    ]


def find(provider: str, name: str | None) -> Event | None:
    """The catalog entry for a provider's event name, or None when the catalog has none."""
    known = PROVIDERS.get(provider)
    return known.event(name) if known else None


def describe(schema_ids: Iterable[str] = ()) -> dict[str, Any]:
    """The catalog as JSON for `/api/catalog`: every provider and event, its per-event paths
    and the id of the schema that checks it (null where none ships yet)."""
    available = set(schema_ids)
    return {
        "providers": [
            {
                "name": p.name,
                "title": p.title,
                "versions": list(p.versions),
                "envelope_schema": f"{p.name}/envelope"
                if f"{p.name}/envelope" in available
                else None,
                "events": [
                    {
                        "event": e.name,
                        "versions": list(e.versions),
                        "data": e.data,
                        "paths": e.paths(),
                        "payload": list(e.payload),
                        "schema": e.schema_id if e.schema_id in available else None,
                        "note": e.note,
                    }
                    for e in p.events
                ],
            }
            for p in PROVIDERS.values()
        ]
    }


README_START = "<!-- catalog:start (generated from hookcatcher/core/catalog.py) -->"
README_END = "<!-- catalog:end -->"


def readme_table() -> str:
    """The README's table of supported gateways and events, generated so it cannot drift."""
    lines = []
    for provider in PROVIDERS.values():
        lines += [
            "",
            f"**{provider.title}** ({', '.join(provider.versions)})",
            "",
            "| event | versions | per-event URL | data | note |",
            "|---|---|---|---|---|",
        ]
        for event in provider.events:
            paths = ", ".join(f"`{path}`" for path in event.paths()) or "-"
            data = event.data.replace("|", " or ")  # a bare | would split the cell
            lines.append(
                f"| `{event.name}` | {', '.join(event.versions)} | {paths} | "
                f"{data} | {event.note} |"
            )
    return "\n".join(lines[1:])


def update_readme(text: str) -> str:
    """README text with the generated table put between its markers."""
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    return f"{head}{README_START}\n{readme_table()}\n{README_END}{tail}"
