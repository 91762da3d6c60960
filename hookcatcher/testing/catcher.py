"""The receiver inside a test suite: `with Catcher() as c:` serves hookcatcher on a free
loopback port on a background thread, and the test reads what arrived straight from the
store, in this process, with the filter language (`c.events(q)`, `c.wait_for(q)`).

Only the server's event-loop thread changes the store; the test's thread reads copies of
the ring. The store tells a listener of each arrival on the loop thread, and that listener
only counts and wakes the waiters, so a waiting test costs the receiver nothing and
`wait_for` never polls.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable

import httpx

from hookcatcher.check.validation import Validator
from hookcatcher.core import catalog
from hookcatcher.core.capture import Capture
from hookcatcher.core.filters import parse
from hookcatcher.core.forwarding import DEFAULT_FORWARD_TIMEOUT, parse_rule
from hookcatcher.core.paths import EVENTS
from hookcatcher.receive.access import Access
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.app import create_app
from hookcatcher.receive.forwarder import Forwarder
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, Store
from hookcatcher.remote import GATEWAY_PREFIX, auth_headers, check_token

__all__ = ["Catcher", "WaitTimeout", "shared_validator"]

SHOWN = 20  # captures listed one per line when a wait times out; the rest are counted

_validator: Validator | None = None
_validator_lock = threading.Lock()


def shared_validator() -> Validator:
    """One Validator per process: compiling every schema takes a good part of a second, and
    a suite that starts a Catcher per test would pay it every time."""
    global _validator
    with _validator_lock:
        if _validator is None:
            _validator = Validator()
        return _validator


class WaitTimeout(TimeoutError):
    """`wait_for` gave up; the message names the query and lists what did arrive."""

    def __init__(
        self, message: str, query: str, matched: list[Capture], arrived: list[Capture]
    ) -> None:
        super().__init__(message)
        self.query = query
        self.matched = matched
        self.arrived = arrived


Flag = str | int | Iterable[str | int] | None


class Catcher:
    """hookcatcher's receiver on a background thread, for a test to send to and look into.

    `respond`, `delay` and `fail_first` are the answer rules of `hookcatcher serve`, written
    as its flags are (`503`, `"messages.update=503"`, or a list of them), for testing how the
    sender copes with refusals, slow answers and failures. `token` and `ingest_token` are
    `--token` and `--ingest-token`: what the app under test must send to reach `/_gateway/`,
    and with its webhooks; the Catcher's own reads need neither. `forward_to` is
    `--forward-to` (a URL, `SELECTOR=URL`, or a list): what arrives goes on to the app under
    test and the sender gets the app's answer, so a test can sit between a gateway stand-in
    and the app (`forward_timeout`: seconds before a 504)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        respond: Flag = None,
        delay: Flag = None,
        fail_first: Flag = None,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        token: str | None = None,
        ingest_token: str | None = None,
        forward_to: str | Iterable[str] | None = None,
        forward_timeout: float = DEFAULT_FORWARD_TIMEOUT,
    ) -> None:
        self._host = host
        self._port = port
        self._access = Access(_checked(token, "token"), _checked(ingest_token, "ingest_token"))
        self._answers = Answers.from_flags(_texts(respond), _texts(delay), _texts(fail_first))
        self._store = Store(max_events, max_bytes)
        self._forwarder = _forwarder(forward_to, forward_timeout)
        self._store.subscribe(self._arrived)
        self._server: BackgroundServer | None = None
        self._stopped = False
        self._wake = threading.Condition()
        self._arrivals = 0  # bumped on the loop thread for every capture stored

    def start(self) -> Catcher:
        """Bind the port and serve until `stop()`; a Catcher serves once."""
        if self._server is not None or self._stopped:
            raise RuntimeError("this Catcher has already been started; make a new one")
        app = create_app(
            self._store,
            shared_validator(),
            self._answers,
            access=self._access,
            forwarder=self._forwarder,
        )
        # Not the collector pacing of a long-running receiver (runner.CollectorPacer): in a
        # test process it would keep every reference cycle alive at this moment forever.
        self._server = BackgroundServer(app, self._host, self._port, pace_collector=False).start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, waiting up to `timeout` seconds for the server's thread to end.
        With 0 it returns at once and the port closes on its own a moment later: uvicorn
        takes about 0.15 s to wind down, which a suite would otherwise pay per test."""
        if self._server is not None and not self._stopped:
            self._server.stop(timeout)
        self._stopped = True

    def __enter__(self) -> Catcher:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self._server.url if self._server is not None else "not started"
        state = ", stopped" if self._stopped else ""
        return f"<Catcher {where}{state}, {len(self._store)} captures>"

    @property
    def url(self) -> str:
        """The receiver's base URL (`http://127.0.0.1:PORT`); every path under it captures,
        except `/_hookcatcher/` and `/_gateway/`."""
        if self._server is None:
            raise RuntimeError(
                "this Catcher is not started: use `with Catcher() as catcher:` "
                "or call start() first"
            )
        return self._server.url

    def webhook_url(self, path: str = "/webhook") -> str:
        """The URL to configure as the webhook: the base URL and `path`."""
        return self.url + "/" + path.lstrip("/")

    def gateway_url(self, provider: str) -> str:
        """The base URL of the mocked configuration API of a gateway (`evolution`,
        `codechat`, `whapi`), to give the app under test as the gateway's URL."""
        if provider not in catalog.PROVIDERS:
            raise ValueError(
                f"no gateway {provider!r}: hookcatcher mocks {', '.join(catalog.PROVIDERS)}"
            )
        return f"{self.url}{GATEWAY_PREFIX}/{provider}"

    def events(self, q: str = "") -> list[Capture]:
        """The stored captures matching the filter `q`, oldest first. A query that cannot
        be understood raises `FilterError` naming the term."""
        __tracebackhide__ = True
        query = parse(q)
        return [capture for capture in self._snapshot() if query(capture)]

    def wait_for(self, q: str = "", timeout: float = 5.0, *, count: int = 1) -> Capture:
        """The first capture matching `q`, waiting up to `timeout` seconds for it. Captures
        that arrived before the call count, so a fast sender is never missed. With `count`,
        wait until that many match and return the last of them (`events(q)` has them all).
        Raises `WaitTimeout` (a `TimeoutError`) listing what arrived instead."""
        __tracebackhide__ = True  # pytest shows the test's line, not this loop
        query = parse(q)
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        deadline = time.monotonic() + timeout
        matched: list[Capture] = []
        seen = 0
        while True:
            with self._wake:
                arrivals = self._arrivals
            # Read after the counter: a capture stored from here on bumps it, and then the
            # wait below returns at once, so nothing falls between the two.
            for capture in self._snapshot():
                if capture.id > seen:
                    seen = capture.id
                    if query(capture):
                        matched.append(capture)
                        if len(matched) == count:
                            return capture
            with self._wake:
                while self._arrivals == arrivals:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise self._timeout(q, timeout, count, matched)
                    self._wake.wait(remaining)

    def clear(self) -> int:
        """Forget every stored capture (ids keep increasing); returns how many. The store
        is changed only on the server's thread, so this goes through the HTTP API."""
        response = httpx.delete(
            f"{self.url}{EVENTS}",
            timeout=10.0,
            headers=auth_headers(self._access.token),
        )
        response.raise_for_status()
        return int(response.json()["cleared"])

    def _arrived(self, _capture: Capture) -> None:
        with self._wake:
            self._arrivals += 1
            self._wake.notify_all()

    def _snapshot(self) -> tuple[Capture, ...]:
        """Every stored capture, oldest first. Copying the ring is one C call that keeps the
        GIL, unless a garbage collection during the copy runs a finaliser that lets it go;
        if the loop thread then changes the ring, the copy fails, and is taken again."""
        while True:
            try:
                return tuple(self._store)
            except RuntimeError:
                continue

    def _timeout(self, q: str, timeout: float, count: int, matched: list[Capture]) -> WaitTimeout:
        arrived = list(self._snapshot())
        what = f"matching {q!r}" if q.strip() else "at all"
        if count == 1:
            head = f"no capture {what} arrived within {timeout:g} s"
        else:
            ids = ", ".join(f"#{capture.id}" for capture in matched)
            head = (
                f"{count} captures {what} were expected within {timeout:g} s, "
                f"{len(matched)} arrived{f' ({ids})' if ids else ''}"
            )
        if not arrived:
            message = (
                f"{head}; nothing arrived at {self.url}: is the sender configured with this URL?"
            )
        else:
            message = "\n".join(
                [f"{head}; {_captures(len(arrived))} arrived at {self.url}:", *_listing(arrived)]
            )
        return WaitTimeout(message, q, matched, arrived)


def _checked(token: str | None, name: str) -> str | None:
    if token is None:
        return None
    try:
        return check_token(token)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _forwarder(given: str | Iterable[str] | None, timeout: float) -> Forwarder | None:
    """forward_to's rules, or ValueError naming the one that does not parse."""
    texts = [given] if isinstance(given, str) else list(given or ())
    if not texts:
        return None
    rules = []
    for text in texts:
        try:
            rules.append(parse_rule(text))
        except ValueError as exc:
            raise ValueError(f"forward_to: {exc}") from None
    return Forwarder(rules, timeout)


def _texts(given: Flag) -> list[str]:
    """A flag's values as the command line gives them: one value or a list."""
    if given is None:
        return []
    if isinstance(given, (str, int)):
        return [str(given)]
    return [str(value) for value in given]


def _captures(number: int) -> str:
    return f"{number} capture{'' if number == 1 else 's'}"


def _listing(arrived: list[Capture]) -> list[str]:
    """The newest captures one per line, and the earlier ones counted by kind."""
    earlier, shown = arrived[:-SHOWN], arrived[-SHOWN:]
    lines = []
    if earlier:
        kinds = Counter(_kind(capture) for capture in earlier)
        counted = ", ".join(f"{kind} x{number}" for kind, number in kinds.most_common())
        lines.append(f"  {_captures(len(earlier))} before these: {counted}")
    lines.extend(f"  {_line(capture)}" for capture in shown)
    return lines


def _kind(capture: Capture) -> str:
    return f"{capture.provider} {capture.event or '(no event)'}"


def _line(capture: Capture) -> str:
    """`#3 POST /webhook evolution messages.upsert instance=sales: valid`."""
    target = capture.path + (f"?{capture.query}" if capture.query else "")
    parts = [f"#{capture.id}", capture.method, target, _kind(capture)]
    if capture.instance:
        parts.append(f"instance={capture.instance}")
    validation = capture.validation
    verdict = validation.status
    if validation.errors:
        first = validation.errors[0]
        more = len(validation.errors) - 1
        verdict += f" ({first.path}: {first.message}{f'; {more} more' if more else ''})"
    return " ".join(parts) + f": {verdict}"
