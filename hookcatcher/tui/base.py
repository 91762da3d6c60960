"""What the inspector's feature mixins share: the app's state and the captures they act on.

`InspectorApp` (app.py) is put together from one mixin per feature (filter_bar.py,
replay_actions.py, save_actions.py, whatsapp_views.py). Each mixin is typed against this base
rather than the app, which imports them: the state it reads is declared here (the app sets it
in `__init__`), and so are the few app methods a feature calls back.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from textual.app import App

from hookcatcher.core.capture import Capture
from hookcatcher.remote import Listing, Remote, RemoteError
from hookcatcher.send.outgoing import Attempt
from hookcatcher.tui.capture_list import CaptureList
from hookcatcher.tui.detail import DetailPane
from hookcatcher.tui.settings import Settings

__all__ = ["CACHE", "InspectorBase"]

CACHE = 512  # whole captures kept for the detail pane


class InspectorBase(App[None]):
    """The inspector's state and the captures every feature works on."""

    redact: bool
    url: str
    connection: Remote
    filter_text: str
    save_dir: Path
    config_dir: Path | None
    settings: Settings
    attempts: dict[int, list[Attempt]]
    cache: OrderedDict[int, Capture]

    @property
    def capture_list(self) -> CaptureList:
        return self.query_one(CaptureList)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    def _remember(self, capture: Capture) -> None:
        self.cache[capture.id] = capture
        self.cache.move_to_end(capture.id)
        while len(self.cache) > CACHE:
            self.cache.popitem(last=False)

    async def whole_capture(self, capture_id: int) -> Capture:
        """The capture with its exact bytes, from the cache or the server."""
        if capture_id in self.cache:
            self.cache.move_to_end(capture_id)
            return self.cache[capture_id]
        capture = await self.connection.capture(capture_id)
        self._remember(capture)
        return capture

    async def selected_capture(self) -> Capture | None:
        row = self.capture_list.selected
        if row is None:
            self.notify("No capture selected.", severity="warning")
            return None
        try:
            return await self.whole_capture(row.id)
        except RemoteError as exc:
            self.notify(str(exc), severity="error")
            return None

    def _draw_status(self) -> None:
        """The status line drawn again (the app draws it)."""
        raise NotImplementedError

    def _take_listing(self, listing: Listing, keep: int | None = None) -> None:
        """A new listing on screen, the stream followed from its end (the app does it)."""
        raise NotImplementedError
