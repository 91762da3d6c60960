"""What `serve` prints, and that a slow terminal never holds up the receiver."""

from __future__ import annotations

import io
import threading
import time

from hookcatcher.ingest import build_capture
from hookcatcher.output import LinePrinter, banner, capture_line
from hookcatcher.validation import Validator

VALIDATOR = Validator()


def make(n: int, raw: bytes = b"{}"):
    capture = build_capture(VALIDATOR, "POST", "/w", "a=1", [], "127.0.0.1:1", raw)
    capture.id = n
    return capture


def test_line_shows_first_error_and_how_many_more() -> None:
    capture = build_capture(VALIDATOR, "POST", "/w/messages-upsert", "", [], "",
                            b'{"event": "messages.upsert", "instance": "s", "data": {}}')
    capture.id = 7
    line = capture_line(capture)
    assert "#7  evolution  messages.upsert  s  invalid ($.data.key: required field is missing; " \
           "+3 more)" in line


def test_banner_names_single_and_per_event_urls() -> None:
    text = banner("http://127.0.0.1:9", "1.0")
    assert "Evolution API, single URL   http://127.0.0.1:9/webhook" in text
    assert "http://127.0.0.1:9/webhook/messages-upsert" in text
    assert "PATCH http://127.0.0.1:9/webhook/messages" in text


class SlowOut(io.StringIO):
    """An output that blocks until released, like a terminal nobody scrolls."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait(10)
        return super().write(text)


def test_slow_output_skips_lines_and_says_how_many() -> None:
    out = SlowOut()
    printer = LinePrinter(out=out, backlog=2)
    started = time.monotonic()
    for n in range(1, 11):
        printer(make(n))  # must return at once, whatever the output does
    assert time.monotonic() - started < 1
    out.release.set()
    printer.close()
    text = out.getvalue()
    assert "captures not printed: output is too slow" in text
    printed = [line for line in text.splitlines() if "  #" in line]
    skipped = int(text.split("... ", 1)[1].split(" ", 1)[0])
    assert len(printed) + skipped == 10


def test_a_burst_is_printed_whole_and_in_order() -> None:
    out = io.StringIO()
    printer = LinePrinter(out=out)
    for n in range(1, 2001):
        printer(make(n))
    printer.close()
    numbers = [int(line.split("  #", 1)[1].split(" ", 1)[0])
               for line in out.getvalue().splitlines() if "  #" in line]
    assert numbers == list(range(1, 2001))


def test_printed_line_hides_a_secret_in_the_query_and_in_a_message() -> None:
    plain = build_capture(VALIDATOR, "POST", "/w", "token=s3cr3t-value&x=1", [], "", b"{}")
    assert "s3cr3t-value" not in capture_line(plain, redact=True)
    assert "token=[redacted]&x=1" in capture_line(plain, redact=True)
    assert "s3cr3t-value" in capture_line(plain)
    body = (b'{"event": "messages.upsert", "instance": "s", "apikey": 123456789,'
            b' "data": {}}')
    invalid = build_capture(VALIDATOR, "POST", "/w", "", [], "", body)
    assert "123456789" in capture_line(invalid)
    assert "123456789" not in capture_line(invalid, redact=True)
