"""The capture list: rows over the server's summary rows, their columns as drawn, the binary
search by id, and follow mode (the newest stays selected until the user moves up)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers.bundled import fixture
from helpers.inspector import SIZE
from textual.app import App, ComposeResult

from hookcatcher.check.validation import Validator
from hookcatcher.core.summary import summary
from hookcatcher.receive.ingest import build_capture
from hookcatcher.tui.capture_list import COLUMNS, CaptureList, Row


def item(capture_id: int, **changes: Any) -> dict[str, Any]:
    """A summary row as `/_hookcatcher/api/events?view=summary` serves it."""
    row = {
        "id": capture_id,
        "received_at": "2026-11-21T10:00:00.123456Z",
        "method": "POST",
        "path": "/webhook",
        "provider": "evolution",
        "event": "messages.upsert",
        "instance": "sales",
        "chat": "5511999990000@s.whatsapp.net",
        "status": "valid",
        "errors": 0,
        "warnings": 0,
        "size": 512,
    }
    row.update(changes)
    return row


def rows(count: int, start: int = 1) -> list[Row]:
    return [Row.from_summary(item(capture_id)) for capture_id in range(start, start + count)]


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Switch the process's local time zone; the original one is back afterwards."""

    def switch(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield switch
    monkeypatch.undo()
    time.tzset()


# -- Row


def test_a_row_reads_a_real_summary(validator: Validator) -> None:
    document = fixture("evolution/v2/messages.upsert.text")
    capture = build_capture(
        validator,
        "POST",
        "/webhook",
        "",
        [tuple(h) for h in document["headers"]],
        "127.0.0.1:1",
        json.dumps(document["body"]).encode(),
    )
    capture.id = 7
    data = json.loads(json.dumps(summary(capture)))  # as it comes over the wire
    row = Row.from_summary(data)
    assert row.data is data  # a wrapper, not a copy
    assert (row.id, row.provider, row.event, row.instance, row.status) == (
        7,
        "evolution",
        "messages.upsert",
        "sales",
        "valid",
    )
    assert row.chat.endswith("@s.whatsapp.net")
    assert row.size == capture.size and row.received_at == capture.received_at
    assert row.verdict == "✓ valid"


def test_missing_event_instance_and_chat_show_a_dash() -> None:
    row = Row.from_summary(item(1, event=None, instance=None, chat=None, provider="unknown"))
    assert (row.event, row.instance, row.chat) == ("-", "-", "-")
    bare = {
        key: value for key, value in item(2).items() if key not in ("chat", "errors", "warnings")
    }
    assert (Row(bare).chat, Row(bare).errors, Row(bare).warnings) == ("-", 0, 0)


@pytest.mark.parametrize(
    "changes, verdict",
    [
        ({"status": "valid"}, "✓ valid"),
        ({"status": "invalid", "errors": 3}, "✗ 3 err"),
        ({"status": "no-schema"}, "? schema"),
        ({"status": "not-json", "errors": 1}, "✗ no JSON"),
        ({"status": "valid", "warnings": 2}, "✓ valid!"),
        ({"status": "invalid", "errors": 1, "warnings": 1}, "✗ 1 err!"),
        ({"status": "something-new"}, "something-new"),
    ],
)
def test_verdicts(changes: dict[str, Any], verdict: str) -> None:
    assert Row.from_summary(item(1, **changes)).verdict == verdict


def test_the_time_is_shown_in_the_local_time_zone(zone: Callable[[str], None]) -> None:
    row = Row.from_summary(item(1, received_at="2026-11-21T23:59:58.987654Z"))
    zone("UTC")
    assert row.time == "23:59:58.987"
    zone("Asia/Kolkata")  # +05:30, no daylight saving
    assert row.time == "05:29:58.987"
    zone("America/Sao_Paulo")  # -03:00
    assert row.time == "20:59:58.987"


def test_a_time_that_does_not_parse_shows_its_clock_part(zone: Callable[[str], None]) -> None:
    zone("UTC")
    assert (
        Row.from_summary(item(1, received_at="2026-11-21 10:11:12.345 somewhere")).time
        == "10:11:12.345"
    )


# -- the widget


class ListApp(App[None]):
    """Nothing but the list, to drive it as a user would."""

    def __init__(self) -> None:
        super().__init__()
        self.follow_changes: list[bool] = []
        self.highlighted: list[tuple[int | None, bool]] = []

    def compose(self) -> ComposeResult:
        yield CaptureList()

    def on_capture_list_follow_changed(self, message: CaptureList.FollowChanged) -> None:
        self.follow_changes.append(message.follow)

    def on_capture_list_highlighted(self, message: CaptureList.Highlighted) -> None:
        self.highlighted.append((message.row.id if message.row else None, message.by_user))


def with_list(scenario: Callable[[ListApp, CaptureList, Any], Any]) -> None:
    async def main() -> None:
        app = ListApp()
        async with app.run_test(size=SIZE) as pilot:
            await scenario(app, app.query_one(CaptureList), pilot)

    asyncio.run(main())


def test_index_of_finds_any_id_among_ten_thousand_rows() -> None:
    capture_list = CaptureList()
    # Ids with gaps (a filter shows some captures only): 3, 6, 9, ...
    capture_list.rows = [Row.from_summary(item(3 * n)) for n in range(1, 10_001)]
    assert capture_list.index_of(3) == 0
    assert capture_list.index_of(30_000) == 9_999
    assert capture_list.index_of(15_000) == 4_999
    assert all(capture_list.index_of(3 * n) == n - 1 for n in range(1, 10_001, 97))
    assert capture_list.index_of(4) == -1
    assert capture_list.index_of(0) == -1
    assert capture_list.index_of(30_003) == -1
    capture_list.rows = []
    assert capture_list.index_of(1) == -1


def test_lines_align_their_columns() -> None:
    async def scenario(app: ListApp, capture_list: CaptureList, pilot: Any) -> None:
        long_event = "presence.update.with.a.very.long.name"
        capture_list.set_rows(
            [
                Row.from_summary(item(1)),
                Row.from_summary(item(42, event=long_event, status="invalid", errors=2, size=2048)),
                Row.from_summary(
                    item(
                        123456,
                        provider="whapi",
                        event="messages/post",
                        instance=None,
                        chat=None,
                        status="no-schema",
                        size=3_670_016,
                    )
                ),
            ]
        )
        await pilot.pause()
        header = capture_list.render_line(0).text.rstrip()
        first, second, third = capture_list.plain_lines()
        widths = [width for _, width in COLUMNS]

        def start(*cells: str) -> str:
            """The first columns: the id right-aligned, the rest left-aligned, one space apart."""
            return " ".join(
                [cells[0].rjust(widths[0])]
                # The first few columns only: the widths go on past the cells given.
                + [cell.ljust(width) for cell, width in zip(cells[1:], widths[1:], strict=False)]
            )

        assert widths[0] == 6
        assert header.startswith(start("#", "time", "provider", "event", "instance"))
        assert first.startswith(start("1", "10:00:00.123", "evolution", "messages.upsert", "sales"))
        assert first.startswith("     1 10:00:00.123 evolution messages.upsert ")
        assert second.startswith("    42 ")
        assert third.startswith(start("123456", "10:00:00.123", "whapi", "messages/post", "-"))
        cut = long_event[: widths[3] - 1] + "…"
        assert second.startswith(start("42", "10:00:00.123", "evolution", cut, "sales"))
        assert long_event not in second
        chat_column = sum(widths[:5]) + 5  # the fixed columns before it, one space apart
        assert first[chat_column:].startswith("5511999990000@s.whats")
        assert third[chat_column:].startswith("- ")
        # The right-hand columns line up whatever the width of the text before them.
        verdicts = [
            line.index(mark)
            for line, mark in ((first, "✓ valid"), (second, "✗ 2 err"), (third, "? schema"))
        ]
        assert len(set(verdicts)) == 1
        assert first.endswith("512 B") and second.endswith("2.0 KB") and third.endswith("3.5 MB")
        sizes = [
            line.rindex(size)
            for line, size in ((first, "512 B"), (second, "2.0 KB"), (third, "3.5 MB"))
        ]
        assert len(set(sizes)) == 1 and sizes[0] > verdicts[0]

    with_list(scenario)


def test_every_verdict_is_shown_whole() -> None:
    verdicts = {"not-json": "✗ no JSON!", "no-schema": "? schema!", "invalid": "✗ 12 err!"}

    async def scenario(app: ListApp, capture_list: CaptureList, pilot: Any) -> None:
        capture_list.set_rows(
            [
                Row.from_summary(item(1, status="not-json", errors=1, warnings=1)),
                Row.from_summary(item(2, status="no-schema", warnings=1)),
                Row.from_summary(item(3, status="invalid", errors=12, warnings=2)),
            ]
        )
        await pilot.pause()
        for row, line in zip(capture_list.rows, capture_list.plain_lines(), strict=True):
            assert row.verdict == verdicts[row.status]
            assert row.verdict in line, line

    with_list(scenario)


def test_an_id_wider_than_its_column_is_still_shown_whole() -> None:
    # At 1,000 captures a second a server reaches id 1,000,000 within 17 minutes.
    async def scenario(app: ListApp, capture_list: CaptureList, pilot: Any) -> None:
        capture_list.set_rows(
            [Row.from_summary(item(1_000_001)), Row.from_summary(item(1_000_002))]
        )
        await pilot.pause()
        first, second = capture_list.plain_lines()
        assert first.split()[0] == "1000001"
        assert second.split()[0] == "1000002"

    with_list(scenario)


def test_only_the_rows_that_fit_are_drawn() -> None:
    async def scenario(app: ListApp, capture_list: CaptureList, pilot: Any) -> None:
        capture_list.set_follow(False)
        capture_list.set_rows(rows(10_000))
        capture_list.select_index(0)
        await pilot.pause()
        lines = capture_list.plain_lines()
        assert len(lines) == SIZE[1] - 1  # one line is the header
        assert lines[0].split()[0] == "1" and lines[-1].split()[0] == str(SIZE[1] - 1)

    with_list(scenario)


def test_follow_selects_each_new_row_until_the_user_moves_up() -> None:
    async def scenario(app: ListApp, capture_list: CaptureList, pilot: Any) -> None:
        assert capture_list.follow and capture_list.selected is None
        capture_list.set_rows(rows(5))
        assert capture_list.selected.id == 5
        capture_list.extend(rows(2, start=6))
        assert capture_list.cursor == 6 and capture_list.selected.id == 7
        capture_list.select_index(3)
        assert not capture_list.follow and capture_list.selected.id == 4
        capture_list.extend(rows(1, start=8))
        assert capture_list.selected.id == 4  # paused: the selection stays put
        capture_list.set_follow(True)
        assert capture_list.follow and capture_list.selected.id == 8
        await pilot.pause()
        assert app.follow_changes == [False, True]
        # Follow mode's own moves are not the user's.
        assert app.highlighted == [(5, True), (7, False), (4, True), (8, True)]

    with_list(scenario)


def test_keys_move_the_selection_and_landing_on_the_newest_keeps_follow_off() -> None:
    async def scenario(app: ListApp, capture_list: CaptureList, pilot: Any) -> None:
        capture_list.set_rows(rows(100))
        capture_list.focus()
        await pilot.press("up", "up")
        assert capture_list.selected.id == 98 and not capture_list.follow
        await pilot.press("down", "down")
        assert capture_list.selected.id == 100 and not capture_list.follow
        await pilot.press("down")  # past the end: stays on the last row
        assert capture_list.cursor == 99
        await pilot.press("home")
        assert capture_list.cursor == 0
        await pilot.press("pagedown")
        assert capture_list.cursor == SIZE[1] - 2
        await pilot.press("up")
        assert capture_list.cursor == SIZE[1] - 3

    with_list(scenario)


def test_set_rows_keeps_the_selected_capture_when_follow_is_off() -> None:
    async def scenario(app: ListApp, capture_list: CaptureList, pilot: Any) -> None:
        capture_list.set_rows(rows(10))
        capture_list.select_index(4)
        assert capture_list.selected.id == 5 and not capture_list.follow
        # A new filter: fewer rows, capture 5 still among them, at another index.
        shown = [Row.from_summary(item(capture_id)) for capture_id in (2, 5, 9)]
        capture_list.set_rows(shown, keep=5)
        assert capture_list.cursor == 1 and capture_list.selected.id == 5
        # Capture 5 filtered out: the newest shown is selected instead.
        capture_list.set_rows([Row.from_summary(item(capture_id)) for capture_id in (2, 9)], keep=5)
        assert capture_list.selected.id == 9
        capture_list.set_rows([], keep=9)
        assert capture_list.selected is None and capture_list.cursor == -1

    with_list(scenario)


def test_set_rows_goes_to_the_newest_when_following() -> None:
    async def scenario(app: ListApp, capture_list: CaptureList, pilot: Any) -> None:
        capture_list.set_rows(rows(10))
        assert capture_list.follow
        capture_list.set_rows(rows(20), keep=3)
        assert capture_list.selected.id == 20

    with_list(scenario)


def test_the_selected_row_is_scrolled_into_view() -> None:
    # The inspector starting on a server that holds 500 captures: follow mode selects the
    # newest, so the newest must be on screen, not the oldest 39.
    async def scenario(app: ListApp, capture_list: CaptureList, pilot: Any) -> None:
        capture_list.set_rows(rows(500))
        await pilot.pause()
        assert capture_list.selected.id == 500
        assert capture_list.plain_lines()[-1].split()[0] == "500"
        capture_list.extend(rows(3, start=501))
        await pilot.pause()
        assert capture_list.plain_lines()[-1].split()[0] == "503"
        # A filter change with follow off keeps capture 900 selected, and in view.
        capture_list.select_index(0)
        capture_list.set_rows(rows(1_000), keep=900)
        await pilot.pause()
        assert capture_list.selected.id == 900
        assert "900" in [line.split()[0] for line in capture_list.plain_lines()]

    with_list(scenario)


def test_columns_fit_the_default_width() -> None:
    fixed = sum(width for _, width in COLUMNS) + len(COLUMNS)
    assert fixed + 8 <= SIZE[0]
