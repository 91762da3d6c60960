"""CodeChat API v2's webhook resource, mocked: several webhooks per instance, each with its
event flags, under `/api/v2/instance/{instanceId}/webhook`.

A new webhook has every flag on: the docs give each flag the default true, and a PATCH of
the events sets every flag it leaves out back to true. Errors are NestJS's
(`{"statusCode", "message": [...], "error"}`, class-validator's wording), with the JSON path
of each message added.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookcatcher.core import catalog
from hookcatcher.core.capture import Problem
from hookcatcher.core.jsonpath import described, json_path
from hookcatcher.mock.errors import Invalid, Problems, did_you_mean, is_http_url, read_json
from hookcatcher.send.webhook import Instance, Webhook

__all__ = ["Hook", "Instances", "read_webhook", "read_flags", "webhooks_of", "routes", "FLAGS"]

FLAGS = tuple(catalog.CODECHAT_V2_FLAGS)


@dataclass(frozen=True, slots=True)
class Hook:
    """One webhook of one instance, with its WebhookEvents row."""

    webhook_id: str
    instance_id: str
    name: str
    url: str
    enabled: bool
    created_at: str
    updated_at: str | None
    events_id: str
    flags: tuple[bool, ...]  # in FLAGS order
    events_updated_at: str | None = None

    def response(self, with_events: bool) -> dict[str, Any]:
        """The WebhookResponse; create and update answer it without `WebhookEvents`."""
        answer: dict[str, Any] = {
            "webhookId": self.webhook_id,
            "name": self.name,
            "url": self.url,
            "enabled": self.enabled,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "instanceInstanceId": self.instance_id,
        }
        if with_events:
            answer["WebhookEvents"] = {
                "webhookEventsId": self.events_id,
                **dict(zip(FLAGS, self.flags, strict=True)),
                "createdAt": self.created_at,
                "updatedAt": self.events_updated_at,
                "webhookWebhookId": self.webhook_id,
            }
        return answer

    def webhook(self) -> Webhook:
        on = tuple(flag for flag, value in zip(FLAGS, self.flags, strict=True) if value)
        return Webhook(
            "codechat",
            self.instance_id,
            "v2",
            self.webhook_id,
            self.url,
            self.enabled,
            "single",
            (),
            on,
        )


class Instances:
    """Every CodeChat instance that had a webhook created in this server run, by instanceId."""

    def __init__(self) -> None:
        self._hooks: dict[str, dict[str, Hook]] = {}

    def hooks(self, instance_id: str) -> list[Hook] | None:
        found = self._hooks.get(instance_id)
        return None if found is None else list(found.values())

    def hook(self, instance_id: str, webhook_id: str) -> Hook | None:
        return self._hooks.get(instance_id, {}).get(webhook_id)

    def create(self, instance_id: str, name: str, url: str, enabled: bool) -> Hook:
        hook = Hook(
            str(uuid.uuid4()),
            instance_id,
            name,
            url,
            enabled,
            _now(),
            None,
            str(uuid.uuid4()),
            (True,) * len(FLAGS),
        )
        self._hooks.setdefault(instance_id, {})[hook.webhook_id] = hook
        return hook

    def store(self, hook: Hook) -> Hook:
        self._hooks[hook.instance_id][hook.webhook_id] = hook
        return hook

    def delete(self, hook: Hook) -> None:
        del self._hooks[hook.instance_id][hook.webhook_id]

    def instances(self) -> list[Instance]:
        return [
            Instance(
                "codechat",
                instance_id,
                "v2",
                tuple(hook.webhook() for hook in list(hooks.values())),
            )
            for instance_id, hooks in list(self._hooks.items())
        ]


def webhooks_of(instance_id: str, document: Any) -> tuple[Webhook, ...]:
    """A list answer (`WebhookResponse[]`) in the shared shape: the flags set to true are
    the events."""
    found = []
    for item in document if isinstance(document, list) else ():
        flags = item.get("WebhookEvents") or {}
        found.append(
            Webhook(
                "codechat",
                instance_id,
                "v2",
                item.get("webhookId"),
                item.get("url") or "",
                bool(item.get("enabled")),
                "single",
                (),
                tuple(flag for flag in FLAGS if flags.get(flag) is True),
            )
        )
    return tuple(found)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_webhook(body: Any) -> tuple[str, str, bool]:
    """Name, url and enabled of a create or update body (enabled defaults to false)."""
    if not isinstance(body, dict):
        raise Invalid([Problem("$", f"the body must be a JSON object, got {described(body)}")])
    problems: list[Problem] = Problems()
    for key in ("name", "url"):
        value = body.get(key)
        if value is None or value == "":
            problems.append(Problem(json_path([key]), f"{key} should not be empty"))
        elif not isinstance(value, str):
            problems.append(Problem(json_path([key]), f"{key} must be a string"))
        elif key == "url" and not is_http_url(value):
            problems.append(
                Problem("$.url", f"url must be a URL address (http:// or https://), got {value!r}")
            )
    enabled = body.get("enabled", False)
    if not isinstance(enabled, bool):
        problems.append(Problem("$.enabled", "enabled must be a boolean value"))
    if problems:
        raise Invalid(problems)
    return body["name"], body["url"], enabled


def read_flags(body: Any) -> tuple[bool, ...]:
    """The flags of a PATCH events body, every flag it leaves out true."""
    if not isinstance(body, dict):
        raise Invalid([Problem("$", f"the body must be a JSON object, got {described(body)}")])
    problems: list[Problem] = Problems()
    for key, value in body.items():
        where = json_path([key])
        if key not in FLAGS:
            problems.append(
                Problem(
                    where,
                    f"property {key} should not exist: the event flags "
                    f"are {', '.join(FLAGS)}{did_you_mean(key, FLAGS)}",
                )
            )
        elif not isinstance(value, bool):
            problems.append(
                Problem(where, f"{key} must be a boolean value, got {described(value)}")
            )
    if problems:
        raise Invalid(problems)
    return tuple(body.get(flag, True) for flag in FLAGS)


# Endpoints


def _instances(request: Request) -> Instances:
    instances: Instances = request.app.state.gateways.codechat
    return instances


def _bad_request(problems: tuple[Problem, ...]) -> JSONResponse:
    """NestJS's validation error, plus `path`: the JSON path of each message, in order."""
    return JSONResponse(
        {
            "statusCode": 400,
            "message": [p.message for p in problems],
            "error": "Bad Request",
            "path": [p.path for p in problems],
        },
        status_code=400,
    )


def _not_found(message: str) -> JSONResponse:
    return JSONResponse(
        {"statusCode": 404, "message": message, "error": "Not Found"}, status_code=404
    )


def _unknown_instance(instance_id: str) -> JSONResponse:
    return _not_found(
        f"instance {instance_id!r} has no webhooks here: create one with "
        f"POST /api/v2/instance/{instance_id}/webhook"
    )


def _found(request: Request) -> Hook | JSONResponse:
    instance_id = request.path_params["instance_id"]
    webhook_id = request.path_params["webhook_id"]
    hooks = _instances(request).hooks(instance_id)
    if hooks is None:
        return _unknown_instance(instance_id)
    hook = _instances(request).hook(instance_id, webhook_id)
    if hook is None:
        known = ", ".join(h.webhook_id for h in hooks) or "none"
        return _not_found(
            f"instance {instance_id!r} has no webhook {webhook_id!r} (its webhooks: {known})"
        )
    return hook


async def _create(request: Request) -> Response:
    try:
        name, url, enabled = await read_json(request, read_webhook)
    except Invalid as exc:
        return _bad_request(exc.problems)
    hook = _instances(request).create(request.path_params["instance_id"], name, url, enabled)
    return JSONResponse(hook.response(with_events=False), status_code=201)


async def _list(request: Request) -> Response:
    instance_id = request.path_params["instance_id"]
    hooks = _instances(request).hooks(instance_id)
    if hooks is None:
        return _unknown_instance(instance_id)
    return JSONResponse([hook.response(with_events=True) for hook in hooks])


async def _get(request: Request) -> Response:
    hook = _found(request)
    if isinstance(hook, Response):
        return hook
    return JSONResponse(hook.response(with_events=True))


async def _update(request: Request) -> Response:
    hook = _found(request)
    if isinstance(hook, Response):
        return hook
    try:
        name, url, enabled = await read_json(request, read_webhook)
    except Invalid as exc:
        return _bad_request(exc.problems)
    changed = replace(hook, name=name, url=url, enabled=enabled, updated_at=_now())
    return JSONResponse(_instances(request).store(changed).response(with_events=False))


async def _delete(request: Request) -> Response:
    hook = _found(request)
    if isinstance(hook, Response):
        return hook
    _instances(request).delete(hook)
    return JSONResponse(hook.response(with_events=True))


async def _set_events(request: Request) -> Response:
    hook = _found(request)
    if isinstance(hook, Response):
        return hook
    try:
        flags = await read_json(request, read_flags)
    except Invalid as exc:
        return _bad_request(exc.problems)
    changed = replace(hook, flags=flags, events_updated_at=_now())
    return JSONResponse(_instances(request).store(changed).response(with_events=True))


def routes() -> list[Route]:
    """The routes under the gateway prefix: `/codechat/api/v2/instance/...`."""
    base = "/codechat/api/v2/instance/{instance_id}/webhook"
    one = base + "/{webhook_id}"
    return [
        Route(base, _create, methods=["POST"]),
        Route(base, _list, methods=["GET"]),
        Route(one, _get, methods=["GET"]),
        Route(one, _update, methods=["PUT"]),
        Route(one, _delete, methods=["DELETE"]),
        Route(f"{one}/events", _set_events, methods=["PATCH"]),
    ]
