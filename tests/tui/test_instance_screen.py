"""The "as the gateway" window (a): the instances the app configured through /_gateway/, the
requests the gateway would send for the selected capture, and sending them."""

from __future__ import annotations

import httpx
import pytest
from helpers.inspector import open_window, opened, post, run, shown, until


def configure_evolution(server, url: str) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        answer = http.post(
            "/_gateway/evolution/webhook/set/sales",
            json={
                "webhook": {
                    "enabled": True,
                    "url": url,
                    "byEvents": True,
                    "events": ["MESSAGES_UPSERT"],
                }
            },
        )
    assert answer.status_code == 201, answer.text


@pytest.mark.slow
def test_send_as_the_gateway_to_a_configured_instance(make_server, app_for) -> None:
    server, receiver = make_server(), make_server()
    configure_evolution(server, f"{receiver.url}/app")

    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            upsert = await post(server, "evolution/v2/messages.upsert.text")
            await until(pilot, lambda: app.detail.capture is not None, "the capture")
            await open_window(pilot, app, "a", "InstanceScreen")
            assert (
                str(app.screen.query_one("#instance-list").get_option_at_index(0).prompt)
                == f"evolution/sales v2  {receiver.url}/app [by-events]"
            )
            assert (
                shown(app, "#instance-preview").strip()
                == f"→ POST {receiver.url}/app/messages-upsert"
            )
            await pilot.press("enter")
            await until(pilot, lambda: app.attempts.get(upsert), "the delivery")
            (attempt,) = app.attempts[upsert]
            assert attempt.status == 200 and attempt.url == f"{receiver.url}/app/messages-upsert"
            async with httpx.AsyncClient(base_url=receiver.url) as http:
                (got,) = (await http.get("/_hookcatcher/api/events")).json()["events"]
            assert got["path"] == "/app/messages-upsert" and got["event"] == "messages.upsert"

            # An event the instance did not subscribe to: the window says why, nothing goes.
            await post(server, "evolution/v2/messages.update.read")
            await until(pilot, lambda: app.detail.capture.event == "messages.update", "the update")
            await open_window(pilot, app, "a", "InstanceScreen")
            assert shown(app, "#instance-preview").strip() == (
                "✗ messages.update is not subscribed: add MESSAGES_UPDATE to the instance's "
                "events (subscribed: MESSAGES_UPSERT)"
            )
            await pilot.press("escape")

    run(scenario)


def test_without_instances_the_window_says_how_to_configure_one(server, app_for) -> None:
    async def scenario() -> None:
        app = app_for(server)
        async with opened(app) as pilot:
            await post(server, "whapi/messages.post.text")
            await until(pilot, lambda: app.detail.capture is not None, "the capture")
            await open_window(pilot, app, "a", "InstanceScreen")
            text = " ".join(shown(app, "#instance-preview").split())
            assert text.startswith("No gateway instance is configured yet.")
            assert "PATCH /_gateway/whapi/settings" in text

    run(scenario)
