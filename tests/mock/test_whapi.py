"""Whapi.Cloud's channel settings against a real server: PATCH changes only what it names,
webhooks get their defaults and current type names, a channel is its bearer token, and
Whapi-style errors name the JSON path."""

from __future__ import annotations

from typing import Any

import httpx

from hookcatcher.core import catalog

SETTINGS = "/_gateway/whapi/settings"
HOOK = {
    "url": "http://127.0.0.1:3000/whapi",
    "mode": "path",
    "events": [{"type": "messages", "method": "post"}, {"type": "statuses", "method": "put"}],
    "headers": {"x-secret": "s1"},
}


def token(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def patch(client: httpx.Client, body: Any, channel: str = "tok-a") -> httpx.Response:
    return client.patch(SETTINGS, json=body, headers=token(channel))


def error_of(response: httpx.Response) -> tuple[str, str]:
    """Message and details of a Whapi-style 400, checking its shape on the way."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == 400 and set(error) == {"code", "message", "details"}
    return error["message"], error["details"]


def test_patch_then_get(client: httpx.Client) -> None:
    response = patch(client, {"webhooks": [HOOK], "callback_persist": True})
    assert response.status_code == 200
    assert response.json() == {"webhooks": [HOOK], "callback_persist": True}
    assert client.get(SETTINGS, headers=token("tok-a")).json() == response.json()


def test_webhook_defaults_and_legacy_type_names(client: httpx.Client) -> None:
    body = {
        "webhooks": [
            {"url": "http://127.0.0.1:3000/a"},
            {
                "url": "http://127.0.0.1:3000/b",
                "events": [
                    {"type": "message", "method": "post"},
                    {"type": "ack", "method": "post"},
                    {"type": "status", "method": "post"},
                    {"type": "chat", "method": "patch"},
                ],
            },
        ]
    }
    hooks = patch(client, body).json()["webhooks"]
    assert hooks[0] == {
        "url": "http://127.0.0.1:3000/a",
        "mode": "body",
        "events": [{"type": "messages", "method": "put"}],
        "headers": {},
    }
    # ack and status are both statuses now: stored once.
    assert hooks[1]["events"] == [
        {"type": "messages", "method": "post"},
        {"type": "statuses", "method": "post"},
        {"type": "chats", "method": "patch"},
    ]


def test_fields_left_out_are_kept_and_webhooks_are_replaced(client: httpx.Client) -> None:
    patch(client, {"webhooks": [HOOK, {**HOOK, "url": "http://127.0.0.1:3000/two"}]})
    kept = patch(client, {"callback_backoff_delay_ms": 5000}).json()
    assert len(kept["webhooks"]) == 2 and kept["callback_backoff_delay_ms"] == 5000
    replaced = patch(client, {"webhooks": [{"url": "http://127.0.0.1:3000/only"}]}).json()
    assert [hook["url"] for hook in replaced["webhooks"]] == ["http://127.0.0.1:3000/only"]
    assert replaced["callback_backoff_delay_ms"] == 5000


def test_delete_empties_the_channel(client: httpx.Client) -> None:
    patch(client, {"webhooks": [HOOK]})
    deleted = client.delete(SETTINGS, headers=token("tok-a"))
    assert deleted.status_code == 200 and deleted.json() == {"webhooks": []}
    assert client.get(SETTINGS, headers=token("tok-a")).json() == {"webhooks": []}
    assert client.get("/_hookcatcher/api/instances").json() == {"instances": []}


def test_channels_are_told_by_their_token(client: httpx.Client) -> None:
    patch(client, {"webhooks": [HOOK]}, "tok-a")
    patch(client, {"webhooks": [{"url": "http://127.0.0.1:3000/b"}]}, "tok-b")
    client.patch(SETTINGS, json={"webhooks": [{"url": "http://127.0.0.1:3000/anon"}]})
    urls = {
        name: client.get(SETTINGS, headers=headers).json()["webhooks"][0]["url"]
        for name, headers in [("a", token("tok-a")), ("b", token("tok-b")), ("none", {})]
    }
    assert urls == {
        "a": "http://127.0.0.1:3000/whapi",
        "b": "http://127.0.0.1:3000/b",
        "none": "http://127.0.0.1:3000/anon",
    }
    channels = [
        item["instance"] for item in client.get("/_hookcatcher/api/instances").json()["instances"]
    ]
    assert channels == ["tok-a", "tok-b", "default"]


def test_allowed_events(client: httpx.Client) -> None:
    pairs = client.get(f"{SETTINGS}/events").json()
    assert len(pairs) == 23
    assert {"type": "messages", "method": "post"} in pairs
    assert {"type": "channel", "method": "patch"} in pairs
    assert all(pair["type"] in catalog.WHAPI_TYPES for pair in pairs)


def test_bad_settings(client: httpx.Client) -> None:
    cases = [
        ({"webhooks": [{"mode": "body"}]}, "$.webhooks[0].url: required field is missing"),
        (
            {"webhooks": [{"url": "ftp://x"}]},
            '$.webhooks[0].url: expected an http:// or https:// URL, got string "ftp://x"',
        ),
        (
            {"webhooks": [{"url": "http://a/b", "mode": "query"}]},
            '$.webhooks[0].mode: expected one of body, path, method, got string "query"',
        ),
        (
            {
                "webhooks": [
                    {"url": "http://a/b", "events": [{"type": "mesages", "method": "post"}]}
                ]
            },
            "$.webhooks[0].events[0].type: expected one of "
            f'{", ".join(catalog.WHAPI_TYPES)}, got string "mesages" (did you mean messages?)',
        ),
        (
            {
                "webhooks": [
                    {"url": "http://a/b", "events": [{"type": "messages", "method": "get"}]}
                ]
            },
            "$.webhooks[0].events[0].method: expected one of post, put, patch, delete, "
            'got string "get"',
        ),
        (
            {"webhooks": [{"url": "http://a/b", "headers": {"x-n": 5}}]},
            "$.webhooks[0].headers.x-n: expected a string, got number 5",
        ),
        (
            {"webhooks": [{"url": "http://a/b", "headers": {f"h{i}": "v" for i in range(6)}}]},
            "$.webhooks[0].headers: at most 5 headers, got 6",
        ),
        ({"webhooks": {"url": "http://a/b"}}, "$.webhooks: expected an array, got an object"),
        (
            {"callback_backoff_delay_ms": 10},
            "$.callback_backoff_delay_ms: expected a whole number from 3000 to 15000, "
            "got number 10",
        ),
    ]
    for body, expected in cases:
        message, details = error_of(patch(client, body))
        assert message == expected and details == expected, body
    assert client.get(SETTINGS, headers=token("tok-a")).json() == {"webhooks": []}


def test_unknown_fields_are_listed_with_the_known_ones(client: httpx.Client) -> None:
    message, _ = error_of(patch(client, {"webhook": [HOOK]}))
    assert message.startswith(
        "$.webhook: unknown setting 'webhook' (did you mean webhooks?); "
        "known: webhooks, callback_backoff_delay_ms"
    )
    message, _ = error_of(patch(client, {"webhooks": [{**HOOK, "event": []}]}))
    assert message.startswith(
        "$.webhooks[0].event: unknown webhook field 'event' "
        "(did you mean events?); known: url, mode, events, headers"
    )


def test_every_problem_is_in_the_details(client: httpx.Client) -> None:
    body = {"webhooks": [{"mode": "x"}, {"url": "http://a/b", "headers": []}]}
    message, details = error_of(patch(client, body))
    assert message == "$.webhooks[0].url: required field is missing"
    assert details == (
        "$.webhooks[0].url: required field is missing; $.webhooks[0].mode: "
        'expected one of body, path, method, got string "x"; '
        "$.webhooks[1].headers: expected an object of header names and values, "
        "got an array of 0"
    )


def test_broken_json_gives_line_and_column(client: httpx.Client) -> None:
    response = client.patch(SETTINGS, content=b'{\n "webhooks": [\n  {"url": "http://a/b"]\n}')
    message, _ = error_of(response)
    assert message == "$: broken JSON at line 3, column 23: Expecting ',' delimiter"


def test_instances_show_the_normalized_view(client: httpx.Client) -> None:
    patch(
        client,
        {
            "webhooks": [
                HOOK,
                {"url": "http://127.0.0.1:3000/m", "mode": "method"},
                {"url": "http://127.0.0.1:3000/b", "mode": "body"},
            ]
        },
    )
    [instance] = client.get("/_hookcatcher/api/instances").json()["instances"]
    assert (instance["provider"], instance["instance"], instance["version"]) == (
        "whapi",
        "tok-a",
        "",
    )
    first, second, third = instance["webhooks"]
    assert first == {
        "provider": "whapi",
        "instance": "tok-a",
        "version": "",
        "id": "0",
        "url": "http://127.0.0.1:3000/whapi",
        "enabled": True,
        "mode": "path",
        "headers": [["x-secret", "s1"]],
        "events": ["messages/post", "statuses/put"],
    }
    assert (second["id"], second["mode"], second["events"]) == ("1", "method", ["messages/put"])
    assert (third["id"], third["mode"]) == ("2", "single")


def test_health(client: httpx.Client) -> None:
    health = client.get("/_gateway/whapi/health", headers=token("tok-a")).json()
    assert health["status"] == {"code": 4, "text": "AUTH"}
    assert set(health) == {"start_at", "uptime", "version", "status"}


def test_webhook_test_posts_a_callback(client: httpx.Client) -> None:
    url = f"{client.base_url}/hooks"
    patch(client, {"webhooks": [{"url": url, "mode": "path"}]})
    test = {"type": "message", "url": url, "mode": "path", "headers": {"x-secret": "s1"}}
    answer = client.post(f"{SETTINGS}/webhook_test", json=test, headers=token("tok-a"))
    target = f"{client.base_url}/hooks/messages/post"
    assert answer.json() == {"success": True, "url": target, "status": 200}
    sent = client.get("/_hookcatcher/api/events").json()["events"][0]
    assert sent["path"] == "/hooks/messages/post" and ["x-secret", "s1"] in sent["headers"]


def test_webhook_test_errors(client: httpx.Client) -> None:
    message, _ = error_of(client.post(f"{SETTINGS}/webhook_test", json={"url": "x"}))
    assert message == "$.type: required field is missing"
    unreachable = {"type": "messages", "url": "http://127.0.0.1:1/x", "mode": "body"}
    patch(client, {"webhooks": [{"url": unreachable["url"]}]})
    message, _ = error_of(
        client.post(f"{SETTINGS}/webhook_test", json=unreachable, headers=token("tok-a"))
    )
    assert message == "the webhook test could not reach http://127.0.0.1:1/x: ConnectError"


def test_webhook_test_sends_only_to_a_configured_webhook(client: httpx.Client) -> None:
    """The mock is no relay: a URL the channel does not deliver to is refused before any
    request is made, whatever it points at."""
    patch(client, {"webhooks": [{"url": "http://127.0.0.1:3000/mine"}]})
    elsewhere = {
        "type": "messages",
        "url": f"{client.base_url}/_hookcatcher/api/stats",
        "mode": "body",
    }
    message, _ = error_of(
        client.post(f"{SETTINGS}/webhook_test", json=elsewhere, headers=token("tok-a"))
    )
    assert message == (
        "$.url: the mock tests only a webhook this channel has (PATCH "
        "/settings with it first); configured: http://127.0.0.1:3000/mine"
    )
    assert client.get("/_hookcatcher/api/events").json()["events"] == []


def test_webhook_test_never_hands_back_the_answer_body(client: httpx.Client) -> None:
    """What the tested URL answered stays there: only its status is said."""
    url = f"{client.base_url}/hooks"
    patch(client, {"webhooks": [{"url": url}]})
    answer = client.post(
        f"{SETTINGS}/webhook_test",
        headers=token("tok-a"),
        json={"type": "messages", "url": url, "mode": "body"},
    )
    # hookcatcher answered the test callback {"ok":true,"id":1}: none of it comes back.
    assert answer.json() == {"success": True, "url": url, "status": 200}
