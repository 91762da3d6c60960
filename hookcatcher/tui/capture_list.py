"""The live list of captures: one line each, drawn only where it is visible.

A Line API widget rather than a DataTable: replacing 10,000 rows when the filter changes is
one list assignment, and drawing costs the same for ten rows or a hundred thousand. Follow
mode keeps the newest capture selected; moving up pauses it, `f` resumes it.
The event cell ends with marks when there is something to mark: `↻#1` for a retry of capture
1 (the same bytes again), and the status when the receiver answered other than 200. When some
shown capture was forwarded to the app (`--forward-to`), an `app` column after the event says
what the app answered the first delivery (`✗`: no answer); without forwarding the list is as
it always was.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hookcatcher.core.units import size_text
from hookcatcher.tui.text import printable

if TYPE_CHECKING:
    from hookcatcher.core.summary import Summary

__all__ = ["Row", "CaptureList", "COLUMNS", "APP_COLUMN"]

# (title, width); the chat column takes what is left.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("#", 6),
    ("time", 12),
    ("provider", 9),
    ("event", 26),
    ("instance", 13),
    ("chat", 0),
    ("valid", 10),
    ("size", 8),
)
EVENT_COLUMN = 3
APP_COLUMN = ("app", 3)  # shown after the event only when some shown capture was forwarded


class Row:
    """One list line over a summary row from the server (summary.py).

    A thin wrapper, not a copy: a filter change turns 10,000 summaries into rows, and only
    the few on screen are ever read field by field."""

    __slots__ = ("data",)

    def __init__(self, data: Summary) -> None:
        self.data = data

    @classmethod
    def from_summary(cls, item: Summary) -> Row:
        return cls(item)

    def __repr__(self) -> str:
        return f"Row({self.data!r})"

    @property
    def id(self) -> int:
        return self.data["id"]

    @property
    def received_at(self) -> str:
        return self.data["received_at"]

    @property
    def provider(self) -> str:
        return self.data["provider"]

    @property
    def event(self) -> str:
        return self.data["event"] or "-"

    @property
    def instance(self) -> str:
        return self.data["instance"] or "-"

    @property
    def chat(self) -> str:
        return self.data.get("chat") or "-"

    @property
    def status(self) -> str:
        return self.data["status"]

    @property
    def errors(self) -> int:
        return self.data.get("errors", 0)

    @property
    def warnings(self) -> int:
        return self.data.get("warnings", 0)

    @property
    def size(self) -> int:
        return self.data["size"]

    @property
    def retry_of(self) -> int | None:
        return self.data.get("retry_of")

    @property
    def answered(self) -> int:
        return self.data.get("answered", 200)

    @property
    def app(self) -> int | str | None:
        return self.data.get("app")

    @property
    def app_text(self) -> str:
        return "" if self.app is None else str(self.app)

    @property
    def marks(self) -> list[tuple[str, str]]:
        """(text, component class) of each mark the event cell ends with."""
        marks = []
        if self.retry_of is not None:
            marks.append((f"↻#{self.retry_of}", "capture-list--retry"))
        if self.answered != 200:
            marks.append(
                (
                    str(self.answered),
                    "capture-list--answered"
                    if 200 <= self.answered < 300
                    else "capture-list--refused",
                )
            )
        return marks

    @property
    def time(self) -> str:
        """Worked out when drawn: only visible rows pay for the time-zone conversion."""
        return _clock(self.received_at)

    @property
    def verdict(self) -> str:
        # At most 9 characters, so the warning mark still fits the 10-column cell.
        marks = {
            "valid": "✓ valid",
            "invalid": f"✗ {self.errors} err",
            "no-schema": "? schema",
            "not-json": "✗ no JSON",
            "form": "≡ form",
            "too-large": "✗ too big",
        }
        return marks.get(self.status, self.status) + ("!" if self.warnings else "")


def _clock(received_at: str) -> str:
    """HH:MM:SS.mmm in the local time zone: the time the user's own logs show."""
    try:
        moment = datetime.fromisoformat(received_at.replace("Z", "+00:00"))
    except ValueError:
        return received_at[11:23]
    return moment.astimezone().strftime("%H:%M:%S.%f")[:12]


def _cell(text: str, width: int) -> str:
    return text[: width - 1] + "…" if len(text) > width else text.ljust(width)


class CaptureList(ScrollView, can_focus=True):
    """Rows oldest first; `cursor` is the selected index."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "capture-list--header",
        "capture-list--cursor",
        "capture-list--invalid",
        "capture-list--warning",
        "capture-list--retry",
        "capture-list--refused",
        "capture-list--answered",
        "capture-list--app-ok",
        "capture-list--app-failed",
    }
    DEFAULT_CSS = """
    CaptureList { background: $surface; }
    CaptureList > .capture-list--header { text-style: bold; color: $text-muted; }
    CaptureList > .capture-list--cursor { background: $accent 40%; }
    CaptureList:focus > .capture-list--cursor { background: $accent; color: $text; }
    CaptureList > .capture-list--invalid { color: $error; }
    CaptureList > .capture-list--warning { color: $warning; }
    CaptureList > .capture-list--retry { color: $text-secondary; text-style: bold; }
    CaptureList > .capture-list--refused { color: $text-error; text-style: bold; }
    CaptureList > .capture-list--answered { text-style: bold; }
    CaptureList > .capture-list--app-ok { color: $text-success; }
    CaptureList > .capture-list--app-failed { color: $text-error; text-style: bold; }
    """

    follow: reactive[bool] = reactive(True)

    class Highlighted(Message):
        """The selection moved (by key, mouse or follow mode)."""

        def __init__(self, row: Row | None, by_user: bool) -> None:
            super().__init__()
            self.row = row
            self.by_user = by_user  # False: follow mode moved it to a new arrival

    class FollowChanged(Message):
        def __init__(self, follow: bool) -> None:
            super().__init__()
            self.follow = follow

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[Row] = []
        self.cursor = -1
        self._announced: int | None = None
        self.columns = COLUMNS  # with APP_COLUMN once a shown capture was forwarded

    def _show_app(self, shown: bool) -> None:
        columns = (*COLUMNS[: EVENT_COLUMN + 1], APP_COLUMN, *COLUMNS[EVENT_COLUMN + 1 :])
        self.columns = columns if shown else COLUMNS

    # -- data

    def set_rows(self, rows: list[Row], keep: int | None = None) -> None:
        """Replace every row; keep the selection on capture `keep` when it is still shown."""
        self.rows = rows
        self._show_app(any(row.app is not None for row in rows))
        index = -1
        if keep is not None and not self.follow:
            index = self.index_of(keep)
        self._resize()
        self._place(index if index >= 0 else len(rows) - 1)
        # The scrollbar that scrolling needs exists only after the next layout.
        self.call_after_refresh(self._scroll_to_cursor)

    def extend(self, rows: list[Row]) -> None:
        if not rows:
            return
        self.rows.extend(rows)
        if self.columns is COLUMNS and any(row.app is not None for row in rows):
            self._show_app(True)
        self._resize()
        if self.follow or self.cursor < 0:
            self._place(len(self.rows) - 1, by_user=False)
        else:
            self.refresh()

    def index_of(self, capture_id: int) -> int:
        """Rows are in id order, so a binary search finds a capture among 100,000 at once."""
        low, high = 0, len(self.rows) - 1
        while low <= high:
            middle = (low + high) // 2
            found = self.rows[middle].id
            if found == capture_id:
                return middle
            if found < capture_id:
                low = middle + 1
            else:
                high = middle - 1
        return -1

    def update_app(self, capture_id: int, app: int | str | None) -> None:
        """What the app answered, learnt after the row came (the stream sends a capture's row
        before its forwarding is done)."""
        index = self.index_of(capture_id)
        if index < 0 or self.rows[index].app == app:
            return
        self.rows[index].data["app"] = app
        if app is not None and self.columns is COLUMNS:
            self._show_app(True)
        self.refresh()

    @property
    def selected(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # -- movement

    def _place(self, index: int, by_user: bool = True) -> None:
        self.cursor = min(max(index, -1 if not self.rows else 0), len(self.rows) - 1)
        self._scroll_to_cursor()
        self.refresh()
        row = self.selected
        if (row.id if row else None) != self._announced:
            self._announced = row.id if row else None
            self.post_message(self.Highlighted(row, by_user))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.size.height - 1)
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, force=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, force=True)

    def _resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self.refresh()

    def action_move(self, delta: int) -> None:
        self.select_index(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.select_index(self.cursor + direction * max(1, self.size.height - 2))

    def action_first(self) -> None:
        self.select_index(0)

    def select_index(self, index: int) -> None:
        """User movement: anything but landing on the newest row pauses follow mode."""
        index = min(max(index, 0), len(self.rows) - 1)
        self.set_follow(index == len(self.rows) - 1 and self.follow)
        self._place(index)

    def set_follow(self, follow: bool) -> None:
        if follow != self.follow:
            self.follow = follow
            self.post_message(self.FollowChanged(follow))
        if follow and self.rows:
            self._place(len(self.rows) - 1)

    def on_click(self, event: events.Click) -> None:
        line = event.y + round(self.scroll_y) - 1
        if 0 <= line < len(self.rows):
            self.select_index(line)

    def on_resize(self, event: events.Resize) -> None:
        self._resize()
        self._scroll_to_cursor()

    # -- drawing

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("capture-list--header")
            return Strip([Segment(self._line(None, width), base + header)]).crop(0, width)
        index = y - 1 + round(self.scroll_y)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        style = base
        if row.status in ("invalid", "not-json", "too-large"):
            style += self.get_component_rich_style("capture-list--invalid")
        elif row.warnings:
            style += self.get_component_rich_style("capture-list--warning")
        if index == self.cursor:
            style += self.get_component_rich_style("capture-list--cursor")
        cells = self._cells(row, width)
        line = " ".join(cells).ljust(width)
        marks = row.marks
        # (start, end, component): the marks end the event cell, the app's answer has its
        # own cell; each gets its own colour over the row's style.
        spans: list[tuple[int, int, str]] = []
        end = len(" ".join(cells[: EVENT_COLUMN + 1]))
        start = end - len(" ".join(text for text, _ in marks))
        for text, component in marks:
            spans.append((start, start + len(text), component))
            start += len(text) + 1
        if row.app is not None and self.columns is not COLUMNS:
            ok = isinstance(row.app, int) and 200 <= row.app < 300
            spans.append(
                (
                    end + 1,
                    end + 1 + len(row.app_text),
                    f"capture-list--app-{'ok' if ok else 'failed'}",
                )
            )
        if not spans:
            return Strip([Segment(line, style)]).crop(0, width)
        segments = []
        at = 0
        for start, stop, component in spans:
            segments.append(Segment(line[at:start], style))
            segments.append(
                Segment(line[start:stop], style + self.get_component_rich_style(component))
            )
            at = stop
        segments.append(Segment(line[at:], style))
        return Strip(segments).crop(0, width)

    def _line(self, row: Row | None, width: int) -> str:
        return " ".join(self._cells(row, width)).ljust(width)

    def _cells(self, row: Row | None, width: int) -> list[str]:
        columns = self.columns
        fixed = sum(w for _, w in columns) + len(columns)
        chat_width = max(8, width - fixed)
        if row is None:
            values = [title for title, _ in columns]
        else:
            # Segments reach the terminal as they are: a capture's controls are drawn.
            values = [
                printable(value, one_line=True)
                for value in (
                    str(row.id),
                    row.time,
                    row.provider,
                    row.event,
                    row.instance,
                    row.chat,
                    row.verdict,
                    size_text(row.size),
                )
            ]
            if columns is not COLUMNS:
                values.insert(EVENT_COLUMN + 1, row.app_text)
        cells = [
            _cell(value, w or chat_width) for value, (_, w) in zip(values, columns, strict=True)
        ]
        cells[0] = values[0].rjust(COLUMNS[0][1])  # an id is never cut, even past 999,999
        if row is not None and (marks := row.marks):
            shown = " ".join(text for text, _ in marks)
            room = max(1, COLUMNS[EVENT_COLUMN][1] - len(shown) - 1)
            cells[EVENT_COLUMN] = _cell(values[EVENT_COLUMN], room) + " " + shown
        return cells

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.refresh()

    def plain_lines(self) -> list[str]:
        """The visible rows as text, for tests and the screen dump of a manual run."""
        return [
            self._line(row, self.size.width).rstrip()
            for row in self.rows[round(self.scroll_y) : round(self.scroll_y) + self.size.height - 1]
        ]
