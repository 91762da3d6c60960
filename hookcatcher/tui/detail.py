"""The detail pane: one capture in tabs (Body, Headers, Validation, Raw, Replays, Forwards).

The Forwards tab (what `--forward-to` delivered to the app and what it answered) is shown
only for a capture that has deliveries, or once the server is known to forward: without
forwarding the pane is as it always was.

Each tab's content is built by a plain function from the capture, so what a tab says can be
read and tested without a terminal; the widgets only place it. Everything taken from the
capture goes into Text through `text.printable`, never as markup. Above the tabs, a line says
when the capture is a retry, was answered other than 200 or has secrets hidden, and is
hidden otherwise. Body, Headers and Raw show the capture through `redact.redacted` unless
redaction was turned off; the pane keeps the real capture for everything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from hookcatcher.core.capture import PLAIN_ANSWER, Capture, Forward
from hookcatcher.core.redact import redacted
from hookcatcher.core.secrets import MARKER, redacted_text
from hookcatcher.send.outgoing import Attempt
from hookcatcher.tui.json_view import BodyView, line_of, render_body
from hookcatcher.tui.text import literal, printable

__all__ = [
    "DetailPane",
    "body_note",
    "headers_table",
    "raw_dump",
    "replays_text",
    "forwards_text",
    "marks_line",
    "TABS",
]

TABS = ("body", "headers", "validation", "raw", "replays", "forwards")
FORWARD_BODY_SHOWN = 64 * 1024
RAW_SHOWN = 64 * 1024

Describe = Callable[[str | None, str], str | None]


def marks_line(capture: Capture, hidden: bool = False) -> Text | None:
    """`↻ retry of #1 (the same bytes)   answered 500 (--fail-first 2: failure 1 of 2 for this
    body)   secrets hidden`, or None when there is nothing to say. `hidden`: the tabs show
    this capture with its secrets redacted."""
    parts: list[Text] = []
    if capture.retry_of is not None:
        parts.append(Text(f"↻ retry of #{capture.retry_of} (the same bytes)", style="bold"))
    answer = capture.answer
    if answer != PLAIN_ANSWER:
        said = (
            f"answered {answer.status}"
            + (f" after {answer.delay_ms} ms" if answer.delay_ms else "")
            + (f" ({answer.reason})" if answer.reason else "")
        )
        parts.append(literal(said, "bold red" if answer.status >= 300 else "bold"))
    if hidden:
        parts.append(Text(f"secrets hidden as {MARKER} (h shows them)", style="dim"))
    return Text("   ").join(parts) if parts else None


def headers_table(capture: Capture, size: int | None = None) -> RenderableType:
    """`size`: the body's size as received, when `capture` is a redacted copy."""
    request = Text.assemble(
        (printable(capture.method), "bold"),
        " ",
        printable(capture.path),
        printable(f"?{capture.query}" if capture.query else ""),
        printable(
            f"   from {capture.remote or '?'}   at {capture.received_at}   "
            f"{capture.size if size is None else size} bytes{_size_note(capture)}"
        ),
    )
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=True)
    table.add_column("name", no_wrap=True, ratio=1)
    table.add_column("value", ratio=4, overflow="fold")
    for name, value in capture.headers:
        table.add_row(literal(name), literal(value))  # Text: `[...]` is not Rich markup
    route = capture.route
    how = literal(
        f"recognised as {capture.provider} {capture.event or '(no event)'}"
        f"{' for ' + capture.instance if capture.instance else ''}; route {route.mode}, "
        f"base {route.base}" + (f", suffix {route.suffix}" if route.suffix else ""),
        "dim",
    )
    return Group(request, how, Text(""), table)


def _size_note(capture: Capture) -> str:
    """What the byte count means when it is not simply the bytes in Raw."""
    if capture.refused_size is not None:
        return " (not kept)"
    if capture.decoded_size is not None:
        return f" ({capture.header('content-encoding')}; {capture.decoded_size:,} bytes decoded)"
    return ""


def body_note(capture: Capture) -> Text:
    """What the Body tab says instead of a body that is not JSON."""
    problem = capture.validation.errors[0].message if capture.validation.errors else ""
    if capture.validation.status == "too-large":
        kept = (
            "The Raw tab shows the bytes as received."
            if capture.raw
            else "The body was not kept; the Headers tab shows what came."
        )
        return literal(f"Too large: {problem}. {kept}", "bold red")
    return literal(f"Not JSON: {problem}. The Raw tab shows the bytes.", "bold red")


def raw_dump(raw: bytes) -> RenderableType:
    """The bytes as text when they are UTF-8, as a hex dump when not."""
    shown = raw[:RAW_SHOWN]
    more = f"\n… {len(raw) - RAW_SHOWN:,} more bytes not shown" if len(raw) > RAW_SHOWN else ""
    if not raw:
        return Text("(empty body: 0 bytes)", style="dim")
    try:
        text = shown.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return Text(f"{len(raw):,} bytes, UTF-8\n\n", style="dim") + literal(text + more)
    lines = [f"{len(raw):,} bytes, not UTF-8 (hex)", ""]
    for offset in range(0, len(shown), 16):
        chunk = shown[offset : offset + 16]
        hexed = " ".join(f"{byte:02x}" for byte in chunk)
        printable = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{offset:08x}  {hexed:<47}  {printable}")
    return Text("\n".join(lines) + more)


def replays_text(attempts: Iterable[Attempt], redact: bool = False) -> RenderableType:
    """`redact`: secrets in a URL hidden (a replay carries the capture's query along)."""
    attempts = list(attempts)
    if not attempts:
        return Text("Not replayed yet. r sends it to your app; t sets where.", style="dim")
    parts: list[RenderableType] = []
    for attempt in reversed(attempts):
        if attempt.error:
            verdict = literal(attempt.error, "bold red")
        else:
            verdict = Text(f"{attempt.status}", style="bold green" if attempt.ok else "bold red")
        parts.append(
            Text.assemble(
                (attempt.at[11:23], "dim"),
                "  ",
                printable(
                    f"{attempt.method} {redacted_text(attempt.url) if redact else attempt.url}"
                ),
                "  ",
                verdict,
                (f"  {attempt.elapsed_ms:.1f} ms", "dim"),
            )
        )
        if attempt.response_body:
            parts.append(
                literal("  " + attempt.response_body[:2000].replace("\n", "\n  "), "italic")
            )
    return Group(*parts)


def forwards_text(forwards: Iterable[Forward]) -> RenderableType:
    """Each delivery to the app: where, when, its status or why there was none, and the
    app's answer (headers, then the body, pretty when JSON), as given: the pane passes the
    capture's redacted copy unless secrets are shown (core/redact.py hides them there)."""
    forwards = list(forwards)
    if not forwards:
        return Text(
            "Not forwarded: no delivery recorded for this capture (hookcatcher serve "
            "--forward-to URL sends each capture on to your app).",
            style="dim",
        )
    parts: list[RenderableType] = []
    for number, forward in enumerate(forwards, 1):
        if number > 1:
            parts.append(Text(""))
        parts.extend(_forward_parts(number, forward))
    return Group(*parts)


def _forward_parts(number: int, forward: Forward) -> list[RenderableType]:
    url = forward.url
    if not forward.url:  # an answer rule kept it from the app
        return [
            Text.assemble(
                (f"#{number}  ", "bold"),
                (forward.at[11:23], "dim"),
                "  ",
                literal(forward.error or "not forwarded", "bold yellow"),
            )
        ]
    if forward.status is None:
        verdict = literal(f"✗ {forward.error or 'no answer'}", "bold red")
    else:
        verdict = Text(str(forward.status), style="bold green" if forward.ok else "bold red")
    parts: list[RenderableType] = [
        Text.assemble(
            (f"#{number}  ", "bold"),
            (forward.at[11:23], "dim"),
            "  ",
            literal(url),
            "  ",
            verdict,
            (f"  {forward.elapsed_ms:.1f} ms", "dim"),
        )
    ]
    if forward.target and forward.target != forward.url:
        parts.append(literal(f"  rule: --forward-to {forward.target}", "dim"))
    if forward.status is None:
        return parts
    if forward.error:  # an answer came, with something to say about it
        parts.append(literal(f"  {forward.error}", "yellow"))
    if forward.response_headers:
        table = Table(box=None, show_header=False, pad_edge=False, expand=True)
        table.add_column("name", no_wrap=True, ratio=1, style="bold")
        table.add_column("value", ratio=4, overflow="fold")
        for name, value in forward.response_headers:
            table.add_row(literal(name), literal(value))
        parts.append(Text("  the app's answer:", style="dim"))
        parts.append(Padding(table, (0, 0, 0, 2)))
    parts.append(_forward_body(forward))
    return parts


def _forward_body(forward: Forward) -> RenderableType:
    body = forward.response_body
    size = f"{forward.response_size:,} bytes"
    if not body:
        return Text(f"(empty body: {size})", style="dim")
    shown = body[:FORWARD_BODY_SHOWN]
    cut = (
        f"… the first {len(shown):,} characters of {size} shown"
        if forward.response_size > len(body.encode("utf-8")) or len(body) > len(shown)
        else ""
    )
    parts: list[RenderableType] = [Text(f"  {size}:", style="dim")]
    try:
        parts.append(render_body(json.loads(body)).text)
    except ValueError:  # not JSON, or JSON cut short
        parts.append(literal(shown))
    if cut:
        parts.append(Text(cut, style="dim"))
    return Group(*parts)


def validation_options(capture: Capture, describe: Describe) -> list[Option]:
    options: list[Option] = []
    for index, problem in enumerate(capture.validation.errors):
        text = Text.assemble((printable(problem.path), "bold"), "  ", printable(problem.message))
        described = describe(capture.validation.schema, problem.path)
        if described:
            text.append(f"\n    {printable(described)}", style="dim")
        options.append(Option(text, id=f"error-{index}"))
    for warning in capture.warnings:
        options.append(Option(literal(f"warning: {warning}", "yellow"), disabled=True))
    return options


def validation_heading(capture: Capture) -> Text:
    status = capture.validation.status
    schema = capture.validation.schema or "no schema"
    lines = {
        "valid": (f"valid against {schema}", "bold green"),
        "invalid": (
            f"invalid against {schema}: {len(capture.validation.errors)} problem(s); "
            "Enter on one shows it in the body",
            "bold red",
        ),
        "no-schema": (f"no schema for this event; the envelope ({schema}) holds", "bold yellow"),
        "not-json": ("the body is not JSON", "bold red"),
        "form": (
            "a form body: its fields are in Body; gateways send JSON, so it is not validated",
            "bold yellow",
        ),
        "too-large": (f"over a limit: answered {capture.answer.status}", "bold red"),
    }
    message, style = lines.get(status, (status, "bold"))
    return literal(message, style)


class DetailPane(Vertical):
    """Shows one capture; `show(capture)` fills every tab."""

    class ShowInBody(Message):
        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    def __init__(self, describe: Describe, redact: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.describe = describe
        self.redact = redact
        self.capture: Capture | None = None  # as received: replays and saves start here
        self.body_view: BodyView | None = None
        self.marked_line: int | None = None

    @property
    def active(self) -> str:
        return self.query_one(TabbedContent).active

    @active.setter
    def active(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    DEFAULT_CSS = """
    DetailPane > #capture-marks { display: none; height: auto; padding: 0 1; }
    DetailPane > #capture-marks.-shown { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="capture-marks")
        with TabbedContent():
            yield from self._panes()

    def _panes(self) -> ComposeResult:
        with TabPane("Body", id="body"), VerticalScroll(id="body-scroll"):
            yield Static("Select a capture.", id="body-text")
        with TabPane("Headers", id="headers"), VerticalScroll():
            yield Static(id="headers-text")
        with TabPane("Validation", id="validation"):
            yield Static(id="validation-heading")
            yield OptionList(id="validation-errors")
        with TabPane("Raw", id="raw"), VerticalScroll():
            yield Static(id="raw-text")
        with TabPane("Replays", id="replays"), VerticalScroll():
            yield Static(id="replays-text")
        with TabPane("Forwards", id="forwards"), VerticalScroll():
            yield Static(id="forwards-text")

    def on_mount(self) -> None:
        self.query_one(TabbedContent).hide_tab("forwards")

    def show_forwards_tab(self, shown: bool = True) -> None:
        """The Forwards tab in the tab row (it stays hidden while nothing was forwarded)."""
        tabs = self.query_one(TabbedContent)
        if shown:
            tabs.show_tab("forwards")
        elif tabs.active != "forwards":
            tabs.hide_tab("forwards")

    def show(self, capture: Capture | None, attempts: Iterable[Attempt] = ()) -> None:
        self.capture = capture
        self.marked_line = None
        line = self.query_one("#capture-marks", Static)
        if capture is None:
            line.update("")
            line.remove_class("-shown")
            self.body_view = None
            self.query_one("#body-text", Static).update("Select a capture.")
            for name in ("headers", "raw", "replays", "forwards"):
                self.query_one(f"#{name}-text", Static).update("")
            self.query_one("#validation-heading", Static).update("")
            self.query_one("#validation-errors", OptionList).clear_options()
            return
        shown = redacted(capture) if self.redact else capture
        marks = marks_line(capture, hidden=shown is not capture)
        line.update(marks or "")
        line.set_class(marks is not None, "-shown")
        if shown.is_json or shown.validation.status == "form":
            self.body_view = render_body(shown.body)
            self.query_one("#body-text", Static).update(self.body_view.text)
        else:
            self.body_view = None
            self.query_one("#body-text", Static).update(body_note(shown))
        self.query_one("#headers-text", Static).update(headers_table(shown, capture.size))
        self.query_one("#raw-text", Static).update(raw_dump(shown.raw))
        self.query_one("#validation-heading", Static).update(validation_heading(shown))
        errors = self.query_one("#validation-errors", OptionList)
        errors.clear_options()
        errors.add_options(validation_options(shown, self.describe))
        if shown.validation.errors:
            errors.highlighted = 0
        self.show_replays(attempts)
        self.query_one("#forwards-text", Static).update(
            forwards_text(shown.forwards)  # redacted with the capture, unless shown
        )
        if capture.forwards:
            self.show_forwards_tab()
        self.query_one("#body-scroll", VerticalScroll).scroll_home(animate=False)

    def show_replays(self, attempts: Iterable[Attempt]) -> None:
        self.query_one("#replays-text", Static).update(replays_text(attempts, self.redact))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if self.capture is None or event.option_id is None:
            return
        index = int(event.option_id.removeprefix("error-"))
        self.mark(self.capture.validation.errors[index].path)

    def mark(self, path: str) -> int | None:
        """Open the Body tab at the line where `path` is (or its nearest parent), marked."""
        if self.body_view is None:
            return None
        line = line_of(self.body_view, path)
        if line is None:
            return None
        self.marked_line = line
        text = self.body_view.text.copy()
        start = sum(len(part) + 1 for part in text.plain.split("\n")[:line])
        end = text.plain.find("\n", start)
        text.stylize("reverse", start, end if end >= 0 else len(text.plain))
        self.query_one("#body-text", Static).update(text)
        self.active = "body"
        scroll = self.query_one("#body-scroll", VerticalScroll)
        scroll.focus()  # the error list just went out of sight; arrows now scroll the body
        self.call_after_refresh(scroll.scroll_to, y=max(0, line - 3), animate=False)
        return line
