"""The QR window: the linking code of a qrcode.updated (or Whapi channel QR) capture, drawn
in the terminal so a phone can scan it.

Gateways rotate the code every 20 to 60 seconds; while the window is open it switches to the
newest QR that arrives, so the code on screen is the one the phone will accept.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from hookcatcher.core import qr
from hookcatcher.core.capture import Capture
from hookcatcher.tui.text import literal

__all__ = ["QrScreen", "qr_text"]


def qr_text(capture: Capture | None) -> tuple[Text, Text]:
    """The drawing and the caption for a capture (or why there is nothing to draw)."""
    if capture is None:
        return Text(""), Text(
            "No QR code among the captures yet: it arrives as qrcode.updated "
            "(Evolution, CodeChat) or a channel QR (Whapi) while an instance "
            "is being linked.",
            style="yellow",
        )
    found = qr.find(capture)
    if found is None:
        return Text(""), literal(qr.explain(capture), "yellow")
    drawing = Text("\n".join(qr.render(found.text)), no_wrap=True)
    parts = [
        f"capture #{capture.id}  {capture.provider} {capture.event or ''}"
        f"{'  instance ' + found.instance if found.instance else ''}"
    ]
    if found.count is not None:
        parts.append(f"code number {found.count}")
    if found.expires:
        parts.append(found.expires)
    if found.pairing_code:
        parts.append(f"pairing code {found.pairing_code}")
    caption = literal(
        "  ·  ".join(parts) + "\nScan with WhatsApp → Linked devices → Link a "
        "device. The newest QR replaces this one as it arrives.",
        "dim",
    )
    return drawing, caption


class QrScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,Q", "dismiss", "Close")]
    DEFAULT_CSS = """
    QrScreen { align: center middle; }
    QrScreen > Vertical { width: auto; min-width: 60; max-width: 116; height: auto;
        border: round $accent; background: black; padding: 0 1; }
    QrScreen #qr-drawing { width: auto; color: white; background: black; }
    QrScreen #qr-caption { width: 100%; max-width: 112; }
    """

    def __init__(self, capture: Capture | None) -> None:
        super().__init__()
        self.capture = capture

    def compose(self) -> ComposeResult:
        drawing, caption = qr_text(self.capture)
        with Vertical():
            with Center():
                yield Static(drawing, id="qr-drawing")
            yield Static(caption, id="qr-caption")

    def offer(self, capture: Capture) -> None:
        """A new capture arrived: show it if it carries a QR code."""
        if qr.find(capture) is None:
            return
        self.capture = capture
        drawing, caption = qr_text(capture)
        self.query_one("#qr-drawing", Static).update(drawing)
        self.query_one("#qr-caption", Static).update(caption)
