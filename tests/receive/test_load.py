"""100 senders at once posting 20,000 captures to a real server whose ring holds 5,000:
every capture is acknowledged, ids are unique and increase in each sender's order, every
acknowledged capture is either stored exactly once (with its bytes) or accounted for as
evicted, and the counts add up. The longer run is `python bench/load.py`."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from helpers.rawhttp import address_of
from helpers.senders import audit, send_concurrently

from hookcatcher.receive.runner import BackgroundServer

SENDERS = 100
CAPTURES = 20_000
RING = 5_000


@pytest.mark.slow
def test_concurrent_senders_lose_nothing(
    make_server: Callable[..., BackgroundServer], record_property
) -> None:
    server = make_server(max_events=RING)
    started = time.monotonic()
    logs = send_concurrently(address_of(server.url), SENDERS, CAPTURES)
    record_property("load_seconds", round(time.monotonic() - started, 2))

    result = audit(logs, server.url)
    assert result.statuses == {200: CAPTURES} and result.acknowledged == CAPTURES
    assert result.ids_unique and result.ids_in_send_order
    stats = result.stats
    assert (stats["received"], stats["stored"], stats["evicted"], stats["cleared"]) == (
        CAPTURES,
        RING,
        CAPTURES - RING,
        0,
    )
    assert stats["received"] == stats["stored"] + stats["evicted"] + stats["cleared"]
    assert stats["retries"] == 0  # no capture was stored twice
    # The ring holds the newest 5,000, each once, each with the bytes its sender sent.
    assert result.stored_ids == list(range(CAPTURES - RING + 1, CAPTURES + 1))
    assert result.wrong_bytes == [] and result.lost == 0
