"""The ring buffer: bounded by count and by bytes, oldest out first, counts that add up."""

from __future__ import annotations

import pytest

from hookcatcher.check.validation import Validator
from hookcatcher.core.capture import Capture
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.store import Store

VALIDATOR = Validator()


def capture(size: int = 10):
    return build_capture(VALIDATOR, "POST", "/", "", [], "127.0.0.1:1", b"x" * size)


def test_evicts_oldest_by_count() -> None:
    store = Store(max_events=3)
    for _ in range(5):
        store.add(capture())
    assert [c.id for c in store] == [3, 4, 5]
    stats = store.stats()
    assert (stats["received"], stats["stored"], stats["evicted"]) == (5, 3, 2)
    assert store.evicted_through == 2


def test_evicts_oldest_by_bytes() -> None:
    store = Store(max_bytes=250)
    for _ in range(4):
        store.add(capture(100))
    assert [c.id for c in store] == [3, 4]
    assert store.stored_bytes == 200
    assert store.stats()["evicted"] == 2


def test_newest_is_kept_even_when_larger_than_the_limit() -> None:
    store = Store(max_bytes=50)
    store.add(capture(10))
    store.add(capture(500))
    assert [c.id for c in store] == [2]


def test_lookup_by_id_and_after() -> None:
    store = Store(max_events=3)
    for _ in range(5):
        store.add(capture())
    assert store.get(2) is None and store.get(4).id == 4 and store.get(6) is None
    assert [c.id for c in store.after(0)] == [3, 4, 5]
    assert [c.id for c in store.after(3)] == [4, 5]
    assert list(store.after(5)) == []
    assert store.first_after(5) is None


def test_clear_keeps_ids_increasing_and_counts_adding_up() -> None:
    store = Store()
    store.add(capture())
    store.add(capture())
    assert store.clear() == 2
    store.add(capture())
    stats = store.stats()
    assert [c.id for c in store] == [3]
    assert stats["received"] == stats["stored"] + stats["evicted"] + stats["cleared"]


def test_listeners_hear_every_capture_until_unsubscribed() -> None:
    store = Store()
    heard: list[int] = []
    stop = store.subscribe(lambda c: heard.append(c.id))
    store.add(capture())
    stop()
    store.add(capture())
    assert heard == [1]


def test_per_event_counts() -> None:
    store = Store()
    store.add(build_capture(VALIDATOR, "POST", "/x/messages-upsert", "", [], "", b"{}"))
    store.add(capture())
    per_event = store.stats()["per_event"]
    assert {
        "provider": "evolution",
        "event": "messages.upsert",
        "received": 1,
        "invalid": 1,
    } in per_event


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Store(max_events=0)


def body(text: str) -> Capture:
    return build_capture(VALIDATOR, "POST", "/", "", [], "127.0.0.1:1", text.encode())


def test_a_repeated_body_is_a_retry_of_its_first_arrival() -> None:
    store = Store()
    first, other, again, third = (
        store.add(body(text)) for text in ('{"a": 1}', '{"a": 2}', '{"a": 1}', '{"a": 1}')
    )
    assert (first.retry_of, other.retry_of, again.retry_of, third.retry_of) == (None, None, 1, 1)
    assert store.add(body('{"a":1}')).retry_of is None  # bytes, not meaning: no mark
    assert store.stats()["retries"] == 2


def test_an_empty_body_repeats_nothing() -> None:
    store = Store()
    assert [store.add(body("")).retry_of for _ in range(3)] == [None, None, None]
    assert store.stats()["retries"] == 0


def test_a_hash_collision_is_no_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    from hookcatcher.receive import store as store_module

    monkeypatch.setattr(store_module, "hash", lambda value: 7, raising=False)  # every body
    store = Store()
    store.add(body('{"a": 1}'))
    assert store.add(body('{"b": 2}')).retry_of is None  # same hash, other bytes
    assert store.add(body('{"a": 1}')).retry_of == 1
    assert store.stats()["retries"] == 1


def test_retries_are_told_while_any_capture_with_those_bytes_is_stored() -> None:
    store = Store(max_events=2)
    store.add(body('{"a": 1}'))
    store.add(body('{"a": 1}'))  # 2, retry of 1
    store.add(body('{"a": 1}'))  # 3: 1 is evicted, but its bytes are still stored (2)
    assert [(c.id, c.retry_of) for c in store] == [(2, 1), (3, 1)]
    store.add(body('{"b": 1}'))
    store.add(body('{"c": 1}'))  # every '{"a": 1}' is gone now, and so is its entry
    assert len(store._bodies) == 2  # bounded by what is stored
    assert store.add(body('{"a": 1}')).retry_of is None


def test_clear_forgets_the_bodies_too() -> None:
    store = Store()
    store.add(body('{"a": 1}'))
    store.clear()
    assert store.add(body('{"a": 1}')).retry_of is None
    assert store._bodies and len(store._bodies) == 1
