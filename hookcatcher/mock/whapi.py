"""Whapi.Cloud's channel settings, mocked: `GET/PATCH/DELETE /settings`,
`GET /settings/events`, the webhook test `POST /settings/webhook_test` (which really posts a
test callback to the URL it is given) and the channel's `GET /health`.

A channel is named by its token (`Authorization: Bearer <token>`; `default` without one), as
Whapi knows a channel by it. A PATCH changes only the fields it names, and `webhooks`
replaces the whole list. Legacy type names (`message`, `ack`, `chat`, `status`) are accepted
and stored under their current names, so `GET /settings` shows what will be matched.
Errors are Whapi's `{"error": {"code", "message", "details"}}`, each problem with its path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookcatcher.core import catalog
from hookcatcher.core.capture import Problem
from hookcatcher.core.jsonpath import described, json_path
from hookcatcher.mock.errors import Invalid, Problems, did_you_mean, is_http_url, read_json
from hookcatcher.send.webhook import Instance, Webhook

__all__ = ["Channels", "read_settings", "read_test", "channel_of", "webhooks_of", "routes"]

_MODES = {"body": "single", "path": "path", "method": "method"}
_TYPES = catalog.WHAPI_TYPES + tuple(catalog.WHAPI_LEGACY_TYPES)


class Channels:
    """Every channel's settings set in this server run, by channel (token)."""

    def __init__(self) -> None:
        self._settings: dict[str, dict[str, Any]] = {}
        self.started = time.time()

    def get(self, channel: str) -> dict[str, Any]:
        return self._settings.get(channel) or _empty()

    def update(self, channel: str, changes: dict[str, Any]) -> dict[str, Any]:
        settings = {**self.get(channel), **changes}
        self._settings[channel] = settings
        return settings

    def delete(self, channel: str) -> dict[str, Any]:
        self._settings.pop(channel, None)
        return _empty()

    def instances(self) -> list[Instance]:
        return [
            Instance("whapi", channel, "", webhooks_of(channel, settings))
            for channel, settings in list(self._settings.items())
        ]


def _empty() -> dict[str, Any]:
    return {"webhooks": []}


def webhooks_of(channel: str, settings: Any) -> tuple[Webhook, ...]:
    """A settings answer's `webhooks` in the shared shape, Whapi's defaults filled in where
    a webhook leaves them out (mode body, events messages/put)."""
    webhooks = settings.get("webhooks") if isinstance(settings, dict) else None
    found = []
    for index, hook in enumerate(webhooks if isinstance(webhooks, list) else ()):
        mode = hook.get("mode", "body")
        events = hook.get("events")
        pairs = (
            [(event.get("type"), event.get("method")) for event in events]
            if isinstance(events, list)
            else catalog.WHAPI_DEFAULT_EVENTS
        )
        found.append(
            Webhook(
                "whapi",
                channel,
                "",
                str(index),
                hook.get("url") or "",
                True,
                _MODES.get(mode, mode),
                tuple((hook.get("headers") or {}).items()),
                tuple(f"{kind}/{method}" for kind, method in pairs),
            )
        )
    return tuple(found)


def channel_of(request: Request) -> str:
    """The channel a request is for: its bearer token, `default` without one."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else "default"


# Settings fields besides `webhooks`, each with a check of its value (None when fine).
def _between(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return None
        return f"expected a whole number from {low} to {high}, got {described(value)}"

    return check


def _of_type(kind: type, name: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if isinstance(value, kind) else f"expected {name}, got {described(value)}"

    return check


def _or_null(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    return lambda value: None if value is None else check(value)


def _strings(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return None
    return f"expected an array of strings, got {described(value)}"


_FIELDS: dict[str, Callable[[Any], str | None]] = {
    "callback_backoff_delay_ms": _between(3000, 15000),
    "max_callback_backoff_delay_ms": _between(600000, 3600000),
    "callback_persist": _of_type(bool, "a boolean"),
    "media": _of_type(dict, "an object"),
    "proxy": _of_type(str, "a string"),
    "mobile_proxy": _of_type(str, "a string"),
    "offline_mode": _of_type(bool, "a boolean"),
    "full_history": _of_type(bool, "a boolean"),
    "pdo_sync": _of_type(bool, "a boolean"),
    "ignored_presences": _strings,
}
_WEBHOOK_FIELDS: dict[str, Callable[[Any], str | None]] = {
    "webhook_max_age_seconds": _or_null(_between(15, 172800)),
    "send_undecrypted_ad": _of_type(bool, "a boolean"),
}
_SETTINGS = ("webhooks", *_FIELDS)
_WEBHOOK_KEYS = ("url", "mode", "events", "headers", *_WEBHOOK_FIELDS)


def read_settings(body: Any) -> dict[str, Any]:
    """A PATCH body as the settings it changes, webhooks filled in with their defaults."""
    if not isinstance(body, dict):
        raise Invalid([Problem("$", f"expected an object of settings, got {described(body)}")])
    problems: list[Problem] = Problems()
    changes: dict[str, Any] = {}
    for key, value in body.items():
        where = json_path([key])
        if key == "webhooks":
            changes[key] = _read_webhooks(problems, value)
        elif key in _FIELDS:
            wrong = _FIELDS[key](value)
            if wrong:
                problems.append(Problem(where, wrong))
            changes[key] = value
        else:
            problems.append(Problem(where, _unknown(key, "setting", _SETTINGS)))
    if problems:
        raise Invalid(problems)
    return changes


def _unknown(key: str, what: str, known: tuple[str, ...]) -> str:
    return f"unknown {what} {key!r}{did_you_mean(key, known)}; known: {', '.join(known)}"


def _not_one_of(value: Any, allowed: tuple[str, ...]) -> str:
    return (
        f"expected one of {', '.join(allowed)}, got {described(value)}"
        f"{did_you_mean(value, allowed)}"
    )


def _read_webhooks(problems: list[Problem], value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        problems.append(Problem("$.webhooks", f"expected an array, got {described(value)}"))
        return []
    return [
        _read_webhook(problems, hook, f"$.webhooks[{index}]") for index, hook in enumerate(value)
    ]


def _read_webhook(problems: list[Problem], hook: Any, path: str) -> dict[str, Any]:
    if not isinstance(hook, dict):
        problems.append(Problem(path, f"expected a webhook object, got {described(hook)}"))
        return {}
    for key in hook:
        if key not in _WEBHOOK_KEYS:
            problems.append(Problem(f"{path}.{key}", _unknown(key, "webhook field", _WEBHOOK_KEYS)))
    url = hook.get("url")
    if url is None:
        problems.append(Problem(f"{path}.url", "required field is missing"))
    elif not isinstance(url, str) or not is_http_url(url):
        problems.append(
            Problem(f"{path}.url", f"expected an http:// or https:// URL, got {described(url)}")
        )
    mode = hook.get("mode", "body")
    if mode not in catalog.WHAPI_MODES:
        problems.append(Problem(f"{path}.mode", _not_one_of(mode, catalog.WHAPI_MODES)))
    for key, check in _WEBHOOK_FIELDS.items():
        wrong = check(hook[key]) if key in hook else None
        if wrong:
            problems.append(Problem(f"{path}.{key}", wrong))
    return {
        **hook,
        "url": url,
        "mode": mode,
        "events": _read_events(problems, hook.get("events"), f"{path}.events"),
        "headers": _read_headers(problems, hook.get("headers"), f"{path}.headers"),
    }


def _read_events(problems: list[Problem], events: Any, path: str) -> list[dict[str, str]]:
    if events is None:
        return [{"type": kind, "method": method} for kind, method in catalog.WHAPI_DEFAULT_EVENTS]
    if not isinstance(events, list):
        problems.append(
            Problem(path, f"expected an array of {{type, method}}, got {described(events)}")
        )
        return []
    found: dict[tuple[str, str], None] = {}
    for index, event in enumerate(events):
        where = f"{path}[{index}]"
        if not isinstance(event, dict):
            problems.append(Problem(where, f"expected {{type, method}}, got {described(event)}"))
            continue
        kind: Any = event.get("type")
        method: Any = event.get("method")
        if kind not in _TYPES:
            problems.append(Problem(f"{where}.type", _not_one_of(kind, catalog.WHAPI_TYPES)))
        if method not in catalog.WHAPI_METHODS:
            problems.append(Problem(f"{where}.method", _not_one_of(method, catalog.WHAPI_METHODS)))
        if kind in _TYPES and method in catalog.WHAPI_METHODS:
            found[(catalog.WHAPI_LEGACY_TYPES.get(kind, kind), method)] = None
    return [{"type": kind, "method": method} for kind, method in found]


def _read_headers(problems: list[Problem], headers: Any, path: str) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        problems.append(
            Problem(
                path, f"expected an object of header names and values, got {described(headers)}"
            )
        )
        return {}
    if len(headers) > catalog.WHAPI_MAX_HEADERS:
        problems.append(
            Problem(path, f"at most {catalog.WHAPI_MAX_HEADERS} headers, got {len(headers)}")
        )
    for name, value in headers.items():
        if not isinstance(value, str):
            problems.append(
                Problem(
                    json_path([name]).replace("$", path, 1),
                    f"expected a string, got {described(value)}",
                )
            )
    return headers


# Endpoints


def _channels(request: Request) -> Channels:
    channels: Channels = request.app.state.gateways.whapi
    return channels


def _bad_request(problems: tuple[Problem, ...]) -> JSONResponse:
    first = problems[0]
    return JSONResponse(
        {
            "error": {
                "code": 400,
                "message": f"{first.path}: {first.message}",
                "details": "; ".join(f"{p.path}: {p.message}" for p in problems),
            }
        },
        status_code=400,
    )


async def _get_settings(request: Request) -> Response:
    return JSONResponse(_channels(request).get(channel_of(request)))


async def _patch_settings(request: Request) -> Response:
    try:
        changes = await read_json(request, read_settings)
    except Invalid as exc:
        return _bad_request(exc.problems)
    return JSONResponse(_channels(request).update(channel_of(request), changes))


async def _delete_settings(request: Request) -> Response:
    return JSONResponse(_channels(request).delete(channel_of(request)))


async def _allowed_events(request: Request) -> Response:
    return JSONResponse(
        [{"type": kind, "method": method} for kind, method in catalog.whapi_pairs()]
    )


async def _health(request: Request) -> Response:
    """The channel's Health: always authorised (AUTH), as a linked phone would be."""
    started = _channels(request).started
    return JSONResponse(
        {
            "start_at": int(started),
            "uptime": int(time.time() - started),
            "version": "1.8.7",
            "status": {"code": 4, "text": "AUTH"},
        }
    )


def read_test(body: Any) -> dict[str, Any]:
    """A webhook test body (`{type, url, mode, headers?}`, the first three required)."""
    if not isinstance(body, dict):
        raise Invalid([Problem("$", f"expected an object, got {described(body)}")])
    problems: list[Problem] = Problems()
    for key in ("type", "url", "mode"):
        if key not in body:
            problems.append(Problem(json_path([key]), "required field is missing"))
    if problems:
        raise Invalid(problems)
    hook = _read_webhook(
        problems, {key: body[key] for key in ("url", "mode", "headers") if key in body}, "$"
    )
    if body["type"] not in _TYPES:
        problems.append(Problem("$.type", _not_one_of(body["type"], catalog.WHAPI_TYPES)))
    if problems:
        raise Invalid(problems)
    return {**hook, "type": catalog.WHAPI_LEGACY_TYPES.get(body["type"], body["type"])}


async def _webhook_test(request: Request) -> Response:
    """Post a test callback to one of the channel's configured webhooks and report how it
    was answered (its status, never its body); a URL that does not take it is Whapi's
    error, with the reason.

    The mock sends only to a URL the channel already delivers to: otherwise anyone who can
    reach hookcatcher (a web page included) could make it call any address on the
    developer's machine and read the answer back."""
    try:
        test = await read_json(request, read_test)
    except Invalid as exc:
        return _bad_request(exc.problems)
    configured = [
        hook["url"].rstrip("/")
        for hook in _channels(request).get(channel_of(request)).get("webhooks") or []
    ]
    if test["url"].rstrip("/") not in configured:
        shown = ", ".join(configured) if configured else "none"
        return _bad_request(
            (
                Problem(
                    "$.url",
                    (
                        "the mock tests only a webhook this channel has (PATCH /settings with it "
                        f"first); configured: {shown}"
                    ),
                ),
            )
        )
    kind = test["type"]
    event = catalog.find("whapi", f"{kind}/post")
    payload: dict[str, list[Any]] = {event.payload[0]: []} if event and event.payload else {}
    body = {**payload, "event": {"type": kind, "event": "post"}, "channel_id": "MOCK-CHANNEL"}
    target = test["url"].rstrip("/")
    if test["mode"] == "path":
        target += f"/{kind}/post"
    elif test["mode"] == "method":
        target += f"/{kind}"
    try:
        async with httpx.AsyncClient(timeout=_TEST_TIMEOUT, follow_redirects=False) as http:
            answer = await http.post(target, json=body, headers=test["headers"])
    except httpx.HTTPError as exc:
        return _test_failed(f"the webhook test could not reach {target}: {type(exc).__name__}")
    if not 200 <= answer.status_code < 300:
        return _test_failed(f"the webhook test to {target} was answered {answer.status_code}")
    return JSONResponse({"success": True, "url": target, "status": answer.status_code})


_TEST_TIMEOUT = 5.0


def _test_failed(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": 400, "message": message, "details": message}}, status_code=400
    )


def routes() -> list[Route]:
    """The routes under the gateway prefix: `/whapi/settings...` and `/whapi/health`."""
    return [
        Route("/whapi/health", _health, methods=["GET"]),
        Route("/whapi/settings/webhook_test", _webhook_test, methods=["POST"]),
        Route("/whapi/settings", _get_settings, methods=["GET"]),
        Route("/whapi/settings", _patch_settings, methods=["PATCH"]),
        Route("/whapi/settings", _delete_settings, methods=["DELETE"]),
        Route("/whapi/settings/events", _allowed_events, methods=["GET"]),
    ]
