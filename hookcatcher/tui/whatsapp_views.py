"""The WhatsApp windows opened from the inspector: the newest QR code to scan (`Q`) and the
chats the shown captures are about (`c`), fed with new captures while open.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.screen import Screen

from hookcatcher.core import qr
from hookcatcher.core.capture import Capture
from hookcatcher.core.messages import EVENTS as CONVERSATION_EVENTS
from hookcatcher.remote import RemoteError
from hookcatcher.tui.base import InspectorBase
from hookcatcher.tui.capture_list import Row
from hookcatcher.tui.conversation_screen import ConversationScreen
from hookcatcher.tui.filter_bar import quoted
from hookcatcher.tui.qr_screen import QrScreen

__all__ = ["WhatsAppViews"]


class WhatsAppViews(InspectorBase):
    """The QR and conversation windows' actions, mixed into `InspectorApp`."""

    @work(group="offer")
    async def offer_to_screen(self, screen: Screen[Any], rows: list[Row]) -> None:
        """Whole captures for the open QR or conversation window, fetched as they arrive."""
        captures = []
        for row in rows:
            try:
                captures.append(await self.whole_capture(row.id))
            except RemoteError:
                continue  # evicted already: nothing to show
        if isinstance(screen, QrScreen):
            for capture in captures:
                screen.offer(capture)
        elif isinstance(screen, ConversationScreen) and screen.is_attached:
            screen.offer(captures)

    async def show_qr(self) -> None:
        self.push_screen(QrScreen(await self.newest_qr()))

    async def newest_qr(self) -> Capture | None:
        """The selected capture if it carries a QR code, else the newest one that does."""
        selected = self.capture_list.selected
        rows = list(reversed(self.capture_list.rows))
        if selected is not None:
            rows.insert(0, selected)
        tried = 0
        for row in rows:
            if not qr.may_carry(row.provider, row.event):
                continue
            try:
                capture = await self.whole_capture(row.id)
            except RemoteError:
                continue
            if qr.find(capture) is not None or row is selected:
                return capture
            tried += 1
            if tried >= 50:
                break
        return None

    async def show_conversations(self) -> None:
        captures: list[Capture] = []
        for provider, event in CONVERSATION_EVENTS:
            query = f"{self.filter_text} provider:{provider} event:{quoted(event)}".strip()
            after = 0
            while True:
                try:
                    page = await self.connection.page(query, after, limit=500)
                except RemoteError as exc:
                    self.notify(str(exc), severity="error")
                    return
                captures.extend(page.captures)
                if not page.more or not page.captures:
                    break
                after = page.captures[-1].id
        captures.sort(key=lambda capture: capture.id)
        self.push_screen(ConversationScreen(captures, self.filter_text))
