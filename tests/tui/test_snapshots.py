"""Snapshot tests (pytest-textual-snapshot) at 120x40: the main screen, each detail tab, the
QR view and the conversation view. The server is real; its captures have fixed times so the
screens are the same on every run. `pytest --snapshot-update` rewrites them after a change
that was checked by eye."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers.bundled import fixture
from helpers.inspector import SIZE, filled_store, open_window, until

from hookcatcher.receive.app import create_app
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.tui import InspectorApp

MAIN = [
    "evolution/v2/connection.update.open",
    "evolution/v2/messages.upsert.text",
    "evolution/v2/send.message.text",
    "evolution/v2/messages.update.read",
    "whapi/messages.post.text",
    "whapi/statuses.post.read",
    "codechat/v2/messages.upsert.text",
    "codechat/2026/messages.upsert.text",
    "evolution/v2/presence.update.composing",
    ("evolution/v2/messages.upsert.image", lambda body: body["data"]["key"].update(fromMe="no")),
]
SENT = fixture("evolution/v2/send.message.text")["body"]["data"]["key"]
WHAPI_ID = fixture("whapi/messages.post.text")["body"]["messages"][0]["id"]


def _evolution_status(status: str) -> tuple[str, Any]:
    return (
        "evolution/v2/messages.update.read",
        lambda body: body["data"].update(
            keyId=SENT["id"], remoteJid=SENT["remoteJid"], fromMe=True, status=status
        ),
    )


def _whapi_status(name: str) -> tuple[str, Any]:
    return (name, lambda body: body["statuses"][0].update(id=WHAPI_ID))


# One exchange per gateway, statuses aimed at the messages they belong to.
CHATS = [
    "evolution/v2/messages.upsert.text",
    "evolution/v2/send.message.text",
    _evolution_status("SERVER_ACK"),
    _evolution_status("DELIVERY_ACK"),
    _evolution_status("READ"),
    "whapi/messages.post.text",
    _whapi_status("whapi/statuses.post.delivered"),
    _whapi_status("whapi/statuses.post.read"),
]


@pytest.fixture
def snapshot_app(validator, tmp_path) -> Callable[..., tuple[InspectorApp, Any]]:
    servers: list[BackgroundServer] = []

    def make(names: list[Any], **options: Any) -> tuple[InspectorApp, Any]:
        server = BackgroundServer(create_app(filled_store(validator, names), validator)).start()
        servers.append(server)
        app = InspectorApp(
            server.url, label="127.0.0.1:8787", save_dir=tmp_path, config_dir=tmp_path, **options
        )

        async def ready(pilot: Any) -> None:
            count = len(names)
            await until(
                pilot,
                lambda: (
                    app.loaded.is_set()
                    and app.stats.get("received") == count
                    and app.detail.capture is not None
                    and bool(app.detail.capture.raw)
                ),
                "the screen to settle",
            )
            await pilot.pause()

        return app, ready

    yield make
    for server in servers:
        server.stop()


def test_main_screen(snap_compare, snapshot_app) -> None:
    app, ready = snapshot_app(MAIN)
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.mark.slow
@pytest.mark.parametrize(
    "key,tab", [("2", "headers"), ("3", "validation"), ("4", "raw"), ("5", "replays")]
)
def test_detail_tabs(snap_compare, snapshot_app, key: str, tab: str) -> None:
    app, ready = snapshot_app(MAIN)

    async def open_tab(pilot: Any) -> None:
        await ready(pilot)
        await pilot.press(key)
        assert app.detail.active == tab
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_tab)


@pytest.mark.slow
def test_qr_view(snap_compare, snapshot_app) -> None:
    app, ready = snapshot_app(
        [
            "evolution/v2/connection.update.connecting",
            "evolution/v2/qrcode.updated",
            "evolution/v2/presence.update.composing",
        ]
    )

    async def open_qr(pilot: Any) -> None:
        await ready(pilot)
        await open_window(pilot, app, "Q", "QrScreen")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_qr)


@pytest.mark.slow
def test_conversation_view(snap_compare, snapshot_app) -> None:
    app, ready = snapshot_app(CHATS)

    async def open_chats(pilot: Any) -> None:
        await ready(pilot)
        await open_window(pilot, app, "c", "ConversationScreen")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_chats)
