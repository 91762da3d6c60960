"""CodeChat API v2's webhook resource against a real server: create, list, read, update,
delete, event flags (every flag left out is on), NestJS-style errors naming the path, and
state kept per instance."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from hookcatcher.core import catalog

BASE = "/_gateway/codechat/api/v2/instance"
RESPONSE_KEYS = [
    "webhookId",
    "name",
    "url",
    "enabled",
    "createdAt",
    "updatedAt",
    "instanceInstanceId",
]
FLAGS = list(catalog.CODECHAT_V2_FLAGS)


def create(client: httpx.Client, instance: str = "i-1", **body: Any) -> httpx.Response:
    body = {"name": "app", "url": "http://127.0.0.1:3000/codechat", **body}
    return client.post(
        f"{BASE}/{instance}/webhook", json=body, headers={"Authorization": "Bearer instance-jwt"}
    )


def errors_of(response: httpx.Response) -> list[tuple[str, str]]:
    """(path, message) pairs of a NestJS-style 400, checking its shape on the way."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["statusCode"], body["error"]) == (400, "Bad Request")
    assert len(body["message"]) == len(body["path"])
    return list(zip(body["path"], body["message"], strict=True))


def test_create_then_read(client: httpx.Client) -> None:
    response = create(client)
    assert response.status_code == 201
    created = response.json()
    assert list(created) == RESPONSE_KEYS  # no WebhookEvents in the create answer
    assert uuid.UUID(created["webhookId"]).version == 4
    assert (created["name"], created["url"], created["enabled"]) == (
        "app",
        "http://127.0.0.1:3000/codechat",
        False,
    )  # enabled defaults to false
    assert (created["updatedAt"], created["instanceInstanceId"]) == (None, "i-1")

    listed = client.get(f"{BASE}/i-1/webhook").json()
    assert len(listed) == 1 and listed[0]["webhookId"] == created["webhookId"]
    events = listed[0]["WebhookEvents"]
    assert [events[flag] for flag in FLAGS] == [True] * len(FLAGS)  # all on until PATCHed
    assert events["webhookWebhookId"] == created["webhookId"]
    one = client.get(f"{BASE}/i-1/webhook/{created['webhookId']}").json()
    assert one == listed[0]


def test_update_and_delete(client: httpx.Client) -> None:
    webhook_id = create(client, enabled=True).json()["webhookId"]
    updated = client.put(
        f"{BASE}/i-1/webhook/{webhook_id}",
        json={"name": "renamed", "url": "http://127.0.0.1:4000/x", "enabled": True},
    )
    assert updated.status_code == 200
    body = updated.json()
    assert list(body) == RESPONSE_KEYS
    assert (body["name"], body["url"], body["enabled"]) == (
        "renamed",
        "http://127.0.0.1:4000/x",
        True,
    )
    assert body["updatedAt"] is not None
    deleted = client.delete(f"{BASE}/i-1/webhook/{webhook_id}")
    assert deleted.status_code == 200 and deleted.json()["webhookId"] == webhook_id
    assert client.get(f"{BASE}/i-1/webhook").json() == []
    gone = client.get(f"{BASE}/i-1/webhook/{webhook_id}")
    assert gone.status_code == 404 and gone.json()["error"] == "Not Found"


def test_patching_events_turns_on_every_flag_left_out(client: httpx.Client) -> None:
    webhook_id = create(client).json()["webhookId"]
    url = f"{BASE}/i-1/webhook/{webhook_id}/events"
    first = client.patch(url, json={"messagesUpdate": False, "chatsSet": False})
    assert first.status_code == 200
    events = first.json()["WebhookEvents"]
    assert [flag for flag in FLAGS if not events[flag]] == ["messagesUpdate", "chatsSet"]
    assert events["updatedAt"] is not None
    second = client.patch(url, json={"newJwt": False}).json()["WebhookEvents"]
    assert [flag for flag in FLAGS if not second[flag]] == ["newJwt"]
    listed = client.get(f"{BASE}/i-1/webhook").json()[0]["WebhookEvents"]
    assert listed == second


def test_bad_webhook_bodies(client: httpx.Client) -> None:
    cases = [
        ({"url": "http://a/b"}, [("$.name", "name should not be empty")]),
        ({"name": 3, "url": "http://a/b"}, [("$.name", "name must be a string")]),
        ({"name": "n"}, [("$.url", "url should not be empty")]),
        (
            {"name": "n", "url": "localhost:3000"},
            [("$.url", "url must be a URL address (http:// or https://), got 'localhost:3000'")],
        ),
        (
            {"name": "n", "url": "http://a/b", "enabled": "yes"},
            [("$.enabled", "enabled must be a boolean value")],
        ),
        (["n"], [("$", "the body must be a JSON object, got an array of 1")]),
    ]
    for body, expected in cases:
        response = client.post(f"{BASE}/i-1/webhook", json=body)
        assert errors_of(response) == expected, body
    broken = client.post(f"{BASE}/i-1/webhook", content=b'{"name": "n",, "url": "x"}')
    [(path, message)] = errors_of(broken)
    assert (path, message) == (
        "$",
        "broken JSON at line 1, column 14: Expecting property name enclosed in double quotes",
    )
    assert client.get(f"{BASE}/i-1/webhook").status_code == 404  # nothing was created


def test_bad_event_flags_list_the_known_ones(client: httpx.Client) -> None:
    webhook_id = create(client).json()["webhookId"]
    response = client.patch(
        f"{BASE}/i-1/webhook/{webhook_id}/events", json={"messageUpsert": False, "chatsSet": "no"}
    )
    problems = errors_of(response)
    assert problems == [
        (
            "$.messageUpsert",
            "property messageUpsert should not exist: the event flags are "
            f"{', '.join(FLAGS)} (did you mean messagesUpsert?)",
        ),
        ("$.chatsSet", 'chatsSet must be a boolean value, got string "no"'),
    ]
    flags = client.get(f"{BASE}/i-1/webhook/{webhook_id}").json()["WebhookEvents"]
    assert flags["chatsSet"] is True  # unchanged


def test_unknown_instances_and_webhooks_are_404(client: httpx.Client) -> None:
    missing = client.get(f"{BASE}/nobody/webhook")
    assert missing.status_code == 404
    assert missing.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": (
            "instance 'nobody' has no webhooks here: create one with "
            "POST /api/v2/instance/nobody/webhook"
        ),
    }
    webhook_id = create(client).json()["webhookId"]
    other = str(uuid.uuid4())
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, f"{BASE}/i-1/webhook/{other}", json={})
        assert response.status_code == 404, method
        assert response.json()["message"] == (
            f"instance 'i-1' has no webhook {other!r} (its webhooks: {webhook_id})"
        )
    assert client.patch(f"{BASE}/i-2/webhook/{webhook_id}/events", json={}).status_code == 404


def test_state_is_per_instance_and_webhook(client: httpx.Client) -> None:
    first = create(client, "i-1", name="one").json()["webhookId"]
    second = create(client, "i-1", name="two").json()["webhookId"]
    create(client, "i-2", name="elsewhere")
    client.patch(f"{BASE}/i-1/webhook/{first}/events", json={"messagesUpsert": False})
    listed = client.get(f"{BASE}/i-1/webhook").json()
    assert [hook["name"] for hook in listed] == ["one", "two"]
    assert [hook["WebhookEvents"]["messagesUpsert"] for hook in listed] == [False, True]
    assert [hook["name"] for hook in client.get(f"{BASE}/i-2/webhook").json()] == ["elsewhere"]
    assert second != first


def test_instances_show_the_flags_that_are_on(client: httpx.Client) -> None:
    webhook_id = create(client, enabled=True).json()["webhookId"]
    client.patch(
        f"{BASE}/i-1/webhook/{webhook_id}/events",
        json={flag: flag in ("messagesUpsert", "connectionUpdate") for flag in FLAGS},
    )
    instances = client.get("/_hookcatcher/api/instances").json()["instances"]
    assert instances == [
        {
            "provider": "codechat",
            "instance": "i-1",
            "version": "v2",
            "webhooks": [
                {
                    "provider": "codechat",
                    "instance": "i-1",
                    "version": "v2",
                    "id": webhook_id,
                    "url": "http://127.0.0.1:3000/codechat",
                    "enabled": True,
                    "mode": "single",
                    "headers": [],
                    "events": ["messagesUpsert", "connectionUpdate"],
                }
            ],
        }
    ]
