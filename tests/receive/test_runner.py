"""Running the app: the collector pacing that keeps a busy server from pausing, and serving
on a socket bound beforehand."""

from __future__ import annotations

import gc
import socket
import weakref
from collections.abc import Iterator

import httpx
import pytest

from hookcatcher.check.validation import Validator
from hookcatcher.receive import runner
from hookcatcher.receive.app import create_app
from hookcatcher.receive.runner import (
    FREEZE_EVERY,
    THAW_EVERY,
    BackgroundServer,
    CollectorPacer,
    PortError,
    bind,
)
from hookcatcher.receive.store import Store


@pytest.fixture
def thawed() -> Iterator[None]:
    """Start from nothing frozen, and leave nothing frozen for the tests that follow."""
    gc.unfreeze()
    yield
    gc.unfreeze()


class Cycle:
    def __init__(self) -> None:
        self.me = self


class RecordingGC:
    """Stands in for the gc module: records what the pacer asks of it, touches nothing."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")

    def collect(self) -> int:
        self.calls.append("collect")
        return 0


def test_every_freeze_every_captures_what_is_alive_is_frozen(thawed: None) -> None:
    pacer = CollectorPacer()
    alive = [[index] for index in range(1_000)]  # tracked objects for the freeze to take
    before = gc.get_freeze_count()
    for _ in range(FREEZE_EVERY - 1):
        pacer(None)
    assert gc.get_freeze_count() == before and pacer.freezes == 0
    pacer(None)
    assert pacer.freezes == 1 and pacer.captures == FREEZE_EVERY
    assert gc.get_freeze_count() >= before + len(alive)


def test_every_thaw_every_freezes_all_is_collected_once(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = RecordingGC()
    monkeypatch.setattr(runner, "gc", recorded)
    pacer = CollectorPacer()
    for _ in range(FREEZE_EVERY * THAW_EVERY):
        pacer(None)
    one_round = ["freeze"] * (THAW_EVERY - 1) + ["unfreeze", "collect", "freeze"]
    assert recorded.calls == one_round
    for _ in range(FREEZE_EVERY * THAW_EVERY):
        pacer(None)
    assert recorded.calls == one_round * 2
    assert pacer.freezes == 2 * THAW_EVERY


def test_cyclic_garbage_frozen_while_alive_is_reclaimed_at_the_thaw(
    monkeypatch: pytest.MonkeyPatch, thawed: None
) -> None:
    monkeypatch.setattr(runner, "FREEZE_EVERY", 1)
    monkeypatch.setattr(runner, "THAW_EVERY", 2)
    pacer = CollectorPacer()
    cycle = Cycle()
    gone = weakref.ref(cycle)
    pacer(None)  # first freeze: the cycle is alive, so it is frozen
    assert gc.get_freeze_count() > 0
    del cycle
    gc.collect()
    assert gone() is not None  # frozen garbage: out of the collector's sight
    full_collections = gc.get_stats()[2]["collections"]
    pacer(None)  # the second freeze thaws and collects first
    assert gone() is None
    assert gc.get_stats()[2]["collections"] > full_collections
    assert gc.get_freeze_count() > 0  # and freezes again what is still alive


def test_background_server_serves_on_a_socket_bound_beforehand(validator: Validator) -> None:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    store = Store()
    server = BackgroundServer(create_app(store, validator), sock=sock)
    assert server.sock is sock and server.url == f"http://127.0.0.1:{port}"
    with server, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
        health = http.get("/_hookcatcher/health").json()
        assert health["status"] == "ok" and health["run"] == store.run
        assert http.post("/webhook", content=b"{}").json() == {"ok": True, "id": 1}
    assert len(store) == 1
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/_hookcatcher/health", timeout=2)


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortError) as error:
            bind("127.0.0.1", port)
    assert str(error.value) == (
        f"port {port} on 127.0.0.1 is already in use: "
        "choose another with --port (or --port 0 for any free one)"
    )
