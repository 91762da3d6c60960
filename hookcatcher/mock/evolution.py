"""Evolution API's webhook settings, mocked: `POST /webhook/set/{instance}`,
`GET /webhook/find/{instance}` and the root's welcome document, for v1 (1.8.2) and v2 (2.3.6),
with the instance's connection (`GET /instance/connectionState/{instance}`, `open` once it
has a webhook, `close` after `DELETE /instance/logout/{instance}`).

The two versions take different bodies: v2 nests everything under `webhook` (byEvents,
base64, headers), v1 is flat (webhook_by_events, webhook_base64). `/v1/` and `/v2/` paths are
strictly that version; the plain path goes by the body's shape. Answers and errors are the
ones Evolution gives (its jsonschema messages such as `webhook requires property "url"`),
with the JSON path of each problem added, and a close match for a misspelt event key.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookcatcher.core import catalog
from hookcatcher.core.capture import Problem
from hookcatcher.core.jsonpath import json_path
from hookcatcher.mock.errors import Invalid, Problems, did_you_mean, is_http_url, read_json
from hookcatcher.send.webhook import Instance, Webhook

__all__ = ["Stored", "Instances", "read_v1", "read_v2", "webhooks_of", "routes", "VERSIONS"]

# The release each mocked version answers as.
VERSIONS = {"v1": "1.8.2", "v2": "2.3.6"}
_V1_KEYS = {
    "by_events": ("webhook_by_events", "webhookByEvents"),
    "base64": ("webhook_base64", "webhookBase64"),
}


@dataclass(frozen=True, slots=True)
class Stored:
    """One instance's webhook as Evolution keeps it (v2: the Prisma `Webhook` row)."""

    version: str
    id: str
    instance_id: str
    enabled: bool
    url: str
    headers: dict[str, Any] | None
    events: tuple[str, ...]
    by_events: bool
    base64: bool
    created_at: str
    updated_at: str

    def v2_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "headers": self.headers,
            "enabled": self.enabled,
            "events": list(self.events),
            "webhookByEvents": self.by_events,
            "webhookBase64": self.base64,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "instanceId": self.instance_id,
        }

    def v1_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "url": self.url,
            "events": list(self.events),
            "webhook_by_events": self.by_events,
            "webhook_base64": self.base64,
        }

    def webhook(self, name: str) -> Webhook:
        headers = tuple((key, _header_text(value)) for key, value in (self.headers or {}).items())
        return Webhook(
            "evolution",
            name,
            self.version,
            None,
            self.url,
            self.enabled,
            "by-events" if self.by_events else "single",
            headers,
            self.events,
        )


def _header_text(value: Any) -> str:
    """A header value as axios sends it: strings as they are, numbers and booleans as JS
    writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Instances:
    """Every Evolution instance configured in this server run, by name."""

    def __init__(self) -> None:
        self._stored: dict[str, Stored] = {}
        self._ids: dict[str, str] = {}  # an instance keeps its uuid across versions
        self._logged_out: set[str] = set()

    def get(self, name: str) -> Stored | None:
        return self._stored.get(name)

    def set(self, name: str, version: str, fields: dict[str, Any]) -> Stored:
        """Store a validated set body. v2 is Prisma's upsert: a field left out of an update
        keeps its value; v1 replaces the whole webhook."""
        now = _now()
        old = self._stored.get(name)
        instance_id = self._ids.setdefault(name, str(uuid.uuid4()))
        if old is not None and old.version == version == "v2":
            stored = replace(old, updated_at=now, **fields)
        else:
            defaults = {"headers": None, "by_events": False, "base64": False}
            stored = Stored(
                version=version,
                id=_cuid(),
                instance_id=instance_id,
                created_at=now,
                updated_at=now,
                **{**defaults, **fields},
            )
        self._stored[name] = stored
        return stored

    def state(self, name: str) -> str | None:
        """`open` or `close` for an instance this run knows (it had a webhook set), else
        None: the mock knows an instance only from its configuration."""
        if name not in self._stored:
            return None
        return "close" if name in self._logged_out else "open"

    def logout(self, name: str) -> None:
        self._logged_out.add(name)

    def instances(self) -> list[Instance]:
        return [
            Instance("evolution", name, stored.version, (stored.webhook(name),))
            for name, stored in list(self._stored.items())
        ]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cuid() -> str:
    """An id shaped like Prisma's cuid() (`c` and 24 lower-case letters and digits)."""
    alphabet = string.ascii_lowercase + string.digits
    return "c" + "".join(secrets.choice(alphabet) for _ in range(24))


def webhooks_of(name: str, version: str, document: Any) -> tuple[Webhook, ...]:
    """A find answer (v2 the row or null, v1 the flat object) in the shared shape; none for
    null and for v1's never-set answer (disabled, no URL)."""
    if not isinstance(document, dict):
        return ()
    if version == "v1":
        by_events = document.get("webhook_by_events") or document.get("webhookByEvents")
        headers: Any = None
    else:
        by_events = document.get("webhookByEvents")
        headers = document.get("headers")
    enabled = bool(document.get("enabled"))
    url = document.get("url") or ""
    if not enabled and not url:
        return ()
    pairs = tuple((key, _header_text(value)) for key, value in (headers or {}).items())
    return (
        Webhook(
            "evolution",
            name,
            version,
            None,
            url,
            enabled,
            "by-events" if by_events else "single",
            pairs,
            tuple(document.get("events") or ()),
        ),
    )


# Reading set bodies. Messages follow the jsonschema library Evolution validates with
# (`<property path> is not of a type(s) boolean`), where the path is written without `$.`
# and the whole body is called `instance`.


def _name(path: str) -> str:
    return "instance" if path == "$" else path[2:]


def _child(path: str, key: str | int) -> str:
    return json_path([key]).replace("$", path, 1)


def _typed(
    problems: list[Problem], body: dict[str, Any], path: str, key: str, kind: type, kind_name: str
) -> Any:
    """The value at `key` if it has the type, else None and a problem (absent is fine;
    null is not, as in jsonschema)."""
    value = body.get(key)
    if key not in body or isinstance(value, kind):
        return value
    where = _child(path, key)
    problems.append(Problem(where, f"{_name(where)} is not of a type(s) {kind_name}"))
    return None


def _required(problems: list[Problem], body: dict[str, Any], path: str, *keys: str) -> None:
    for key in keys:
        if key not in body:
            problems.append(Problem(_child(path, key), f'{_name(path)} requires property "{key}"'))


def _events(
    problems: list[Problem], body: dict[str, Any], path: str, version: str
) -> tuple[str, ...] | None:
    events = _typed(problems, body, path, "events", list, "array")
    if events is None:
        return None
    accepted = catalog.EVOLUTION_EVENTS[version]
    for index, key in enumerate(events):
        where = _child(_child(path, "events"), index)
        if not isinstance(key, str):
            problems.append(Problem(where, f"{_name(where)} is not of a type(s) string"))
        elif key not in accepted:
            problems.append(
                Problem(
                    where,
                    f"{_name(where)} is not one of enum values: "
                    f"{','.join(accepted)}{_hint(key, version)}",
                )
            )
    return tuple(events)


def _hint(key: str, version: str) -> str:
    """A key of the other version says so; a misspelt one gets the closest accepted key."""
    other = "v1" if version == "v2" else "v2"
    if key in catalog.EVOLUTION_EVENTS[other]:
        return f" ({key} is an Evolution {other} event)"
    return did_you_mean(key, catalog.EVOLUTION_EVENTS[version])


def _url(problems: list[Problem], body: dict[str, Any], path: str, may_be_empty: bool) -> str:
    url = _typed(problems, body, path, "url", str, "string")
    if not isinstance(url, str) or (may_be_empty and url == ""):
        return url or ""
    where = _child(path, "url")
    if url == "":
        problems.append(Problem(where, 'The "url" cannot be empty'))
    elif not is_http_url(url):
        problems.append(
            Problem(
                where,
                f'Invalid "url" property: {_name(where)} must be an '
                f"http:// or https:// URL with a host, got {url!r}",
            )
        )
    return url


def _headers(problems: list[Problem], hook: dict[str, Any], path: str) -> dict[str, Any] | None:
    headers: dict[str, Any] | None = _typed(problems, hook, path, "headers", dict, "object")
    for key, value in (headers or {}).items():
        if not isinstance(value, (str, int, float)):
            # Evolution takes any object, but a nested value cannot be a header.
            where = _child(_child(path, "headers"), key)
            problems.append(Problem(where, f"{_name(where)} is not of a type(s) string"))
    return headers


def read_v2(body: Any) -> dict[str, Any]:
    """A v2 set body (`{"webhook": {...}}`) as `Stored` fields; only the fields present."""
    if not isinstance(body, dict):
        raise Invalid([Problem("$", "instance is not of a type(s) object")])
    problems: list[Problem] = Problems()
    _required(problems, body, "$", "webhook")
    hook = _typed(problems, body, "$", "webhook", dict, "object")
    if hook is None:
        raise Invalid(problems)
    path = "$.webhook"
    _required(problems, hook, path, "enabled", "url")
    enabled = _typed(problems, hook, path, "enabled", bool, "boolean")
    url = _url(problems, hook, path, may_be_empty=False) if "url" in hook else ""
    headers = _headers(problems, hook, path)
    by_events = _typed(problems, hook, path, "byEvents", bool, "boolean")
    base64 = _typed(problems, hook, path, "base64", bool, "boolean")
    events = _events(problems, hook, path, "v2")
    if problems:
        raise Invalid(problems)
    # webhook.controller.ts: a disabled webhook keeps no events; enabled with none is all.
    chosen = () if not enabled else (events or catalog.EVOLUTION_EVENTS["v2"])
    fields = {
        "enabled": enabled,
        "url": url,
        "events": tuple(chosen),
        "headers": headers,
        "by_events": by_events,
        "base64": base64,
    }
    return {key: value for key, value in fields.items() if value is not None}


def read_v1(body: Any, guessed: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """A v1 set body (flat) as `Stored` fields, and the answer's echo of what was sent (1.8.2
    answers with the request data, after its controller cleared or filled it in)."""
    if not isinstance(body, dict):
        raise Invalid([Problem("$", "instance is not of a type(s) object")])
    problems: list[Problem] = Problems()
    _required(problems, body, "$", "enabled", "url")
    enabled = _typed(problems, body, "$", "enabled", bool, "boolean")
    url = _url(problems, body, "$", may_be_empty=enabled is False) if "url" in body else ""
    flags = {
        field: any([_typed(problems, body, "$", key, bool, "boolean") for key in keys])
        for field, keys in _V1_KEYS.items()
    }
    events = _events(problems, body, "$", "v1")
    if problems:
        if guessed:
            problems.append(
                Problem(
                    "$",
                    "read as an Evolution v1 (flat) body because it has no "
                    '"webhook" property; a v2 body is {"webhook": '
                    '{"enabled": true, "url": "...", "events": [...]}}',
                )
            )
        raise Invalid(problems)
    if enabled:
        chosen = events or catalog.EVOLUTION_EVENTS["v1"]
    else:
        url, chosen = "", ()
    echo = {**body, "url": url, "events": list(chosen)}
    return {"enabled": bool(enabled), "url": url, "events": tuple(chosen), **flags}, echo


# Endpoints


def _instances(request: Request) -> Instances:
    instances: Instances = request.app.state.gateways.evolution
    return instances


def _bad_request(problems: tuple[Problem, ...]) -> JSONResponse:
    """Evolution's error body, plus `path`: the JSON path of each message, in order."""
    return JSONResponse(
        {
            "status": 400,
            "error": "Bad Request",
            "response": {
                "message": [p.message for p in problems],
                "path": [p.path for p in problems],
            },
        },
        status_code=400,
    )


def _read_set(version: str | None, body: Any) -> tuple[str, Any]:
    """The version a set body is read as (the path's, or its shape's) and what it says."""
    chosen = version or ("v2" if isinstance(body, dict) and "webhook" in body else "v1")
    if chosen == "v2":
        return chosen, read_v2(body)
    return chosen, read_v1(body, guessed=version is None)


def _set(version: str | None) -> Callable[[Request], Awaitable[Response]]:
    async def set_webhook(request: Request) -> Response:
        name = request.path_params["instance"]
        try:
            chosen, read = await read_json(request, partial(_read_set, version))
        except Invalid as exc:
            return _bad_request(exc.problems)
        if chosen == "v2":
            stored = _instances(request).set(name, "v2", read)
            return JSONResponse(stored.v2_json(), status_code=201)
        fields, echo = read
        _instances(request).set(name, "v1", fields)
        return JSONResponse({"webhook": {"instanceName": name, "webhook": echo}}, status_code=201)

    return set_webhook


def _find(version: str | None) -> Callable[[Request], Awaitable[Response]]:
    async def find_webhook(request: Request) -> Response:
        name = request.path_params["instance"]
        stored = _instances(request).get(name)
        if stored is not None and version is not None and stored.version != version:
            return _bad_request(
                (
                    Problem(
                        "$",
                        (
                            f"instance {name!r} was configured through Evolution {stored.version} "
                            f"(/{stored.version}/webhook/set/{name}): find it at "
                            f"/{stored.version}/webhook/find/{name} or /webhook/find/{name}"
                        ),
                    ),
                )
            )
        if stored is None:
            if version == "v1":
                return JSONResponse(
                    {
                        "enabled": False,
                        "url": "",
                        "events": [],
                        "webhook_by_events": False,
                        "webhook_base64": False,
                    }
                )
            return JSONResponse(None)
        return JSONResponse(stored.v1_json() if stored.version == "v1" else stored.v2_json())

    return find_webhook


def _missing(name: str) -> JSONResponse:
    """Evolution's answer for an instance it does not have."""
    return JSONResponse(
        {
            "status": 404,
            "error": "Not Found",
            "response": {"message": [f'The "{name}" instance does not exist']},
        },
        status_code=404,
    )


async def _connection_state(request: Request) -> Response:
    name = request.path_params["instance"]
    state = _instances(request).state(name)
    if state is None:
        return _missing(name)
    return JSONResponse({"instance": {"instanceName": name, "state": state}})


async def _logout(request: Request) -> Response:
    name = request.path_params["instance"]
    if _instances(request).state(name) is None:
        return _missing(name)
    _instances(request).logout(name)
    return JSONResponse(
        {"status": "SUCCESS", "error": False, "response": {"message": "Instance logged out"}}
    )


def _welcome(version: str) -> Callable[[Request], Awaitable[Response]]:
    async def welcome(request: Request) -> Response:
        document: dict[str, Any] = {
            "status": 200,
            "message": "Welcome to the Evolution API, it is working!",
            "version": VERSIONS[version],
        }
        if version == "v2":
            document["clientName"] = "evolution_exchange"
        document["documentation"] = "https://doc.evolution-api.com"
        return JSONResponse(document)

    return welcome


def routes() -> list[Route]:
    """The routes under the gateway prefix: `/evolution/...`, `/evolution/v1/...`,
    `/evolution/v2/...`."""
    found: list[Route] = []
    for version in (None, "v1", "v2"):
        base = "/evolution" + (f"/{version}" if version else "")
        found += [
            Route(base, _welcome(version or "v2"), methods=["GET"]),
            Route(f"{base}/", _welcome(version or "v2"), methods=["GET"]),
            Route(f"{base}/webhook/set/{{instance}}", _set(version), methods=["POST"]),
            Route(f"{base}/webhook/find/{{instance}}", _find(version), methods=["GET"]),
            Route(
                f"{base}/instance/connectionState/{{instance}}", _connection_state, methods=["GET"]
            ),
            # Evolution's logout is a DELETE; POST is taken too, for scripts that use it.
            Route(f"{base}/instance/logout/{{instance}}", _logout, methods=["DELETE", "POST"]),
        ]
    return found
