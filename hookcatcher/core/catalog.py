"""The event catalog: the one place that knows every gateway's events and URL rules.

Classification, validation, the `/api/catalog` endpoint (and later replay's per-event URLs)
all read these tables, so a gateway fact is written down once.
Evolution's APPLICATION_STARTUP and CONTACTS_SET can be subscribed to but no version sends
them, so they are not here: a body naming them is reported as an unknown event.
Sources: the project's gateway reference notes (Evolution API 1.x-2.3, CodeChat's
generations, Whapi.Cloud's OpenAPI 1.8.7).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hookcatcher.core.capture import Route

__all__ = [
    "Event",
    "Provider",
    "Classification",
    "PROVIDERS",
    "classify",
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
WHAPI_MODES = ("body", "path", "method")  # a webhook's `mode`; body is the default
WHAPI_MAX_HEADERS = 5  # additional headers per webhook
# A webhook's `events` when left out, as OpenAPI 1.8.7 gives it ({"type": "message",
# "method": "put"}), under the current type name.
WHAPI_DEFAULT_EVENTS = (("messages", "put"),)


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


_EVOLUTION_BY_SUFFIX: dict[str, Event] = {
    e.suffix: e for e in PROVIDERS["evolution"].events if e.suffix
}
_WHAPI_PAYLOAD_KEYS = frozenset(k for e in PROVIDERS["whapi"].events for k in e.payload) | {
    "errors"
}


def find(provider: str, name: str | None) -> Event | None:
    """The catalog entry for a provider's event name, or None when the catalog has none."""
    known = PROVIDERS.get(provider)
    return known.event(name) if known else None


@dataclass(frozen=True, slots=True)
class Classification:
    provider: str
    event: str | None
    instance: str | None
    route: Route
    warnings: tuple[str, ...] = ()


def classify(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: Any,
) -> Classification:
    """Say which gateway sent a request, which event it is, for which instance, and how the
    URL was built. The body decides when it is recognisable; the path fills in (or disagrees,
    which becomes a warning) as the gateways' per-event modes allow."""
    suffix_route = _evolution_route(path, query)

    if isinstance(body, dict):
        tag = body.get("event")
        if (isinstance(tag, dict) and "type" in tag) or (
            tag is None and _WHAPI_PAYLOAD_KEYS.intersection(body)
        ):
            return _classify_whapi(method, path, body, tag, _whapi_route(method, path))
        if isinstance(tag, str):
            provider = _envelope_provider(body, query, headers, suffix_route)
            if provider is not None:
                return _evolution_or_codechat(provider, path, body, tag, suffix_route)

    # The body tells nothing: the path may still name the event.
    if suffix_route is not None:
        route, event = suffix_route
        return Classification("evolution", event.name, None, route, _route_warnings(route, path))
    whapi_route = _whapi_route(method, path)
    if whapi_route is not None and (method.upper() != "POST" or whapi_route[0].mode == "path"):
        route, name, warnings = whapi_route
        return Classification("whapi", name, None, route, tuple(warnings))
    return Classification("unknown", None, None, Route("single", path))


def _pairs(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> Iterable[tuple[str, str]]:
    return headers.items() if isinstance(headers, Mapping) else headers


_EVOLUTION_ONLY = frozenset({"destination", "date_time", "server_url", "apikey", "sender"})


def _envelope_provider(
    body: dict[str, Any],
    query: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    suffix_route: tuple[Route, Event] | None,
) -> str | None:
    """Tell Evolution API from CodeChat by the envelope, for bodies `{"event": "..."}`."""
    instance = body.get("instance")
    tag = body["event"]
    if isinstance(instance, dict):
        return "codechat"  # v1.3, v2 and the 2026 rewrite all send the instance as an object
    if isinstance(instance, str):
        # CodeChat v1.0-1.2 is Evolution's ancestor with the same envelope; it names the
        # owner in an x-owner header (v1.2.7+) or ?owner= (v1.2.0-1.2.6), and never sends
        # Evolution's later envelope fields.
        if (
            not _EVOLUTION_ONLY.intersection(body)
            and tag != "new.jwt"
            and (
                any(name.lower() == "x-owner" for name, _ in _pairs(headers))
                or re.search(r"(^|&)owner=", query)
            )
        ):
            return "codechat"
        return "evolution"
    if tag == "error" and "api_key" in body:
        return "evolution"  # Evolution's errors webhook has no instance
    if tag == "new.jwt" and "auth" in body:
        return "codechat"  # v1.3 token refresh: {"event": "new.jwt", "auth": "..."}
    if suffix_route is not None or find("evolution", tag):
        return "evolution"
    if find("codechat", tag):
        return "codechat"
    return None


def _evolution_or_codechat(
    provider: str,
    path: str,
    body: dict[str, Any],
    tag: str,
    suffix_route: tuple[Route, Event] | None,
) -> Classification:
    instance = body.get("instance")
    warnings: list[str] = []
    route = Route("single", path)
    # CodeChat v1.3 and later have no per-event URLs; its v1.0-1.2 (string instance) shares
    # Evolution's rule.
    if suffix_route is not None and (provider == "evolution" or isinstance(instance, str)):
        route, by_path = suffix_route
        warnings.extend(_route_warnings(route, path))
        if by_path.name != tag:
            warnings.append(
                f"the path says {by_path.name} (/{by_path.suffix}) but the body says {tag}"
            )
    return Classification(provider, tag, _instance_name(instance), route, tuple(warnings))


def _instance_name(instance: Any) -> str | None:
    """Evolution and CodeChat v1 send the instance name; later CodeChat sends an object."""
    if isinstance(instance, dict):
        name = instance.get("name") or instance.get("instanceId") or instance.get("id")
        return None if name is None else str(name)
    return instance if isinstance(instance, str) else None


def _evolution_route(path: str, query: str) -> tuple[Route, Event] | None:
    """Recognise `<base>/<suffix>`; Evolution also appends the suffix inside a query string
    when the configured URL had one (`/hook?t=1/messages-upsert`)."""
    head, _, last = path.rpartition("/")
    event = _EVOLUTION_BY_SUFFIX.get(last)
    if event is not None:
        return Route("by-events", head or "/", last), event
    if query:
        qhead, _, qlast = query.rpartition("/")
        event = _EVOLUTION_BY_SUFFIX.get(qlast)
        if event is not None and qhead:
            return Route("by-events", f"{path}?{qhead}", qlast), event
    return None


def _route_warnings(route: Route, path: str) -> tuple[str, ...]:
    if path.endswith(f"//{route.suffix}"):
        return (
            f"double slash before /{route.suffix}: the webhook URL configured in the gateway "
            "ends with '/'",
        )
    if "?" in route.base:
        return (
            f"/{route.suffix} was appended inside the query string: the webhook URL "
            "configured in the gateway has a query",
        )
    return ()


def _whapi_route(method: str, path: str) -> tuple[Route, str, list[str]] | None:
    """Recognise Whapi's path mode `<base>/<type>/<method>` and method mode `<base>/<type>`."""
    parts = path.rstrip("/").split("/")
    warnings: list[str] = []

    def kind_of(segment: str) -> str | None:
        if segment in WHAPI_TYPES:
            return segment
        if segment in WHAPI_LEGACY_TYPES:
            warnings.append(
                f"legacy Whapi type name '{segment}' in the path "
                f"(current name: {WHAPI_LEGACY_TYPES[segment]})"
            )
            return WHAPI_LEGACY_TYPES[segment]
        return None

    if len(parts) >= 3 and parts[-1] in WHAPI_METHODS and (kind := kind_of(parts[-2])):
        base = "/".join(parts[:-2]) or "/"
        return Route("path", base, f"{parts[-2]}/{parts[-1]}"), f"{kind}/{parts[-1]}", warnings
    verb = method.lower()
    if len(parts) >= 2 and verb in WHAPI_METHODS and (kind := kind_of(parts[-1])):
        base = "/".join(parts[:-1]) or "/"
        return Route("method", base, parts[-1]), f"{kind}/{verb}", warnings
    return None


def _classify_whapi(
    method: str,
    path: str,
    body: dict[str, Any],
    tag: Any,
    whapi_route: tuple[Route, str, list[str]] | None,
) -> Classification:
    channel = body.get("channel_id")
    instance = None if channel is None else str(channel)
    by_body = None
    if (
        isinstance(tag, dict)
        and isinstance(tag.get("type"), str)
        and isinstance(tag.get("event"), str)
    ):
        by_body = f"{tag['type']}/{tag['event']}"
    if whapi_route is None:
        return Classification("whapi", by_body, instance, Route("single", path))
    route, by_path, warnings = whapi_route
    if (
        route.mode == "method"
        and by_body is not None
        and method.upper() == "POST"
        and by_body != by_path
    ):
        # A POST in body mode to a URL that happens to end in a type name.
        return Classification("whapi", by_body, instance, Route("single", path))
    if by_body is not None and by_body != by_path:
        where = f"/{route.suffix}" if route.mode == "path" else f"{method.upper()} /{route.suffix}"
        warnings.append(f"the path says {by_path} ({where}) but the body says {by_body}")
    return Classification("whapi", by_body or by_path, instance, route, tuple(warnings))


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
