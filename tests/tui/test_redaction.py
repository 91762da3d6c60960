"""The inspector hides secrets by default wherever a capture is read or leaves the window:
the list, every tab, the replay and as-the-gateway windows, the clipboard (body, curl), saved
fixtures and the `x` HAR export; `h` shows them; replays still send the real bytes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from haralyzer import HarParser
from helpers.bundled import fixture
from helpers.inspector import open_window, opened, plain, post, run, shown, until
from helpers.secret_requests import (
    NON_ASCII_JWT,
    REQUESTS,
    WEBHOOK_TOKEN,
    WHAPI_CHANNEL,
    assert_hidden,
    leaked,
)

from hookcatcher.core.secrets import MARKER
from hookcatcher.files import fixtures

APIKEY = "EVO-INSTANCE-TOKEN-7c1f9e"
BEARER = "whapi-channel-token-5b2d"


async def post_secret(url: str) -> int:
    """Evolution with the instance token exposed, delivered with a custom Bearer header,
    and a token in the query."""
    body = fixture("evolution/v2/instance.create")["body"]
    body["apikey"] = APIKEY
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(
            f"/webhook?token={BEARER}",
            content=json.dumps(body).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {BEARER}"},
        )
    return answer.json()["id"]


def status_text_of(app) -> str:
    return str(app.query_one("#status").render())


def noted(app) -> list[str]:
    """Every notification's message from now on, as the user reads them."""
    messages: list[str] = []
    notify = app.notify

    def recording(message, **options):
        messages.append(str(message))
        return notify(message, **options)

    app.notify = recording
    return messages


def screens(app) -> str:
    return "\n".join(
        shown(app, selector)
        for selector in ("#body-text", "#headers-text", "#raw-text", "#capture-marks")
    )


@pytest.mark.slow
def test_tabs_clipboard_saves_and_export_hide_secrets_until_h(
    server, app_for, tmp_path: Path
) -> None:
    async def scenario() -> None:
        app = app_for(server, save_dir=tmp_path / "saved")
        notices = noted(app)
        async with opened(app) as pilot:
            capture_id = await post_secret(server.url)
            await until(pilot, lambda: app.detail.capture is not None, "the capture")
            assert APIKEY.encode() in app.detail.capture.raw  # the real bytes are kept
            text = screens(app)
            assert APIKEY not in text and BEARER not in text
            assert f'"apikey": "{MARKER}"' in text and f"Bearer {MARKER}" in text
            assert "secrets hidden" in text
            await pilot.press("y")
            await until(pilot, lambda: app.clipboard.startswith("{"), "the body copied")
            assert json.loads(app.clipboard)["apikey"] == MARKER
            await pilot.press("C")
            await until(pilot, lambda: app.clipboard.startswith("curl"), "the curl command")
            assert APIKEY not in app.clipboard and BEARER not in app.clipboard
            assert app.clipboard.count(f"token={MARKER}") == 1  # the query once, not twice
            assert any("secrets redacted (h shows them)" in notice for notice in notices)
            await pilot.press("s")
            saved = tmp_path / "saved" / "evolution" / f"instance.create.{capture_id}.json"
            await until(pilot, saved.exists, "the fixture file")
            assert fixtures.load(saved).body["apikey"] == MARKER
            await pilot.press("x")
            await until(pilot, lambda: list((tmp_path / "saved").glob("*.har")), "the HAR file")
            (har_file,) = (tmp_path / "saved").glob("*.har")
            assert any(str(har_file) in notice and "1 capture(s)" in notice for notice in notices)
            document = json.loads(har_file.read_text())
            assert APIKEY not in har_file.read_text() and BEARER not in har_file.read_text()
            (entry,) = HarParser(document).pages[0].entries
            assert json.loads(entry.request.text)["apikey"] == MARKER

            await pilot.press("h")
            await until(pilot, lambda: APIKEY in screens(app), "the secrets shown")
            assert f"Bearer {BEARER}" in screens(app)
            assert "secrets shown" in status_text_of(app)
            await pilot.press("y")
            await until(pilot, lambda: APIKEY in app.clipboard, "the real body copied")
            await pilot.press("C")
            await until(
                pilot,
                lambda: app.clipboard.startswith("curl") and BEARER in app.clipboard,
                "the real curl command",
            )
            await pilot.press("x")
            await until(
                pilot,
                lambda: len(list((tmp_path / "saved").glob("*.har"))) == 2,
                "the second HAR file",
            )
            (newest,) = set((tmp_path / "saved").glob("*.har")) - {har_file}
            assert APIKEY in newest.read_text()

            await pilot.press("h")
            await until(pilot, lambda: APIKEY not in screens(app), "the secrets hidden again")
            assert "secrets shown" not in status_text_of(app)

    run(scenario)


@pytest.mark.slow
def test_replays_send_the_real_bytes_while_the_screen_hides_them(make_server, app_for) -> None:
    server, receiver = make_server(), make_server()

    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            await post_secret(server.url)
            await until(pilot, lambda: app.detail.capture is not None, "the capture")
            await pilot.press("r")
            await pilot.pause()
            app.screen.query_one("#replay-target").value = f"{receiver.url}/app"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.attempts, "the replay")
            async with httpx.AsyncClient(base_url=receiver.url) as http:
                (got,) = (await http.get("/_hookcatcher/api/events", params={"raw": 1})).json()[
                    "events"
                ]
            assert got["body"]["apikey"] == APIKEY
            assert ["authorization", f"Bearer {BEARER}"] in got["headers"]
            assert got["query"] == f"token={BEARER}"

    run(scenario)


def test_started_with_redaction_off_shows_secrets(server, app_for) -> None:
    async def scenario() -> None:
        app = app_for(server, redact=False)
        async with opened(app) as pilot:
            await post_secret(server.url)
            await until(pilot, lambda: app.detail.capture is not None, "the capture")
            await until(pilot, lambda: APIKEY in screens(app), "the secret on screen")
            assert "secrets shown" in status_text_of(app)

    run(scenario)


# -- every screen, against the body full of secrets (tests/helpers/secret_requests.py)


def screen_text(app) -> str:
    """Everything the active screen shows as text: labels and statics, list options, text
    areas, inputs, the capture list's visible rows and the status line."""
    from textual.widgets import Input, Label, OptionList, Static, TextArea

    from hookcatcher.tui.capture_list import CaptureList

    parts: list[str] = []
    for widget in app.screen.query("*"):
        if isinstance(widget, (Static, Label)):
            parts.append(plain(widget.render()))
        elif isinstance(widget, OptionList):
            parts += [
                plain(widget.get_option_at_index(index).prompt)
                for index in range(widget.option_count)
            ]
        elif isinstance(widget, TextArea):
            parts.append(widget.text)
        elif isinstance(widget, Input):
            parts.append(widget.value)
        elif isinstance(widget, CaptureList):
            parts += widget.plain_lines()
        elif type(widget).__name__ == "StatusLine":
            parts.append(widget.text.plain)
    return "\n".join(parts)


async def send_secrets(server, receiver) -> list[int]:
    ids = []
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answer = await http.patch(
            "/_gateway/whapi/settings",
            headers={"Authorization": f"Bearer {WHAPI_CHANNEL}"},
            json={
                "webhooks": [
                    {
                        "url": f"{receiver.url}/hook?token={WEBHOOK_TOKEN}",
                        "mode": "body",
                        "events": [{"type": "messages", "method": "post"}],
                    }
                ]
            },
        )
        assert answer.status_code == 200, answer.text
        for method, target, headers, raw in REQUESTS:
            answer = await http.request(method, target, content=raw, headers=headers)
            ids.append(answer.json()["id"])
    ids.append(await post(server, "whapi/messages.post.text"))  # delivered to the channel
    return ids


async def every_screen(pilot, app, index: int, capture_id: int) -> list[tuple[str, str]]:
    """The text of each tab (all filled when a capture is shown, the hidden ones too) and
    of each window the capture can be shown in."""
    app.capture_list.select_index(index)
    await until(
        pilot,
        lambda: app.detail.capture is not None and app.detail.capture.id == capture_id,
        f"#{capture_id}",
    )
    texts = [(f"#{capture_id} list and tabs", screen_text(app))]
    for key, window in (("r", "ReplayScreen"), ("a", "InstanceScreen")):
        await open_window(pilot, app, key, window)
        texts.append((f"#{capture_id} {window}", screen_text(app)))
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ == "Screen", "the main screen")
    return texts


@pytest.mark.slow
def test_every_screen_hides_every_secret_of_the_body_full_of_them(make_server, app_for) -> None:
    """The list, the status line, each tab of the detail pane, the replay window (r) and the
    as-the-gateway window (a) with a Whapi channel (named by its token, its webhook URL
    carrying another), for each capture; a replay and a delivery, their notices and the
    Replays tab; then, with secrets shown (h), the same screens of two captures show them,
    so the check had something to find."""
    server, receiver = make_server(), make_server()

    async def scenario() -> None:
        app = app_for(server, config_dir=None)
        app.settings.target = f"{receiver.url}/app"
        notices = noted(app)
        async with opened(app) as pilot:
            ids = await send_secrets(server, receiver)
            await until(pilot, lambda: len(app.capture_list.rows) == len(ids), "the captures")
            seen: list[tuple[str, str]] = []
            for index, capture_id in enumerate(ids):
                seen += await every_screen(pilot, app, index, capture_id)
            await pilot.press("r")  # the last capture, the Whapi one, then the first
            await until(pilot, lambda: type(app.screen).__name__ == "ReplayScreen", "r")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.attempts.get(ids[-1]), "the replay")
            await open_window(pilot, app, "a", "InstanceScreen")
            await pilot.press("enter")
            await until(pilot, lambda: len(app.attempts.get(ids[-1], ())) == 2, "the delivery")
            app.capture_list.select_index(0)
            await until(pilot, lambda: app.detail.capture.id == ids[0], "the first capture")
            await open_window(pilot, app, "r", "ReplayScreen")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.attempts.get(ids[0]), "the second replay")
            await until(pilot, lambda: len(notices) >= 3, "the notices")
            seen += [("notices", "\n".join(notices)), ("replays tab", screen_text(app))]
            assert "query-token-0010" in app.attempts[ids[0]][0].url  # sent as received
            assert any(f"/hook?token={MARKER} → 200" in notice for notice in notices)
            assert f"token={MARKER}" in seen[-1][1]
            assert 'duplicate key "apikey"' in seen[0][1] and "bytes, UTF-8" in seen[0][1]
            assert_hidden(seen)
            assert any("whapi/[redacted …cdef]" in text for _, text in seen)
            await pilot.press("h")
            await until(pilot, lambda: not app.redact, "secrets shown")
            shown_when_asked = set()
            for index in (0, 1):
                for _, text in await every_screen(pilot, app, index, ids[index]):
                    shown_when_asked.update(leaked(text))
            assert shown_when_asked >= {
                NON_ASCII_JWT,
                WHAPI_CHANNEL,
                WEBHOOK_TOKEN,
                "dup-last-apikey-0002",
                "multipart-apikey-0013",
            }

    run(scenario)
