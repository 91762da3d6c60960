"""The inspector hides secrets by default wherever a capture is read or leaves the window:
the Body, Headers and Raw tabs, the clipboard (body, curl), saved fixtures and the `x` HAR
export; `h` shows them; replays still send the real bytes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from haralyzer import HarParser

from hookcatcher import fixtures
from hookcatcher.redact import MARKER

from conftest import fixture

from .conftest import opened, run, shown, until

APIKEY = "EVO-INSTANCE-TOKEN-7c1f9e"
BEARER = "whapi-channel-token-5b2d"


async def post_secret(url: str) -> int:
    """Evolution with the instance token exposed, delivered with a custom Bearer header,
    and a token in the query."""
    body = fixture("evolution/v2/instance.create")["body"]
    body["apikey"] = APIKEY
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(f"/webhook?token={BEARER}", content=json.dumps(body).encode(),
                                 headers={"content-type": "application/json",
                                          "authorization": f"Bearer {BEARER}"})
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
    return "\n".join(shown(app, selector) for selector in
                     ("#body-text", "#headers-text", "#raw-text", "#capture-marks"))


def test_tabs_clipboard_saves_and_export_hide_secrets_until_h(server, app_for,
                                                               tmp_path: Path) -> None:
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
            await until(pilot, lambda: app.clipboard.startswith("curl") and BEARER in app.clipboard,
                        "the real curl command")
            await pilot.press("x")
            await until(pilot, lambda: len(list((tmp_path / "saved").glob("*.har"))) == 2,
                        "the second HAR file")
            (newest,) = set((tmp_path / "saved").glob("*.har")) - {har_file}
            assert APIKEY in newest.read_text()

            await pilot.press("h")
            await until(pilot, lambda: APIKEY not in screens(app), "the secrets hidden again")
            assert "secrets shown" not in status_text_of(app)
    run(scenario)


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
                (got,) = (await http.get("/_hookcatcher/api/events",
                                         params={"raw": 1})).json()["events"]
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
