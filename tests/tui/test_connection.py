"""The inspector's client (hookcatcher.remote.Remote) against a real server: listings, whole
captures, clear errors, and the stream that resumes after an outage with nothing missed, or
stops when the server turned out to be another run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from helpers.bundled import fixture
from helpers.inspector import post, run

from hookcatcher.check.validation import Validator
from hookcatcher.core.summary import summary
from hookcatcher.receive.app import create_app
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store
from hookcatcher.remote import (
    Arrived,
    FilterProblem,
    Notice,
    Remote,
    RemoteError,
    Restarted,
    StateChanged,
    StreamEvent,
)
from hookcatcher.remote.stream import _sse

WAIT = 5.0  # seconds for any one thing to happen


class Collector:
    """The `emit` callback: keeps every event and wakes whoever waits for one."""

    def __init__(self) -> None:
        self.events: list[StreamEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: StreamEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, condition: Callable[[list[StreamEvent]], bool], what: str) -> None:
        async def wait() -> None:
            while not condition(self.events):
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), WAIT)
        except TimeoutError:
            raise AssertionError(f"waited {WAIT} s for {what}; got {self.events}") from None

    def arrived(self) -> list[int]:
        return [event.row["id"] for event in self.events if isinstance(event, Arrived)]

    def states(self) -> list[str]:
        return [event.state for event in self.events if isinstance(event, StateChanged)]


def store_capture(store: Store, validator: Validator, name: str) -> int:
    """A capture added straight to the store, as if received while no client was attached."""
    document = fixture(name)
    return store.add(
        build_capture(
            validator,
            "POST",
            "/webhook",
            "",
            [tuple(h) for h in document["headers"]],
            "127.0.0.1:1",
            json.dumps(document["body"]).encode(),
        )
    ).id


def port_of(server: BackgroundServer) -> int:
    return server.sock.getsockname()[1]


# -- requests


def test_listing_gives_rows_last_id_and_run(server: BackgroundServer) -> None:
    async def scenario() -> None:
        connection = Remote(server.url + "/")
        try:
            empty = await connection.listing("")
            assert (empty.rows, empty.last_id, empty.run) == ([], 0, server.app.store.run)
            await post(server, "evolution/v2/messages.upsert.text")
            await post(server, "whapi/messages.post.text")
            await post(
                server,
                "evolution/v2/messages.upsert.text",
                change=lambda body: body["data"]["key"].update(fromMe="no"),
            )
            listing = await connection.listing("")
            assert listing.last_id == 3 and listing.run == server.app.store.run
            assert listing.rows == [summary(capture) for capture in server.app.store]
            invalid = await connection.listing("valid:no")
            assert [row["id"] for row in invalid.rows] == [3] and invalid.last_id == 3
            whapi = await connection.listing("provider:whapi")
            assert [(row["id"], row["event"]) for row in whapi.rows] == [(2, "messages/post")]
        finally:
            await connection.close()

    run(scenario)


def test_a_bad_filter_raises_filter_problem_naming_the_term(server: BackgroundServer) -> None:
    async def scenario() -> None:
        connection = Remote(server.url)
        try:
            with pytest.raises(FilterProblem) as problem:
                await connection.listing("provider:whapi valid:perhaps")
            assert problem.value.term == "valid:perhaps"
            assert "bad filter term 'valid:perhaps'" in str(problem.value)
        finally:
            await connection.close()

    run(scenario)


def test_nothing_listening_is_a_server_error_saying_so(unused_port: int) -> None:
    async def scenario() -> None:
        connection = Remote(f"http://127.0.0.1:{unused_port}")
        try:
            with pytest.raises(RemoteError) as error:
                await connection.listing("")
            assert not isinstance(error.value, FilterProblem)
            assert str(error.value) == (
                f"cannot reach the server at http://127.0.0.1:{unused_port}: "
                "connection refused (is the server running?)"
            )
        finally:
            await connection.close()

    run(scenario)


def test_capture_returns_the_whole_capture_with_its_raw_bytes(server: BackgroundServer) -> None:
    spaced = b'{ "event" :  "messages.upsert",\n  "data": {"n": 1.50} }\n'
    binary = b"\xff\x00\x89PNG not json"

    async def scenario() -> None:
        connection = Remote(server.url)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
                first = (await http.post("/hook?x=1", content=spaced)).json()["id"]
                second = (await http.put("/other", content=binary)).json()["id"]
            capture = await connection.capture(first)
            assert capture.raw == spaced  # byte for byte, not re-encoded from the body
            assert capture.body == {"event": "messages.upsert", "data": {"n": 1.5}}
            assert (capture.id, capture.method, capture.path, capture.query) == (
                first,
                "POST",
                "/hook",
                "x=1",
            )
            assert capture.received_at == server.app.store.get(first).received_at
            raw = await connection.capture(second)
            assert raw.raw == binary and raw.validation.status == "not-json"
            assert raw.method == "PUT"
            with pytest.raises(RemoteError, match=r"^no capture 99 in this server run$"):
                await connection.capture(99)
        finally:
            await connection.close()

    run(scenario)


# -- the stream


def test_follow_streams_new_rows_in_order_after_last_id(server: BackgroundServer) -> None:
    async def scenario() -> None:
        connection = Remote(server.url)
        collector = Collector()
        task: asyncio.Task[None] | None = None
        try:
            await post(server, "evolution/v2/messages.upsert.text")  # before: not streamed
            listing = await connection.listing("")
            task = asyncio.create_task(
                connection.follow("", listing.last_id, listing.run, collector)
            )
            await collector.until(lambda events: events != [], "the first event")
            assert collector.events[0] == StateChanged("connected", server.url)
            sent = [
                await post(server, name)
                for name in (
                    "whapi/messages.post.text",
                    "evolution/v2/messages.upsert.text",
                    "codechat/v2/messages.upsert.text",
                )
            ]
            await collector.until(lambda _: len(collector.arrived()) == 3, "three rows")
            assert collector.arrived() == sent == [2, 3, 4]
            rows = [event.row for event in collector.events if isinstance(event, Arrived)]
            assert rows == [summary(server.app.store.get(capture_id)) for capture_id in sent]
            assert rows[0]["provider"] == "whapi"
        finally:
            if task is not None:
                task.cancel()
            await connection.close()

    run(scenario)


def test_follow_with_a_filter_streams_only_what_it_lets_through(server: BackgroundServer) -> None:
    async def scenario() -> None:
        connection = Remote(server.url)
        collector = Collector()
        task = asyncio.create_task(
            connection.follow("valid:no", 0, server.app.store.run, collector)
        )
        try:
            await collector.until(lambda _: "connected" in collector.states(), "connected")
            await post(server, "evolution/v2/messages.upsert.text")
            bad = await post(
                server,
                "evolution/v2/messages.upsert.text",
                change=lambda body: body["data"]["key"].update(fromMe="no"),
            )
            await post(server, "whapi/messages.post.text")
            last = await post(
                server, "whapi/messages.post.text", change=lambda body: body.pop("messages")
            )
            await collector.until(lambda _: last in collector.arrived(), "the last invalid one")
            assert collector.arrived() == [bad, last]
        finally:
            task.cancel()
            await connection.close()

    run(scenario)


def test_follow_resumes_after_an_outage_with_nothing_missed(validator: Validator) -> None:
    store = Store()
    first = BackgroundServer(create_app(store, validator)).start()
    port = port_of(first)
    servers = [first]

    async def scenario() -> None:
        connection = Remote(first.url)
        collector = Collector()
        task = asyncio.create_task(connection.follow("", 0, store.run, collector))
        try:
            await collector.until(lambda _: "connected" in collector.states(), "connected")
            await post(first, "evolution/v2/messages.upsert.text")
            await post(first, "whapi/messages.post.text")
            await collector.until(lambda _: collector.arrived() == [1, 2], "rows 1 and 2")
            await asyncio.to_thread(first.stop)
            await collector.until(
                lambda _: collector.states()[-1] == "reconnecting", "reconnecting"
            )
            # Received while the client had no connection: it must still get them.
            missed = [
                store_capture(store, validator, "evolution/v2/messages.upsert.text"),
                store_capture(store, validator, "codechat/v2/messages.upsert.text"),
            ]
            second = await asyncio.to_thread(
                lambda: BackgroundServer(create_app(store, validator), port=port).start()
            )
            servers.append(second)
            await collector.until(lambda _: collector.arrived()[-1:] == [4], "the missed rows")
            assert missed == [3, 4]
            assert collector.states()[-1] == "connected"
            await post(second, "whapi/messages.post.text")
            await collector.until(lambda _: collector.arrived()[-1:] == [5], "row 5")
            assert collector.arrived() == [1, 2, 3, 4, 5]  # in order, no gap, no repeat
            assert not any(isinstance(event, (Restarted, Notice)) for event in collector.events)
            assert not task.done()
        finally:
            task.cancel()
            await connection.close()

    try:
        run(scenario)
    finally:
        for server in servers:
            server.stop()


def test_follow_reports_a_new_run_and_returns(validator: Validator) -> None:
    first = BackgroundServer(create_app(Store(), validator)).start()
    port = port_of(first)
    servers = [first]

    async def scenario() -> None:
        connection = Remote(first.url)
        collector = Collector()
        task = asyncio.create_task(connection.follow("", 0, first.app.store.run, collector))
        try:
            await collector.until(lambda _: "connected" in collector.states(), "connected")
            await post(first, "evolution/v2/messages.upsert.text")
            await collector.until(lambda _: collector.arrived() == [1], "row 1")
            await asyncio.to_thread(first.stop)
            fresh = Store()
            second = await asyncio.to_thread(
                lambda: BackgroundServer(create_app(fresh, validator), port=port).start()
            )
            servers.append(second)
            await asyncio.wait_for(task, WAIT)  # follow returns by itself
            assert collector.events[-1] == Restarted(fresh.run)
            assert fresh.run != first.app.store.run
            assert collector.arrived() == [1]
        finally:
            task.cancel()
            await connection.close()

    try:
        run(scenario)
    finally:
        for server in servers:
            server.stop()


# -- the SSE parser


async def parsed(text: str) -> list[tuple[str, str, str]]:
    async def lines() -> AsyncIterator[str]:
        for line in text.split("\n"):
            yield line

    return [message async for message in _sse(lines())]


def sse(text: str) -> list[tuple[str, str, str]]:
    return asyncio.run(parsed(text))


def test_sse_fields_of_one_message() -> None:
    assert sse('event: capture\nid: 7\ndata: {"id":7}\n\n') == [("capture", "7", '{"id":7}')]


def test_sse_data_lines_are_joined_with_newlines() -> None:
    assert sse("data: first\ndata:second\ndata:  third\ndata\n\n") == [
        ("message", "", "first\nsecond\n third\n")
    ]


def test_sse_comments_and_pings_are_skipped() -> None:
    text = ": ping - 2026-11-21 10:00:00\n\nevent: notice\n: a comment inside\ndata: x\n\n"
    assert sse(text) == [("notice", "", "x")]


def test_sse_fields_do_not_leak_into_the_next_message() -> None:
    text = "event: lost\nid: 3\ndata: a\n\ndata: b\n\nevent: capture\nid: 9\n\ndata: c\n\n"
    assert sse(text) == [("lost", "3", "a"), ("message", "", "b"), ("message", "", "c")]


def test_sse_an_unfinished_message_is_not_delivered() -> None:
    assert sse("data: whole\n\ndata: cut off") == [("message", "", "whole")]


def test_sse_unknown_fields_are_ignored() -> None:
    assert sse("retry: 1000\nfoo: bar\ndata: x\n\n") == [("message", "", "x")]
