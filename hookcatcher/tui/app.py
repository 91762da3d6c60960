"""The inspector: a live list of captures over a detail pane, attached to a server by URL.

Everything it knows comes from the server's HTTP API and SSE stream (connection.py), so it
attaches the same way to the server it started itself and to one running elsewhere. Filtering
is done by the server (the one filter implementation); the app keeps only list rows, a small
cache of whole captures, and the replay attempts made from this window.
Secrets are hidden (redact.py) in the detail tabs and in what leaves the window by copy, save
or export, until `h` shows them; replays and deliveries always send the real bytes.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import time
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, OptionList, Static

from hookcatcher.core import qr
from hookcatcher.core.capture import Capture
from hookcatcher.core.jsonpath import field_key
from hookcatcher.core.messages import EVENTS as CONVERSATION_EVENTS
from hookcatcher.core.redact import redacted
from hookcatcher.files import fixtures
from hookcatcher.files.write import write_new
from hookcatcher.send import export
from hookcatcher.send.outgoing import Attempt, ReplayError, curl, make_client, request_for, send
from hookcatcher.send.webhook import Instance, plan
from hookcatcher.tui.bindings import bindings, palette_entries
from hookcatcher.tui.capture_list import CaptureList, Row
from hookcatcher.tui.connection import (
    GONE_AFTER,
    Arrived,
    FilterProblem,
    Listing,
    Lost,
    Notice,
    Restarted,
    ServerConnection,
    ServerError,
    StateChanged,
    StreamEvent,
    collector_paused,
)
from hookcatcher.tui.conversation_screen import ConversationScreen
from hookcatcher.tui.detail import TABS, DetailPane
from hookcatcher.tui.help_screen import HelpScreen
from hookcatcher.tui.instance_screen import InstanceScreen, hidden_secrets
from hookcatcher.tui.qr_screen import QrScreen
from hookcatcher.tui.replay_screen import ReplayChoice, ReplayScreen, TargetScreen
from hookcatcher.tui.settings import Settings
from hookcatcher.tui.text import literal, printable, replace_controls

__all__ = ["InspectorApp"]

CACHE = 512  # whole captures kept for the detail pane
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


class InspectorApp(App[None]):
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
        self.connection = ServerConnection(self.url, token=token)
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

    @property
    def capture_list(self) -> CaptureList:
        return self.query_one(CaptureList)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

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
            except ServerError as exc:
                failing_since = failing_since or time.monotonic()
                gone = time.monotonic() - failing_since >= GONE_AFTER
                self._set_state("gone" if gone else "reconnecting", str(exc))
                await asyncio.sleep(0.5)
        if not self.catalog:
            with suppress(ServerError):  # descriptions are a help, not a need
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

    @work(group="offer")
    async def offer_to_screen(self, screen: Screen[Any], rows: list[Row]) -> None:
        """Whole captures for the open QR or conversation window, fetched as they arrive."""
        captures = []
        for row in rows:
            try:
                captures.append(await self.whole_capture(row.id))
            except ServerError:
                continue  # evicted already: nothing to show
        if isinstance(screen, QrScreen):
            for capture in captures:
                screen.offer(capture)
        elif isinstance(screen, ConversationScreen) and screen.is_attached:
            screen.offer(captures)

    async def poll_stats(self) -> None:
        if self.state not in ("connected", "connecting"):
            return
        try:
            self.stats = await self.connection.stats()
        except ServerError:
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

    @work(group="detail", exclusive=True)
    async def show_detail(self, row: Row | None) -> None:
        if row is None:
            self.detail.show(None)
            return
        try:
            capture = await self.whole_capture(row.id)
        except ServerError as exc:
            self.detail.show(None)
            self.notify(str(exc), severity="warning")
            return
        if self.capture_list.selected is row:
            self.detail.show(capture, self.attempts.get(row.id, ()))

    async def selected_capture(self) -> Capture | None:
        row = self.capture_list.selected
        if row is None:
            self.notify("No capture selected.", severity="warning")
            return None
        try:
            return await self.whole_capture(row.id)
        except ServerError as exc:
            self.notify(str(exc), severity="error")
            return None

    # -- filtering

    def on_input_submitted(self, message: Input.Submitted) -> None:
        if message.input.id == "filter":
            self.apply_filter(message.value)
            self.capture_list.focus()

    def on_input_changed(self, message: Input.Changed) -> None:
        if message.input.id == "filter":
            self._clear_filter_error()

    @work(group="list", exclusive=True)
    async def apply_filter(self, text: str) -> None:
        text = text.strip()
        try:
            listing = await self.connection.listing(text)
        except FilterProblem as problem:
            self._show_filter_error(problem)
            return
        except ServerError as exc:
            self.notify(str(exc), severity="error")
            return
        self.filter_text = text
        self.query_one("#filter", Input).value = text
        self._clear_filter_error()
        selected = self.capture_list.selected
        self._take_listing(listing, keep=selected.id if selected else None)

    def _show_filter_error(self, problem: FilterProblem) -> None:
        self.query_one("#filter", Input).add_class("-bad")
        error = self.query_one("#filter-error", Static)
        error.update(literal(f"✗ {problem}  (the list still shows the previous filter)"))
        error.add_class("-shown")

    def _clear_filter_error(self) -> None:
        self.query_one("#filter", Input).remove_class("-bad")
        self.query_one("#filter-error", Static).remove_class("-shown")

    def action_back_to_list(self) -> None:
        bar = self.query_one("#filter", Input)
        if bar.has_focus:
            bar.value = self.filter_text
            self._clear_filter_error()
        self.capture_list.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

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

    def _toggle(self, prefix: str, term: str | None) -> None:
        """Add `term` to the filter, or remove every `prefix` term already there."""
        terms = shlex.split(self.filter_text) if self.filter_text else []
        kept = [t for t in terms if not t.startswith(prefix)]
        if len(kept) == len(terms):
            if term is None:
                return
            kept.append(term)
        self.apply_filter(" ".join(_quoted(t) for t in kept))

    def action_toggle_invalid(self) -> None:
        self._toggle("valid:", "valid:no")

    def action_toggle_event(self) -> None:
        row = self.capture_list.selected
        self._toggle("event:", f"event:{_typable(row.event)}" if row and row.event != "-" else None)

    def action_toggle_instance(self) -> None:
        row = self.capture_list.selected
        self._toggle(
            "instance:",
            f"instance:{_typable(row.instance)}" if row and row.instance != "-" else None,
        )

    def action_follow(self) -> None:
        self.capture_list.set_follow(True)
        self._draw_status()

    def action_tab(self, name: str) -> None:
        if name in TABS:
            self.detail.active = name
        errors = self.detail.query_one("#validation-errors", OptionList)
        if name == "validation" and errors.option_count:
            errors.focus()  # Enter on an error shows it in the body, no Tab needed

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key in palette_entries():
            yield SystemCommand(
                f"{key.label} ({key.shown_keys})",
                key.help,
                lambda action=key.action: self.run_action(action),
            )

    # -- replay

    async def action_replay(self) -> None:
        capture = await self.selected_capture()
        if capture is None:
            return

        def chosen(choice: ReplayChoice | None) -> None:
            if choice is not None:
                self.replay_one(capture, choice)

        self.push_screen(
            ReplayScreen(capture, self.settings.target, self.settings.by_events), chosen
        )

    async def action_replay_all(self) -> None:
        rows = self.capture_list.rows
        if not rows:
            self.notify("Nothing shown to replay.", severity="warning")
            return
        try:
            first = await self.whole_capture(rows[0].id)
        except ServerError as exc:
            self.notify(str(exc), severity="error")
            return

        def chosen(choice: ReplayChoice | None) -> None:
            if choice is not None:
                self.replay_shown(choice, rows[-1].id)

        self.push_screen(
            ReplayScreen(first, self.settings.target, self.settings.by_events, bodies=len(rows)),
            chosen,
        )

    async def action_deliver(self) -> None:
        """Send the selected capture as the gateway would to an instance the app configured
        through this server's /_gateway/ API."""
        capture = await self.selected_capture()
        if capture is None:
            return
        try:
            instances = await self.connection.instances()
        except ServerError as exc:
            self.notify(str(exc), severity="error")
            return

        def chosen(instance: Instance | None) -> None:
            if instance is not None:
                self.deliver_one(capture, instance)

        self.push_screen(InstanceScreen(capture, instances), chosen)

    @work(group="replay")
    async def deliver_one(self, capture: Capture, instance: Instance) -> list[Attempt]:
        planned = plan(instance.webhooks, capture)

        def said(text: str) -> str:  # as the window said it: a channel's token hidden
            return hidden_secrets(text, [instance], self.redact)

        for reason in planned.skipped:
            self.notify(
                said(reason),
                title=said(f"{instance.key} would not send #{capture.id}"),
                severity="warning",
            )
        attempts: list[Attempt] = []
        async with make_client() as client:
            for outgoing in planned.requests:
                attempt = await send(client, outgoing, capture.id)
                self._record(attempt)
                attempts.append(attempt)
                if attempt.error:
                    self.notify(
                        said(attempt.error),
                        title=said(f"#{capture.id} to {instance.key} failed"),
                        severity="error",
                    )
                else:
                    self.notify(
                        said(
                            f"{attempt.method} {attempt.url} → {attempt.status} in "
                            f"{attempt.elapsed_ms:.0f} ms"
                        ),
                        title=said(f"#{capture.id} sent to {instance.key}"),
                        severity="information" if attempt.ok else "warning",
                    )
        return attempts

    def action_set_target(self) -> None:
        def chosen(target: str | None) -> None:
            if target:
                self._remember_target(target, self.settings.by_events)
                self.notify(f"Replays go to {target}")

        self.push_screen(TargetScreen(self.settings.target), chosen)

    def _remember_target(self, target: str, by_events: bool) -> None:
        self.settings.target, self.settings.by_events = target, by_events
        problem = self.settings.save(self.config_dir)
        if problem:
            self.notify(problem, severity="warning")

    @work(group="replay")
    async def replay_one(self, capture: Capture, choice: ReplayChoice) -> Attempt | None:
        self._remember_target(choice.target, choice.by_events)
        try:
            outgoing = request_for(capture, choice.target, choice.by_events)
        except ReplayError as exc:
            self.notify(str(exc), severity="error")
            return None
        if choice.content is not None:
            outgoing = replace(outgoing, content=choice.content)
        async with make_client() as client:
            attempt = await send(client, outgoing, capture.id)
        self._record(attempt)
        edited = " (edited body)" if choice.content is not None else ""
        if attempt.error:
            self.notify(
                hidden_secrets(attempt.error, (), self.redact),
                title=f"replay of #{capture.id} failed",
                severity="error",
            )
        else:
            self.notify(
                hidden_secrets(
                    f"{attempt.method} {attempt.url}{edited} → "
                    f"{attempt.status} in {attempt.elapsed_ms:.0f} ms",
                    (),
                    self.redact,
                ),
                title=f"replayed #{capture.id}",
                severity="information" if attempt.ok else "warning",
            )
        return attempt

    @work(group="replay")
    async def replay_shown(self, choice: ReplayChoice, through: int) -> list[Attempt]:
        """Every capture the filter shows (up to the newest when asked), oldest first."""
        self._remember_target(choice.target, choice.by_events)
        attempts: list[Attempt] = []
        after, query = 0, self.filter_text
        async with make_client() as client:
            while True:
                try:
                    page, more = await self.connection.captures(query, after)
                except ServerError as exc:
                    self.notify(str(exc), severity="error")
                    break
                for capture in page:
                    if capture.id > through:
                        more = False
                        break
                    outgoing = request_for(capture, choice.target, choice.by_events)
                    attempt = await send(client, outgoing, capture.id)
                    self._record(attempt)
                    attempts.append(attempt)
                if not more or not page:
                    break
                after = page[-1].id
        good = sum(attempt.ok for attempt in attempts)
        self.notify(
            f"{len(attempts)} sent to {choice.target}: {good} answered 2xx, "
            f"{len(attempts) - good} did not",
            title="replay all",
            severity="information" if good == len(attempts) else "warning",
        )
        return attempts

    def _record(self, attempt: Attempt) -> None:
        self.attempts.setdefault(attempt.capture_id, []).append(attempt)
        if self.detail.capture is not None and self.detail.capture.id == attempt.capture_id:
            self.detail.show_replays(self.attempts[attempt.capture_id])
            self.detail.active = "replays"
            self.capture_list.focus()  # keys act on the list again, not a hidden tab's widget

    # -- save and copy

    def _shown(self, capture: Capture) -> tuple[Capture, str]:
        """The capture as it may leave this window (redacted unless secrets are shown), and
        what the notice adds when something was hidden: a redacted curl command does not
        authenticate, and the user should know why."""
        shown = redacted(capture) if self.redact else capture
        return shown, "" if shown is capture else "; secrets redacted (h shows them)"

    async def action_save_fixture(self) -> None:
        capture = await self.selected_capture()
        if capture is None:
            return
        shown, hidden = self._shown(capture)
        try:
            path = fixtures.save(shown, self.save_dir)
        except (fixtures.FixtureError, OSError) as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"saved capture #{capture.id} as {path}{hidden}", title="fixture")

    async def action_copy_curl(self) -> None:
        capture = await self.selected_capture()
        if capture is None:
            return
        shown, hidden = self._shown(capture)
        target = self.settings.target
        aimed = "your replay target" if target else "hookcatcher (t sets a replay target)"
        try:
            outgoing = (
                request_for(shown, target, self.settings.by_events)
                if target
                else export.received_request(shown, self.url)
            )
        except ReplayError as exc:
            self.notify(str(exc), severity="error")
            return
        command = curl(outgoing)
        self.copy_to_clipboard(command)
        self.notify(
            f"curl command for #{capture.id} ({len(command):,} characters), aimed at "
            f"{aimed}, copied to the clipboard{hidden}",
            title="copied",
        )

    async def action_copy_body(self) -> None:
        capture = await self.selected_capture()
        if capture is None:
            return
        shown, hidden = self._shown(capture)
        try:
            text = shown.raw.decode("utf-8")
        except UnicodeDecodeError:
            self.notify(
                "This body is not UTF-8 text, so it cannot go on the clipboard; the "
                "Raw tab shows it, s saves it.",
                severity="warning",
            )
            return
        self.copy_to_clipboard(text)
        self.notify(
            f"body of #{capture.id} ({shown.size:,} bytes) copied to the clipboard{hidden}",
            title="copied",
        )

    def action_export_har(self) -> None:
        rows = self.capture_list.rows
        if not rows:
            self.notify("Nothing shown to export.", severity="warning")
            return
        self.export_shown(rows[-1].id)

    @work(group="export", exclusive=True)
    async def export_shown(self, through: int) -> Path | None:
        """Every capture the filter shows, up to the newest row shown when `x` was pressed, as
        one HAR file in the save folder."""
        captures: list[Capture] = []
        after = 0
        while True:
            try:
                page, more = await self.connection.captures(self.filter_text, after, limit=500)
            except ServerError as exc:
                self.notify(str(exc), severity="error")
                return None
            captures.extend(capture for capture in page if capture.id <= through)
            if not more or not page or page[-1].id >= through:
                break
            after = page[-1].id
        text = export.har(captures, base_url=self.url, redact=self.redact)
        try:
            path = write_new(self.save_dir, export.file_name("har"), text)
        except OSError as exc:
            self.notify(f"{self.save_dir}: cannot write: {exc.strerror}", severity="error")
            return None
        secrets = "secrets redacted" if self.redact else "secrets included"
        self.notify(f"{len(captures):,} capture(s) as HAR in {path} ({secrets})", title="exported")
        return path

    def action_toggle_redact(self) -> None:
        self.redact = self.detail.redact = not self.redact
        capture = self.detail.capture
        if capture is not None:
            self.detail.show(capture, self.attempts.get(capture.id, ()))
        self._draw_status()
        if self.redact:
            self.notify("Secrets are hidden again.", title="secrets")
        else:
            self.notify(
                "Secrets are shown here and in copies, saves and exports; h hides them.",
                title="secrets",
                severity="warning",
            )

    # -- WhatsApp views

    async def action_show_qr(self) -> None:
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
            except ServerError:
                continue
            if qr.find(capture) is not None or row is selected:
                return capture
            tried += 1
            if tried >= 50:
                break
        return None

    async def action_show_conversations(self) -> None:
        captures: list[Capture] = []
        for provider, event in CONVERSATION_EVENTS:
            query = f"{self.filter_text} provider:{provider} event:{_quoted(event)}".strip()
            after = 0
            while True:
                try:
                    page, more = await self.connection.captures(query, after, limit=500)
                except ServerError as exc:
                    self.notify(str(exc), severity="error")
                    return
                captures.extend(page)
                if not more or not page:
                    break
                after = page[-1].id
        captures.sort(key=lambda capture: capture.id)
        self.push_screen(ConversationScreen(captures, self.filter_text))


def _typable(value: str) -> str:
    """A value for a filter term in the filter bar, which would send a terminal control to
    the terminal as is: each control becomes the wildcard `*`, which still matches it."""
    return replace_controls(value, "*")


def _quoted(term: str) -> str:
    """A filter term as the filter bar shows it: quoted only when it has a space."""
    return json.dumps(term) if re.search(r"\s", term) else term
