"""The inspector: a live list of captures over a detail pane, attached to a server by URL.

Everything it knows comes from the server's HTTP API and SSE stream (hookcatcher.remote), so it
attaches the same way to the server it started itself and to one running elsewhere. Filtering
is done by the server (the one filter implementation); the app keeps only list rows, a small
cache of whole captures, and the replay attempts made from this window.
Secrets are hidden (redact.py) in the detail tabs and in what leaves the window by copy, save
or export, until `h` shows them; replays and deliveries always send the real bytes.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, OptionList, Static, TabbedContent

from hookcatcher.core import qr
from hookcatcher.core.capture import Capture
from hookcatcher.core.jsonpath import field_key
from hookcatcher.core.messages import EVENTS as CONVERSATION_EVENTS
from hookcatcher.core.summary import app_status
from hookcatcher.remote import (
    GONE_AFTER,
    Arrived,
    FilterProblem,
    Listing,
    Lost,
    Notice,
    Remote,
    RemoteError,
    Restarted,
    StateChanged,
    StreamEvent,
    collector_paused,
)
from hookcatcher.send.outgoing import Attempt
from hookcatcher.tui.base import InspectorBase
from hookcatcher.tui.bindings import bindings, palette_entries
from hookcatcher.tui.capture_list import COLUMNS, CaptureList, Row
from hookcatcher.tui.conversation_screen import ConversationScreen
from hookcatcher.tui.detail import TABS, DetailPane
from hookcatcher.tui.filter_bar import FilterBar
from hookcatcher.tui.help_screen import HelpScreen
from hookcatcher.tui.qr_screen import QrScreen
from hookcatcher.tui.replay_actions import ReplayActions
from hookcatcher.tui.save_actions import SaveActions
from hookcatcher.tui.settings import Settings
from hookcatcher.tui.text import printable
from hookcatcher.tui.whatsapp_views import WhatsAppViews

__all__ = ["InspectorApp"]

FLUSH_EVERY = 0.1  # seconds: arrivals are drawn in batches, so 1,000/s cost 10 redraws
DETAIL_EVERY = 0.3  # seconds: the detail pane follows new arrivals at most this often


class StatusLine(Widget):
    """The counters and the connection state on one line. Redrawn in place, never laid
    out again: it changes with every batch of arrivals."""

    DEFAULT_CSS = "StatusLine { height: 1; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = Text()

    def show(self, text: Text) -> None:
        self.text = text
        self.refresh()

    def render(self) -> Text:
        return self.text


class InspectorApp(FilterBar, ReplayActions, SaveActions, WhatsAppViews, InspectorBase):
    """The main screen (status line, filter bar, list over detail pane, footer) wired to the
    server connection, and every key's action; the features' work is in the mixins."""

    TITLE = "hookcatcher"
    BINDINGS: ClassVar[list[BindingType]] = [*bindings()]
    CSS = """
    #status { height: 1; background: $primary-background; color: $text; padding: 0 1; }
    #filter-row { height: auto; }
    #filter { border: none; height: 1; padding: 0 1; background: $boost; }
    #filter.-bad { background: $error 30%; }
    #filter-error { height: auto; color: $error; padding: 0 1; display: none; }
    #filter-error.-shown { display: block; }
    CaptureList { height: 2fr; min-height: 5; }
    DetailPane { height: 3fr; }
    """

    def __init__(
        self,
        url: str,
        *,
        label: str | None = None,
        filter_text: str = "",
        save_dir: Path | None = None,
        config_dir: Path | None = None,
        redact: bool = True,
        token: str | None = None,
    ) -> None:
        super().__init__()
        self.redact = redact
        self.url = url.rstrip("/")
        self.label = label or self.url.removeprefix("http://")
        self.connection = Remote(self.url, token=token)
        self.filter_text = filter_text.strip()
        self.save_dir = save_dir or Path.cwd() / "captured-fixtures"
        self.config_dir = config_dir
        self.settings, settings_problem = Settings.load(config_dir)
        self._startup_notes = [settings_problem] if settings_problem else []
        self.state = "connecting"
        self.state_detail = ""
        self.run_id: str | None = None
        self.last_id = 0
        self.stats: dict[str, Any] = {}
        self.catalog: dict[str, Any] = {}
        self.attempts: dict[int, list[Attempt]] = {}
        self.cache: OrderedDict[int, Capture] = OrderedDict()
        self.loaded = asyncio.Event()  # the first listing is on screen
        self._pending: list[Arrived] = []
        self._flush_scheduled = False
        self._detail_due = False

    # -- layout

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Vertical(id="filter-row"):
            yield Input(
                self.filter_text,
                placeholder="/ filter: event:messages.* valid:no "
                'instance:sales data.key.fromMe:true "text"',
                id="filter",
            )
            yield Static(id="filter-error")
        yield CaptureList(id="list")
        yield DetailPane(self.describe, redact=self.redact, id="detail")
        yield Footer()

    def on_mount(self) -> None:
        for note in self._startup_notes:
            self.notify(note, severity="warning")
        self.capture_list.focus()
        self._draw_status()
        self.start()
        self.set_interval(1.0, self.poll_stats)

    async def on_unmount(self) -> None:
        await self.connection.close()

    # -- talking to the server

    @work(group="list", exclusive=True)
    async def start(self) -> None:
        """Load the list for the current filter (waiting for the server if need be), then
        follow the stream from exactly where the list ended."""
        failing_since: float | None = None
        while True:
            try:
                listing = await self.connection.listing(self.filter_text)
                break
            except FilterProblem as problem:
                self._show_filter_error(problem)
                self.filter_text = ""
            except RemoteError as exc:
                failing_since = failing_since or time.monotonic()
                gone = time.monotonic() - failing_since >= GONE_AFTER
                self._set_state("gone" if gone else "reconnecting", str(exc))
                await asyncio.sleep(0.5)
        if not self.catalog:
            with suppress(RemoteError):  # descriptions are a help, not a need
                self.catalog = await self.connection.catalog()
        self._take_listing(listing)
        await self.poll_stats()

    def _take_listing(self, listing: Listing, keep: int | None = None) -> None:
        if self.run_id is not None and listing.run != self.run_id:
            self.cache.clear()
            self.attempts.clear()
        self.run_id = listing.run
        self.last_id = listing.last_id
        self._pending.clear()
        with collector_paused():
            rows = [Row.from_summary(item) for item in listing.rows]
        self.capture_list.set_rows(rows, keep)
        if self.forwarding:
            self.detail.show_forwards_tab()
        self._draw_status()
        self.loaded.set()
        self._follow()

    def _follow(self) -> None:
        """The stream from the listing's last id; `exclusive` ends the previous one."""
        self.run_worker(
            self.connection.follow(
                self.filter_text, self.last_id, self.run_id or "", self._on_stream
            ),
            group="stream",
            exclusive=True,
        )

    def _on_stream(self, event: StreamEvent) -> None:
        if isinstance(event, Arrived):
            self._pending.append(event)
            self.last_id = max(self.last_id, event.row["id"])
            if not self._flush_scheduled:
                self._flush_scheduled = True
                self.set_timer(FLUSH_EVERY, self._flush_arrivals)
        elif isinstance(event, StateChanged):
            self._set_state(event.state, event.detail)
        elif isinstance(event, Restarted):
            self.notify(
                "The server restarted (a new run): the list now shows its captures; "
                "those of the previous run are gone with it.",
                severity="warning",
            )
            self._set_state("reconnecting", "server restarted")
            self.start()
        elif isinstance(event, Lost):
            self.notify(event.message, severity="warning", timeout=10)
        elif isinstance(event, Notice):
            self.notify(event.message)

    def _flush_arrivals(self) -> None:
        self._flush_scheduled = False
        arrived, self._pending = self._pending, []
        known = self.capture_list.rows[-1].id if self.capture_list.rows else 0
        rows = [Row.from_summary(item.row) for item in arrived if item.row["id"] > known]
        if not rows:
            return
        self.capture_list.extend(rows)
        self._draw_status()
        screen = self.screen
        if isinstance(screen, QrScreen):
            wanted = [row for row in rows if qr.may_carry(row.provider, row.event)]
        elif isinstance(screen, ConversationScreen):
            wanted = [row for row in rows if (row.provider, row.event) in CONVERSATION_EVENTS]
        else:
            return
        if wanted:
            self.offer_to_screen(screen, wanted)

    async def poll_stats(self) -> None:
        if self.state not in ("connected", "connecting"):
            return
        try:
            self.stats = await self.connection.stats()
        except RemoteError:
            return
        self._draw_status()

    def _set_state(self, state: str, detail: str) -> None:
        if (state, detail) != (self.state, self.state_detail):
            self.state, self.state_detail = state, detail
            self._draw_status()

    def _draw_status(self) -> None:
        try:
            status = self.query_one(StatusLine)
        except NoMatches:  # a message that arrives while the app shuts down
            return
        marks = {
            "connected": ("●", "green"),
            "reconnecting": ("◌", "yellow"),
            "gone": ("✗", "red"),
            "connecting": ("◌", "yellow"),
        }
        mark, colour = marks.get(self.state, ("?", "white"))
        stats = self.stats
        text = Text.assemble(
            ("hookcatcher ", "bold"),
            (printable(self.label, one_line=True), "bold cyan"),
            "  ",
            (f"{mark} {self.state}", f"bold {colour}"),
            (
                f" ({printable(self.state_detail, one_line=True)})"
                if self.state in ("reconnecting", "gone")
                else "",
                colour,
            ),
            "   received ",
            (f"{stats.get('received', 0):,}", "bold"),
            "  shown ",
            (f"{len(self.capture_list.rows):,}", "bold"),
            "  invalid ",
            (f"{stats.get('invalid', 0):,}", "bold red" if stats.get("invalid") else "bold"),
            "  evicted ",
            (f"{stats.get('evicted', 0):,}", "bold"),
            "   ",
            (
                "follow ▼" if self.capture_list.follow else "paused ‖ (f follows)",
                "green" if self.capture_list.follow else "yellow",
            ),
            ("" if self.redact else "   secrets shown (h hides)", "bold red"),
        )
        status.show(text)

    def describe(self, schema: str | None, path: str) -> str | None:
        if not schema:
            return None
        fields = self.catalog.get("schemas", {}).get(schema, {}).get("fields", {})
        described: str | None = fields.get(field_key(path))
        return described

    # -- the list and the detail pane

    def on_capture_list_highlighted(self, message: CaptureList.Highlighted) -> None:
        """A selection the user made shows at once; one follow mode made for a new arrival
        waits up to DETAIL_EVERY, so a burst of captures redraws the detail pane a few times
        a second instead of once per batch."""
        if message.by_user:
            self._detail_due = False
            self.show_detail(message.row)
        elif not self._detail_due:
            self._detail_due = True
            self.set_timer(DETAIL_EVERY, self._show_followed)

    def _show_followed(self) -> None:
        if self._detail_due:
            self._detail_due = False
            try:
                selected = self.capture_list.selected
            except NoMatches:  # the timer fired while the app shuts down: nothing to show
                return
            self.show_detail(selected)

    def on_capture_list_follow_changed(self, message: CaptureList.FollowChanged) -> None:
        self._draw_status()

    @property
    def forwarding(self) -> bool:
        """The server is known to forward (`--forward-to`): a shown capture was delivered."""
        return self.capture_list.columns is not COLUMNS

    @work(group="detail", exclusive=True)
    async def show_detail(self, row: Row | None, again: bool = False) -> None:
        """`again`: fetch the capture anew when it has no deliveries yet (the Forwards tab
        was opened), as is done on every selection once the server is known to forward."""
        if row is None:
            self.detail.show(None)
            return
        try:
            capture = await self.whole_capture(row.id)
            if not capture.forwards and (again or self.forwarding):
                # The stream sends a capture's row before its forwarding is done, and the
                # cache may hold it from then: the server's copy has the deliveries since.
                capture = await self.connection.capture(row.id)
                self._remember(capture)
        except RemoteError as exc:
            self.detail.show(None)
            self.notify(str(exc), severity="warning")
            return
        if capture.forwards:
            self.capture_list.update_app(row.id, app_status(capture))
        if self.capture_list.selected is row:
            self.detail.show(capture, self.attempts.get(row.id, ()))
            if self.forwarding:
                self.detail.show_forwards_tab()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notice, the windows' too, is shown as written: notices carry URLs, server
        errors, file names and reasons taken from captures, so `markup` is ignored (never
        read) and terminal controls are drawn, not sent."""
        super().notify(
            printable(message),
            title=printable(title, one_line=True),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def action_follow(self) -> None:
        self.capture_list.set_follow(True)
        self._draw_status()

    def action_tab(self, name: str) -> None:
        if name == "forwards":
            self.detail.show_forwards_tab()
            self.show_detail(self.capture_list.selected, again=True)
        if name in TABS:
            self.detail.active = name
        errors = self.detail.query_one("#validation-errors", OptionList)
        if name == "validation" and errors.option_count:
            errors.focus()  # Enter on an error shows it in the body, no Tab needed

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """The Forwards tab opened by mouse too: its capture fetched anew when need be."""
        if event.pane.id == "forwards":
            self.show_detail(self.capture_list.selected, again=True)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # -- the other keys' actions (bindings.py): the app's own, the work done by the feature
    # mixins (filter_bar.py, replay_actions.py, save_actions.py, whatsapp_views.py)

    async def action_replay(self) -> None:
        await self.ask_replay()

    async def action_replay_all(self) -> None:
        await self.ask_replay_all()

    async def action_deliver(self) -> None:
        await self.ask_deliver()

    def action_set_target(self) -> None:
        self.ask_target()

    async def action_save_fixture(self) -> None:
        await self.save_fixture()

    async def action_copy_curl(self) -> None:
        await self.copy_curl()

    async def action_copy_body(self) -> None:
        await self.copy_body()

    def action_export_har(self) -> None:
        self.export_har()

    def action_toggle_redact(self) -> None:
        self.toggle_redact()

    async def action_show_qr(self) -> None:
        await self.show_qr()

    async def action_show_conversations(self) -> None:
        await self.show_conversations()

    def action_back_to_list(self) -> None:
        self.back_to_list()

    def action_focus_filter(self) -> None:
        self.focus_filter()

    def action_toggle_invalid(self) -> None:
        self.toggle_invalid()

    def action_toggle_event(self) -> None:
        self.toggle_event()

    def action_toggle_instance(self) -> None:
        self.toggle_instance()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key in palette_entries():
            yield SystemCommand(
                f"{key.label} ({key.shown_keys})",
                key.help,
                lambda action=key.action: self.run_action(action),
            )
