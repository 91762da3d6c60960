"""Fixtures for the inspector's tests; the Pilot helpers are in tests/helpers/inspector.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ports

from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.tui import InspectorApp


@pytest.fixture
def app_for(tmp_path: Path) -> Callable[..., InspectorApp]:
    def make(server: BackgroundServer, **options: Any) -> InspectorApp:
        options.setdefault("save_dir", tmp_path / "saved")
        options.setdefault("config_dir", tmp_path / "config")
        return InspectorApp(server.url, **options)

    return make


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """List times are local; tests read them in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on: bound, then released."""
    return ports.unused_port()
