"""The inspector over a server that forwards (`--forward-to`) to a real app: the list's app
column and the Forwards tab, for a delivery the app answered and for one it could not take."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from helpers.bundled import fixture
from helpers.inspector import opened, plain, run, shown, until
from helpers.recorder import Recorder, serving

from hookcatcher.core.capture import Forward
from hookcatcher.core.forwarding import parse_rule
from hookcatcher.receive.app import create_app
from hookcatcher.receive.forwarder import Forwarder
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.tui.capture_list import COLUMNS
from hookcatcher.tui.detail import forwards_text


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with serving(Recorder()) as app:
        yield app


def forwarding_to(url: str) -> BackgroundServer:
    forwarder = Forwarder([parse_rule(url)], timeout=5.0)
    return BackgroundServer(create_app(forwarder=forwarder), quiet=True)


async def posted(server: BackgroundServer, name: str = "evolution/v2/messages.upsert.text") -> int:
    """POST a bundled fixture; returns the gateway's status (the app's, when forwarded)."""
    document = fixture(name)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answer = await http.post(
            "/webhook",
            content=json.dumps(document["body"]).encode(),
            headers=[tuple(h) for h in document["headers"]],
        )
    return answer.status_code


def header_of(app: object) -> str:
    from hookcatcher.tui import InspectorApp

    assert isinstance(app, InspectorApp)
    return app.capture_list._line(None, app.capture_list.size.width)


def test_delivery_the_app_answered_shows_its_status_and_answer(recorder, app_for) -> None:
    async def scenario() -> None:
        with forwarding_to(f"{recorder.url}/bot") as server:
            app = app_for(server)
            async with opened(app) as pilot:
                assert app.capture_list.columns is COLUMNS  # nothing forwarded yet
                assert " app " not in header_of(app)
                assert await posted(server) == 200
                await until(pilot, lambda: app.capture_list.rows, "the row")
                await pilot.press("6")
                await until(pilot, lambda: app.capture_list.rows[0].app == 200, "the app's status")
                assert " app " in header_of(app)
                line = app.capture_list.plain_lines()[0]
                assert "messages.upsert" in line and " 200 " in line
                await until(pilot, lambda: "200" in shown(app, "#forwards-text"), "the tab")
                text = shown(app, "#forwards-text")
                assert f"{recorder.url}/bot/webhook" in text or f"{recorder.url}/bot" in text
                assert '"path": "/bot' in text  # the app's JSON answer, pretty-printed
                assert "content-type" in text.lower()
                assert app.detail.active == "forwards"
                # A capture that comes later is refreshed on selection: the server forwards.
                assert await posted(server) == 200
                await until(pilot, lambda: len(app.capture_list.rows) == 2, "the second row")
                await until(pilot, lambda: app.capture_list.rows[1].app == 200, "its status")

    run(scenario)


def test_an_app_that_is_down_is_a_cross_and_the_reason(app_for, unused_port) -> None:
    async def scenario() -> None:
        with forwarding_to(f"http://127.0.0.1:{unused_port}/hook") as server:
            app = app_for(server)
            async with opened(app) as pilot:
                assert await posted(server) == 502
                await until(pilot, lambda: app.capture_list.rows, "the row")
                await pilot.press("6")
                await until(pilot, lambda: app.capture_list.rows[0].app == "✗", "the cross")
                line = app.capture_list.plain_lines()[0]
                assert " ✗ " in line
                await until(pilot, lambda: "refused" in shown(app, "#forwards-text"), "the reason")
                assert f"127.0.0.1:{unused_port}/hook" in shown(app, "#forwards-text")

    run(scenario)


def test_forwards_tab_text_is_never_markup_and_says_why_not_forwarded() -> None:
    kept = Forward(
        target="",
        url="",
        at="2026-11-21T10:00:00.000000Z",
        status=None,
        elapsed_ms=0.0,
        error="not forwarded: answered 503 by an answer rule ([bold]x[/])",
    )
    answered = Forward(
        target="http://app/[red]",
        url="http://app/[red]/webhook",
        at="2026-11-21T10:00:00.100000Z",
        status=500,
        elapsed_ms=1.5,
        response_headers=(("x-[b]", "[/]\x1b[2J"),),
        response_body="not json [@click=app.quit]",
        response_size=26,
    )
    text = plain(forwards_text([kept, answered]))
    assert "not forwarded: answered 503 by an answer rule ([bold]x[/])" in text
    assert "http://app/[red]/webhook  500" in text
    assert "x-[b]" in text and "[/]␛[2J" in text and "[@click=app.quit]" in text
    assert "Not forwarded" in plain(forwards_text([]))
