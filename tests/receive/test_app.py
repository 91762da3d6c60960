"""The receiver through a real uvicorn server: every gateway's way of sending lands, is
classified as DESIGN.md's table says, and shows in the API with the right validation."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers.bundled import body_of, fixture

from hookcatcher.receive.answers import Answers
from hookcatcher.receive.runner import BackgroundServer


def post(
    client: httpx.Client,
    path: str,
    body: bytes,
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> dict:
    answer = client.request(
        method, path, content=body, headers={"content-type": "application/json", **(headers or {})}
    )
    assert answer.status_code == 200, answer.text
    return client.get(f"/_hookcatcher/api/events/{answer.json()['id']}").json()


def test_evolution_v2_single_url(client: httpx.Client) -> None:
    capture = post(client, "/", body_of("evolution/v2/messages.upsert.text"))
    assert (capture["provider"], capture["event"], capture["instance"]) == (
        "evolution",
        "messages.upsert",
        "sales",
    )
    assert capture["route"] == {"mode": "single", "base": "/", "suffix": None}
    assert capture["validation"]["status"] == "valid"
    assert capture["validation"]["schema"] == "evolution/messages.upsert"
    assert capture["warnings"] == []


def test_evolution_by_events_path(client: httpx.Client) -> None:
    capture = post(client, "/hooks/messages-upsert", body_of("evolution/v2/messages.upsert.text"))
    assert capture["event"] == "messages.upsert"
    assert capture["route"] == {"mode": "by-events", "base": "/hooks", "suffix": "messages-upsert"}
    assert capture["validation"]["status"] == "valid"
    assert capture["warnings"] == []


def test_event_that_disagrees_with_its_path_is_warned(client: httpx.Client) -> None:
    capture = post(
        client, "/webhook/evolution/messages-upsert", body_of("evolution/v2/messages.update.read")
    )
    assert capture["event"] == "messages.update"  # the body is what the gateway really sent
    assert capture["route"]["base"] == "/webhook/evolution"
    assert capture["warnings"] == [
        "the path says messages.upsert (/messages-upsert) but the body says messages.update"
    ]
    assert capture["validation"]["status"] == "valid"


def test_codechat_v2(client: httpx.Client) -> None:
    item = fixture("codechat/v2/messages.upsert.text")
    capture = post(
        client, "/webhook", json.dumps(item["body"]).encode(), headers=dict(item["headers"])
    )
    assert (capture["provider"], capture["event"], capture["instance"]) == (
        "codechat",
        "messages.upsert",
        "helpdesk",
    )
    assert capture["route"]["mode"] == "single"
    assert capture["validation"] == {
        "status": "valid",
        "schema": "codechat/messages.upsert",
        "errors": [],
    }
    assert ["x-instanceid", "a1f0c0de-0000-4000-8000-000000000002"] in capture["headers"]


def test_whapi_body_mode(client: httpx.Client) -> None:
    capture = post(client, "/webhook", body_of("whapi/messages.post.text"))
    assert (capture["provider"], capture["event"], capture["instance"]) == (
        "whapi",
        "messages/post",
        "EXAMPLE-M72HC",
    )
    assert capture["route"] == {"mode": "single", "base": "/webhook", "suffix": None}
    assert capture["validation"] == {
        "status": "valid",
        "schema": "whapi/messages.post",
        "errors": [],
    }


def test_whapi_path_mode(client: httpx.Client) -> None:
    capture = post(client, "/hooks/messages/post", body_of("whapi/messages.post.text"))
    assert capture["event"] == "messages/post"
    assert capture["route"] == {"mode": "path", "base": "/hooks", "suffix": "messages/post"}
    assert capture["warnings"] == []


def test_whapi_method_mode(client: httpx.Client) -> None:
    body = json.dumps(
        {
            "messages_updates": [{"id": "x", "changes": ["text"]}],
            "event": {"type": "messages", "event": "patch"},
            "channel_id": "EXAMPLE-M72HC",
        }
    ).encode()
    capture = post(client, "/hooks/messages", body, method="PATCH")
    assert (capture["provider"], capture["event"]) == ("whapi", "messages/patch")
    assert capture["route"] == {"mode": "method", "base": "/hooks", "suffix": "messages"}
    assert capture["method"] == "PATCH"


def test_broken_json_is_kept_with_its_bytes(client: httpx.Client) -> None:
    raw = b'{"event": "messages.upsert", "instance": "sales",, }'
    capture = post(client, "/", raw)
    assert capture["provider"] == "unknown"
    assert capture["body"] is None
    assert capture["raw"] == raw.decode() and capture["raw_encoding"] == "utf-8"
    assert capture["validation"]["status"] == "not-json"
    assert capture["validation"]["errors"] == [
        {
            "path": "$",
            "message": "broken JSON at line 1, column 50: "
            "Expecting property name enclosed in double quotes",
        }
    ]


def test_empty_body(client: httpx.Client) -> None:
    capture = post(client, "/", b"")
    assert capture["size"] == 0 and capture["body"] is None
    assert capture["validation"]["status"] == "not-json"
    assert capture["validation"]["errors"][0]["message"] == "empty body"


def test_bytes_that_are_not_utf8_come_back_exactly(client: httpx.Client) -> None:
    raw = bytes(range(256))
    capture = post(client, "/upload", raw)
    assert capture["raw_encoding"] == "base64"
    import base64

    assert base64.b64decode(capture["raw"]) == raw


def test_invalid_body_names_json_paths(client: httpx.Client) -> None:
    body = fixture("evolution/v2/messages.upsert.text")["body"]
    body["data"]["key"]["fromMe"] = "yes"
    del body["data"]["messageType"]
    body["data"]["status"] = "SEEN"
    capture = post(client, "/webhook", json.dumps(body).encode())
    assert capture["validation"]["status"] == "invalid"
    assert capture["validation"]["errors"] == [
        {"path": "$.data.key.fromMe", "message": 'expected a boolean, got string "yes"'},
        {"path": "$.data.messageType", "message": "required field is missing"},
        {
            "path": "$.data.status",
            "message": 'expected one of "ERROR", "PENDING", "SERVER_ACK", '
            '"DELIVERY_ACK", "READ", "PLAYED", "DELETED", "SENT", "DELIVERED", "FAILED", '
            'got string "SEEN"',
        },
    ]


def test_any_method_is_captured_and_answered_2xx(client: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE", "OPTIONS", "PROPFIND"):
        answer = client.request(method, "/anything/here?x=1")
        assert answer.status_code == 200, method
    events = client.get("/_hookcatcher/api/events").json()["events"]
    assert [e["method"] for e in events] == ["GET", "PUT", "DELETE", "OPTIONS", "PROPFIND"]
    assert all(e["query"] == "x=1" and e["provider"] == "unknown" for e in events)


def test_events_listing_filters_and_pages(client: httpx.Client) -> None:
    for name in (
        "evolution/v2/messages.upsert.text",
        "evolution/v2/messages.update.read",
        "whapi/messages.post.text",
        "evolution/v2/connection.update.open",
    ):
        client.post("/webhook", content=body_of(name))
    listed = client.get("/_hookcatcher/api/events", params={"q": "provider:evolution"}).json()
    assert [e["event"] for e in listed["events"]] == [
        "messages.upsert",
        "messages.update",
        "connection.update",
    ]
    assert listed["more"] is False
    assert "raw" not in listed["events"][0]  # the parsed body carries it
    newest = client.get("/_hookcatcher/api/events", params={"limit": 2}).json()
    assert [e["id"] for e in newest["events"]] == [3, 4] and newest["more"] is True
    page = client.get("/_hookcatcher/api/events", params={"after": 1, "limit": 2}).json()
    assert [e["id"] for e in page["events"]] == [2, 3] and page["more"] is True
    with_raw = client.get("/_hookcatcher/api/events", params={"limit": 1, "raw": 1}).json()
    assert json.loads(with_raw["events"][0]["raw"])["event"] == "connection.update"
    negated = client.get("/_hookcatcher/api/events", params={"q": "-event:messages.*"}).json()
    assert [e["event"] for e in negated["events"]] == ["messages/post", "connection.update"]


def test_bad_filter_term_is_400_naming_it(client: httpx.Client) -> None:
    answer = client.get("/_hookcatcher/api/events", params={"q": "provider:evolution valid:maybe"})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "bad filter term 'valid:maybe': valid takes yes or no",
        "term": "valid:maybe",
    }


def test_bad_query_parameters_are_400(client: httpx.Client) -> None:
    answer = client.get("/_hookcatcher/api/events", params={"limit": "ten"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "query parameter limit='ten' is not a whole number"
    assert client.get("/_hookcatcher/api/events", params={"after": "-1"}).status_code == 400


def test_missing_capture_and_unknown_endpoint(client: httpx.Client) -> None:
    client.post("/", content=b"{}")
    client.delete("/_hookcatcher/api/events")
    gone = client.get("/_hookcatcher/api/events/1")
    assert gone.status_code == 404 and "no longer stored" in gone.json()["error"]
    assert (
        client.get("/_hookcatcher/api/events/99").json()["error"]
        == "no capture 99 in this server run"
    )
    unknown = client.get("/_hookcatcher/api/nothing")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "no such endpoint: GET /_hookcatcher/api/nothing"
    assert client.post("/_hookcatcher/api/stats").status_code == 405
    assert client.get("/_hookcatcher/api/stats").json()["received"] == 1  # not the API calls


def test_clear_and_stats(client: httpx.Client) -> None:
    client.post("/", content=body_of("evolution/v2/messages.upsert.text"))
    client.post("/", content=b"nope")
    stats = client.get("/_hookcatcher/api/stats").json()
    assert (stats["received"], stats["stored"], stats["not_json"]) == (2, 2, 1)
    assert client.delete("/_hookcatcher/api/events").json() == {"cleared": 2}
    client.post("/", content=b"{}")
    after = client.get("/_hookcatcher/api/stats").json()
    assert (after["received"], after["stored"], after["cleared"]) == (3, 1, 2)
    assert client.get("/_hookcatcher/api/events").json()["events"][0]["id"] == 3


def test_health_and_catalog(client: httpx.Client) -> None:
    assert client.get("/_hookcatcher/health").json()["status"] == "ok"
    catalog = client.get("/_hookcatcher/api/catalog").json()
    providers = {p["name"]: p for p in catalog["providers"]}
    assert set(providers) == {"evolution", "codechat", "whapi"}
    upsert = next(e for e in providers["evolution"]["events"] if e["event"] == "messages.upsert")
    assert upsert["paths"] == ["/messages-upsert"]
    assert upsert["schema"] == "evolution/messages.upsert"
    patch = next(e for e in providers["whapi"]["events"] if e["event"] == "messages/patch")
    assert patch["paths"] == ["/messages/patch", "PATCH /messages"]
    explained = catalog["schemas"]["evolution/messages.upsert"]
    assert explained["title"] == "Evolution API messages.upsert"
    assert explained["fields"]["$.data.key.fromMe"].startswith("true when the connected account")


def test_ring_evicts_through_the_api(make_server) -> None:
    server: BackgroundServer = make_server(max_events=3)
    with httpx.Client(base_url=server.url) as http:
        for _ in range(5):
            http.post("/", content=b"{}")
        assert [e["id"] for e in http.get("/_hookcatcher/api/events").json()["events"]] == [3, 4, 5]
        stats = http.get("/_hookcatcher/api/stats").json()
        assert (stats["received"], stats["stored"], stats["evicted"]) == (5, 3, 2)


def test_summary_view_gives_list_rows_and_where_the_stream_should_start(
    client: httpx.Client,
) -> None:
    post(client, "/", body_of("evolution/v2/messages.upsert.text"))
    post(client, "/", body_of("whapi/messages.post.text"))
    post(client, "/x", b"not json")
    answer = client.get("/_hookcatcher/api/events", params={"view": "summary"}).json()
    first, second, third = answer["events"]
    assert first == {
        "id": 1,
        "received_at": first["received_at"],
        "method": "POST",
        "path": "/",
        "provider": "evolution",
        "event": "messages.upsert",
        "instance": "sales",
        "chat": fixture("evolution/v2/messages.upsert.text")["body"]["data"]["key"]["remoteJid"],
        "status": "valid",
        "errors": 0,
        "warnings": 0,
        "size": len(body_of("evolution/v2/messages.upsert.text")),
        "retry_of": None,
        "answered": 200,
        "app": None,
    }
    assert second["chat"] == fixture("whapi/messages.post.text")["body"]["messages"][0]["chat_id"]
    assert (third["status"], third["chat"], third["errors"]) == ("not-json", None, 1)
    assert answer["last_id"] == 3
    health = client.get("/_hookcatcher/health").json()
    assert answer["run"] == health["run"] == client.get("/_hookcatcher/api/stats").json()["run"]
    filtered = client.get(
        "/_hookcatcher/api/events", params={"view": "summary", "q": "provider:whapi"}
    ).json()
    assert [row["id"] for row in filtered["events"]] == [2] and filtered["last_id"] == 3
    bad = client.get("/_hookcatcher/api/events", params={"view": "table"})
    assert bad.status_code == 400 and "view='table'" in bad.json()["error"]


def test_each_server_run_has_its_own_run_id(make_server) -> None:
    runs = {httpx.get(f"{make_server().url}/_hookcatcher/health").json()["run"] for _ in range(2)}
    assert len(runs) == 2


# -- answers other than 200, and retries marked


def answers(**flags: list[str]) -> Answers:
    return Answers.from_flags(**flags)


def send_until_2xx(
    http: httpx.Client, body: bytes, path: str = "/webhook", attempts: int = 10
) -> list[httpx.Response]:
    """A sender that retries the same body until it is accepted, as gateways do."""
    answered = []
    for _ in range(attempts):
        answered.append(http.post(path, content=body))
        if answered[-1].is_success:
            break
    return answered


def listed(http: httpx.Client, **params: str) -> list[dict]:
    return http.get("/_hookcatcher/api/events", params=params).json()["events"]


def test_fail_first_2_fails_twice_per_body_and_marks_the_retries(make_server) -> None:
    server: BackgroundServer = make_server(answers(fail_first=["2"]))
    upsert, update = (
        body_of("evolution/v2/messages.upsert.text"),
        body_of("evolution/v2/messages.update.read"),
    )
    with httpx.Client(base_url=server.url) as http:
        first = send_until_2xx(http, upsert)
        assert [answer.status_code for answer in first] == [500, 500, 200]
        assert first[0].json() == {
            "ok": False,
            "id": 1,
            "status": 500,
            "reason": "--fail-first 2: failure 1 of 2 for this body",
        }
        assert first[1].json()["reason"] == "--fail-first 2: failure 2 of 2 for this body"
        assert first[2].content == b'{"ok":true,"id":3}'
        other = send_until_2xx(http, update)
        assert [answer.status_code for answer in other] == [500, 500, 200]
        assert http.post("/webhook", content=upsert).status_code == 200  # it got through once

        full = listed(http)
        assert [(e["id"], e["retry_of"], e["answer"]["status"]) for e in full] == [
            (1, None, 500),
            (2, 1, 500),
            (3, 1, 200),
            (4, None, 500),
            (5, 4, 500),
            (6, 4, 200),
            (7, 1, 200),
        ]
        assert full[1]["answer"] == {
            "status": 500,
            "delay_ms": 0,
            "reason": "--fail-first 2: failure 2 of 2 for this body",
        }
        rows = listed(http, view="summary")
        assert [(row["retry_of"], row["answered"]) for row in rows[:3]] == [
            (None, 500),
            (1, 500),
            (1, 200),
        ]
        assert [e["id"] for e in listed(http, q="retry:yes")] == [2, 3, 5, 6, 7]
        stats = http.get("/_hookcatcher/api/stats").json()
        assert stats["retries"] == 5
        assert stats["answers"] == [
            {
                "flag": "--fail-first",
                "given": "2",
                "selector": None,
                "value": 2,
                "says": "--fail-first 2: every capture is answered 500 on the first 2 arrivals of "
                "each (non-empty) body, then as the other rules say",
            }
        ]


def test_a_per_event_rule_applies_only_to_that_event(make_server) -> None:
    server = make_server(answers(fail_first=["messages.upsert=1"], respond=["whapi=503"]))
    with httpx.Client(base_url=server.url) as http:
        assert [
            a.status_code
            for a in send_until_2xx(http, body_of("evolution/v2/messages.upsert.text"))
        ] == [500, 200]
        assert [
            a.status_code
            for a in send_until_2xx(http, body_of("evolution/v2/messages.update.read"))
        ] == [200]
        # `whapi` on its own is an event glob, and no event is called that.
        assert http.post("/webhook", content=body_of("whapi/messages.post.text")).status_code == 200


def test_respond_with_a_selector(make_server) -> None:
    server = make_server(answers(respond=["provider:whapi=503", "messages.update=204"]))
    with httpx.Client(base_url=server.url) as http:
        refused = http.post("/hooks/messages/post", content=body_of("whapi/messages.post.text"))
        assert refused.status_code == 503
        assert refused.json() == {
            "ok": False,
            "id": 1,
            "status": 503,
            "reason": "--respond provider:whapi=503",
        }
        empty = http.post("/webhook", content=body_of("evolution/v2/messages.update.read"))
        assert (empty.status_code, empty.content) == (204, b"")
        plain = http.post("/webhook", content=body_of("evolution/v2/messages.upsert.text"))
        assert (plain.status_code, plain.content) == (200, b'{"ok":true,"id":3}')
        assert [e["answer"]["status"] for e in listed(http)] == [503, 204, 200]


def test_without_rules_the_answer_is_the_plain_200(client: httpx.Client) -> None:
    answer = client.post("/webhook", content=b'{"a": 1}')
    assert answer.content == b'{"ok":true,"id":1}'
    assert answer.headers["content-type"] == "application/json"
    assert client.get("/_hookcatcher/api/stats").json()["answers"] == []
    (capture,) = listed(client)
    assert capture["answer"] == {"status": 200, "delay_ms": 0, "reason": None}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.01)


def test_delay_holds_the_answer_but_not_the_capture(make_server) -> None:
    server = make_server(answers(delay=["messages.upsert=400"]))
    body = body_of("evolution/v2/messages.upsert.text")
    with httpx.Client(base_url=server.url) as http, ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        sent = pool.submit(http.post, "/webhook", content=body)
        wait_for(lambda: listed(http), "the capture in the API")
        assert not sent.done()  # stored and listed while the sender still waits
        (capture,) = listed(http)
        assert capture["answer"] == {
            "status": 200,
            "delay_ms": 400,
            "reason": "--delay messages.upsert=400",
        }
        answer = sent.result(timeout=10)
        assert time.monotonic() - started >= 0.4
        assert (answer.status_code, answer.content) == (200, b'{"ok":true,"id":1}')
        # Another event is not delayed: its answer comes back before a delayed one would.
        other = http.post("/webhook", content=body_of("whapi/messages.post.text"))
        assert other.status_code == 200 and other.elapsed.total_seconds() < 0.4


def test_a_sender_that_hangs_up_during_the_delay_breaks_nothing(make_server) -> None:
    server = make_server(answers(delay=["600000"]))  # ten minutes: only a hang-up ends it
    host, port = server.url.removeprefix("http://").split(":")
    body = b'{"a": 1}'
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
        )
        with httpx.Client(base_url=server.url) as http:
            wait_for(lambda: listed(http), "the capture in the API")
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)  # nothing answered yet
    with httpx.Client(base_url=server.url) as http:
        (capture,) = listed(http)
        assert capture["answer"]["delay_ms"] == 600000
        assert http.get("/_hookcatcher/health").json()["status"] == "ok"
    # The abandoned request ended with the hang-up: stopping does not wait out the
    # graceful-shutdown timeout (3 s) for it.
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.5


def test_headers_and_peer_are_recorded_as_sent(client: httpx.Client) -> None:
    """Header text is shared between captures that repeat a pair, never mixed up between
    them; a long value, latin-1 bytes and X-Forwarded-For come back exactly, and the remote
    is the peer that connected, not what X-Forwarded-For claims."""
    long_value = "v" * 5000
    first = post(
        client,
        "/h",
        b"{}",
        headers={"x-team": "sales", "x-long": long_value, "x-forwarded-for": "203.0.113.9"},
    )
    second = post(
        client,
        "/h",
        b"{}",
        headers={"x-team": "support", "x-long": long_value, "x-latin": "caf\xe9".encode("latin-1")},
    )
    assert ["x-team", "sales"] in first["headers"]
    assert ["x-team", "support"] in second["headers"]
    assert ["x-long", long_value] in first["headers"] and ["x-long", long_value] in second[
        "headers"
    ]
    assert ["x-latin", "caf\xe9"] in second["headers"]
    assert ["x-forwarded-for", "203.0.113.9"] in first["headers"]
    assert first["remote"].startswith("127.0.0.1:")


def test_received_at_is_utc_to_the_microsecond(client: httpx.Client) -> None:
    from datetime import datetime, timezone

    before = datetime.now(timezone.utc)
    stamps = [post(client, "/t", b"{}")["received_at"] for _ in range(3)]
    after = datetime.now(timezone.utc)
    for stamp in stamps:
        assert len(stamp) == 27 and stamp.endswith("Z"), stamp
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        assert before <= moment <= after
    assert stamps == sorted(stamps)
