"""Issue 15: nothing from a capture is interpreted by the inspector. Markup in any field shows
as typed in the list, every tab, every window, notifications and the filter error line (it
raised MarkupError, which under plain `hookcatcher` also stopped the server; `[@click=...]`
became a clickable action), and terminal controls are drawn, never sent to the terminal."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from helpers.bundled import fixture
from helpers.inspector import SIZE, open_window, plain, run, shown, until
from rich.console import Console

from hookcatcher.receive.app import create_app
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store
from hookcatcher.tui import InspectorApp
from hookcatcher.tui.text import literal, printable

# Every markup case at once: a bare and a named closing tag, a style, an action, a link.
MARKUP = "[/]|[/x]|[bold]b|[@click=app.quit]x[/]|[link=file:///etc/passwd]x[/link]"
NAME = "[bold]sales[@click=app.quit]"  # an instance name is a URL path segment: no "/"
QUIT = "[@click=app.quit]quit[/]"  # alone, so that it renders (and is clickable) as markup
# Sets the window title, clears the screen, and a C1 CSI (8-bit ESC [) with DEL.
CONTROLS = "\x1b]0;PWNED\x07\x1b[2J\u009b31m\x7f"
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _add(
    store: Store,
    validator: Any,
    raw: bytes,
    *,
    path: str = "/webhook",
    query: str = "",
    headers: tuple[tuple[str, str], ...] = (),
    remote: str = "127.0.0.1:40000",
) -> None:
    store.add(
        build_capture(
            validator,
            "POST",
            path,
            query,
            [("content-type", "application/json"), *headers],
            remote,
            raw,
        )
    )


def _with_duplicate(body: dict[str, Any], key: str) -> bytes:
    """The body's JSON with `key` given twice (a warning that names the key)."""
    return (json.dumps(body)[:-1] + f", {json.dumps(key)}: 1, {json.dumps(key)}: 2}}").encode()


def markup_store(validator: Any) -> Store:
    """#1 a message with MARKUP in every field a capture has; #2 an event named MARKUP from
    instance NAME, with MARKUP in the query; #3 a QR code whose instance and pairing code
    are MARKUP; #4 an event named QUIT."""
    store = Store()
    message = fixture("evolution/v2/messages.upsert.text")["body"]
    message["instance"] = MARKUP
    message["data"]["pushName"] = MARKUP
    message["data"]["key"]["remoteJid"] = MARKUP
    message["data"]["key"]["fromMe"] = MARKUP  # a validation error that quotes it
    message["data"]["message"]["conversation"] = MARKUP
    _add(
        store,
        validator,
        _with_duplicate(message, MARKUP),
        path="/hook/" + MARKUP,
        query="x=" + MARKUP,
        headers=(("x-" + MARKUP, MARKUP),),
        remote=MARKUP,
    )
    event = fixture("evolution/v2/messages.upsert.text")["body"]
    event.update(event=MARKUP, instance=NAME)
    _add(store, validator, json.dumps(event).encode(), query="x=" + MARKUP)
    code = fixture("evolution/v2/qrcode.updated")["body"]
    code["instance"] = code["data"]["qrcode"]["instance"] = MARKUP
    code["data"]["qrcode"]["pairingCode"] = MARKUP
    _add(store, validator, json.dumps(code).encode())
    click = fixture("evolution/v2/messages.upsert.text")["body"]
    click["event"] = QUIT
    _add(store, validator, json.dumps(click).encode())
    return store


def controls_store(validator: Any) -> Store:
    """#1 a message whose instance, chat, text, path, remote and header carry CONTROLS;
    #2 a text body (not JSON) holding them as raw bytes; #3 an event name ending in them."""
    store = Store()
    message = fixture("evolution/v2/messages.upsert.text")["body"]
    message["instance"] = "sales" + CONTROLS
    message["data"]["key"]["remoteJid"] = "chat" + CONTROLS
    message["data"]["message"]["conversation"] = "text" + CONTROLS
    _add(
        store,
        validator,
        json.dumps(message, ensure_ascii=False).encode(),
        path="/hook/" + CONTROLS,
        remote="r" + CONTROLS,
        headers=(("x-note", "value" + CONTROLS),),
    )
    _add(store, validator, ("raw " + CONTROLS).encode())
    message["event"] = "messages.upsert" + CONTROLS
    _add(store, validator, json.dumps(message).encode())
    return store


@asynccontextmanager
async def inspecting(store: Store, validator: Any, tmp_path: Any) -> AsyncIterator[Any]:
    """The inspector at 120x40 on a server holding `store`, notifications drawn; yields the
    Pilot. The app must still be running at the end: nothing crashed it or made it quit."""
    with BackgroundServer(create_app(store, validator), pace_collector=False) as server:
        app = InspectorApp(server.url, save_dir=tmp_path / "saved", config_dir=tmp_path)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await until(
                pilot, lambda: app.loaded.is_set() and app.capture_list.rows, "the first listing"
            )
            yield pilot
            assert app.is_running and app.return_code is None


async def select(pilot: Any, capture_id: int) -> None:
    app = pilot.app
    app.capture_list.select_index(app.capture_list.index_of(capture_id))
    await until(
        pilot,
        lambda: (
            app.detail.capture is not None
            and app.detail.capture.id == capture_id
            and bool(app.detail.capture.raw)
        ),
        f"the detail of #{capture_id}",
    )


def option_texts(app: InspectorApp, selector: str) -> str:
    options = app.screen.query_one(selector)
    return "\n".join(
        plain(options.get_option_at_index(index).prompt) for index in range(options.option_count)
    )


def toasts(app: InspectorApp) -> str:
    """Every notification on screen, as rendered."""
    return "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))


def terminal_output(app: InspectorApp) -> str:
    """The screen as the terminal receives it (Textual's own cursor moves and colours
    included), drawn in full."""
    update = app.screen._compositor.render_update(full=True)
    console = Console(
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        width=SIZE[0],
        legacy_windows=False,
    )
    console.print(update, end="")
    return console.file.getvalue()


def foreign_controls(app: InspectorApp) -> list[str]:
    """Terminal controls on screen that Textual did not write: whatever is left once its
    colours (SGR) and cursor moves are taken out. A link would be an OSC 8 sequence."""
    own = re.compile(r"\x1b\[[0-9;]*[mH]")
    return TERMINAL_CONTROL.findall(own.sub("", terminal_output(app)))


@pytest.mark.slow
def test_markup_in_a_capture_is_shown_as_typed_in_the_list_and_every_tab(
    validator, tmp_path
) -> None:
    async def scenario() -> None:
        async with inspecting(markup_store(validator), validator, tmp_path) as pilot:
            app = pilot.app
            await select(pilot, 1)
            (line,) = [text for text in app.capture_list.plain_lines() if text.split()[0] == "1"]
            assert "[/]|[/x]|[b" in line  # the instance and chat cells, cut to their width
            for key in "12345":
                await pilot.press(key)
                await pilot.pause()
            body = shown(app, "#body-text")
            assert f'"pushName": "{MARKUP}"' in body and f'"conversation": "{MARKUP}"' in body
            headers = " ".join(shown(app, "#headers-text").split())  # as one line
            assert f"POST /hook/{MARKUP}?x={MARKUP} from {MARKUP} at " in headers
            assert f"for {MARKUP}; route single, base /hook/{MARKUP} " in headers
            assert f"x-[/]|[/x]|[bold]b|[@click=app.quit]x[… {MARKUP}" in headers  # name, value
            assert shown(app, "#raw-text").count(MARKUP) == 7  # five fields, a key twice
            errors = option_texts(app, "#validation-errors")
            assert f'expected a boolean, got string "{MARKUP[:40]}' in errors  # cut at 40
            assert f'warning: duplicate key "{MARKUP}" at $' in errors
            await select(pilot, 2)
            errors = option_texts(app, "#validation-errors")
            assert f"unknown Evolution API event '{MARKUP}'" in errors
            assert foreign_controls(app) == []

    run(scenario)


@pytest.mark.slow
def test_markup_in_a_capture_is_shown_as_typed_in_every_window(
    validator, tmp_path, make_server
) -> None:
    receiver = make_server()

    async def scenario() -> None:
        async with inspecting(markup_store(validator), validator, tmp_path) as pilot:
            app = pilot.app
            server_url = app.url
            async with httpx.AsyncClient(base_url=server_url) as http:
                answer = await http.post(
                    f"/_gateway/evolution/webhook/set/{quote(NAME)}",
                    json={
                        "webhook": {
                            "enabled": True,
                            "url": f"{receiver.url}/app?x={MARKUP}",
                            "byEvents": False,
                            "events": ["MESSAGES_UPSERT"],
                        }
                    },
                )
                assert answer.status_code == 201, answer.text

            # a: the window names the event; the instance, its URL and the reason for not
            # sending are shown as they came.
            await select(pilot, 2)
            await open_window(pilot, app, "a", "InstanceScreen")
            assert f"(evolution {MARKUP})" in shown(app, "#instance-title")
            assert (
                option_texts(app, "#instance-list")
                == f"evolution/{NAME} v2  {receiver.url}/app?x={MARKUP} [single]\n"
            )
            assert MARKUP in shown(app, "#instance-preview")
            await pilot.press("escape")

            # a, then Enter: the header name cannot be sent; the notice says so, as it is.
            await select(pilot, 1)
            await open_window(pilot, app, "a", "InstanceScreen")
            assert shown(app, "#instance-preview").startswith(
                f"→ POST {receiver.url}/app?x={MARKUP}"
            )
            await pilot.press("enter")
            await until(
                pilot,
                lambda: f"#1 to evolution/{NAME} failed" in toasts(app),
                "the delivery notice",
            )
            assert f"request to {receiver.url}/app?x={MARKUP}" in toasts(app)
            assert f"Illegal header name b'x-{MARKUP}'" in toasts(app)

            # r: the query is in the preview and in the notice of the replay.
            await select(pilot, 2)
            await open_window(pilot, app, "r", "ReplayScreen")
            assert f"(evolution {MARKUP})" in shown(app, "#replay-title")
            app.screen.query_one("#replay-target").value = f"{receiver.url}/replayed"
            await until(pilot, lambda: "/replayed" in shown(app, "#replay-preview"), "preview")
            assert (
                shown(app, "#replay-preview").strip()
                == f"→ POST {receiver.url}/replayed?x={MARKUP}"
            )
            assert foreign_controls(app) == []
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.attempts.get(2), "the replay")
            await until(pilot, lambda: "replayed #2" in toasts(app), "the replay notice")
            assert f"POST {receiver.url}/replayed?x={MARKUP} → 200" in toasts(app)
            assert f"{receiver.url}/replayed?x={MARKUP}" in shown(app, "#replays-text")

            # t: a target that is no URL is named in the error as typed.
            await open_window(pilot, app, "t", "TargetScreen")
            app.screen.query_one("#target").value = MARKUP
            await pilot.press("enter")
            await until(pilot, lambda: shown(app, "#target-error").strip(), "the target error")
            assert f"target URL '{MARKUP}' must start with http://" in shown(app, "#target-error")
            await pilot.press("escape")

            # The filter error line quotes the filter as typed.
            bar = app.query_one("#filter")
            bar.value = '"' + MARKUP
            bar.focus()
            await pilot.press("enter")
            await until(
                pilot,
                lambda: app.query_one("#filter-error").has_class("-shown"),
                "the filter error",
            )
            assert f'"{MARKUP}' in shown(app, "#filter-error")
            await pilot.press("escape")

            # Q and c: the QR caption and the conversation, every name and text as it came.
            await select(pilot, 3)
            await open_window(pilot, app, "Q", "QrScreen")
            caption = " ".join(shown(app, "#qr-caption").split())  # as one line
            assert f"instance {MARKUP}" in caption and f"pairing code {MARKUP}" in caption
            await pilot.press("escape")
            await open_window(pilot, app, "c", "ConversationScreen")
            thread = shown(app, "#messages-text")
            assert thread.startswith(MARKUP) and f"{MARKUP}: {MARKUP}" in thread
            assert option_texts(app, "#chats").startswith(MARKUP)
            await pilot.press("escape")
            await open_window(pilot, app, "f1", "HelpScreen")
            await pilot.press("escape")
            assert foreign_controls(app) == []
            async with httpx.AsyncClient(base_url=server_url) as http:
                assert (await http.get("/_hookcatcher/api/stats")).status_code == 200

    run(scenario)


@pytest.mark.slow
def test_a_click_on_markup_from_a_capture_runs_no_action(validator, tmp_path) -> None:
    """`[@click=app.quit]quit[/]` as an event, in the windows' titles: a click where the
    event is shown runs nothing (when the title was markup, "quit" was there and quit)."""

    async def scenario() -> None:
        async with inspecting(markup_store(validator), validator, tmp_path) as pilot:
            app = pilot.app
            await select(pilot, 4)
            for key, screen, title in (
                ("a", "InstanceScreen", "#instance-title"),
                ("r", "ReplayScreen", "#replay-title"),
            ):
                await open_window(pilot, app, key, screen)
                start = shown(app, title).index("(evolution ") + len("(evolution ")
                for x in range(start, start + len("quit")):
                    await pilot.click(title, offset=(x, 0))
                    assert app.is_running and type(app.screen).__name__ == screen
                assert f"(evolution {QUIT})" in shown(app, title)
                await pilot.press("escape")

    run(scenario)


@pytest.mark.slow
def test_terminal_controls_in_a_capture_are_drawn_not_sent(
    validator, tmp_path, make_server
) -> None:
    receiver = make_server()

    async def scenario() -> None:
        async with inspecting(controls_store(validator), validator, tmp_path) as pilot:
            app = pilot.app
            await select(pilot, 1)
            assert "sales␛]0;PWN" in app.capture_list.plain_lines()[0]
            for key in "12345":
                await pilot.press(key)
                await pilot.pause()
                assert foreign_controls(app) == [], key
            assert "/hook/␛]0;PWNED␇␛[2J�31m␡" in shown(app, "#headers-text")
            await open_window(pilot, app, "a", "InstanceScreen")
            assert foreign_controls(app) == []
            await pilot.press("escape", "escape")  # the window, then back to the list
            await open_window(pilot, app, "c", "ConversationScreen")
            assert "Ana Example: text␛]0;PWNED␇␛[2J�31m␡" in shown(app, "#messages-text")
            assert foreign_controls(app) == []
            await pilot.press("escape")
            await select(pilot, 3)
            assert "messages.upsert␛]0;PWNE" in app.capture_list.plain_lines()[2]
            # A filter on the event puts a wildcard where each control is: it still matches.
            await pilot.press("e")
            await until(pilot, lambda: app.filter_text.startswith("event:"), "the event filter")
            assert app.filter_text == "event:messages.upsert*]0;PWNED**[2J*31m*"
            await until(
                pilot, lambda: [row.id for row in app.capture_list.rows] == [3], "the filtered list"
            )
            assert foreign_controls(app) == []

            # A body holding controls is not edited in the window, which shows it drawn;
            # the replay sends it as received.
            await pilot.press("e")
            await until(pilot, lambda: len(app.capture_list.rows) == 3, "every row again")
            await select(pilot, 2)
            await open_window(pilot, app, "r", "ReplayScreen")
            area = app.screen.query_one("#replay-body")
            assert area.read_only and area.text == "raw ␛]0;PWNED␇␛[2J�31m␡"
            assert "control characters" in shown(app, "#replay-body-label")
            assert foreign_controls(app) == []
            app.screen.query_one("#replay-target").value = f"{receiver.url}/app"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.attempts.get(2), "the replay")
            async with httpx.AsyncClient(base_url=receiver.url) as http:
                (got,) = (await http.get("/_hookcatcher/api/events", params={"raw": 1})).json()[
                    "events"
                ]
            assert got["raw"] == "raw " + CONTROLS
            await pilot.press("4")
            await pilot.pause()
            assert "raw ␛]0;PWNED␇␛[2J�31m␡" in shown(app, "#raw-text")
            app.notify("a notice " + CONTROLS, title="title" + CONTROLS)
            await until(pilot, lambda: "a notice" in toasts(app), "the notice")
            assert "a notice ␛]0;PWNED" in toasts(app)
            assert foreign_controls(app) == []

    run(scenario)


def test_printable_draws_each_control_as_one_visible_character() -> None:
    assert printable("a\x00\x1b[2J\r\n\tb\x7f\u009b") == "a␀␛[2J␍\n\tb␡�"
    assert printable("one\nline\tonly", one_line=True) == "one␊line␉only"
    assert printable("olá [/] 😀") == "olá [/] 😀"
    assert literal("[bold]x[/]").plain == "[bold]x[/]" and not literal("[bold]x").spans
