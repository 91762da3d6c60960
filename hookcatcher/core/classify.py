"""Classification: which gateway sent a request, which event it is, for which instance, and
how the URL was built (single URL, Evolution's by-events suffix, Whapi's path or method
mode), with warnings where the path and the body disagree.

Runs on every captured request; kept apart from the catalog (core/catalog.py), whose tables
of events and URL rules it reads and which knows nothing of requests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hookcatcher.core.capture import Route
from hookcatcher.core.catalog import (
    PROVIDERS,
    WHAPI_LEGACY_TYPES,
    WHAPI_METHODS,
    WHAPI_TYPES,
    Event,
    find,
)

__all__ = ["Classification", "classify"]

_EVOLUTION_BY_SUFFIX: dict[str, Event] = {
    e.suffix: e for e in PROVIDERS["evolution"].events if e.suffix
}
_WHAPI_PAYLOAD_KEYS = frozenset(k for e in PROVIDERS["whapi"].events for k in e.payload) | {
    "errors"
}


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
