"""The receiver inside a test suite: a Catcher on a free port, read in-process with the filter
language, and `wait_for` that neither misses an early capture nor polls for a late one."""

from __future__ import annotations

import gc
import re
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from helpers.bundled import body_of

import hookcatcher
from hookcatcher.core.filters import FilterError
from hookcatcher.testing.catcher import SHOWN, Catcher, WaitTimeout, shared_validator

TIMEOUT = 10.0


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    running = Catcher().start()
    yield running
    running.stop(timeout=0)


def post(
    catcher: Catcher, name: str | None = None, path: str = "/webhook", content: bytes | None = None
) -> httpx.Response:
    """Send a bundled fixture's body (or `content`) the way a gateway would."""
    body = body_of(name) if name is not None else content
    return httpx.post(
        catcher.url + path,
        content=body,
        timeout=TIMEOUT,
        headers={"content-type": "application/json"},
    )


def test_serves_on_a_free_loopback_port_until_stopped() -> None:
    first, second = Catcher(), Catcher()
    with pytest.raises(RuntimeError, match="not started"):
        _ = first.url
    with first, second:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", first.url)
        assert first.url != second.url
        assert first.webhook_url() == first.url + "/webhook"
        assert first.webhook_url("hooks/wa") == first.url + "/hooks/wa"
        assert post(first, "evolution/v2/messages.upsert.text").json() == {"ok": True, "id": 1}
        assert repr(first) == f"<Catcher {first.url}, 1 captures>"
    with pytest.raises(httpx.ConnectError):
        httpx.get(first.url + "/_hookcatcher/health", timeout=TIMEOUT)
    with pytest.raises(RuntimeError, match="already been started"):
        first.start()


def test_events_are_the_captures_a_query_matches_oldest_first(catcher: Catcher) -> None:
    post(catcher, "evolution/v2/messages.upsert.text")
    post(catcher, "whapi/messages.post.text", path="/hooks")
    post(catcher, "evolution/v2/messages.update.read", path="/webhook/messages-update")
    assert [capture.id for capture in catcher.events()] == [1, 2, 3]
    assert [capture.event for capture in catcher.events("provider:evolution")] == [
        "messages.upsert",
        "messages.update",
    ]
    assert [capture.id for capture in catcher.events("mode:by-events")] == [3]
    assert [capture.path for capture in catcher.events("-path:/webhook*")] == ["/hooks"]
    assert catcher.events("event:call") == []


def test_a_query_that_cannot_be_understood_names_its_term(catcher: Catcher) -> None:
    with pytest.raises(FilterError) as raised:
        catcher.events("event:messages.* valid:maybe")
    assert raised.value.term == "valid:maybe"
    started = time.monotonic()
    with pytest.raises(FilterError, match="the quote is not closed"):
        catcher.wait_for('"order', timeout=5)
    assert time.monotonic() - started < 1  # refused before any waiting


def test_wait_for_returns_a_capture_that_arrived_before_the_call(catcher: Catcher) -> None:
    post(catcher, "evolution/v2/messages.upsert.text")
    post(catcher, "evolution/v2/messages.update.read")
    started = time.monotonic()
    found = catcher.wait_for("event:messages.update", timeout=5)
    assert (found.id, found.event, found.instance) == (2, "messages.update", "sales")
    assert found.validation.status == "valid"
    assert time.monotonic() - started < 1


def test_wait_for_returns_a_capture_that_arrives_while_it_waits(
    catcher: Catcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender starts only once wait_for has looked at the store and found nothing."""
    scans: list[int] = []
    snapshot = catcher._snapshot
    senders: list[threading.Thread] = []

    def watched() -> Any:
        found = snapshot()
        scans.append(len(found))
        if len(scans) == 1:
            senders.append(
                threading.Thread(target=post, args=(catcher, "evolution/v2/messages.upsert.text"))
            )
            senders[0].start()
        return found

    monkeypatch.setattr(catcher, "_snapshot", watched)
    started = time.monotonic()
    found = catcher.wait_for("event:messages.upsert instance:sales", timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT / 2  # woken by the arrival, not the timeout
    senders[0].join(TIMEOUT)
    assert scans[0] == 0 and found.id == 1
    assert found.body["data"]["key"]["id"] == "3EB0C4F1A2B3C4D5E6F7"


def test_wait_for_a_count_returns_the_last_of_them(catcher: Catcher) -> None:
    for _ in range(2):
        post(catcher, "evolution/v2/messages.upsert.text")
    post(catcher, "evolution/v2/messages.update.read")
    second = catcher.wait_for("event:messages.upsert", count=2, timeout=5)
    assert (second.id, second.retry_of) == (2, 1)
    with pytest.raises(ValueError, match="count must be at least 1, not 0"):
        catcher.wait_for(count=0)


def test_a_timeout_names_the_query_and_lists_what_arrived(catcher: Catcher) -> None:
    post(catcher, "evolution/v2/messages.upsert.text")
    post(
        catcher,
        content=b'{"event": "messages.upsert", "instance": "sales", "data": '
        b'{"key": {"fromMe": "no"}}}',
        path="/webhook/messages-upsert",
    )
    post(catcher, content=b"not json", path="/crm?source=bot")
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as raised:
        catcher.wait_for("event:messages.update", timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 3
    lines = str(raised.value).splitlines()
    assert lines[0] == (
        "no capture matching 'event:messages.update' arrived within 0.3 s; "
        f"3 captures arrived at {catcher.url}:"
    )
    assert lines[1] == "  #1 POST /webhook evolution messages.upsert instance=sales: valid"
    assert lines[2].startswith(
        "  #2 POST /webhook/messages-upsert evolution messages.upsert "
        "instance=sales: invalid ($.data"
    )
    assert lines[2].endswith(" more)")
    assert lines[3].startswith("  #3 POST /crm?source=bot unknown (no event): not-json (")
    assert len(lines) == 4
    assert isinstance(raised.value, TimeoutError)
    assert raised.value.query == "event:messages.update" and raised.value.matched == []
    assert [capture.id for capture in raised.value.arrived] == [1, 2, 3]


@pytest.mark.slow
def test_a_timeout_lists_the_newest_and_counts_the_rest(catcher: Catcher) -> None:
    for _ in range(SHOWN + 3):
        post(catcher, "evolution/v2/messages.upsert.text")
    post(catcher, "whapi/messages.post.text")
    with pytest.raises(WaitTimeout) as raised:
        catcher.wait_for("event:call", count=2, timeout=0.05)
    lines = str(raised.value).splitlines()
    assert lines[0].startswith(
        "2 captures matching 'event:call' were expected within "
        "0.05 s, 0 arrived; 24 captures arrived at "
    )
    assert lines[1] == "  4 captures before these: evolution messages.upsert x4"
    assert lines[2].startswith("  #5 POST /webhook evolution messages.upsert")
    assert lines[-1].startswith("  #24 POST /webhook whapi messages/post instance=")
    assert len(lines) == 2 + SHOWN


def test_a_timeout_says_which_matched_when_too_few_did(catcher: Catcher) -> None:
    post(catcher, "evolution/v2/messages.upsert.text")
    with pytest.raises(
        WaitTimeout,
        match=r"^3 captures matching 'event:messages.upsert' were "
        r"expected within 0.05 s, 1 arrived \(#1\); 1 capture "
        r"arrived at ",
    ):
        catcher.wait_for("event:messages.upsert", count=3, timeout=0.05)


def test_a_timeout_with_nothing_arrived_asks_about_the_url(catcher: Catcher) -> None:
    with pytest.raises(WaitTimeout) as raised:
        catcher.wait_for(timeout=0.05)
    assert str(raised.value) == (
        f"no capture at all arrived within 0.05 s; nothing arrived at "
        f"{catcher.url}: is the sender configured with this URL?"
    )


def test_clear_forgets_what_arrived_and_ids_keep_increasing(catcher: Catcher) -> None:
    post(catcher, "evolution/v2/messages.upsert.text")
    post(catcher, "evolution/v2/messages.update.read")
    assert catcher.clear() == 2
    assert catcher.events() == []
    post(catcher, "evolution/v2/messages.upsert.text")
    assert [capture.id for capture in catcher.events()] == [3]
    assert catcher.wait_for("event:messages.upsert").id == 3


def test_answer_rules_are_given_as_the_flags_are() -> None:
    with Catcher(respond="messages.update=503", fail_first=["messages.upsert=1"]) as catcher:
        assert post(catcher, "evolution/v2/messages.update.read").status_code == 503
        assert post(catcher, "evolution/v2/messages.upsert.text").status_code == 500
        assert post(catcher, "evolution/v2/messages.upsert.text").status_code == 200
        statuses = [capture.answer.status for capture in catcher.events()]
        assert statuses == [503, 500, 200]
    with pytest.raises(ValueError, match="--respond 99: 99 is not an HTTP status"):
        Catcher(respond=[99])


def test_the_gateway_configuration_mock_is_under_the_same_url(catcher: Catcher) -> None:
    base = catcher.gateway_url("evolution")
    assert base == catcher.url + "/_gateway/evolution"
    answer = httpx.post(
        f"{base}/webhook/set/sales",
        timeout=TIMEOUT,
        json={
            "webhook": {
                "enabled": True,
                "url": catcher.webhook_url(),
                "events": ["MESSAGES_UPSERT"],
            }
        },
    )
    assert answer.status_code in (200, 201), answer.text
    assert catcher.events() == []  # configuration is not a capture
    with pytest.raises(
        ValueError, match="no gateway 'evo': hookcatcher mocks evolution, codechat, whapi"
    ):
        catcher.gateway_url("evo")


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_reference_cycles_alive_at_the_start_can_still_be_collected() -> None:
    """The server hides the live heap from the cycle collector; in a suite that starts a
    Catcher per test, the test's own cycles would then never be freed."""
    cycle = Cycle()
    gone = weakref.ref(cycle)
    catcher = Catcher().start()
    del cycle
    gc.collect()
    catcher.stop(timeout=0)
    assert gone() is None


def test_public_names_and_one_validator_per_process() -> None:
    assert hookcatcher.Catcher is Catcher and hookcatcher.WaitTimeout is WaitTimeout
    assert {"Catcher", "WaitTimeout"} <= set(hookcatcher.__all__)
    assert shared_validator() is shared_validator()


def test_a_catcher_between_a_gateway_stand_in_and_the_app_forwards_to_it() -> None:
    from helpers.recorder import Recorder, serving

    with serving(Recorder()) as app:
        app.statuses["/hook"] = 201
        with Catcher(forward_to=f"{app.url}/hook") as catcher:
            answer = httpx.post(catcher.webhook_url(), json={"event": "x"}, timeout=10)
            [capture] = catcher.events()
    assert answer.status_code == 201  # the app's answer, not the Catcher's
    assert [a.path for a in app.arrivals] == ["/hook"]
    assert [f.status for f in capture.forwards] == [201]


def test_a_forward_rule_that_does_not_parse_names_the_argument() -> None:
    with pytest.raises(ValueError, match="forward_to: 'ftp://x' is not URL"):
        Catcher(forward_to=["ftp://x"])
