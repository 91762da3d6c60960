"""Outgoing requests: one captured request sent again, to the user's own app, or as a curl command.

A replay is the request the gateway would have sent had it been configured with the target
URL instead of hookcatcher's:

- The body is the captured bytes, unchanged, and the headers are the captured ones in their
  order, without hop-by-hop headers and without `host` and `content-length` (both describe
  the new connection, so the client writes them).
- The captured query string is carried over, added to any query of the target: it holds what
  the gateway put there itself (`?owner=<wuid>` from CodeChat v1.2.0-1.2.6 and Evolution v1's
  new.jwt), which the app may read. The one exception is a query that held Evolution's
  per-event suffix (configured URL with a query): that is configuration, not data, and is
  left out.
- "As received" sends everything to the target as given. "Per event" adds what the gateway
  adds in its per-event mode, by the catalog's rules: Evolution appends `/<suffix>`, Whapi
  appends `/<type>/<method>` (path mode) or `/<type>` with the event's method as the HTTP
  verb (method mode, used when the capture itself came that way). CodeChat has no per-event
  URLs in any generation, and an unrecognised sender none that hookcatcher knows; those are
  sent as received, with a note that says so.
"""

from __future__ import annotations

import asyncio
import codecs
import http.cookiejar
import shlex
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import httpx

from hookcatcher.core import catalog
from hookcatcher.core.capture import Capture
from hookcatcher.core.headers import forwardable

__all__ = [
    "check_target",
    "Attempt",
    "Outgoing",
    "ReplayError",
    "curl",
    "forwarded",
    "make_client",
    "request_for",
    "send",
    "why_failed",
    "with_headers",
]

BODY_LIMIT = 64 * 1024  # of an app's answer kept for display
# Larger bodies are piped in: an inline one is an argument to curl, and exec refuses a
# single argument over 128 KiB (Linux).
INLINE_LIMIT = 64 * 1024


class ReplayError(ValueError):
    """A replay that cannot be built, such as a target that is not an http(s) URL."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One request ready to send (or to print as curl)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    content: bytes
    note: str | None = None  # why per-event mode did not (fully) apply


@dataclass(frozen=True, slots=True)
class Attempt:
    """What happened when an Outgoing was sent: the app's answer, or why there was none."""

    capture_id: int
    at: str
    method: str
    url: str
    status: int | None
    elapsed_ms: float
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: str = ""
    error: str | None = None
    refused: bool = False  # nothing listens at the target: the app is not running
    # The answer's bytes whole, for whoever relays them (forwarding's passthrough).
    content: bytes = field(default=b"", repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "capture_id": self.capture_id,
            "at": self.at,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "ok": self.ok,
            "elapsed_ms": self.elapsed_ms,
            "response_headers": [[name, value] for name, value in self.response_headers],
            "response_body": self.response_body,
            "error": self.error,
            "refused": self.refused,
        }


def request_for(
    capture: Capture,
    target: str,
    by_events: bool = False,
    *,
    whapi_mode: str | None = None,
    exact: bool = False,
) -> Outgoing:
    """The request that replays `capture` at `target`, as received or per event.

    `whapi_mode` (path | method) picks Whapi's per-event form; by default it is the one the
    capture arrived in (path when it came as a single-URL body). `exact` appends the
    per-event path to the target as the gateway does, without first trimming a trailing
    slash: a configured `.../webhook/` then gives `.../webhook//messages-upsert`, as it would
    from the gateway itself."""
    check_target(target)
    headers = forwardable(capture.headers)
    method, url, note = (
        _per_event(capture, target, whapi_mode, exact)
        if by_events
        else (capture.method, target, None)
    )
    # Evolution put its suffix inside the query when the configured URL had one.
    suffix_in_query = capture.route.mode == "by-events" and "?" in capture.route.base
    if capture.query and not suffix_in_query:
        url = f"{url}{'&' if '?' in url else '?'}{capture.query}"
    return Outgoing(method, url, headers, capture.raw, note)


def forwarded(capture: Capture, url: str) -> Outgoing:
    """`capture` sent on to `url` (--forward-to) as the gateway sent it: its method, bytes and
    headers in their order, hop-by-hop ones dropped (Host and Content-Length become the new
    request's), and where it came from said in X-Forwarded-For and X-Forwarded-Host."""
    headers = list(forwardable(capture.headers))
    client = capture.remote.rpartition(":")[0] if capture.remote else ""
    if client:
        headers.append(("X-Forwarded-For", client.strip("[]")))
    host = capture.header("host")
    if host:
        headers.append(("X-Forwarded-Host", host))
    return Outgoing(capture.method, url, tuple(headers), capture.raw)


def check_target(target: str) -> None:
    if not target:
        raise ReplayError("no target URL given: use http://host:port/path")
    try:
        url = httpx.URL(target)
    except httpx.InvalidURL as exc:
        raise ReplayError(f"target URL {target!r} is not a valid URL: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise ReplayError(f"target URL {target!r} must start with http:// or https://")
    if not url.host:
        raise ReplayError(f"target URL {target!r} has no host")
    if url.port is not None and not 0 < url.port < 65536:
        raise ReplayError(f"target URL {target!r} has port {url.port}, outside 1-65535")
    if url.fragment:
        raise ReplayError(
            f"target URL {target!r} has a #fragment, which is never sent: leave it out"
        )


def _per_event(
    capture: Capture, target: str, whapi_mode: str | None, exact: bool
) -> tuple[str, str, str | None]:
    """Method, URL and note for per-event mode. The suffix is appended as plain text, as the
    gateways do: a target with a query gets it inside the query, like the real request."""
    event = catalog.find(capture.provider, capture.event)
    if event is None or capture.provider == "codechat":
        return capture.method, target, _why_not_per_event(capture)
    base = target if exact else target.rstrip("/")
    if event.suffix is None:
        return "POST", target, f"{event.name} always goes to the plain URL, with no per-event path."
    method, path = event.delivery(whapi_mode or capture.route.mode)
    return method, base + path, None


def _why_not_per_event(capture: Capture) -> str:
    if capture.provider == "codechat":
        return "CodeChat has no per-event URLs: sent as received."
    if capture.provider not in catalog.PROVIDERS:
        return "The sender was not recognised, so there is no per-event URL: sent as received."
    return (
        f"{capture.event or 'This request'} is not in the catalog, so its per-event URL "
        "is unknown: sent as received."
    )


def with_headers(outgoing: Outgoing, extra: Iterable[tuple[str, str]]) -> Outgoing:
    """The request with headers the sender adds of its own (a gateway's configured custom
    headers): each replaces any header of the same name, compared without case."""
    added = list(extra)
    if not added:
        return outgoing
    names = {name.lower() for name, _ in added}
    kept = tuple((name, value) for name, value in outgoing.headers if name.lower() not in names)
    return replace(outgoing, headers=kept + tuple(added))


def make_client(
    transport: httpx.AsyncBaseTransport | None = None, concurrency: int = 10
) -> httpx.AsyncClient:
    """A client that adds nothing of its own to a replay: none of httpx's default headers
    (Accept, User-Agent...), and no cookie jar, since a cookie an app set in one answer
    would otherwise ride along on every later replay, which the gateway never does.
    `transport` sends into an app in this process instead of over the network."""
    client = httpx.AsyncClient(
        transport=transport,
        cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )
    client.headers.clear()
    return client


async def send(
    client: httpx.AsyncClient, outgoing: Outgoing, capture_id: int = 0, timeout: float = 10.0
) -> Attempt:
    """Send once and report. Network failures become `error` messages, never exceptions, and
    a redirect is an answer to show, not to follow. With a client other than make_client()'s,
    its own headers and cookies go along too."""
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    started = time.perf_counter()
    try:
        # The outer deadline covers what httpx's own timeouts do not: an app called in-process
        # through a transport, and an app that trickles its answer byte by byte.
        response = await asyncio.wait_for(
            client.request(
                outgoing.method,
                outgoing.url,
                headers=[(wire(name), wire(value)) for name, value in outgoing.headers],
                content=outgoing.content,
                timeout=timeout,
                follow_redirects=False,
            ),
            timeout,
        )
    except asyncio.TimeoutError:  # TimeoutError itself only from Python 3.11
        return Attempt(
            capture_id,
            at,
            outgoing.method,
            outgoing.url,
            None,
            _since(started),
            error=f"no answer from {outgoing.url} within {timeout:g} s",
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Attempt(
            capture_id,
            at,
            outgoing.method,
            outgoing.url,
            None,
            _since(started),
            error=_explain(exc, outgoing.url, timeout),
            refused=_refused(exc),
        )
    return Attempt(
        capture_id,
        at,
        outgoing.method,
        outgoing.url,
        response.status_code,
        _since(started),
        tuple(response.headers.multi_items()),
        shown_body(response.content),
        content=response.content,
    )


def wire(text: str) -> bytes:
    """Header text back to bytes: the receiver decoded them as latin-1, so this is exact."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def shown_body(content: bytes) -> str:
    """An answer as text to show: invalid UTF-8 as replacement characters, cut at 64 KiB
    (without splitting a character) with the full size said at the end."""
    if len(content) <= BODY_LIMIT:
        return content.decode("utf-8", errors="replace")
    head = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(content[:BODY_LIMIT])
    return f"{head}\n[cut at 64 KiB: the answer has {len(content):,} bytes]"


def why_failed(exc: httpx.HTTPError) -> str:
    """A failed request in a few words, for messages about hookcatcher's own server and the
    user's app alike: `connection refused`, `no answer in time`, or httpx's reason."""
    if isinstance(exc, httpx.ConnectError) and _refused(exc):
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    return " ".join(str(exc).split()) or type(exc).__name__


def _refused(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _explain(exc: Exception, url: str, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {url} within {timeout:g} s"
    if _refused(exc):
        return f"connection refused to {url}: is your app running?"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return f"cannot find the host of {url}: {cause.strerror}"
        cause = cause.__cause__ or cause.__context__
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return f"request to {url} failed: {detail}"


def curl(outgoing: Outgoing) -> str:
    """A POSIX shell command that sends the same request with curl, byte for byte.

    Text bodies up to 64 KiB go inline; anything else (larger, not UTF-8, control
    characters, a leading `@`, which curl would read as a file name) is written by `printf`
    (a shell builtin, so no size limit) with octal escapes and piped in. curl's own
    inventions are switched off where they would change the request: URL globbing, and the
    form content type it adds when none is given."""
    words = ["curl", "-X", outgoing.method, outgoing.url]
    if any(char in outgoing.url for char in "[]{}"):
        words.insert(1, "--globoff")
    for name, value in outgoing.headers:
        words += ["-H", f"{name}: {value}" if value else f"{name};"]  # `name;` sends it empty
    if not outgoing.content:
        return shlex.join(words)
    if not any(name.lower() == "content-type" for name, _ in outgoing.headers):
        words += ["-H", "Content-Type:"]
    text = _inline_text(outgoing.content)
    if text is not None:
        return shlex.join([*words, "--data-binary", text])
    return (
        f"printf {shlex.quote(_printf_format(outgoing.content))} | "
        f"{shlex.join([*words, '--data-binary', '@-'])}"
    )


def _inline_text(content: bytes) -> str | None:
    if len(content) > INLINE_LIMIT:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.startswith("@") or not all(char.isprintable() or char in "\n\t" for char in text):
        return None
    return text


def _printf_format(content: bytes) -> str:
    """printf's format string for exactly these bytes: printable ASCII as itself, the rest
    (and printf's own `%` and `\\`, and a leading `-` printf would take for an option) as
    three-digit octal escapes."""
    return "".join(
        chr(byte)
        if 0x20 <= byte < 0x7F and byte not in b"%\\" and (index or byte != 0x2D)
        else f"\\{byte:03o}"
        for index, byte in enumerate(content)
    )
