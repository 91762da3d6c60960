"""What `hookcatcher serve` prints: where to point each gateway, then one line per capture.

Lines are written by a thread of their own, so a terminal or pipe that reads slowly never
holds up the receiver; if it falls too far behind, the skipped lines are counted and said.
Everything in a line that came with a request (names, path, messages) is printed through
`printable`, so a request cannot drive the terminal or forge a line of its own."""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import deque
from typing import TextIO

from hookcatcher.core.capture import Capture
from hookcatcher.core.controls import escaped
from hookcatcher.core.redact import redacted
from hookcatcher.core.secrets import redacted_text
from hookcatcher.core.units import size_text

__all__ = ["banner", "capture_line", "json_line", "LinePrinter", "printable", "FLUSH_SECONDS"]

FLUSH_SECONDS = 0.05
# What json.dumps(ensure_ascii=False) leaves raw in a string but a terminal acts on.
_RAW_IN_JSON = re.compile("[\x7f-\x9f]")


def printable(text: str) -> str:
    """Text from a request as a terminal may show it (controls.escaped). An instance name
    with ESC, BEL or a line break in it would otherwise set the terminal's title, clear the
    screen or print a line that looks like a capture of its own."""
    return escaped(text)


def json_line(data: object) -> str:
    """JSON on one line, as --json prints it: json.dumps escapes C0 controls and line
    breaks, and DEL and C1 are escaped here too (`\\u009b`), which any JSON reader reads
    back as the same character."""
    text = json.dumps(data, ensure_ascii=False)
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def banner(url: str, version: str, rules: list[str] | None = None) -> str:
    hook = f"{url}/webhook"
    api = f"{url}/_hookcatcher"
    answers = ["Answers other than 200:", *(f"  {rule}" for rule in rules), ""] if rules else []
    return "\n".join(
        [
            f"hookcatcher {version} is listening on {url}",
            "",
            "Point your gateway's webhook at (any path works; /webhook is only a suggestion):",
            f"  Evolution API, single URL   {hook}",
            f"  Evolution API, per event    {hook}   with webhook_by_events / byEvents on",
            f"                              (it posts to {hook}/messages-upsert, "
            ".../connection-update, ...)",
            f"  CodeChat                    {hook}",
            f"  Whapi.Cloud, body mode      {hook}",
            f"  Whapi.Cloud, path mode      {hook}   (it posts to {hook}/messages/post, ...)",
            f"  Whapi.Cloud, method mode    {hook}   (it sends PATCH {hook}/messages, ...)",
            "",
            f"API     {api}/api/events   {api}/api/stats   {api}/api/catalog",
            f"Stream  {api}/stream",
            f"Gateway configuration mock  {url}/_gateway/evolution/webhook/set/<instance>, "
            f"{url}/_gateway/codechat/api/v2/instance/<id>/webhook, {url}/_gateway/whapi/settings",
            "",
            *answers,
        ]
    )


def capture_line(capture: Capture, redact: bool = False) -> str:
    """`14:03:22.123 #12 evolution messages.upsert sales valid 1.2 KB POST /webhook`

    `redact`: secrets hidden (in the names, the path, the query and the messages). Only a
    message can quote a body's value, so only a capture with messages pays for redacting
    its body; the rest is redacted as text. Every part that came with the request is made
    printable."""
    text_only = redact and not (capture.validation.errors or capture.warnings)
    if redact and not text_only:
        capture = redacted(capture)

    def shown(text: str) -> str:
        return printable(redacted_text(text) if text_only else text)

    status = capture.validation.status
    if capture.validation.errors:
        first = capture.validation.errors[0]
        more = len(capture.validation.errors) - 1
        status += f" ({first.path}: {first.message}{f'; +{more} more' if more else ''})"
    target = capture.path + (f"?{capture.query}" if capture.query else "")
    parts = [
        printable(capture.received_at[11:23]),
        f"#{capture.id}",
        shown(capture.provider),
        shown(capture.event or "-"),
        shown(capture.instance or "-"),
        shown(status),
        size_text(capture.size),
        shown(f"{capture.method} {target}"),
    ]
    if capture.retry_of is not None:
        parts.append(f"retry of #{capture.retry_of}")
    if capture.answer.status != 200 or capture.answer.delay_ms:
        late = f" after {capture.answer.delay_ms} ms" if capture.answer.delay_ms else ""
        parts.append(f"answered {capture.answer.status}{late}")
    line = "  ".join(parts)
    for warning in capture.warnings:
        line += f"\n    warning: {shown(warning)}"
    return line


class _Delivered:
    __slots__ = ("capture",)

    def __init__(self, capture: Capture) -> None:
        self.capture = capture


def delivery_lines(capture: Capture, as_json: bool = False, redact: bool = True) -> str:
    """`<-- 200 POST http://127.0.0.1:3000/webhook/messages-upsert (12 ms)` for each
    delivery of a capture to the app, or why it failed, in words; as JSON, one line
    `{"id": N, "forwards": [...]}`."""
    if as_json:
        data = {"id": capture.id, "forwards": [f.to_json() for f in capture.forwards]}
        return json_line(data)
    lines = []
    for forward in capture.forwards:
        url = printable(redacted_text(forward.url) if redact else forward.url)
        if forward.status is not None:
            lines.append(
                f"<-- {forward.status} {capture.method} {url} ({forward.elapsed_ms:.0f} ms)"
                f"  #{capture.id}"
            )
        else:
            lines.append(f"<-- ✗ #{capture.id}: {printable(forward.error or 'no answer')}")
    return "\n".join(lines)


class LinePrinter:
    """A store listener that prints captures from a thread, never blocking the caller."""

    def __init__(
        self,
        as_json: bool = False,
        out: TextIO | None = None,
        backlog: int = 10_000,
        redact: bool = True,
        every: float = FLUSH_SECONDS,
    ) -> None:
        self.as_json = as_json
        self.redact = redact
        self.out = out or sys.stdout
        self.backlog = backlog
        self.every = every
        # A capture to print, or (after forwarding) a capture whose deliveries to print.
        self._pending: deque[Capture | _Delivered] = deque()
        self._skipped = 0
        self._lock = threading.Lock()  # guards _skipped
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hookcatcher-printer", daemon=True)
        self._thread.start()

    def __call__(self, capture: Capture | _Delivered) -> None:
        if len(self._pending) < self.backlog:
            self._pending.append(capture)
        else:
            with self._lock:
                self._skipped += 1
        if not self._wake.is_set():
            self._wake.set()

    def delivered(self, capture: Capture) -> None:
        """A store delivery listener: the app's answers to a forwarded capture."""
        self(_Delivered(capture))

    def _format(self, item: Capture | _Delivered) -> str:
        """On the printer's thread, so redacting costs the receiver's thread nothing."""
        if isinstance(item, _Delivered):
            return delivery_lines(item.capture, self.as_json, self.redact)
        capture = item
        if self.as_json:
            shown = redacted(capture) if self.redact else capture
            return json_line(shown.to_json(include_raw=False))
        return capture_line(capture, redact=self.redact)

    def _batch(self) -> list[str]:
        """The lines of what is pending, then how many were skipped after them (the skipped
        ones came once the backlog was full, so after every pending one)."""
        lines = []
        while self._pending:
            lines.append(self._format(self._pending.popleft()))
        with self._lock:
            skipped, self._skipped = self._skipped, 0
        if skipped:
            lines.append(
                f"... {skipped} captures not printed: output is too slow "
                "(they are stored; see /_hookcatcher/api/events)"
            )
        return lines

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._closing.wait(self.every)  # let a burst gather; cut short by close()
            self._wake.clear()  # before taking the batch: what comes after wakes us again
            lines = self._batch()
            try:
                if lines:
                    self.out.write("\n".join(lines) + "\n")
                    self.out.flush()
            except (BrokenPipeError, ValueError):
                return  # stdout went away; the server keeps capturing
            if self._closing.is_set() and not self._pending:
                return

    def close(self, timeout: float = 2) -> None:
        """Print what is left, then stop the thread (waiting at most `timeout`)."""
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout)
