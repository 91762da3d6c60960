"""The inspector driven by key presses against a real server on a free port: what a user
sees in the list, the status line and the detail tabs."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from helpers.bundled import fixture
from helpers.inspector import SIZE, open_window, opened, plain, post, run, shown, until

from hookcatcher.files import fixtures
from hookcatcher.receive.answers import Answers
from hookcatcher.tui.detail import DetailPane


def status_text(app) -> str:
    return str(app.query_one("#status").render())


@pytest.mark.slow
def test_posted_captures_appear_with_their_columns(server, app_for) -> None:
    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            await post(server, "evolution/v2/messages.upsert.text")
            await post(server, "whapi/messages.post.text")
            await post(
                server,
                "evolution/v2/messages.upsert.text",
                change=lambda body: body["data"]["key"].update(fromMe="no"),
            )
            await until(pilot, lambda: len(app.capture_list.rows) == 3, "three rows")
            first, second, third = app.capture_list.rows
            assert (first.provider, first.event, first.instance, first.status) == (
                "evolution",
                "messages.upsert",
                "sales",
                "valid",
            )
            assert first.chat.endswith("@s.whatsapp.net")
            assert (second.provider, second.event) == ("whapi", "messages/post")
            assert second.chat != "-"
            assert third.status == "invalid" and third.verdict.startswith("✗ 1 err")
            lines = app.capture_list.plain_lines()
            assert "messages.upsert" in lines[0] and "✓ valid" in lines[0]
            await until(pilot, lambda: "received 3" in status_text(app), "the counters")
            status = status_text(app)
            assert "● connected" in status and "shown 3" in status and "invalid 1" in status
            # Follow mode selected the newest; its detail is on screen.
            assert app.capture_list.selected is third
            await until(
                pilot,
                lambda: app.detail.capture is not None and app.detail.capture.id == third.id,
                "the detail of the newest",
            )

    run(scenario)


@pytest.mark.slow
def test_filter_bar_applies_the_filter_language_and_says_what_is_wrong(server, app_for) -> None:
    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            await post(server, "evolution/v2/messages.upsert.text")
            await post(server, "whapi/messages.post.text")
            await post(server, "codechat/v2/messages.upsert.text")
            await until(pilot, lambda: len(app.capture_list.rows) == 3, "three rows")
            await pilot.press("slash", *"provider:whapi", "enter")
            await until(pilot, lambda: app.filter_text == "provider:whapi", "the filter")
            assert [row.provider for row in app.capture_list.rows] == ["whapi"]
            # New captures go through the same filter.
            await post(server, "evolution/v2/messages.upsert.text")
            await post(server, "whapi/statuses.post.read")
            await until(pilot, lambda: len(app.capture_list.rows) == 2, "the new whapi row")
            assert {row.provider for row in app.capture_list.rows} == {"whapi"}
            # A bad term: the error in place, the list unchanged.
            app.query_one("#filter").value = ""
            await pilot.press("slash", *"valid:perhaps", "enter")
            error = app.query_one("#filter-error")
            await until(pilot, lambda: error.has_class("-shown"), "the filter error")
            assert "valid:perhaps" in str(error.render())
            assert app.filter_text == "provider:whapi" and len(app.capture_list.rows) == 2
            # Quick toggles write their term into the filter bar.
            app.query_one("#filter").value = ""
            await pilot.press("slash", "enter")
            await until(pilot, lambda: len(app.capture_list.rows) == 5, "all rows again")
            await pilot.press("i")
            await until(pilot, lambda: app.filter_text == "valid:no", "the invalid toggle")
            assert app.capture_list.rows == []
            await pilot.press("i")
            await until(pilot, lambda: app.filter_text == "", "the toggle undone")
            app.capture_list.select_index(0)
            await pilot.press("e")
            await until(pilot, lambda: app.filter_text == "event:messages.upsert", "event toggle")
            assert len(app.capture_list.rows) == 3

    run(scenario)


@pytest.mark.slow
def test_follow_pauses_when_moving_up_and_resumes_with_one_key(server, app_for) -> None:
    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            for _ in range(3):
                await post(server, "evolution/v2/messages.upsert.text")
            await until(pilot, lambda: len(app.capture_list.rows) == 3, "three rows")
            assert app.capture_list.follow and app.capture_list.cursor == 2
            await pilot.press("up")
            assert not app.capture_list.follow and app.capture_list.cursor == 1
            assert "paused" in status_text(app)
            await post(server, "whapi/messages.post.text")
            await until(pilot, lambda: len(app.capture_list.rows) == 4, "a fourth row")
            assert app.capture_list.cursor == 1  # paused: the selection stays put
            await pilot.press("f")
            assert app.capture_list.follow and app.capture_list.cursor == 3
            assert "follow ▼" in status_text(app)

    run(scenario)


@pytest.mark.slow
def test_tabs_and_validation_errors_lead_to_their_place_in_the_body(server, app_for) -> None:
    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            await post(
                server,
                "evolution/v2/messages.upsert.text",
                change=lambda body: body["data"]["key"].update(fromMe="no"),
            )
            detail: DetailPane = app.detail
            await until(
                pilot,
                lambda: detail.capture is not None and detail.capture.raw,
                "the whole capture",
            )
            await pilot.press("2")
            assert detail.active == "headers"
            assert "content-type" in shown(app, "#headers-text")
            await pilot.press("4")
            assert detail.active == "raw"
            assert '"fromMe": "no"' in shown(app, "#raw-text")
            await pilot.press("3")
            assert detail.active == "validation"
            heading = shown(app, "#validation-heading")
            assert "invalid against evolution/messages.upsert" in heading
            errors = app.query_one("#validation-errors")
            option = errors.get_option_at_index(0)
            assert "$.data.key.fromMe" in str(option.prompt)
            assert 'expected a boolean, got string "no"' in str(option.prompt)
            # The schema's description of the field, from the server's catalog.
            assert "true when the connected account sent the message" in str(option.prompt)
            assert errors.has_focus  # Enter goes straight to the first error
            await pilot.press("enter")
            await until(pilot, lambda: detail.active == "body", "the Body tab")
            line = detail.marked_line
            assert line is not None
            marked = detail.body_view.text.plain.split("\n")[line]
            assert marked.strip().startswith('"fromMe": "no"')

    run(scenario)


def test_save_as_fixture_and_copy_as_curl_and_body(server, app_for, tmp_path: Path) -> None:
    async def scenario() -> None:
        app = app_for(server, save_dir=tmp_path / "saved")
        async with opened(app) as pilot:
            capture_id = await post(server, "whapi/messages.post.text", path="/hooks/messages/post")
            await until(pilot, lambda: app.capture_list.selected is not None, "a selection")
            await pilot.press("s")
            saved = tmp_path / "saved" / "whapi" / f"messages.post.{capture_id}.json"
            await until(pilot, saved.exists, f"{saved.name} to be written")
            loaded = fixtures.load(saved)
            assert (loaded.provider, loaded.event) == ("whapi", "messages/post")
            assert loaded.body == json.loads(
                json.dumps(fixture("whapi/messages.post.text")["body"])
            )
            await pilot.press("y")
            await until(pilot, lambda: app.clipboard.startswith("{"), "the body copied")
            assert json.loads(app.clipboard) == loaded.body
            await pilot.press("C")
            await until(pilot, lambda: app.clipboard.startswith("curl"), "the curl command")
            assert f"{server.url}/hooks/messages/post" in app.clipboard
            assert "--data-binary" in app.clipboard

    run(scenario)


@pytest.mark.slow
def test_replay_to_a_test_receiver_as_received_per_event_and_edited(make_server, app_for) -> None:
    server, receiver = make_server(), make_server()

    async def received() -> list[dict]:
        async with httpx.AsyncClient(base_url=receiver.url) as http:
            return (await http.get("/_hookcatcher/api/events", params={"raw": 1})).json()["events"]

    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            await post(server, "evolution/v2/messages.upsert.text")
            await until(pilot, lambda: app.detail.capture is not None, "the capture")
            await pilot.press("r")
            await pilot.pause()
            target = app.screen.query_one("#replay-target")
            target.value = f"{receiver.url}/app/webhook"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.attempts, "the replay attempt")
            (attempt,) = app.attempts[app.detail.capture.id]
            assert attempt.status == 200 and attempt.url == f"{receiver.url}/app/webhook"
            assert app.detail.active == "replays"
            assert '"ok":true' in shown(app, "#replays-text").replace(" ", "")
            (got,) = await received()
            assert got["path"] == "/app/webhook"
            assert got["raw"].encode() == app.detail.capture.raw
            # The target is remembered; per-event mode follows Evolution's rule.
            await pilot.press("r")
            await pilot.pause()
            assert app.screen.query_one("#replay-target").value == f"{receiver.url}/app/webhook"
            app.screen.query_one("#replay-by-events").value = True
            await pilot.pause()
            assert "/app/webhook/messages-upsert" in str(
                app.screen.query_one("#replay-preview").render()
            )
            area = app.screen.query_one("#replay-body")
            area.text = area.text.replace('"sales"', '"edited-instance"', 1)
            await pilot.press("ctrl+s")
            await until(
                pilot, lambda: len(app.attempts[app.detail.capture.id]) == 2, "the second attempt"
            )
            got = (await received())[-1]
            assert got["path"] == "/app/webhook/messages-upsert"
            assert got["instance"] == "edited-instance"
            # Settings survive a restart of the inspector.
            assert json.loads((app.config_dir / "tui.json").read_text())["by_events"] is True

    run(scenario)


@pytest.mark.slow
def test_replay_to_an_app_that_is_not_running_says_so(server, app_for, unused_port) -> None:
    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            await post(server, "whapi/messages.post.text")
            await until(pilot, lambda: app.detail.capture is not None, "the capture")
            await pilot.press("r")
            await pilot.pause()
            app.screen.query_one("#replay-target").value = f"http://127.0.0.1:{unused_port}/hook"
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.attempts, "the attempt")
            (attempt,) = next(iter(app.attempts.values()))
            assert attempt.status is None
            assert "connection refused" in attempt.error and "is your app running?" in attempt.error
            assert "connection refused" in shown(app, "#replays-text")

    run(scenario)


@pytest.mark.slow
def test_conversation_view_threads_messages_with_their_status_trail(server, app_for) -> None:
    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            for name in (
                "evolution/v2/messages.upsert.text",
                "evolution/v2/send.message.text",
                "evolution/v2/connection.update.open",
            ):
                await post(server, name)
            sent = fixture("evolution/v2/send.message.text")["body"]["data"]["key"]
            for status in ("SERVER_ACK", "DELIVERY_ACK", "READ"):
                await post(
                    server,
                    "evolution/v2/messages.update.read",
                    change=lambda body, s=status: body["data"].update(
                        keyId=sent["id"], remoteJid=sent["remoteJid"], fromMe=True, status=s
                    ),
                )
            await until(pilot, lambda: len(app.capture_list.rows) == 6, "six rows")
            await open_window(pilot, app, "c", "ConversationScreen")
            text = shown(app, "#messages-text")
            assert sent["remoteJid"] in text
            assert "SERVER_ACK → DELIVERY_ACK → READ" in text
            assert "→" in text and "you:" in text  # the message sent through the gateway
            # A new message in the same chat arrives while the window is open.
            await post(
                server,
                "evolution/v2/messages.upsert.text",
                change=lambda body: (
                    body["data"]["key"].update(id="NEWMESSAGE0001")
                    or body["data"]["message"].update(conversation="arrived live")
                ),
            )
            await until(
                pilot, lambda: "arrived live" in shown(app, "#messages-text"), "the live message"
            )
            await pilot.press("escape")
            assert type(app.screen).__name__ == "Screen"

    run(scenario)


@pytest.mark.slow
def test_qr_view_draws_the_newest_qr_and_follows_new_ones(server, app_for) -> None:
    async def scenario() -> None:
        from hookcatcher.core import qr

        app = app_for(server)
        async with opened(app) as pilot:
            await open_window(pilot, app, "Q", "QrScreen")
            assert "No QR code among the captures yet" in shown(app, "#qr-caption")
            await post(server, "evolution/v2/qrcode.updated")
            code = fixture("evolution/v2/qrcode.updated")["body"]["data"]["qrcode"]["code"]
            drawing = app.screen.query_one("#qr-drawing")
            await until(pilot, lambda: "capture #1" in shown(app, "#qr-caption"), "the QR")
            assert str(drawing.content).split("\n") == qr.render(code)
            await post(
                server,
                "codechat/2026/qrcode.updated",
                change=lambda body: body["data"].update(code="2@NEWER,code"),
            )
            await until(pilot, lambda: "capture #2" in shown(app, "#qr-caption"), "the newer QR")
            assert str(drawing.content).split("\n") == qr.render("2@NEWER,code")
            assert "expires in 60 s" in shown(app, "#qr-caption")
            await pilot.press("escape")
            # On a capture with no QR text, the window says why.
            await post(server, "evolution/v2/qrcode.updated.limit")
            await until(pilot, lambda: len(app.capture_list.rows) == 3, "three rows")
            await until(
                pilot,
                lambda: app.detail.capture is not None and app.detail.capture.id == 3,
                "the newest selected",
            )
            await open_window(pilot, app, "Q", "QrScreen")
            assert "no QR code" in shown(app, "#qr-caption")

    run(scenario)


def test_help_and_command_palette_list_every_action(server, app_for) -> None:
    from hookcatcher.tui.bindings import KEYS

    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            await open_window(pilot, app, "f1", "HelpScreen")
            from hookcatcher.tui.help_screen import help_table

            text = plain(help_table(), width=100)
            for key in KEYS:
                assert key.help.split(";")[0][:40] in text.replace("\n", " ") or key.label in text
            await pilot.press("escape")
            titles = [command.title for command in app.get_system_commands(app.screen)]
            for key in KEYS:
                if key.palette:
                    assert any(title.startswith(key.label) for title in titles), key.label
            # A palette command runs its action.
            (follow,) = [
                c for c in app.get_system_commands(app.screen) if c.title.startswith("Follow")
            ]
            app.capture_list.set_follow(False)
            await follow.callback()
            assert app.capture_list.follow

    run(scenario)


@pytest.mark.slow
def test_connection_indicator_tells_the_truth_and_resumes(make_server, app_for, validator) -> None:
    """The server stops: "reconnecting", then back with no capture missed; a new server run
    on the same port (ids begin again) replaces the list instead of mixing the two."""
    from hookcatcher.receive.app import create_app
    from hookcatcher.receive.runner import BackgroundServer
    from hookcatcher.receive.store import Store

    first = make_server()
    port = int(first.url.rsplit(":", 1)[1])

    async def scenario() -> None:
        app = app_for(first)
        async with opened(app) as pilot:
            await post(first, "evolution/v2/messages.upsert.text")
            await post(first, "evolution/v2/messages.upsert.text")
            await until(pilot, lambda: len(app.capture_list.rows) == 2, "two rows")
            await until(pilot, lambda: app.state == "connected", "connected")
            first.stop()
            await until(pilot, lambda: app.state == "reconnecting", "reconnecting")
            assert "reconnecting" in status_text(app)
            second = BackgroundServer(create_app(Store(), validator), port=port).start()
            try:
                await until(pilot, lambda: app.state == "connected", "connected again")
                await until(
                    pilot, lambda: app.capture_list.rows == [], "the new run's (empty) list"
                )
                await post(second, "whapi/messages.post.text")
                await until(
                    pilot,
                    lambda: [r.provider for r in app.capture_list.rows] == ["whapi"],
                    "the new run's capture",
                )
                assert app.capture_list.rows[0].id == 1
            finally:
                second.stop()

    run(scenario)


@pytest.mark.slow
def test_started_before_its_server_it_says_so_then_attaches(
    app_for, validator, unused_port, monkeypatch
) -> None:
    from hookcatcher.receive.app import create_app
    from hookcatcher.receive.runner import BackgroundServer
    from hookcatcher.receive.store import Store
    from hookcatcher.tui import app as app_module

    monkeypatch.setattr(app_module, "GONE_AFTER", 0.5)

    class Nowhere:
        url = f"http://127.0.0.1:{unused_port}"

    async def scenario() -> None:
        app = app_for(Nowhere)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.state == "reconnecting", "reconnecting")
            assert "connection refused" in status_text(app)
            await until(pilot, lambda: app.state == "gone", "gone")
            assert "✗ gone" in status_text(app)
            server = BackgroundServer(create_app(Store(), validator), port=unused_port).start()
            try:
                await until(pilot, app.loaded.is_set, "the first listing")
                await until(pilot, lambda: app.state == "connected", "connected")
                await post(server, "whapi/messages.post.text")
                await until(pilot, lambda: len(app.capture_list.rows) == 1, "the capture")
            finally:
                server.stop()

    run(scenario)


@pytest.mark.slow
def test_replay_body_edited_in_the_users_editor(make_server, app_for, monkeypatch) -> None:
    """Ctrl+O hands the body to $EDITOR (a real program here, sed) and sends what it saved.
    Pilot's headless terminal cannot be suspended, so suspending is the one part stood in for."""
    from contextlib import nullcontext

    server, receiver = make_server(), make_server()
    monkeypatch.setenv("EDITOR", "sed -i s/sales/edited-in-editor/")
    monkeypatch.delenv("VISUAL", raising=False)

    async def scenario() -> None:
        app = app_for(server)
        monkeypatch.setattr(app, "suspend", nullcontext)
        async with opened(app) as pilot:
            await post(server, "evolution/v2/messages.upsert.text")
            await until(pilot, lambda: app.detail.capture is not None, "the capture")
            await pilot.press("r")
            await pilot.pause()
            app.screen.query_one("#replay-target").value = f"{receiver.url}/hook"
            await pilot.press("ctrl+o")
            await until(
                pilot,
                lambda: "edited-in-editor" in app.screen.query_one("#replay-body").text,
                "the edited body",
            )
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.attempts, "the replay")
            async with httpx.AsyncClient(base_url=receiver.url) as http:
                (got,) = (await http.get("/_hookcatcher/api/events")).json()["events"]
            assert got["instance"] == "edited-in-editor"

    run(scenario)


@pytest.mark.slow
def test_retries_and_answers_other_than_200_are_marked(make_server, app_for) -> None:
    server = make_server(Answers.from_flags(fail_first=["2"]))
    body = json.dumps(fixture("evolution/v2/messages.upsert.text")["body"]).encode()

    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                statuses = [
                    (await http.post("/webhook", content=body)).status_code for _ in range(3)
                ]
                await http.post("/webhook", content=b'{"other": 1}')  # its own first failure
            assert statuses == [500, 500, 200]
            await until(pilot, lambda: len(app.capture_list.rows) == 4, "four rows")
            rows = app.capture_list.rows
            assert [(row.retry_of, row.answered) for row in rows] == [
                (None, 500),
                (1, 500),
                (1, 200),
                (None, 500),
            ]
            lines = app.capture_list.plain_lines()
            assert "messages.upsert" in lines[1] and lines[1].count("↻#1 500") == 1
            assert "↻#1" in lines[2] and " 500" not in lines[2]
            assert "↻" not in lines[0] and "500" in lines[0]
            # Every line keeps its columns: the marks end the event cell.
            assert len({line.index("✓ valid") for line in lines[:3]}) == 1
            # The refused status has a colour of its own on the list line.
            strip = app.capture_list.render_line(2)
            (refused,) = [segment for segment in strip if segment.text == "500"]
            (rest,) = [segment for segment in strip if "messages.upsert" in segment.text]
            assert refused.style.color != rest.style.color and refused.style.bold

            marks = app.detail.query_one("#capture-marks")
            app.capture_list.select_index(1)
            await until(
                pilot,
                lambda: app.detail.capture is not None and app.detail.capture.id == 2,
                "the detail of the first retry",
            )
            assert marks.display
            assert shown(app, "#capture-marks").strip() == (
                "↻ retry of #1 (the same bytes)   answered 500 "
                "(--fail-first 2: failure 2 of 2 for this body)"
            )
            app.capture_list.select_index(2)
            await until(pilot, lambda: app.detail.capture.id == 3, "the detail of the last retry")
            assert shown(app, "#capture-marks").strip() == "↻ retry of #1 (the same bytes)"
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                # An empty body: --fail-first leaves it alone, and it repeats nothing.
                assert (await http.post("/webhook", content=b"")).status_code == 200
            await until(pilot, lambda: len(app.capture_list.rows) == 5, "the fifth row")
            app.capture_list.select_index(4)
            await until(pilot, lambda: app.detail.capture.id == 5, "the detail of a plain capture")
            assert not marks.display and app.capture_list.rows[4].marks == []

    run(scenario)
