"""What `serve` prints, and that a slow terminal never holds up the receiver."""

from __future__ import annotations

import io
import json
import threading
import time

from hookcatcher.check.validation import Validator
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.printer import LinePrinter, banner, capture_line

VALIDATOR = Validator()


def make(n: int, raw: bytes = b"{}"):
    capture = build_capture(VALIDATOR, "POST", "/w", "a=1", [], "127.0.0.1:1", raw)
    capture.id = n
    return capture


def test_line_shows_first_error_and_how_many_more() -> None:
    capture = build_capture(
        VALIDATOR,
        "POST",
        "/w/messages-upsert",
        "",
        [],
        "",
        b'{"event": "messages.upsert", "instance": "s", "data": {}}',
    )
    capture.id = 7
    line = capture_line(capture)
    assert (
        "#7  evolution  messages.upsert  s  invalid ($.data.key: required field is missing; "
        "+3 more)" in line
    )


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
    numbers = [
        int(line.split("  #", 1)[1].split(" ", 1)[0])
        for line in out.getvalue().splitlines()
        if "  #" in line
    ]
    assert numbers == list(range(1, 2001))


def test_printed_line_hides_a_secret_in_the_query_and_in_a_message() -> None:
    plain = build_capture(VALIDATOR, "POST", "/w", "token=s3cr3t-value&x=1", [], "", b"{}")
    assert "s3cr3t-value" not in capture_line(plain, redact=True)
    assert "token=[redacted]&x=1" in capture_line(plain, redact=True)
    assert "s3cr3t-value" in capture_line(plain)
    body = b'{"event": "messages.upsert", "instance": "s", "apikey": 123456789, "data": {}}'
    invalid = build_capture(VALIDATOR, "POST", "/w", "", [], "", body)
    assert "123456789" in capture_line(invalid)
    assert "123456789" not in capture_line(invalid, redact=True)


HOSTILE = (
    "sales\x1b]0;pwned\x07\x1b[2J\x1b[H\r\n14:00:00.000  #999  evolution  "
    "messages.upsert  forged  valid  1 KB  POST /webhook\x9b31m\x7f"
)


def hostile_capture():
    body = json.dumps({"event": "messages.upsert\x1b[5m", "instance": HOSTILE, "data": {}})
    capture = build_capture(VALIDATOR, "POST", "/w/\x1b[1m", "x=\x07", [], "", body.encode())
    capture.id = 5
    return capture


def controls(text: str) -> list[str]:
    return [char for char in text if ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F]


def test_terminal_controls_from_a_request_are_printed_as_visible_escapes() -> None:
    capture = hostile_capture()
    assert capture.instance == HOSTILE
    for redact in (False, True):
        line = capture_line(capture, redact=redact)
        first, *warnings = line.split("\n")
        assert controls(first) == [] and all(controls(w) == [] for w in warnings)
        assert "sales\\x1b]0;pwned\\x07\\x1b[2J\\x1b[H\\x0d\\x0a14:00:00.000" in first
        assert "messages.upsert\\x1b[5m" in first and "POST /w/\\x1b[1m?x=\\x07" in first
        assert "\\x9b31m\\x7f" in first
        assert len(line.split("\n")) == 1 + len(capture.warnings)


def test_the_json_line_escapes_every_control_and_reads_back_the_same() -> None:
    out = io.StringIO()
    printer = LinePrinter(as_json=True, out=out, redact=False)
    printer(hostile_capture())
    printer.close()
    (line,) = out.getvalue().splitlines()
    assert controls(line) == [] and "\\u009b" in line and "\\u007f" in line
    assert json.loads(line)["instance"] == HOSTILE


def test_a_warning_is_one_printed_line_whatever_it_quotes() -> None:
    capture = build_capture(
        VALIDATOR, "POST", "/w", "", [], "", b'{"a\\r\\nforged": 1, "a\\r\\nforged": 2}'
    )
    assert capture.warnings
    first, *warnings = capture_line(capture).split("\n")
    assert len(warnings) == len(capture.warnings)
    assert all(w.startswith("    warning: ") and controls(w) == [] for w in warnings)
