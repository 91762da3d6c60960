"""Fuzzing a real server with generated methods, paths, queries, headers and bodies, valid
and broken: no answer is a 5xx, the server logs no exception and goes on serving, and every
request answered 2xx is in the store byte for byte, and in the API, the exports and a stream
that is open all along.

Bounded and reproducible: a fixed number of cases, derandomized, no example database; the
cases that once failed run first, as explicit examples. The long run, with random seeds and
the same strategies, is `python bench/fuzz.py --examples 20000`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from helpers.fuzzing import Sent, Target, api_queries, break_request, malformed, requests
from helpers.rawhttp import address_of, exchange, request_bytes
from hypothesis import HealthCheck, example, given, settings

from hookcatcher.receive.runner import BackgroundServer

VALID_CASES = 250
MALFORMED_CASES = 120
API_CASES = 150

# Found by fuzzing: each broke the receiver or the API once.
TOO_MANY_DIGITS = b"1" * 4_301  # past Python's int-from-text limit
LONE_SURROGATE = b'{"a":"\\udc00x"}'  # valid JSON text that no UTF-8 encoder can write


def bounded(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


@pytest.fixture
def target(make_server: Callable[..., BackgroundServer]) -> Iterator[Target]:
    fuzzed = Target(make_server().url)
    yield fuzzed
    fuzzed.close()


@pytest.mark.slow
def test_every_acknowledged_request_is_stored_as_sent(target: Target, record_property) -> None:
    @bounded(VALID_CASES)
    @given(requests())
    @example(Sent(b"POST", b"/webhook", None, (), TOO_MANY_DIGITS, None))
    @example(Sent(b"POST", b"/webhook", None, (), LONE_SURROGATE, None))
    @example(Sent(b"CONNECT", b"/webhook", None, (), b"{}", None))
    @example(Sent(b"POST", b"/webhook", None, (), b"[" * 900 + b"]" * 900, (7, 300)))
    def case(sent: Sent) -> None:
        target.send(sent)

    case()
    record_property("fuzz_cases", target.cases)
    assert target.cases >= VALID_CASES
    assert target.acknowledged + target.refused == target.cases
    stats = target.api.get("/_hookcatcher/api/stats").json()
    assert stats["received"] == stats["stored"] + stats["evicted"] + stats["cleared"]
    assert target.acknowledged <= stats["received"] <= target.cases


@pytest.mark.slow
def test_malformed_requests_get_400_or_a_closed_connection(target: Target, record_property) -> None:
    @bounded(MALFORMED_CASES)
    @given(malformed)
    def case(broken: tuple[Sent, str, bytes]) -> None:
        target.send_malformed(break_request(*broken))

    case()
    record_property("fuzz_cases", target.cases)
    assert target.cases >= MALFORMED_CASES
    assert target.statuses.get(400, 0) > MALFORMED_CASES // 2, target.statuses


@pytest.mark.slow
def test_read_api_answers_any_query_without_a_5xx(target: Target, record_property) -> None:
    target.api.post("/webhook", content=b'{"event":"messages.upsert","data":{}}')

    @bounded(API_CASES)
    @given(api_queries)
    @example(("/_hookcatcher/api/events", {"limit": "18446744073709551616"}))
    @example(("/_hookcatcher/api/events/" + "1" * 5_000, {}))
    def case(query: tuple[str, dict[str, str]]) -> None:
        target.query(*query)

    case()
    record_property("fuzz_cases", target.cases)
    assert target.cases >= API_CASES


# --- what fuzzing found, one test each -------------------------------------------------------


def test_a_number_too_long_to_convert_is_a_capture_not_a_500(server, client) -> None:
    answer = client.post("/webhook", content=TOO_MANY_DIGITS)
    assert answer.status_code == 200
    capture = client.get(f"/_hookcatcher/api/events/{answer.json()['id']}").json()
    assert capture["validation"]["status"] == "not-json"
    assert "4301 digits" in capture["validation"]["errors"][0]["message"]


def test_a_lone_surrogate_escape_reads_back_through_the_api(server, client) -> None:
    """JSON may escape half of a surrogate pair; Python parses it to a string that UTF-8
    cannot encode, so every JSON answer that carries the body must still be writable."""
    capture_id = client.post("/webhook", content=LONE_SURROGATE).json()["id"]
    one = client.get(f"/_hookcatcher/api/events/{capture_id}")
    assert one.status_code == 200 and one.json()["raw"] == LONE_SURROGATE.decode()
    assert client.get("/_hookcatcher/api/events").status_code == 200
    for kind in ("jsonl", "har", "curl"):
        exported = client.get("/_hookcatcher/api/export", params={"format": kind, "redact": 0})
        assert exported.status_code == 200, kind


def test_connect_is_captured_and_answered_whole(server, client) -> None:
    """A 2xx to CONNECT opens a tunnel in HTTP/1.1, so no body may follow it; the answer
    must still be a whole HTTP message (today: Content-Length 18 and no body, and the
    server logs an exception)."""
    request = request_bytes(
        b"CONNECT", b"/webhook", [(b"Host", b"x"), (b"Content-Length", b"2")], b"{}"
    )
    reply = exchange(address_of(server.url), request)
    assert reply is not None and reply.status < 500
    declared = reply.header(b"content-length")
    assert declared is None or int(declared) == len(reply.body), reply
    assert client.get("/_hookcatcher/api/events").json()["events"][0]["method"] == "CONNECT"


@pytest.mark.parametrize(
    "path, params",
    [
        ("/_hookcatcher/api/events", {"limit": "18446744073709551616"}),
        ("/_hookcatcher/api/events", {"after": "1" * 5_000}),
        ("/_hookcatcher/api/events/" + "1" * 5_000, {}),
    ],
    ids=["limit 2**64", "after of 5000 digits", "id of 5000 digits"],
)
def test_numbers_too_large_for_the_api_are_client_errors(
    client: httpx.Client, path: str, params: dict[str, str]
) -> None:
    client.post("/webhook", content=b"{}")
    answer = client.get(path, params=params)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:200])
    assert "error" in answer.json()


def test_the_largest_limit_means_everything(client: httpx.Client) -> None:
    client.post("/webhook", content=b"{}")
    answer = client.get("/_hookcatcher/api/events", params={"limit": str(2**63 - 1)})
    assert answer.status_code == 200 and len(answer.json()["events"]) == 1
