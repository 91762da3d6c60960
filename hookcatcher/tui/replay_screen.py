"""The replay window: where to send, how to build the URL, and the body to send.

The body is sent byte for byte as received unless the user edits it, here or in $EDITOR;
the line under the URL always shows the request that will actually go out. While the
inspector hides secrets, the window does too (the URL's query, a body holding any): such a
body is shown redacted and not edited here, since an edit could not put the secrets back.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from hookcatcher.core.capture import Capture
from hookcatcher.core.redact import redacted
from hookcatcher.core.secrets import MARKER, redacted_text
from hookcatcher.send.outgoing import ReplayError, check_target, request_for
from hookcatcher.tui.text import literal, printable

__all__ = ["ReplayScreen", "ReplayChoice", "TargetScreen"]


@dataclass(frozen=True, slots=True)
class ReplayChoice:
    target: str
    by_events: bool
    content: bytes | None  # None: the body exactly as received


class ReplayScreen(ModalScreen[ReplayChoice | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "send", "Send"),
        Binding("ctrl+o", "external_editor", "Edit in $EDITOR"),
    ]
    DEFAULT_CSS = """
    ReplayScreen { align: center middle; }
    ReplayScreen > Vertical { width: 110; height: 34; border: round $accent;
        background: $panel; padding: 0 1; }
    ReplayScreen #replay-preview { color: $text-muted; height: 2; }
    ReplayScreen TextArea { height: 1fr; }
    ReplayScreen Horizontal { height: auto; }
    ReplayScreen #replay-error { color: $error; height: auto; }
    """

    def __init__(self, capture: Capture, target: str, by_events: bool, bodies: int = 1) -> None:
        super().__init__()
        self.capture = capture
        self.target = target
        self.by_events = by_events
        self.bodies = bodies  # more than one: "replay all shown", no body editing
        self.original: str | None = None  # the body as text to edit, when it can be edited
        self.fixed = ""  # else why it is sent as received
        self.shown = ""  # and what the body area shows instead
        try:
            text = capture.raw.decode("utf-8")
        except UnicodeDecodeError:
            self.fixed = "Body is not UTF-8 text: it is sent as received."
        else:
            if _editable(text):
                self.original = text
            else:
                self.fixed = (
                    "Body holds control characters (drawn as ␛ and the like): it is "
                    "sent as received."
                )
                self.shown = printable(text)

    def compose(self) -> ComposeResult:
        self._hide_secret_body()
        what = (
            f"Replay capture #{self.capture.id} ({self.capture.provider} "
            f"{self.capture.event or 'unknown event'})"
            if self.bodies == 1
            else f"Replay the {self.bodies} captures shown, oldest first"
        )
        with Vertical():
            yield Label(literal(self._shown(what)), classes="title", id="replay-title")
            yield Input(
                self.target, placeholder="http://127.0.0.1:3000/webhook", id="replay-target"
            )
            yield Checkbox(
                "per-event URL (the gateway's by-events rule)",
                self.by_events,
                id="replay-by-events",
            )
            yield Static(id="replay-preview")
            yield Static(id="replay-error")
            if self.bodies == 1:
                editable = self.original is not None
                yield Label(
                    "Body (sent exactly as received unless you change it):"
                    if editable
                    else self.fixed,
                    id="replay-body-label",
                )
                yield TextArea(
                    self.original if self.original is not None else self.shown,
                    id="replay-body",
                    read_only=not editable,
                    show_line_numbers=True,
                )
            with Horizontal():
                yield Button("Send (Ctrl+S)", id="replay-send", variant="primary")
                if self.bodies == 1 and self.original is not None:
                    yield Button("Edit in $EDITOR (Ctrl+O)", id="replay-editor")
                yield Button("Cancel (Esc)", id="replay-cancel")

    def on_mount(self) -> None:
        self._preview()
        self.query_one("#replay-target", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._preview()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._preview()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "replay-send":
            self.action_send()
        elif event.button.id == "replay-editor":
            self.action_external_editor()
        else:
            self.dismiss(None)

    def _target(self) -> str:
        return self.query_one("#replay-target", Input).value.strip()

    def _by_events(self) -> bool:
        return self.query_one("#replay-by-events", Checkbox).value

    def _preview(self) -> bool:
        """Show the request that will go out; False (with the reason shown) if none can."""
        preview = self.query_one("#replay-preview", Static)
        error = self.query_one("#replay-error", Static)
        target = self._target()
        if not target:
            preview.update("")
            error.update("Where to? Type your app's webhook URL.")
            return False
        try:
            outgoing = request_for(self.capture, target, self._by_events())
        except ReplayError as exc:
            preview.update("")
            error.update(literal(str(exc)))
            return False
        error.update("")
        note = f"\n{outgoing.note}" if outgoing.note else ""
        more = f" (and {self.bodies - 1} more, each by its own rule)" if self.bodies > 1 else ""
        preview.update(literal(self._shown(f"→ {outgoing.method} {outgoing.url}{more}{note}")))
        return True

    def _redacting(self) -> bool:
        return getattr(self.app, "redact", True)

    def _shown(self, text: str) -> str:
        return redacted_text(text) if self._redacting() else text

    def _hide_secret_body(self) -> None:
        """A body with secrets in it, while the inspector hides them: shown redacted and
        read-only, and sent exactly as received."""
        if self.bodies != 1 or self.original is None or not self._redacting():
            return
        raw = redacted(self.capture).raw
        if raw == self.capture.raw:
            return
        self.original = None
        self.fixed = (
            f"Body (secrets hidden as {MARKER}): it is sent exactly as received. "
            "To edit it, press Esc, h to show secrets, then r."
        )
        self.shown = printable(raw.decode("utf-8", "replace"))

    def _content(self) -> bytes | None:
        if self.bodies != 1 or self.original is None:
            return None
        text = self.query_one("#replay-body", TextArea).text
        return None if text == self.original else text.encode("utf-8")

    def action_send(self) -> None:
        if self._preview():
            self.dismiss(ReplayChoice(self._target(), self._by_events(), self._content()))

    def action_external_editor(self) -> None:
        """Open the body in $EDITOR (or $VISUAL), then load what was saved."""
        if self.bodies != 1 or self.original is None:
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        area = self.query_one("#replay-body", TextArea)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"capture-{self.capture.id}.json"
            path.write_text(area.text, encoding="utf-8")
            try:
                with self.app.suspend():
                    result = subprocess.run([*shlex.split(editor), str(path)], check=False)
            except (SuspendNotSupported, OSError) as exc:  # headless, or no such editor
                self.notify(f"could not run {editor!r}: {exc}", severity="error")
                return
            if result.returncode != 0:
                self.notify(
                    f"{editor} exited with {result.returncode}; body unchanged", severity="warning"
                )
                return
            area.text = path.read_text(encoding="utf-8")


def _editable(text: str) -> bool:
    """Whether a body can be edited in the window: the editor sends a control character to
    the terminal as it is, so only line ends and tabs may be among them."""
    lines = text.replace("\r", "")
    return printable(lines) == lines


class TargetScreen(ModalScreen[str | None]):
    """Set the replay target without sending anything; checked the way a replay would be."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    TargetScreen { align: center middle; }
    TargetScreen > Vertical { width: 90; height: auto; border: round $accent;
        background: $panel; padding: 0 1; }
    TargetScreen #target-error { color: $error; height: auto; }
    """

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Where replays go (your app's webhook URL); Enter keeps it, Esc cancels")
            yield Input(self.target, placeholder="http://127.0.0.1:3000/webhook", id="target")
            yield Static(id="target-error")

    def on_mount(self) -> None:
        self.query_one("#target", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        target = event.value.strip()
        try:
            check_target(target)
        except ReplayError as exc:
            self.query_one("#target-error", Static).update(literal(str(exc)))
            return
        self.dismiss(target)
