"""Attach sessions against hookcatcher's mock gateway on a real server: the webhook is
changed while attached and put back after, whatever ends the session; the lines say what
happened; a failed restore leaves the user what they need to restore by hand. And when a
loopback URL cannot be reached from the gateway."""

from __future__ import annotations

import json

import httpx
import pytest

from hookcatcher.connect.attach import attached, reachability_warning
from hookcatcher.connect.client import connect
from hookcatcher.receive.runner import BackgroundServer

APP_URL = "http://127.0.0.1:3000/app"
HOOK_URL = "http://127.0.0.1:8787/webhook"


def configure_evolution(server: BackgroundServer) -> str:
    api = f"{server.url}/_gateway/evolution/v2"
    answer = httpx.post(
        f"{api}/webhook/set/shop",
        json={
            "webhook": {
                "enabled": True,
                "url": APP_URL,
                "events": ["MESSAGES_UPSERT", "SEND_MESSAGE"],
                "headers": {"x-app": "1"},
            }
        },
    )
    assert answer.status_code == 201, answer.text
    return api


def exact(document: object) -> str:
    return json.dumps(document, sort_keys=True)


def test_changes_then_restores(server: BackgroundServer) -> None:
    api = configure_evolution(server)
    client = connect("evolution", api, key="k", instance="shop")
    before = client.read()
    lines: list[str] = []
    with attached(client, HOOK_URL, ["messages.upsert"], True, lines.append) as now:
        assert client.read().webhooks == now.webhooks
        assert now.webhooks[0].url == HOOK_URL
        assert lines == [
            f"attached to Evolution API v2 instance 'shop' at {api}:",
            f"  before: {APP_URL}, enabled, 2 events (MESSAGES_UPSERT, SEND_MESSAGE), "
            "by-events off",
            f"  now:    {HOOK_URL}, enabled, 1 event (MESSAGES_UPSERT), by-events on",
        ]
    assert exact(client.read().comparable()) == exact(before.comparable())
    assert client.read().document["headers"] == {"x-app": "1"}
    assert lines[3:] == [
        f"restored Evolution API v2 instance 'shop' at {api}: {APP_URL}, "
        "enabled, 2 events (MESSAGES_UPSERT, SEND_MESSAGE), by-events off"
    ]


def test_restores_after_keyboard_interrupt(server: BackgroundServer) -> None:
    api = configure_evolution(server)
    client = connect("evolution", api, key="k", instance="shop")
    before = client.read()
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt), attached(client, HOOK_URL, None, False, lines.append):
        raise KeyboardInterrupt
    assert exact(client.read().comparable()) == exact(before.comparable())
    assert lines[-1].startswith("restored Evolution API v2 instance 'shop'")


def test_added_beside_the_apps_webhook(server: BackgroundServer) -> None:
    api = f"{server.url}/_gateway/whapi"
    token = {"Authorization": "Bearer chan"}
    app = {"url": APP_URL, "events": [{"type": "messages", "method": "post"}]}
    assert (
        httpx.patch(f"{api}/settings", json={"webhooks": [app]}, headers=token).status_code == 200
    )
    client = connect("whapi", api, key="chan", instance=None)
    before = client.read()
    lines: list[str] = []
    with attached(client, HOOK_URL, ["messages/post", "statuses/post"], False, lines.append):
        urls = [
            hook["url"] for hook in httpx.get(f"{api}/settings", headers=token).json()["webhooks"]
        ]
        assert urls == [APP_URL, HOOK_URL]
    assert lines == [
        f"attached to Whapi.Cloud channel at {api}:",
        f"  added:  {HOOK_URL}, enabled, 2 events (messages/post, statuses/post), mode body",
        "  kept:   1 other webhook as they were",
        f"restored Whapi.Cloud channel at {api}: {APP_URL}, enabled, 1 event (messages/post), "
        "mode body",
    ]
    assert exact(client.read().comparable()) == exact(before.comparable())


def test_nothing_set_before(server: BackgroundServer) -> None:
    api = f"{server.url}/_gateway/codechat"
    client = connect("codechat", api, key="jwt", instance="cc")
    lines: list[str] = []
    with attached(client, HOOK_URL, None, False, lines.append) as now:
        assert [hook.url for hook in now.webhooks] == [HOOK_URL]
    assert lines[1:3] == [
        f"  added:  {HOOK_URL}, enabled, 19 events (qrcodeUpdate, "
        "stateInstance, messagesSet, messagesUpsert, and 15 more)",
        "  before: no webhook",
    ]
    assert lines[-1] == f"restored CodeChat v2 instance 'cc' at {api}: no webhook"
    assert client.read().document == []


def test_failed_restore_says_how_to_restore(server: BackgroundServer) -> None:
    api = configure_evolution(server)
    client = connect("evolution", api, key="secret", instance="shop", timeout=2)
    saved = client.read()
    lines: list[str] = []
    with attached(client, HOOK_URL, None, False, lines.append):
        assert server.stop()
    failed = lines.index(next(line for line in lines if line.startswith("could not restore")))
    assert lines[failed].startswith(
        f"could not restore the webhook configuration of Evolution API v2 instance 'shop' at "
        f"{api}: nothing answers at {api} (ConnectError"
    )
    assert lines[failed + 1 :] == [
        "the saved configuration (as the gateway answered it before attaching):",
        json.dumps(saved.document, indent=2),
        "restore it with:",
        client.restore_command(saved),
    ]
    assert lines[-1].startswith(f'curl -X POST {api}/webhook/set/shop -H "apikey: $APIKEY"')
    assert "secret" not in "\n".join(lines)


@pytest.mark.parametrize(
    "api, url",
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8787/webhook"),
        ("http://localhost:8080", "http://127.0.0.1:8787/webhook"),
        ("http://[::1]:8080", "http://localhost:8787/webhook"),
        ("http://evolution-api:8080", "http://192.168.1.20:8787/webhook"),
        ("http://gw.example.com", "https://hooks.example.org/webhook"),
    ],
)
def test_reachable(api: str, url: str) -> None:
    assert reachability_warning(api, url) is None


@pytest.mark.parametrize(
    "api, kind",
    [
        ("http://evolution-api:8080", "looks like a container address"),
        ("http://172.18.0.2:8080", "looks like a container address"),
        ("http://10.0.0.5:8080", "looks like a container address"),
        ("http://gateway.docker.internal:8080", "looks like a container address"),
        ("http://gw.example.com", "is not on this machine"),
    ],
)
def test_unreachable(api: str, kind: str) -> None:
    host = api.split("//")[1].split(":")[0]
    assert reachability_warning(api, "http://127.0.0.1:8787/webhook") == (
        f"warning: the gateway's address {host} {kind}, so it cannot reach "
        "http://127.0.0.1:8787/webhook: 127.0.0.1 there is the gateway's own machine, not "
        "this one. Start hookcatcher with --host 0.0.0.0 --token SECRET and register an "
        "address the gateway can reach with --public-url "
        "http://host.docker.internal:8787/webhook (Docker Desktop; on Linux start the "
        "gateway's container with --add-host=host.docker.internal:host-gateway), or this "
        "machine's LAN address in place of host.docker.internal."
    )


def test_a_url_with_an_impossible_port_is_said_not_raised() -> None:
    warning = reachability_warning("http://evolution-api:8080", "http://127.0.0.1:99999/webhook")
    assert warning is not None and "no valid port" in warning
