"""Delivering many requests: into an app in this process (ASGI and WSGI, no port), or over
the network, in order or concurrently, paced, repeated, stopped by the first refusal."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import flask
import pytest
from helpers.ports import unused_port
from helpers.recorder import Recorder, serving
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import hookcatcher
from hookcatcher.core import catalog
from hookcatcher.core.resources import data_dir
from hookcatcher.files.fixtures import bundled, pick
from hookcatcher.send.delivery import Report, deliver, to_url
from hookcatcher.send.outgoing import make_client
from hookcatcher.send.sources import item_of


def starlette_app(seen: list[tuple[str, str, bytes, list[tuple[str, str]]]]) -> Starlette:
    async def hook(request: Request) -> JSONResponse:
        body = await request.body()
        seen.append((request.method, request.url.path, body, request.headers.items()))
        if request.url.path.endswith("/messages-update"):
            return JSONResponse({"error": "not handled"}, status_code=422)
        return JSONResponse({"handled": json.loads(body).get("event")})

    methods = ["POST", "PUT", "PATCH", "DELETE"]
    return Starlette(
        routes=[
            Route("/webhook", hook, methods=methods),
            Route("/webhook/{rest:path}", hook, methods=methods),
        ]
    )


def flask_app(seen: list[tuple[str, str, bytes]]) -> flask.Flask:
    app = flask.Flask("consumer")

    @app.route("/hooks", methods=["POST"], defaults={"rest": ""})
    @app.route("/hooks/<path:rest>", methods=["POST", "PUT", "PATCH", "DELETE"])
    def hook(rest: str) -> Any:
        seen.append((flask.request.method, flask.request.path, flask.request.get_data()))
        return {"rest": rest}

    return app


def test_into_a_starlette_app_in_process() -> None:
    seen: list[Any] = []
    report = hookcatcher.replay(
        starlette_app(seen),
        data_dir("fixtures") / "evolution" / "v2",
        by_events=True,
        path="/webhook",
    )
    evolution = [fixture for fixture in bundled() if fixture.name.startswith("evolution/v2/")]
    assert len(seen) == len(report.sent) == len(evolution) == 47
    by_label = {sent.item.label: sent for sent in report.sent}
    for fixture, (_method, path, body, headers) in zip(evolution, seen, strict=True):
        suffix = catalog.find("evolution", fixture.event).suffix  # type: ignore[union-attr]
        assert path == (f"/webhook/{suffix}" if suffix else "/webhook")
        assert body == fixture.raw()
        assert ("content-type", "application/json") in headers
        assert by_label[fixture.name].attempt.url == f"http://testserver{path}"
    updates = [fixture for fixture in evolution if fixture.event == "messages.update"]
    failed = [sent for sent in report.sent if not sent.attempt.ok]
    assert [sent.item.label for sent in failed] == [fixture.name for fixture in updates]
    assert {sent.attempt.status for sent in failed} == {422} and not report.ok
    assert report.summary().startswith("47 requests in ")
    assert report.summary().endswith(
        f": {47 - len(updates)} answered 2xx, {len(updates)} not 2xx (422 x{len(updates)})"
    )


def test_into_a_flask_app_in_process() -> None:
    seen: list[Any] = []
    report = hookcatcher.replay(
        flask_app(seen),
        ["whapi/messages.post.text", "messages.upsert"],
        by_events=True,
        path="/hooks",
        whapi_mode="method",
    )
    assert report.ok
    assert [(method, path) for method, path, _ in seen] == [
        ("POST", "/hooks/messages"),
        ("POST", "/hooks/messages-upsert"),
    ]
    assert seen[0][2] == pick("whapi/messages.post.text").raw()
    assert json.loads(report.sent[0].attempt.response_body) == {"rest": "messages"}


def test_overrides_from_python() -> None:
    seen: list[Any] = []
    report = hookcatcher.replay(
        flask_app(seen),
        "messages.upsert",
        path="/hooks",
        overrides={"data.key.fromMe": True, "instance": "support"},
    )
    assert report.ok
    body = json.loads(seen[0][2])
    assert body["data"]["key"]["fromMe"] is True and body["instance"] == "support"


def test_an_exception_in_the_app_comes_out_of_replay() -> None:
    async def hook(request: Request) -> JSONResponse:
        raise KeyError("data")

    with pytest.raises(KeyError):
        hookcatcher.replay(
            Starlette(routes=[Route("/", hook, methods=["POST"])]), "messages.upsert"
        )
    app = flask.Flask("broken")
    app.testing = True

    @app.post("/")
    def flask_hook() -> Any:
        raise LookupError("data")

    with pytest.raises(LookupError):
        hookcatcher.replay(app, "messages.upsert")


def test_replay_called_inside_an_event_loop() -> None:
    async def from_async_code() -> tuple[Report, Report]:
        seen: list[Any] = []
        inside = hookcatcher.replay(starlette_app(seen), "messages.upsert", path="/webhook")
        awaited = await hookcatcher.areplay(starlette_app(seen), "messages.upsert", path="/webhook")
        return inside, awaited

    inside, awaited = asyncio.run(from_async_code())
    assert inside.ok and awaited.ok


def test_a_source_that_is_not_there_is_a_clear_error() -> None:
    with pytest.raises(hookcatcher.SourceError) as caught:
        hookcatcher.replay("http://127.0.0.1:9/", "no/such/thing.json")
    assert str(caught.value).startswith(
        "no/such/thing.json: no such file or folder, and no bundled fixture for"
    )
    with pytest.raises(TypeError, match="cannot replay into a int"):
        hookcatcher.replay(42, "messages.upsert")


def run_deliver(url: str, names: list[str], **options: Any) -> tuple[Report, list[Any]]:
    done: list[Any] = []

    async def go() -> Report:
        async with make_client(concurrency=options.get("concurrency", 1)) as client:
            return await deliver(
                [item_of(pick(name)) for name in names],
                to_url(url),
                client,
                on_done=done.append,
                **options,
            )

    return asyncio.run(go()), done


NAMES = [
    "evolution/v2/messages.upsert.text",
    "evolution/v2/messages.update.read",
    "whapi/messages.post.text",
    "codechat/v2/messages.upsert.text",
]


def test_in_order_over_the_network_and_repeated() -> None:
    with serving(Recorder()) as app:
        report, done = run_deliver(app.url + "/in", NAMES, repeat=3)
    assert report.ok and len(report.sent) == 12
    assert [arrival.body for arrival in app.arrivals] == [pick(name).raw() for name in NAMES] * 3
    assert [sent.item.label for sent in done] == NAMES * 3


@pytest.mark.slow
def test_concurrency_keeps_every_request_and_the_rate_paces_them() -> None:
    with serving(Recorder()) as app:
        report, _ = run_deliver(app.url + "/in", NAMES, repeat=5, concurrency=4)
        assert report.ok and len(app.arrivals) == 20
        assert sorted(arrival.body for arrival in app.arrivals) == sorted(
            pick(name).raw() for name in NAMES * 5
        )
        started = time.perf_counter()
        report, _ = run_deliver(app.url + "/in", NAMES, repeat=2, rate=40)
        took = time.perf_counter() - started
    # 8 requests at 40/s: the last starts 7/40 s after the first.
    assert report.ok and took >= 7 / 40


def test_the_first_refusal_stops_the_run() -> None:
    url = f"http://127.0.0.1:{unused_port()}/webhook"
    report, done = run_deliver(url, NAMES, repeat=10)
    assert len(report.sent) == 1 and len(done) == 1
    assert report.stopped == f"connection refused to {url}: is your app running?"
    assert report.counts()["unreachable"] == 1 and not report.ok


@pytest.mark.slow
def test_a_slow_app_is_a_timeout_not_a_hang() -> None:
    release = threading.Event()
    app = flask.Flask("slow")

    @app.post("/")
    def hook() -> Any:
        release.wait(5)
        return {}

    try:
        report = hookcatcher.replay(app, "messages.upsert", timeout=0.2)
    finally:
        release.set()
    assert report.sent[0].attempt.error == "no answer from http://testserver/ within 0.2 s"
