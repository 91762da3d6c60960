"""The blocking client of hookcatcher's API (`SyncRemote`) against real servers: every
stored capture with its exact bytes, paged and as stored when reading began; the configured
instances; and each failure said as the commands print it. The asynchronous client's own
tests are in tests/tui/test_connection.py (the inspector is its user)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from helpers.bundled import body_of
from helpers.ports import unused_port
from helpers.recorder import Recorder, serving

from hookcatcher.check.validation import Validator
from hookcatcher.receive.access import Access
from hookcatcher.receive.app import create_app
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store
from hookcatcher.remote import FilterProblem, Remote, RemoteError, SyncRemote
from hookcatcher.remote import sync as sync_module

TOKEN = "s3cret-token"


@pytest.fixture
def guarded(validator: Validator) -> Iterator[BackgroundServer]:
    """A server started with --token."""
    server = BackgroundServer(
        create_app(Store(), validator, access=Access(TOKEN, None)), pace_collector=False
    ).start()
    yield server
    server.stop(timeout=0)


def post(client: httpx.Client, name: str, path: str = "/hooks") -> bytes:
    raw = body_of(name)
    assert client.post(path, content=raw).status_code == 200
    return raw


def test_captures_are_every_match_oldest_first_with_their_bytes(
    server: BackgroundServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "PAGE", 2)  # three pages for five captures
    names = ["evolution/v2/messages.upsert.text", "whapi/messages.post.text"] * 2
    names.append("evolution/v2/messages.update.read")
    sent = [post(client, name) for name in names]
    with SyncRemote(server.url + "/") as remote:
        everything = remote.captures()
        evolution = remote.captures("provider:evolution")
    assert [capture.id for capture in everything] == [1, 2, 3, 4, 5]
    assert [capture.raw for capture in everything] == sent
    assert [capture.id for capture in evolution] == [1, 3, 5]


def test_captures_are_what_was_stored_when_reading_began(
    server: BackgroundServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replaying into the same server must not chase its own arrivals."""
    monkeypatch.setattr(sync_module, "PAGE", 1)
    for _ in range(3):
        post(client, "evolution/v2/messages.upsert.text")
    read_page = SyncRemote._page

    def arriving_meanwhile(remote: SyncRemote, query: str, after: int) -> dict[str, Any]:
        page = read_page(remote, query, after)
        post(client, "evolution/v2/messages.upsert.text")
        return page

    monkeypatch.setattr(SyncRemote, "_page", arriving_meanwhile)
    with SyncRemote(server.url) as remote:
        assert [capture.id for capture in remote.captures()] == [1, 2, 3]


def test_instances_are_the_ones_configured_through_the_mock(
    server: BackgroundServer, client: httpx.Client
) -> None:
    configured = client.post(
        "/_gateway/evolution/webhook/set/sales",
        json={"webhook": {"enabled": True, "url": "http://127.0.0.1:3000/hook"}},
        headers={"apikey": "B1C2-EXAMPLE"},
    )
    assert configured.status_code in (200, 201), configured.text
    with SyncRemote(server.url) as remote:
        (instance,) = remote.instances()
    assert instance.name == "sales"


def test_health_and_stats(server: BackgroundServer, client: httpx.Client) -> None:
    post(client, "whapi/messages.post.text")
    with SyncRemote(server.url) as remote:
        assert remote.health()["status"] == "ok"
        assert remote.stats()["stored"] == 1


def test_nothing_listening_is_said_per_reading() -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    with SyncRemote(url) as remote:
        with pytest.raises(RemoteError) as captures:
            remote.captures()
        with pytest.raises(RemoteError) as instances:
            remote.instances()
        with pytest.raises(RemoteError) as stats:
            remote.stats()
    assert str(captures.value) == (
        f"cannot read captures from {url}: connection refused: is hookcatcher running there?"
    )
    assert str(instances.value) == (
        f"cannot read the configured instances from {url}: connection refused: is "
        "hookcatcher running there? (--server URL)"
    )
    assert str(stats.value) == (
        f"cannot reach the server at {url}: connection refused (is the server running?)"
    )


def test_a_server_that_is_not_hookcatcher() -> None:
    with serving(Recorder()) as app, SyncRemote(app.url) as remote:
        with pytest.raises(RemoteError) as captures:
            remote.captures()
        with pytest.raises(RemoteError) as instances:
            remote.instances()
    assert str(captures.value) == (
        f"{app.url} did not list captures: HTTP 200 (is this a hookcatcher server?)"
    )
    assert str(instances.value) == f"{app.url} did not list instances: is it a hookcatcher server?"


def test_a_bad_filter_names_its_term(server: BackgroundServer) -> None:
    with SyncRemote(server.url) as remote, pytest.raises(FilterProblem) as problem:
        remote.captures("provider:whapi valid:perhaps")
    assert problem.value.term == "valid:perhaps"
    assert str(problem.value).startswith(
        f"{server.url} did not list captures: bad filter term 'valid:perhaps'"
    )


@pytest.mark.parametrize(
    ("token", "said"),
    [
        (None, "needs the token it was started with: give --token T"),
        ("nope", "refused the token given"),
    ],
)
@pytest.mark.parametrize("reading", [SyncRemote.captures, SyncRemote.instances, SyncRemote.stats])
def test_a_refused_token_says_which_flag(
    guarded: BackgroundServer,
    token: str | None,
    said: str,
    reading: Callable[[SyncRemote], object],
) -> None:
    with SyncRemote(guarded.url, token=token) as remote, pytest.raises(RemoteError) as refused:
        reading(remote)
    assert str(refused.value).startswith(guarded.url) and said in str(refused.value)


def test_the_token_is_sent(guarded: BackgroundServer) -> None:
    httpx.post(f"{guarded.url}/webhook", content=body_of("evolution/v2/messages.upsert.text"))
    with SyncRemote(guarded.url, token=TOKEN) as remote:
        assert [capture.id for capture in remote.captures()] == [1]
        assert remote.instances() == []


def test_both_clients_close_their_connections(server: BackgroundServer) -> None:
    with SyncRemote(server.url) as blocking:
        blocking.health()
    assert blocking.http.is_closed

    async def scenario() -> Remote:
        async with Remote(server.url) as remote:
            await remote.health()
        return remote

    assert asyncio.run(scenario()).http.is_closed
