"""Evolution API's webhook settings against a real server: v1 and v2 bodies on their own and
on the shared paths, the answers Evolution gives, its error shape with the JSON path of each
problem, and state kept per instance."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hookcatcher.core import catalog

SEED_003 = {  # the v1 docs' "Set Webhook" example, as sent
    "enabled": True,
    "url": "http://127.0.0.1:3000/webhook",
    "webhookByEvents": False,
    "events": [
        "QRCODE_UPDATED",
        "MESSAGES_UPSERT",
        "MESSAGES_UPDATE",
        "SEND_MESSAGE",
        "CONNECTION_UPDATE",
    ],
}
V2_BODY = {
    "webhook": {
        "enabled": True,
        "url": "http://127.0.0.1:3000/hook",
        "byEvents": True,
        "base64": False,
        "headers": {"x-token": "t1"},
        "events": ["MESSAGES_UPSERT", "CONNECTION_UPDATE"],
    }
}
PRISMA_KEYS = [
    "id",
    "url",
    "headers",
    "enabled",
    "events",
    "webhookByEvents",
    "webhookBase64",
    "createdAt",
    "updatedAt",
    "instanceId",
]
AUTH = {"apikey": "B1C2-EXAMPLE", "Authorization": "Bearer anything"}  # accepted, not checked


def set_webhook(
    client: httpx.Client, instance: str, body: Any, version: str = ""
) -> httpx.Response:
    prefix = f"/_gateway/evolution{'/' + version if version else ''}"
    return client.post(f"{prefix}/webhook/set/{instance}", json=body, headers=AUTH)


def find_webhook(client: httpx.Client, instance: str, version: str = "") -> httpx.Response:
    prefix = f"/_gateway/evolution{'/' + version if version else ''}"
    return client.get(f"{prefix}/webhook/find/{instance}", headers=AUTH)


def errors_of(response: httpx.Response) -> list[tuple[str, str]]:
    """(path, message) pairs of an Evolution-style 400, checking its shape on the way."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["status"], body["error"]) == (400, "Bad Request")
    messages, paths = body["response"]["message"], body["response"]["path"]
    assert len(messages) == len(paths)
    return list(zip(paths, messages, strict=True))


def test_the_root_tells_the_version(client: httpx.Client) -> None:
    for path, version in [
        ("/_gateway/evolution", "2.3.6"),
        ("/_gateway/evolution/", "2.3.6"),
        ("/_gateway/evolution/v2/", "2.3.6"),
        ("/_gateway/evolution/v1", "1.8.2"),
        ("/_gateway/evolution/v1/", "1.8.2"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        welcome = response.json()
        assert welcome["status"] == 200
        assert welcome["message"] == "Welcome to the Evolution API, it is working!"
        assert welcome["version"] == version, path


@pytest.mark.parametrize("version", ["", "v2"])
def test_v2_set_then_find(client: httpx.Client, version: str) -> None:
    response = set_webhook(client, "sales", V2_BODY, version)
    assert response.status_code == 201
    record = response.json()
    assert list(record) == PRISMA_KEYS
    assert record["url"] == "http://127.0.0.1:3000/hook"
    assert record["headers"] == {"x-token": "t1"}
    assert record["events"] == ["MESSAGES_UPSERT", "CONNECTION_UPDATE"]
    assert (record["enabled"], record["webhookByEvents"], record["webhookBase64"]) == (
        True,
        True,
        False,
    )
    assert record["createdAt"] == record["updatedAt"] and record["createdAt"].endswith("Z")
    assert find_webhook(client, "sales", version).json() == record
    assert find_webhook(client, "sales").json() == record


def test_v2_update_keeps_what_it_leaves_out(client: httpx.Client) -> None:
    first = set_webhook(client, "sales", V2_BODY).json()
    second = set_webhook(
        client, "sales", {"webhook": {"enabled": True, "url": "http://127.0.0.1:4000/new"}}
    )
    record = second.json()
    assert (record["id"], record["createdAt"], record["instanceId"]) == (
        first["id"],
        first["createdAt"],
        first["instanceId"],
    )
    assert record["url"] == "http://127.0.0.1:4000/new"
    assert record["headers"] == {"x-token": "t1"} and record["webhookByEvents"] is True
    assert record["events"] == list(catalog.EVOLUTION_EVENTS["v2"])  # none given: all


def test_v2_disabled_keeps_no_events(client: httpx.Client) -> None:
    body = {"webhook": {**V2_BODY["webhook"], "enabled": False}}
    record = set_webhook(client, "sales", body).json()
    assert (record["enabled"], record["events"]) == (False, [])


@pytest.mark.parametrize("version", ["", "v1"])
def test_v1_set_answers_as_the_docs_show(client: httpx.Client, version: str) -> None:
    response = set_webhook(client, "legacy", SEED_003, version)
    assert response.status_code == 201
    assert response.json() == {"webhook": {"instanceName": "legacy", "webhook": SEED_003}}
    assert list(response.json()["webhook"]["webhook"]) == list(SEED_003)
    assert find_webhook(client, "legacy", version).json() == {
        "enabled": True,
        "url": "http://127.0.0.1:3000/webhook",
        "events": SEED_003["events"],
        "webhook_by_events": False,
        "webhook_base64": False,
    }


def test_v1_snake_case_flags_and_default_events(client: httpx.Client) -> None:
    body = {
        "enabled": True,
        "url": "http://127.0.0.1:3000/w",
        "webhook_by_events": True,
        "webhook_base64": True,
        "events": [],
    }
    echoed = set_webhook(client, "legacy", body).json()["webhook"]["webhook"]
    assert echoed["events"] == list(catalog.EVOLUTION_EVENTS["v1"])
    found = find_webhook(client, "legacy").json()
    assert (found["webhook_by_events"], found["webhook_base64"]) == (True, True)
    assert found["events"] == list(catalog.EVOLUTION_EVENTS["v1"])


def test_v1_disabled_clears_url_and_events(client: httpx.Client) -> None:
    set_webhook(client, "legacy", SEED_003)
    echoed = set_webhook(client, "legacy", {"enabled": False, "url": ""}).json()
    assert echoed["webhook"]["webhook"] == {"enabled": False, "url": "", "events": []}
    assert find_webhook(client, "legacy").json()["url"] == ""


def test_never_configured_instances(client: httpx.Client) -> None:
    assert find_webhook(client, "nobody").json() is None
    assert find_webhook(client, "nobody", "v2").json() is None
    assert find_webhook(client, "nobody", "v1").json() == {
        "enabled": False,
        "url": "",
        "events": [],
        "webhook_by_events": False,
        "webhook_base64": False,
    }


def test_the_versioned_paths_are_strict(client: httpx.Client) -> None:
    assert errors_of(set_webhook(client, "x", SEED_003, "v2")) == [
        ("$.webhook", 'instance requires property "webhook"')
    ]
    assert errors_of(set_webhook(client, "x", V2_BODY, "v1")) == [
        ("$.enabled", 'instance requires property "enabled"'),
        ("$.url", 'instance requires property "url"'),
    ]
    set_webhook(client, "legacy", SEED_003, "v1")
    [(path, message)] = errors_of(find_webhook(client, "legacy", "v2"))
    assert path == "$" and "configured through Evolution v1" in message


def test_an_instance_remembers_its_version(client: httpx.Client) -> None:
    set_webhook(client, "legacy", SEED_003)
    set_webhook(client, "sales", V2_BODY)
    assert "webhook_by_events" in find_webhook(client, "legacy").json()
    assert "webhookByEvents" in find_webhook(client, "sales").json()
    set_webhook(client, "legacy", V2_BODY, "v2")  # reconfigured as v2
    assert "webhookByEvents" in find_webhook(client, "legacy").json()


def test_state_is_per_instance(client: httpx.Client) -> None:
    set_webhook(client, "a", V2_BODY)
    set_webhook(
        client,
        "b",
        {"webhook": {"enabled": True, "url": "http://127.0.0.1:9/b", "events": ["CALL"]}},
    )
    a, b = find_webhook(client, "a").json(), find_webhook(client, "b").json()
    assert a["events"] == ["MESSAGES_UPSERT", "CONNECTION_UPDATE"] and b["events"] == ["CALL"]
    assert a["instanceId"] != b["instanceId"] and a["id"] != b["id"]


def v2(**fields: Any) -> dict[str, Any]:
    return {"webhook": {"enabled": True, "url": "http://127.0.0.1:3000/hook", **fields}}


BAD_V2 = [
    ({"webhook": {"enabled": True}}, "$.webhook.url", 'webhook requires property "url"'),
    (
        {"webhook": {"url": "http://a/b"}},
        "$.webhook.enabled",
        'webhook requires property "enabled"',
    ),
    (v2(enabled="yes"), "$.webhook.enabled", "webhook.enabled is not of a type(s) boolean"),
    (v2(byEvents=1), "$.webhook.byEvents", "webhook.byEvents is not of a type(s) boolean"),
    (v2(events="MESSAGES_UPSERT"), "$.webhook.events", "webhook.events is not of a type(s) array"),
    (v2(events=["CALL", 7]), "$.webhook.events[1]", "webhook.events[1] is not of a type(s) string"),
    (v2(url=""), "$.webhook.url", 'The "url" cannot be empty'),
    (v2(headers=["x"]), "$.webhook.headers", "webhook.headers is not of a type(s) object"),
    (
        v2(headers={"x-token": {"nested": 1}}),
        "$.webhook.headers.x-token",
        "webhook.headers.x-token is not of a type(s) string",
    ),
    ({"webhook": "http://a/b"}, "$.webhook", "webhook is not of a type(s) object"),
    ([V2_BODY], "$", "instance is not of a type(s) object"),
]


def test_bad_v2_bodies(client: httpx.Client) -> None:
    for body, path, message in BAD_V2:
        assert errors_of(set_webhook(client, "sales", body, "v2")) == [(path, message)], body
    assert find_webhook(client, "sales").json() is None  # nothing was stored


def test_a_url_evolution_2_3_refuses(client: httpx.Client) -> None:
    [(path, message)] = errors_of(set_webhook(client, "s", v2(url="ftp://files/hook")))
    assert path == "$.webhook.url"
    assert message.startswith('Invalid "url" property') and "'ftp://files/hook'" in message


def test_unknown_events_list_the_accepted_ones(client: httpx.Client) -> None:
    body = v2(events=["MESSAGES_UPSERT", "CALL", "MESSAGE_UPSERT", "GROUPS_UPDATE"])
    problems = errors_of(set_webhook(client, "s", body))
    assert [path for path, _ in problems] == ["$.webhook.events[2]", "$.webhook.events[3]"]
    accepted = ",".join(catalog.EVOLUTION_EVENTS["v2"])
    assert problems[0][1] == (
        f"webhook.events[2] is not one of enum values: {accepted} (did you mean MESSAGES_UPSERT?)"
    )
    assert problems[1][1].endswith("(did you mean GROUP_UPDATE?)")


def test_v1_events_are_checked_against_v1(client: httpx.Client) -> None:
    body = {"enabled": True, "url": "http://127.0.0.1:3000/w", "events": ["MESSAGES_EDITED"]}
    problems = errors_of(set_webhook(client, "legacy", body, "v1"))
    assert problems == [
        (
            "$.events[0]",
            "events[0] is not one of enum values: "
            + ",".join(catalog.EVOLUTION_EVENTS["v1"])
            + " (MESSAGES_EDITED is an Evolution v2 event)",
        )
    ]


def test_a_flat_body_on_the_shared_path_says_it_was_read_as_v1(client: httpx.Client) -> None:
    problems = errors_of(set_webhook(client, "s", {"webhooks": {"url": "http://a/b"}}))
    assert problems[:2] == [
        ("$.enabled", 'instance requires property "enabled"'),
        ("$.url", 'instance requires property "url"'),
    ]
    assert problems[2][0] == "$" and "read as an Evolution v1 (flat) body" in problems[2][1]


def test_wrong_v1_types_name_the_path(client: httpx.Client) -> None:
    body = {"enabled": "yes", "url": "http://a/b", "webhook_by_events": "no"}
    assert errors_of(set_webhook(client, "legacy", body, "v1")) == [
        ("$.enabled", "enabled is not of a type(s) boolean"),
        ("$.webhook_by_events", "webhook_by_events is not of a type(s) boolean"),
    ]


def test_broken_json_gives_line_and_column(client: httpx.Client) -> None:
    response = client.post(
        "/_gateway/evolution/webhook/set/s",
        content=b'{"webhook": {\n  "enabled": true,\n  "url": }\n}',
    )
    [(path, message)] = errors_of(response)
    assert path == "$" and message.startswith("broken JSON at line 3, column 10")


def test_instances_show_the_normalized_view(client: httpx.Client) -> None:
    set_webhook(client, "sales", V2_BODY)
    set_webhook(client, "legacy", SEED_003)
    instances = client.get("/_hookcatcher/api/instances").json()["instances"]
    assert instances == [
        {
            "provider": "evolution",
            "instance": "sales",
            "version": "v2",
            "webhooks": [
                {
                    "provider": "evolution",
                    "instance": "sales",
                    "version": "v2",
                    "id": None,
                    "url": "http://127.0.0.1:3000/hook",
                    "enabled": True,
                    "mode": "by-events",
                    "headers": [["x-token", "t1"]],
                    "events": ["MESSAGES_UPSERT", "CONNECTION_UPDATE"],
                }
            ],
        },
        {
            "provider": "evolution",
            "instance": "legacy",
            "version": "v1",
            "webhooks": [
                {
                    "provider": "evolution",
                    "instance": "legacy",
                    "version": "v1",
                    "id": None,
                    "url": "http://127.0.0.1:3000/webhook",
                    "enabled": True,
                    "mode": "single",
                    "headers": [],
                    "events": SEED_003["events"],
                }
            ],
        },
    ]


@pytest.mark.parametrize("version", ["", "v1", "v2"])
def test_connection_state_and_logout(client: httpx.Client, version: str) -> None:
    base = f"/_gateway/evolution{'/' + version if version else ''}/instance"
    missing = client.get(f"{base}/connectionState/shop")
    assert missing.status_code == 404
    assert missing.json() == {
        "status": 404,
        "error": "Not Found",
        "response": {"message": ['The "shop" instance does not exist']},
    }
    assert client.delete(f"{base}/logout/shop").status_code == 404
    body = SEED_003 if version == "v1" else V2_BODY
    assert set_webhook(client, "shop", body, version).status_code == 201
    state = client.get(f"{base}/connectionState/shop")
    assert state.json() == {"instance": {"instanceName": "shop", "state": "open"}}
    logout = client.delete(f"{base}/logout/shop")
    assert logout.json() == {
        "status": "SUCCESS",
        "error": False,
        "response": {"message": "Instance logged out"},
    }
    assert client.get(f"{base}/connectionState/shop").json()["instance"]["state"] == "close"
