"""--forward-to in passthrough mode, against a real app on a free loopback port: the app
gets what the gateway sent (path suffix, query, bytes, headers in order), the gateway gets the
app's answer, and each delivery is recorded with its capture."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from helpers.ports import unused_port
from helpers.recorder import Recorder, serving
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hookcatcher.cli.main import main
from hookcatcher.core.capture import Forward
from hookcatcher.core.forwarding import forward_url, parse_rule
from hookcatcher.files.session import load
from hookcatcher.receive.access import Access
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.app import create_app
from hookcatcher.receive.forwarder import Forwarder
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.remote.client import Remote
from hookcatcher.remote.errors import RemoteError
from hookcatcher.remote.sync import SyncRemote

EVOLUTION = {"event": "messages.upsert", "instance": "sales", "data": {"key": {"id": "A1"}}}


@pytest.fixture
def app() -> Iterator[Recorder]:
    with serving(Recorder()) as recorder:
        yield recorder


def catcher(*rules: str, timeout: float = 10.0, answers: Answers | None = None):
    forwarder = Forwarder([parse_rule(rule) for rule in rules], timeout)
    return BackgroundServer(create_app(answers=answers, forwarder=forwarder), quiet=True)


def test_the_app_gets_the_gateways_path_suffix_query_bytes_and_headers(app: Recorder) -> None:
    raw = json.dumps(EVOLUTION, indent=1).encode()  # bytes as sent, whitespace and all
    with catcher(f"{app.url}/bot") as server:
        answer = httpx.post(
            f"{server.url}/webhook/messages-upsert?x=1",
            content=raw,
            headers=[("Content-Type", "application/json"), ("apikey", "K-1"), ("X-Zed", "z")],
        )
        stored = httpx.get(f"{server.url}/_hookcatcher/api/events/1").json()
    assert answer.status_code == 200
    assert answer.json() == {"path": "/bot/messages-upsert"}  # the app's own answer
    [arrival] = app.arrivals
    assert (arrival.method, arrival.path, arrival.query, arrival.body) == (
        "POST",
        "/bot/messages-upsert",
        "x=1",
        raw,
    )
    names = [name for name, _ in arrival.headers]
    assert names.index("content-type") < names.index("apikey") < names.index("x-zed")
    headers = dict(arrival.headers)
    assert headers["host"] == app.url.removeprefix("http://")
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-host"] == server.url.removeprefix("http://")
    [forward] = stored["forwards"]
    assert forward["url"] == f"{app.url}/bot/messages-upsert?x=1"
    assert (forward["status"], forward["target"], forward["error"]) == (200, f"{app.url}/bot", None)
    assert json.loads(forward["response_body"]) == {"path": "/bot/messages-upsert"}


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("POST", "/hooks/messages/post", {"messages": [{"id": "m"}]}, "/app/messages/post"),
        ("PATCH", "/hooks/messages", {"messages_updates": [{"id": "m"}]}, "/app/messages"),
    ],
    ids=["whapi-path-mode", "whapi-method-mode"],
)  # fmt: skip
def test_whapi_path_and_method_modes_reach_the_app_as_whapi_sends_them(
    app: Recorder, method: str, path: str, body: dict[str, object], expected: str
) -> None:
    with catcher(f"{app.url}/app") as server:
        answer = httpx.request(method, server.url + path, json=body)
    assert answer.status_code == 200
    assert [(a.method, a.path) for a in app.arrivals] == [(method, expected)]


def test_the_apps_500_is_the_gateways_and_its_retry_is_marked(app: Recorder) -> None:
    app.statuses["/down"] = 500
    with catcher(f"{app.url}/down") as server:
        first = httpx.post(f"{server.url}/webhook", json=EVOLUTION)
        again = httpx.post(f"{server.url}/webhook", json=EVOLUTION)
        events = httpx.get(f"{server.url}/_hookcatcher/api/events").json()["events"]
    assert (first.status_code, again.status_code) == (500, 500)
    assert first.json() == {"path": "/down"}
    assert [e["retry_of"] for e in events] == [None, 1]
    assert [e["forwards"][0]["status"] for e in events] == [500, 500]


def test_an_app_that_is_down_is_a_502_with_the_reason_and_the_capture_is_kept() -> None:
    down = f"http://127.0.0.1:{unused_port()}/hook"
    with catcher(down) as server:
        answer = httpx.post(f"{server.url}/webhook", json=EVOLUTION)
        stored = httpx.get(f"{server.url}/_hookcatcher/api/events/1").json()
    assert answer.status_code == 502
    assert "refused the connection: is it running?" in answer.json()["error"]
    [forward] = stored["forwards"]
    assert forward["status"] is None and "refused" in forward["error"]


@dataclass
class Slow:
    """An app that answers after the test lets it go."""

    release: threading.Event = field(default_factory=threading.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await Request(scope, receive).body()
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        await Response("late")(scope, receive, send)


def test_an_app_slower_than_the_timeout_is_a_504() -> None:
    slow = Slow()
    with serving(slow) as app, catcher(f"{app.url}/", timeout=0.3) as server:  # type: ignore[type-var]
        try:
            answer = httpx.post(f"{server.url}/webhook", json=EVOLUTION, timeout=10)
        finally:
            slow.release.set()
    assert answer.status_code == 504
    assert "within 0.3 s" in answer.json()["error"]


def test_rules_route_by_filter_and_fan_out(app: Recorder) -> None:
    with catcher(
        f"event:messages.*={app.url}/messages",
        f"provider:whapi={app.url}/whapi",
        f"{app.url}/all",
    ) as server:
        httpx.post(f"{server.url}/", json=EVOLUTION)
        httpx.post(
            f"{server.url}/", json={"event": "connection.update", "instance": "s", "data": {}}
        )
    assert sorted(a.path for a in app.arrivals) == ["/all", "/all", "/messages"]


def test_a_capture_no_rule_matches_stays_here(app: Recorder) -> None:
    with catcher(f"provider:whapi={app.url}/whapi") as server:
        answer = httpx.post(f"{server.url}/", json=EVOLUTION)
        stored = httpx.get(f"{server.url}/_hookcatcher/api/events/1").json()
    assert answer.status_code == 200 and answer.json()["id"] == 1
    assert app.arrivals == [] and stored["forwards"] == []


def test_answer_rules_win_and_the_capture_says_it_was_not_forwarded(app: Recorder) -> None:
    rules = Answers.from_flags(["503"], [], [])
    with catcher(app.url, answers=rules) as server:
        answer = httpx.post(f"{server.url}/", json=EVOLUTION)
        stored = httpx.get(f"{server.url}/_hookcatcher/api/events/1").json()
    assert answer.status_code == 503
    assert app.arrivals == []
    assert stored["forwards"][0]["error"].startswith("not forwarded: answered 503")


def test_forward_url_keeps_the_suffix_and_query() -> None:
    from hookcatcher.core.capture import Capture, Route, Validation

    capture = Capture(
        received_at="",
        method="POST",
        path="/w/messages-upsert",
        query="a=1",
        headers=[],
        remote="",
        raw=b"{}",
        body={},
        provider="evolution",
        event="messages.upsert",
        instance=None,
        route=Route("by-events", "/w", "/messages-upsert"),
        validation=Validation("valid"),
    )
    assert forward_url("http://app/hook/", capture) == "http://app/hook/messages-upsert?a=1"


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("ftp://x/", "is not URL or SELECTOR=URL with an http(s) URL"),
        ("valid:perhaps=http://127.0.0.1:3000/", "valid takes yes or no"),
    ],
)
def test_a_bad_rule_is_a_usage_error_naming_it(rule: str, said: str, capsys) -> None:
    assert main(["serve", "--port", "0", "--forward-to", rule]) == 2
    err = capsys.readouterr().err
    assert "--forward-to" in err and said in err


def test_forwarding_to_itself_is_refused(capsys) -> None:
    port = unused_port()
    assert main(["serve", "--port", str(port), "--forward-to", f"http://127.0.0.1:{port}/x"]) == 2
    assert "is this hookcatcher itself" in capsys.readouterr().err


@pytest.mark.slow
def test_serve_prints_each_delivery_and_the_session_keeps_it(app: Recorder, tmp_path) -> None:
    from helpers.process import Running

    saved = tmp_path / "day.jsonl"
    running = Running("serve", "--port", "0", "--save", str(saved), "--forward-to", app.url)
    try:
        url = running.started().url
        assert httpx.post(f"{url}/webhook", json=EVOLUTION).status_code == 200
        line = running.read_until(r"<-- 200 POST ")
        assert f"{app.url}/ " not in line and f"POST {app.url}" in line
    finally:
        running.stop()
    [capture] = load(str(saved)).captures
    assert [f.status for f in capture.forwards] == [200]


def detached(*rules: str, queue: int = 1000, timeout: float = 10.0) -> BackgroundServer:
    forwarder = Forwarder([parse_rule(rule) for rule in rules], timeout, "detach", queue)
    return BackgroundServer(create_app(forwarder=forwarder), quiet=True)


def wait_until(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)


def test_detach_answers_at_once_and_delivers_in_order(app: Recorder) -> None:
    with detached(f"{app.url}/bot") as server:
        answers = [
            httpx.post(f"{server.url}/webhook", json={**EVOLUTION, "n": n}) for n in range(20)
        ]
        forwarder = server.app.forwarder
        assert forwarder is not None
        # Recorded once the app's answer is back, a moment after the app has the request.
        wait_until(lambda: forwarder.forwarded == 20)
        events = httpx.get(f"{server.url}/_hookcatcher/api/events").json()["events"]
    assert {a.status_code for a in answers} == {200}
    assert all("id" in a.json() for a in answers)  # hookcatcher's answer, not the app's
    assert [json.loads(a.body)["n"] for a in app.arrivals] == list(range(20))
    assert [e["forwards"][0]["status"] for e in events] == [200] * 20


def test_detach_with_the_app_down_keeps_the_queue_bounded_and_counts_drops() -> None:
    slow = Slow()  # holds every delivery until released: the queue fills behind the first
    with serving(slow) as app, detached(f"{app.url}/", queue=5) as server:  # type: ignore[type-var]
        try:
            for n in range(50):
                answer = httpx.post(f"{server.url}/webhook", json={**EVOLUTION, "n": n})
                assert answer.status_code == 200
            forwarder = server.app.forwarder
            assert forwarder is not None
            assert forwarder.waiting <= 5
            assert forwarder.dropped == 50 - 1 - 5  # one in flight, five waiting
        finally:
            slow.release.set()
        wait_until(lambda: forwarder.waiting == 0 and forwarder.forwarded == 6)
        events = httpx.get(f"{server.url}/_hookcatcher/api/events?limit=100").json()["events"]
    dropped = [e for e in events if e["forwards"] and e["forwards"][0]["error"]]
    assert len(dropped) == 44
    assert dropped[0]["forwards"][0]["error"].startswith("dropped: 5 deliveries")


def test_stats_count_deliveries_and_health_says_the_rules(app: Recorder) -> None:
    app.statuses["/down"] = 503
    with catcher(f"event:messages.*={app.url}/down", f"{app.url}/ok") as server:
        httpx.post(f"{server.url}/", json=EVOLUTION)  # /down 503 and /ok 200
        httpx.post(f"{server.url}/", json={"event": "connection.update", "data": {}})  # /ok
        stats = httpx.get(f"{server.url}/_hookcatcher/api/stats").json()
        health = httpx.get(f"{server.url}/_hookcatcher/health").json()
        failed = httpx.get(f"{server.url}/_hookcatcher/api/events?q=forward:failed").json()
        fives = httpx.get(f"{server.url}/_hookcatcher/api/events?q=forward.status:5*").json()
        ok = httpx.get(f"{server.url}/_hookcatcher/api/events?q=forward:ok").json()
    assert (stats["forwarded"], stats["failed"]) == (2, 1)
    assert health["forward"] == [f"event:messages.* -> {app.url}/down", f"{app.url}/ok"]
    assert [e["id"] for e in failed["events"]] == [e["id"] for e in fives["events"]] == [1]
    assert [e["id"] for e in ok["events"]] == [2]


def test_without_forwarding_stats_count_nothing_and_health_lists_no_rule() -> None:
    with BackgroundServer(create_app(), quiet=True) as server:
        httpx.post(f"{server.url}/", json=EVOLUTION)
        stats = httpx.get(f"{server.url}/_hookcatcher/api/stats").json()
        health = httpx.get(f"{server.url}/_hookcatcher/health").json()
        none = httpx.get(f"{server.url}/_hookcatcher/api/events?q=forward:none").json()
    assert (stats["forwarded"], stats["failed"]) == (0, 0)
    assert health["forward"] == []
    assert [e["id"] for e in none["events"]] == [1]


def test_a_capture_is_redelivered_from_the_api_and_its_deliveries_are_added(
    app: Recorder,
) -> None:
    app.statuses["/hook/messages-upsert"] = 500
    with catcher(f"{app.url}/hook") as server:
        raw = json.dumps(EVOLUTION).encode()
        first = httpx.post(
            f"{server.url}/webhook/messages-upsert?x=1",
            content=raw,
            headers={"Content-Type": "application/json"},
        )
        app.statuses.clear()  # the app is fixed
        again = httpx.post(f"{server.url}/_hookcatcher/api/events/1/forward")
        stored = httpx.get(f"{server.url}/_hookcatcher/api/events/1").json()
        row = httpx.get(f"{server.url}/_hookcatcher/api/events?q=forward.status:200").json()
        stats = httpx.get(f"{server.url}/_hookcatcher/api/stats").json()
    assert first.status_code == 500
    assert again.status_code == 200
    answer = again.json()
    assert answer["id"] == 1
    [delivery] = answer["forwards"]
    assert (delivery["status"], delivery["ok"]) == (200, True)
    assert delivery["url"] == f"{app.url}/hook/messages-upsert?x=1"
    assert [f["status"] for f in stored["forwards"]] == [500, 200]
    assert [e["id"] for e in row["events"]] == [1]
    assert (stats["forwarded"], stats["failed"]) == (1, 1)
    assert [(a.path, a.query, a.body) for a in app.arrivals] == [
        ("/hook/messages-upsert", "x=1", raw)
    ] * 2


def test_redelivery_sends_a_capture_an_answer_rule_kept_and_tells_who_listens(
    app: Recorder,
) -> None:
    rules = Answers.from_flags(["503"], [], [])
    forwarder = Forwarder([parse_rule(app.url)])
    hookcatcher = create_app(answers=rules, forwarder=forwarder)
    told: list[int] = []
    hookcatcher.store.on_delivery(lambda capture: told.append(capture.id))
    with BackgroundServer(hookcatcher, quiet=True) as server:
        assert httpx.post(f"{server.url}/", json=EVOLUTION).status_code == 503
        assert app.arrivals == [] and told == []
        httpx.get(f"{server.url}/_hookcatcher/api/events?view=summary")  # its row is made
        [capture] = hookcatcher.store
        assert capture.row is not None
        again = httpx.post(f"{server.url}/_hookcatcher/api/events/1/forward")
    assert again.status_code == 200 and len(app.arrivals) == 1 and told == [1]
    assert capture.row is None  # made again, with the delivery, when next listed
    assert [f.status for f in capture.forwards] == [None, 200]


def test_redelivery_of_an_unknown_capture_is_404_and_without_forwarding_409(
    app: Recorder,
) -> None:
    with catcher(app.url) as server:
        unknown = httpx.post(f"{server.url}/_hookcatcher/api/events/7/forward")
        word = httpx.post(f"{server.url}/_hookcatcher/api/events/abc/forward")
        read = httpx.get(f"{server.url}/_hookcatcher/api/events/1/forward")
    assert (unknown.status_code, word.status_code) == (404, 404)
    assert "no capture 7" in unknown.json()["error"]
    assert read.status_code == 405
    with BackgroundServer(create_app(), quiet=True) as server:
        httpx.post(f"{server.url}/", json=EVOLUTION)
        nowhere = httpx.post(f"{server.url}/_hookcatcher/api/events/1/forward")
    assert nowhere.status_code == 409
    assert "forwards nowhere" in nowhere.json()["error"]
    assert "--forward-to" in nowhere.json()["error"]


def test_redelivery_of_a_capture_no_rule_matches_is_409(app: Recorder) -> None:
    with catcher(f"provider:whapi={app.url}") as server:
        httpx.post(f"{server.url}/", json=EVOLUTION)
        answer = httpx.post(f"{server.url}/_hookcatcher/api/events/1/forward")
    assert answer.status_code == 409
    assert "no --forward-to rule matches capture 1" in answer.json()["error"]
    assert app.arrivals == []


def test_redelivery_needs_the_token(app: Recorder) -> None:
    forwarder = Forwarder([parse_rule(app.url)])
    guarded = create_app(forwarder=forwarder, access=Access(token="T"))
    with BackgroundServer(guarded, quiet=True) as server:
        httpx.post(f"{server.url}/", json=EVOLUTION)
        refused = httpx.post(f"{server.url}/_hookcatcher/api/events/1/forward")
        foreign = httpx.post(
            f"{server.url}/_hookcatcher/api/events/1/forward?token=T",
            headers={"Origin": "http://evil.example"},
        )
        allowed = httpx.post(
            f"{server.url}/_hookcatcher/api/events/1/forward",
            headers={"Authorization": "Bearer T"},
        )
    assert (refused.status_code, foreign.status_code, allowed.status_code) == (401, 403, 200)
    assert len(app.arrivals) == 2  # the capture, and the one redelivery let through


def test_the_clients_redeliver(app: Recorder) -> None:
    forwarder = Forwarder([parse_rule(f"{app.url}/a"), parse_rule(f"{app.url}/b")])
    guarded = create_app(forwarder=forwarder, access=Access(token="T"))
    with BackgroundServer(guarded, quiet=True) as server:
        httpx.post(f"{server.url}/", json=EVOLUTION)
        with SyncRemote(server.url, token="T") as remote:
            deliveries = remote.redeliver(1)
            with pytest.raises(RemoteError, match="no capture 9"):
                remote.redeliver(9)

        async def from_async() -> list[Forward]:
            async with Remote(server.url, token="T") as remote:
                return await remote.redeliver(1)

        again = asyncio.run(from_async())
        with SyncRemote(server.url, token="T") as remote:
            stored = remote.captures()
    assert sorted(f.target for f in deliveries) == [f"{app.url}/a", f"{app.url}/b"]
    assert all(f.ok for f in deliveries + again) and len(again) == 2
    assert len(stored[0].forwards) == 6
    assert len(app.arrivals) == 6


def test_the_clients_say_when_the_server_forwards_nowhere() -> None:
    with BackgroundServer(create_app(), quiet=True) as server:
        httpx.post(f"{server.url}/", json=EVOLUTION)
        with SyncRemote(server.url) as remote, pytest.raises(RemoteError, match="nowhere"):
            remote.redeliver(1)


def test_an_evolution_suffix_inside_the_query_goes_on_inside_it(app: Recorder) -> None:
    """Evolution appends its suffix to the whole URL: configured with `?token=a`, it posts
    to `...?token=a/messages-upsert`; the app is called as Evolution would call it."""
    with catcher(f"{app.url}/bot") as server:
        answer = httpx.post(f"{server.url}/webhook?token=a/messages-upsert", json=EVOLUTION)
    assert answer.status_code == 200
    [arrival] = app.arrivals
    assert (arrival.path, arrival.query) == ("/bot", "token=a/messages-upsert")
