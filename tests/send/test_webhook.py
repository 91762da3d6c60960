"""Delivery planning from what an app configured: each gateway's URL rule, custom headers,
Evolution's jwt_key, and the exact reason for every webhook that sends nothing. The
configuration is made through the mocked endpoints of a real server and read back as JSON
from /_hookcatcher/api/instances, as a client in another process would."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from helpers.bundled import fixture

from hookcatcher.check.validation import Validator
from hookcatcher.core.capture import Capture
from hookcatcher.mock import Gateways
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.send.outgoing import make_client, send
from hookcatcher.send.webhook import (
    JWT_LIFETIME,
    Instance,
    Plan,
    UnknownInstance,
    Webhook,
    find_instance,
    jwt_hs256,
    plan,
)

APP = "http://127.0.0.1:3000/hook"
EVOLUTION = "/_gateway/evolution/webhook/set"
CODECHAT = "/_gateway/codechat/api/v2/instance"
WHAPI = "/_gateway/whapi/settings"


def capture_of(validator: Validator, name: str, method: str = "POST", path: str = "/") -> Capture:
    """A real capture, as the server builds it, of a bundled fixture."""
    item = fixture(name)
    return build_capture(
        validator,
        method,
        path,
        "",
        [tuple(h) for h in item["headers"]],
        "127.0.0.1:40001",
        json.dumps(item["body"]).encode(),
    )


def webhooks_of(client: httpx.Client, name: str) -> list[Webhook]:
    """The instance's webhooks as another process sees them: from the API's JSON."""
    instances = [
        Instance.from_json(item)
        for item in client.get("/_hookcatcher/api/instances").json()["instances"]
    ]
    return list(find_instance(instances, name).webhooks)


def evolution(client: httpx.Client, instance: str = "sales", **hook: Any) -> list[Webhook]:
    body = {
        "webhook": {
            "enabled": True,
            "url": APP,
            "events": ["MESSAGES_UPSERT", "CONNECTION_UPDATE"],
            **hook,
        }
    }
    assert client.post(f"{EVOLUTION}/{instance}", json=body).status_code == 201
    return webhooks_of(client, f"evolution/{instance}")


def planned(webhooks: list[Webhook], validator: Validator, name: str) -> Plan:
    return plan(webhooks, capture_of(validator, name))


def test_webhook_and_instance_json_round_trip() -> None:
    hook = Webhook(
        "whapi", "tok", "", "1", APP, True, "path", (("x-a", "1"), ("x-b", "2")), ("messages/post",)
    )
    assert Webhook.from_json(json.loads(json.dumps(hook.to_json()))) == hook
    instance = Instance("whapi", "tok", "", (hook,))
    assert Instance.from_json(json.loads(json.dumps(instance.to_json()))) == instance
    assert instance.to_json()["instance"] == "tok" and instance.key == "whapi/tok"


def test_finding_instances_across_gateways(server: BackgroundServer, client: httpx.Client) -> None:
    gateways: Gateways = server.app.gateways
    with pytest.raises(UnknownInstance, match="no gateway instance is configured yet"):
        gateways.webhooks("sales")
    evolution(client, "sales")
    client.post(f"{CODECHAT}/sales/webhook", json={"name": "n", "url": APP})
    client.patch(WHAPI, json={"webhooks": [{"url": APP}]}, headers={"Authorization": "Bearer t"})
    assert [w.provider for w in gateways.webhooks("evolution/sales")] == ["evolution"]
    assert [w.provider for w in gateways.webhooks("codechat/sales")] == ["codechat"]
    assert [w.instance for w in gateways.webhooks("t")] == ["t"]
    with pytest.raises(UnknownInstance) as ambiguous:
        gateways.webhooks("sales")
    assert str(ambiguous.value) == (
        "'sales' is configured on more than one gateway: say evolution/sales or codechat/sales"
    )
    with pytest.raises(UnknownInstance) as unknown:
        gateways.webhooks("whapi/nobody")
    assert str(unknown.value) == (
        "no instance 'whapi/nobody' is configured; configured: "
        "evolution/sales, codechat/sales, whapi/t"
    )
    with pytest.raises(UnknownInstance) as typo:
        gateways.webhooks("sale")
    assert str(typo.value).startswith("no instance 'sale' is configured (did you mean sales?)")


def test_evolution_by_events_appends_the_suffix(client: httpx.Client, validator: Validator) -> None:
    [request] = planned(
        evolution(client, byEvents=True), validator, "evolution/v2/messages.upsert.text"
    ).requests
    assert (request.method, request.url) == ("POST", f"{APP}/messages-upsert")
    [request] = planned(
        evolution(client, url=APP + "/", byEvents=True),
        validator,
        "evolution/v2/messages.upsert.text",
    ).requests
    assert request.url == f"{APP}//messages-upsert"  # the gateway concatenates


def test_evolution_single_mode_and_custom_headers(
    client: httpx.Client, validator: Validator
) -> None:
    hooks = evolution(client, headers={"x-token": "t1", "user-agent": "mine"})
    capture = capture_of(validator, "evolution/v2/messages.upsert.text")
    [request] = plan(hooks, capture).requests
    assert (request.method, request.url, request.content) == ("POST", APP, capture.raw)
    assert request.headers == (
        ("content-type", "application/json"),
        ("accept", "application/json, text/plain, */*"),
        ("accept-encoding", "gzip, compress, deflate, br"),
        ("x-token", "t1"),
        ("user-agent", "mine"),
    )


def test_jwt_key_becomes_a_signed_bearer_token(client: httpx.Client, validator: Validator) -> None:
    hooks = evolution(client, headers={"jwt_key": "s3cret", "x-token": "t1"})
    [request] = planned(hooks, validator, "evolution/v2/messages.upsert.text").requests
    sent = dict(request.headers)
    assert "jwt_key" not in sent and sent["x-token"] == "t1"
    scheme, _, token = sent["Authorization"].partition(" ")
    assert scheme == "Bearer"
    head, payload, signature = token.split(".")
    expected = hmac.new(b"s3cret", f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(base64.urlsafe_b64decode(signature + "=="), expected)
    assert json.loads(base64.urlsafe_b64decode(head + "==")) == {"alg": "HS256", "typ": "JWT"}
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert (claims["app"], claims["action"]) == ("evolution", "webhook")
    assert claims["exp"] - claims["iat"] == JWT_LIFETIME == 600
    assert abs(claims["iat"] - time.time()) < 5


def test_jwt_hs256_matches_a_known_token() -> None:
    # Compact JSON, base64url without padding: the header every HS256 library writes.
    token = jwt_hs256("key", {"a": 1})
    assert token.split(".")[:2] == ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "eyJhIjoxfQ"]
    digest = hmac.new(b"key", token.rsplit(".", 1)[0].encode(), hashlib.sha256).digest()
    assert token.split(".")[2] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_evolution_skips_say_exactly_why(client: httpx.Client, validator: Validator) -> None:
    hooks = evolution(client)
    assert planned(hooks, validator, "evolution/v2/messages.update.read") == Plan(
        (),
        (
            "messages.update is not subscribed: add MESSAGES_UPDATE to the instance's events "
            "(subscribed: MESSAGES_UPSERT, CONNECTION_UPDATE)",
        ),
    )
    assert planned(hooks, validator, "whapi/messages.post.text").skipped == (
        "the capture came from Whapi.Cloud, but evolution/sales is an Evolution API instance: "
        "only Evolution API events are sent to it",
    )
    every = evolution(client, events=[])  # all v2 keys
    skipped = planned(every, validator, "evolution/v2/groups.update").skipped
    assert len(skipped) == 1 and skipped[0].startswith("groups.update is never delivered")
    assert "GROUPS_UPDATE" in skipped[0]
    off = evolution(client, enabled=False)
    assert planned(off, validator, "evolution/v2/messages.upsert.text").skipped == (
        "the webhook of evolution/sales is disabled (enabled: false)",
    )


def test_evolution_v1_rules(client: httpx.Client, validator: Validator) -> None:
    body = {
        "enabled": True,
        "url": APP,
        "webhook_by_events": True,
        "events": ["NEW_JWT_TOKEN", "MESSAGES_UPSERT"],
    }
    client.post("/_gateway/evolution/v1/webhook/set/legacy", json=body)
    hooks = webhooks_of(client, "legacy")
    [jwt] = planned(hooks, validator, "evolution/v1/new.jwt").requests
    assert jwt.url == APP  # new.jwt has no per-event path
    [upsert] = planned(hooks, validator, "evolution/v1/messages.upsert.text").requests
    assert upsert.url == f"{APP}/messages-upsert"
    assert planned(hooks, validator, "evolution/v1/status.instance.closed").skipped == (
        "status.instance cannot be subscribed in Evolution API v1: STATUS_INSTANCE is not "
        "among the events /webhook/set accepts",
    )


def codechat(client: httpx.Client, enabled: bool = True, **flags: bool) -> str:
    webhook_id = client.post(
        f"{CODECHAT}/i-1/webhook", json={"name": "n", "url": APP, "enabled": enabled}
    ).json()["webhookId"]
    if flags:
        client.patch(f"{CODECHAT}/i-1/webhook/{webhook_id}/events", json=flags)
    return webhook_id


def test_codechat_patch_events_then_plan(client: httpx.Client, validator: Validator) -> None:
    webhook_id = codechat(client, messagesUpdate=False)
    hooks = webhooks_of(client, "i-1")
    capture = capture_of(validator, "codechat/v2/messages.upsert.text")
    [request] = plan(hooks, capture).requests
    assert (request.method, request.url, request.note) == ("POST", APP, None)
    assert ("x-instanceid", "a1f0c0de-0000-4000-8000-000000000002") in request.headers
    assert planned(hooks, validator, "codechat/v2/messages.update.read").skipped == (
        f"webhook {webhook_id} ({APP}): messages.update is not subscribed: set "
        f'"messagesUpdate": true with PATCH /api/v2/instance/i-1/webhook/{webhook_id}/events',
    )
    [call] = planned(hooks, validator, "codechat/v2/call.upsert").requests
    assert call.note == (
        "call.upsert has no flag among CodeChat v2's webhook events, so no setting stops it"
    )
    assert planned(hooks, validator, "codechat/2026/history.sync").skipped == (
        f"webhook {webhook_id} ({APP}): history.sync is not a CodeChat v2 event, and no v2 "
        "webhook flag turns it on",
    )


def test_codechat_sends_once_per_enabled_webhook(
    client: httpx.Client, validator: Validator
) -> None:
    codechat(client)
    codechat(client)
    off = codechat(client, enabled=False)
    result = planned(webhooks_of(client, "i-1"), validator, "codechat/v2/messages.upsert.text")
    assert len(result.requests) == 2
    assert result.skipped == (
        f"webhook {off} ({APP}): disabled (enabled: false): enable it "
        f"with PUT /api/v2/instance/i-1/webhook/{off}",
    )


@pytest.mark.parametrize(
    "mode, method, url",
    [
        ("path", "POST", f"{APP}/messages/patch"),
        ("method", "PATCH", f"{APP}/messages"),
        ("body", "POST", APP),
    ],
)
def test_whapi_modes(
    client: httpx.Client, validator: Validator, mode: str, method: str, url: str
) -> None:
    """How messages/patch and messages/post go out in each mode."""
    client.patch(
        WHAPI,
        json={
            "webhooks": [
                {
                    "url": APP,
                    "mode": mode,
                    "headers": {"x-s": "1"},
                    "events": [
                        {"type": "messages", "method": "post"},
                        {"type": "messages", "method": "patch"},
                    ],
                }
            ]
        },
    )
    hooks = webhooks_of(client, "default")
    [patched] = planned(hooks, validator, "whapi/messages.patch").requests
    assert (patched.method, patched.url) == (method, url)
    assert ("x-s", "1") in patched.headers
    [posted] = planned(hooks, validator, "whapi/messages.post.text").requests
    assert posted.method == "POST"
    assert (
        posted.url
        == {"path": f"{APP}/messages/post", "method": f"{APP}/messages", "body": APP}[mode]
    )
    # Captured as it arrived in method mode, sent as this webhook's mode says.
    arrived = capture_of(validator, "whapi/messages.patch", "PATCH", "/wh/messages")
    assert arrived.route.mode == "method"
    [again] = plan(hooks, arrived).requests
    assert (again.method, again.url) == (method, url)


def test_whapi_sends_to_each_matching_webhook(client: httpx.Client, validator: Validator) -> None:
    client.patch(
        WHAPI,
        json={
            "webhooks": [
                {"url": APP + "/a", "events": [{"type": "messages", "method": "post"}]},
                {
                    "url": APP + "/b",
                    "mode": "path",
                    "events": [{"type": "message", "method": "post"}],
                },
                {"url": APP + "/c", "events": [{"type": "statuses", "method": "post"}]},
            ]
        },
    )
    result = planned(webhooks_of(client, "default"), validator, "whapi/messages.post.text")
    assert [request.url for request in result.requests] == [APP + "/a", APP + "/b/messages/post"]
    assert result.skipped == (
        f'webhook 2 ({APP}/c): messages/post is not subscribed: add {{"type": "messages", '
        f'"method": "post"}} to its events (subscribed: statuses/post)',
    )


def test_planned_requests_arrive(
    make_server: Callable[..., BackgroundServer], validator: Validator
) -> None:
    hookcatcher, app = make_server(), make_server()
    with httpx.Client(base_url=hookcatcher.url) as client:
        hooks = evolution(
            client, url=f"{app.url}/hook", byEvents=True, headers={"jwt_key": "k", "x-token": "t1"}
        )
    capture = capture_of(validator, "evolution/v2/messages.upsert.text")
    [request] = plan(hooks, capture).requests

    async def deliver() -> int | None:
        async with make_client() as http:
            return (await send(http, request)).status

    assert asyncio.run(deliver()) == 200
    [arrived] = app.app.store.after(0)
    assert (arrived.path, arrived.route.mode, arrived.event) == (
        "/hook/messages-upsert",
        "by-events",
        "messages.upsert",
    )
    assert arrived.raw == capture.raw
    assert arrived.header("x-token") == "t1" and arrived.header("jwt_key") is None
    assert arrived.header("authorization").startswith("Bearer ey")
