"""The gateway client against hookcatcher's own mock gateway on a real server: configured
first as an app would, read, pointed elsewhere, and restored byte-for-byte; Evolution's
version detection; and a clear message for each way a gateway can fail."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hookcatcher.check.validation import Validator
from hookcatcher.connect.client import (
    CodeChatV2,
    EvolutionV1,
    EvolutionV2,
    GatewayError,
    Saved,
    Whapi,
    connect,
)
from hookcatcher.receive.access import Access
from hookcatcher.receive.app import create_app
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store

APP_URL = "http://127.0.0.1:3000/app"
HOOK_URL = "http://127.0.0.1:8787/webhook"
WHAPI_TOKEN = "chan-1"


@dataclass(frozen=True)
class Gateway:
    """One mocked gateway: where it lives, how an app configures it, what point() asks for
    and what the instance then shows."""

    provider: str
    prefix: str
    key: str
    instance: str | None
    configure: Callable[[httpx.Client, str, str], None]  # (http, api, instance)
    events: tuple[str, ...]
    by_events: bool
    shown_events: tuple[str, ...]
    shown_mode: str

    def api(self, server: BackgroundServer) -> str:
        return f"{server.url}/_gateway/{self.prefix}"


def _evolution_v1(http: httpx.Client, api: str, instance: str) -> None:
    answer = http.post(
        f"{api}/webhook/set/{instance}",
        json={
            "enabled": True,
            "url": APP_URL,
            "events": ["MESSAGES_UPSERT", "CONNECTION_UPDATE"],
            "webhook_by_events": False,
            "webhook_base64": True,
        },
    )
    assert answer.status_code == 201, answer.text


def _evolution_v2(http: httpx.Client, api: str, instance: str) -> None:
    answer = http.post(
        f"{api}/webhook/set/{instance}",
        json={
            "webhook": {
                "enabled": True,
                "url": APP_URL,
                "headers": {"x-app": "1"},
                "byEvents": False,
                "base64": True,
                "events": ["MESSAGES_UPSERT", "SEND_MESSAGE"],
            }
        },
    )
    assert answer.status_code == 201, answer.text


def _codechat(http: httpx.Client, api: str, instance: str) -> None:
    base = f"{api}/api/v2/instance/{instance}/webhook"
    made = http.post(base, json={"name": "app", "url": APP_URL, "enabled": True})
    assert made.status_code == 201, made.text
    flags = http.patch(
        f"{base}/{made.json()['webhookId']}/events",
        json={"chatsSet": False, "presenceUpdate": False},
    )
    assert flags.status_code == 200, flags.text


def _whapi(http: httpx.Client, api: str, instance: str) -> None:
    answer = http.patch(
        f"{api}/settings",
        headers={"Authorization": f"Bearer {WHAPI_TOKEN}"},
        json={
            "webhooks": [
                {
                    "url": APP_URL,
                    "mode": "method",
                    "events": [{"type": "messages", "method": "post"}],
                    "headers": {"x-app": "1"},
                }
            ],
            "callback_persist": True,
        },
    )
    assert answer.status_code == 200, answer.text


GATEWAYS = [
    Gateway(
        "evolution",
        "evolution/v1",
        "k",
        "shop",
        _evolution_v1,
        ("messages.upsert", "connection.update"),
        True,
        ("MESSAGES_UPSERT", "CONNECTION_UPDATE"),
        "by-events",
    ),
    Gateway(
        "evolution",
        "evolution/v2",
        "k",
        "shop",
        _evolution_v2,
        ("messages.upsert", "connection.update"),
        True,
        ("MESSAGES_UPSERT", "CONNECTION_UPDATE"),
        "by-events",
    ),
    Gateway(
        "codechat",
        "codechat",
        "jwt",
        "cc-1",
        _codechat,
        ("messages.upsert",),
        False,
        ("messagesUpsert",),
        "single",
    ),
    Gateway(
        "whapi",
        "whapi",
        WHAPI_TOKEN,
        None,
        _whapi,
        ("messages/post",),
        True,
        ("messages/post",),
        "path",
    ),
]
IDS = ["evolution-v1", "evolution-v2", "codechat-v2", "whapi"]


def exact(saved: Saved) -> str:
    return json.dumps(saved.comparable(), sort_keys=True)


def mock_instances(server: BackgroundServer) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/_hookcatcher/api/instances").json()["instances"]
    return {f"{item['provider']}/{item['instance']}": item for item in answer}


@pytest.mark.slow
@pytest.mark.parametrize("configured", [True, False], ids=["configured", "nothing-set"])
@pytest.mark.parametrize("gateway", GATEWAYS, ids=IDS)
def test_point_then_restore_exactly(
    server: BackgroundServer, gateway: Gateway, configured: bool
) -> None:
    api = gateway.api(server)
    instance = gateway.instance or ""
    if configured:
        with httpx.Client() as http:
            gateway.configure(http, api, instance)
    client = connect(gateway.provider, api, key=gateway.key, instance=gateway.instance)
    before = client.read()
    assert (len(before.webhooks) == 1) is configured
    if configured:
        assert before.webhooks[0].url == APP_URL

    now = client.point(HOOK_URL, list(gateway.events), gateway.by_events)
    ours = [hook for hook in now.webhooks if hook.url == HOOK_URL]
    assert len(ours) == 1 and ours[0].enabled
    assert ours[0].events == gateway.shown_events and ours[0].mode == gateway.shown_mode
    kept = 0 if gateway.provider == "evolution" else len(before.webhooks)
    assert len(now.webhooks) == kept + 1  # CodeChat and Whapi: the app's webhook is kept
    assert exact(client.read()) == exact(now) != exact(before)
    shown = mock_instances(server)[f"{gateway.provider}/{instance or WHAPI_TOKEN}"]
    assert HOOK_URL in [hook["url"] for hook in shown["webhooks"]]

    restored = client.restore(before)
    assert exact(restored) == exact(before) == exact(client.read())
    urls = [
        hook["url"]
        for hook in mock_instances(server).get(
            f"{gateway.provider}/{instance or WHAPI_TOKEN}", {"webhooks": []}
        )["webhooks"]
    ]
    assert HOOK_URL not in urls or gateway.provider == "evolution" and not configured


def test_restore_puts_back_every_field(server: BackgroundServer) -> None:
    """The v2 document itself, headers and base64 included, not only what is compared."""
    api = f"{server.url}/_gateway/evolution/v2"
    with httpx.Client() as http:
        _evolution_v2(http, api, "shop")
    client = connect("evolution", api, key="k", instance="shop")
    before = client.read()
    client.point(HOOK_URL, None, False)
    after = client.restore(before).document
    for key in ("url", "headers", "events", "webhookByEvents", "webhookBase64", "enabled"):
        assert after[key] == before.document[key], key
    assert after["headers"] == {"x-app": "1"} and after["webhookBase64"] is True


def test_every_event_by_default(server: BackgroundServer) -> None:
    from hookcatcher.core import catalog

    api = f"{server.url}/_gateway/evolution/v2"
    client = connect("evolution", api, key="k", instance="all")
    assert client.point(HOOK_URL).webhooks[0].events == catalog.EVOLUTION_EVENTS["v2"]
    whapi = connect("whapi", f"{server.url}/_gateway/whapi", key="t", instance=None)
    assert len(whapi.point(HOOK_URL).webhooks[0].events) == len(catalog.whapi_pairs())


def test_events_the_gateway_lacks_are_refused_before_any_change(server: BackgroundServer) -> None:
    client = connect("evolution", f"{server.url}/_gateway/evolution/v1", key="k", instance="shop")
    with pytest.raises(GatewayError, match="Evolution API v1 has no webhook event messages.edited"):
        client.point(HOOK_URL, ["messages.edited"])
    codechat = connect("codechat", f"{server.url}/_gateway/codechat", key="j", instance="c")
    with pytest.raises(GatewayError, match="no CodeChat v2 webhook flag turns on nope"):
        codechat.point(HOOK_URL, ["nope"])
    with pytest.raises(GatewayError, match="CodeChat API v2 has no per-event URLs"):
        codechat.point(HOOK_URL, None, by_events=True)
    assert mock_instances(server) == {}


def test_restore_commands_show_the_key_by_name(server: BackgroundServer) -> None:
    api = f"{server.url}/_gateway/evolution/v1"
    with httpx.Client() as http:
        _evolution_v1(http, api, "shop")
    client = connect("evolution", api, key="secret-key", instance="shop")
    saved = client.read()
    command = client.restore_command(saved)
    assert command.startswith(f'curl -X POST {api}/webhook/set/shop -H "apikey: $APIKEY"')
    assert "secret-key" not in command and f'"url": "{APP_URL}"' in command
    codechat = connect("codechat", f"{server.url}/_gateway/codechat", key="jwt-x", instance="c1")
    saved = codechat.read()
    webhook_id = [hook.id for hook in codechat.point(HOOK_URL).webhooks][0]
    command = codechat.restore_command(saved)
    assert command == (
        f"curl -X DELETE {server.url}/_gateway/codechat/api/v2/instance/c1/"
        f'webhook/{webhook_id} -H "Authorization: Bearer $TOKEN"'
    )
    whapi = connect("whapi", f"{server.url}/_gateway/whapi", key="tok", instance=None)
    assert whapi.restore_command(whapi.read()).endswith("""-d '{"webhooks": []}'""")


def test_a_second_client_restores_codechat(server: BackgroundServer) -> None:
    """After a crash, a new client (which did not point) still takes hookcatcher's webhook
    away and leaves the app's."""
    api = f"{server.url}/_gateway/codechat"
    with httpx.Client() as http:
        _codechat(http, api, "cc")
    first = connect("codechat", api, key="jwt", instance="cc")
    saved = first.read()
    first.point(HOOK_URL)
    second = connect("codechat", api, key="jwt", instance="cc")
    assert exact(second.restore(saved)) == exact(saved)
    assert [hook.url for hook in second.read().webhooks] == [APP_URL]


# Version detection


def test_evolution_version_from_the_welcome(server: BackgroundServer) -> None:
    base = f"{server.url}/_gateway/evolution"
    assert type(connect("evolution", f"{base}/v1", key="k", instance="a")) is EvolutionV1
    assert type(connect("evolution", f"{base}/v2", key="k", instance="a")) is EvolutionV2
    assert type(connect("evolution", base, key="k", instance="a")) is EvolutionV2
    with httpx.Client() as http:  # the plain path takes a v1 body: the find answer shows it
        _evolution_v1(http, base, "flat")
    assert type(connect("evolution", base, key="k", instance="flat")) is EvolutionV1
    assert (
        type(connect("codechat", f"{server.url}/_gateway/codechat", key="k", instance="a"))
        is CodeChatV2
    )
    assert type(connect("whapi", f"{server.url}/_gateway/whapi", key="k", instance=None)) is Whapi


def fake(routes: dict[str, tuple[int, Any]]) -> httpx.MockTransport:
    """A gateway answering `path -> (status, body)`; a str body is sent as HTML."""

    def answer(request: httpx.Request) -> httpx.Response:
        status, body = routes.get(request.url.path, (404, "<h1>Not Found</h1>"))
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers={"content-type": "text/html"})
        return httpx.Response(
            status,
            content=json.dumps(body, separators=(",", ":")),
            headers={"content-type": "application/json"},
        )

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    "find, version",
    [
        (
            {
                "enabled": False,
                "url": "",
                "events": [],
                "webhook_by_events": False,
                "webhook_base64": False,
            },
            "v1",
        ),
        (None, "v2"),
        (
            {
                "id": "c1",
                "url": APP_URL,
                "enabled": True,
                "events": [],
                "webhookByEvents": False,
                "webhookBase64": False,
                "headers": None,
            },
            "v2",
        ),
    ],
)
def test_evolution_version_from_the_find_answer(find: Any, version: str) -> None:
    """A welcome without a version (a proxy's page, an old build): the find answer's
    shape decides."""
    transport = fake({"/": (200, "<html>hello</html>"), "/webhook/find/a": (200, find)})
    client = connect("evolution", "http://gw", key="k", instance="a", transport=transport)
    assert client.version == version


# Clear errors


@pytest.fixture
def guarded(validator: Validator) -> Iterator[BackgroundServer]:
    app = create_app(Store(), validator, access=Access("right-key"))
    server = BackgroundServer(app, pace_collector=False).start()
    yield server
    server.stop()


def test_wrong_key(guarded: BackgroundServer) -> None:
    api = f"{guarded.url}/_gateway/evolution/v2"
    with pytest.raises(GatewayError) as caught:
        connect("evolution", api, key="wrong", instance="shop")
    message = str(caught.value)
    assert message.startswith(
        f"Evolution API at {api} refused the key (401 on GET /webhook/find/shop: "
    )
    assert message.endswith("check the key sent as apikey") and "\n" not in message
    assert connect("evolution", api, key="right-key", instance="shop").read().document is None
    with pytest.raises(GatewayError, match="check the key sent as Authorization: Bearer"):
        connect("whapi", f"{guarded.url}/_gateway/whapi", key="wrong", instance=None)


def test_unknown_instance() -> None:
    missing = {
        "status": 404,
        "error": "Not Found",
        "response": {"message": ['The "nobody" instance does not exist']},
    }
    transport = fake({"/": (200, {"version": "2.3.6"}), "/webhook/find/nobody": (404, missing)})
    with pytest.raises(GatewayError) as caught:
        connect("evolution", "http://gw", key="k", instance="nobody", transport=transport)
    assert str(caught.value).startswith(
        "Evolution API at http://gw has no instance 'nobody' (404 on GET /webhook/find/nobody: "
        '{"status":404,"error":"Not Found","response":{"message":["The \\"nobody\\" instance '
        'does not exist"]}}): check the instance name'
    )


def test_unknown_instance_connection_state(server: BackgroundServer) -> None:
    client = connect("evolution", f"{server.url}/_gateway/evolution/v2", key="k", instance="ghost")
    with pytest.raises(GatewayError, match="has no instance 'ghost' .*instance does not exist"):
        client.connection_state()


def test_gateway_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = f"http://127.0.0.1:{port}"
    for provider in ("evolution", "codechat", "whapi"):
        with pytest.raises(GatewayError) as caught:
            connect(provider, api, key="k", instance="shop", timeout=2)
        assert str(caught.value).startswith(f"nothing answers at {api} (ConnectError")
        assert "running, and is this its address?" in str(caught.value)


@pytest.mark.parametrize(
    "provider, path, body, expected",
    [
        (
            "evolution",
            "/webhook/find/shop",
            "<html><body>Sign in</body></html>",
            "not the JSON its API promises (an object or null): <html><body>Sign in</body></html>",
        ),
        ("whapi", "/settings", [], "not the JSON its API promises (an object): []"),
        (
            "codechat",
            "/api/v2/instance/shop/webhook",
            {"webhooks": []},
            'not the JSON its API promises (an array): {"webhooks":[]}',
        ),
    ],
)
def test_unexpected_body(provider: str, path: str, body: Any, expected: str) -> None:
    transport = fake({"/": (200, {"version": "2.3.6"}), path: (200, body)})
    with pytest.raises(GatewayError) as caught:
        connect(provider, "http://gw", key="k", instance="shop", transport=transport)
    assert expected in str(caught.value)
    assert str(caught.value).startswith(
        "Evolution API at http://gw answered GET" if provider == "evolution" else ""
    )


def test_long_answers_are_cut() -> None:
    transport = fake({"/settings": (500, "x" * 5000)})
    with pytest.raises(GatewayError) as caught:
        connect("whapi", "http://gw", key="k", instance=None, transport=transport)
    assert str(caught.value) == (
        "Whapi.Cloud at http://gw answered GET /settings with 500: " + "x" * 200 + "..."
    )


class Closing(httpx.MockTransport):
    """fake()'s answers, counting how often a client closed it."""

    closed = 0

    def close(self) -> None:
        self.closed += 1


def test_a_client_closes_its_connections() -> None:
    """close() and `with` close the HTTP client; so does a connect() that fails, and the v2
    probe that an Evolution v1 answer replaces."""
    settings = {"/settings": (200, {"webhooks": []})}
    transport = Closing(fake(settings).handler)
    with connect("whapi", "http://gw", key="k", instance=None, transport=transport) as client:
        client.read()
        assert transport.closed == 0
    assert transport.closed == 1
    v1 = {"enabled": False, "url": "", "events": [], "webhook_by_events": False}
    transport = Closing(fake({"/webhook/find/a": (200, v1)}).handler)
    client = connect("evolution", "http://gw", key="k", instance="a", transport=transport)
    assert type(client) is EvolutionV1 and transport.closed == 1  # the v2 probe
    client.close()
    assert transport.closed == 2
    transport = Closing(fake({}).handler)
    with pytest.raises(GatewayError):
        connect("evolution", "http://gw", key="k", instance="nobody", transport=transport)
    assert transport.closed == 1


# Connection state and the gateway's own test


def test_connection_state(server: BackgroundServer) -> None:
    api = f"{server.url}/_gateway/evolution/v1"
    with httpx.Client() as http:
        _evolution_v1(http, api, "shop")
        client = connect("evolution", api, key="k", instance="shop")
        assert client.connection_state() == "open"
        assert http.delete(f"{api}/instance/logout/shop").status_code == 200
    assert client.connection_state() == "close"
    whapi = connect("whapi", f"{server.url}/_gateway/whapi", key="t", instance=None)
    assert whapi.connection_state() == "AUTH"
    codechat = connect("codechat", f"{server.url}/_gateway/codechat", key="t", instance="c")
    assert codechat.connection_state() is None


def test_delivery_test(server: BackgroundServer) -> None:
    whapi = connect("whapi", f"{server.url}/_gateway/whapi", key="t", instance=None)
    target = f"{server.url}/whapi-test"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hooks = [{"url": target}, {"url": f"http://127.0.0.1:{port}/x"}]
    assert (
        httpx.patch(
            f"{server.url}/_gateway/whapi/settings",
            json={"webhooks": hooks},
            headers={"Authorization": "Bearer t"},
        ).status_code
        == 200
    )
    assert whapi.test_delivery(target) == (
        f"Whapi.Cloud's webhook test reached {target} (answered 200)"
    )
    events = httpx.get(f"{server.url}/_hookcatcher/api/events").json()["events"]
    assert [event["path"] for event in events] == ["/whapi-test"]
    with pytest.raises(GatewayError, match=f"could not reach http://127.0.0.1:{port}/x"):
        whapi.test_delivery(f"http://127.0.0.1:{port}/x")
    evolution = connect("evolution", f"{server.url}/_gateway/evolution", key="k", instance="a")
    assert evolution.test_delivery(target) is None
