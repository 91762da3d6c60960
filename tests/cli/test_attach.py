"""`attach` as a transparent tap: while attached, the app the instance delivered to keeps
receiving each event at the URL and with the headers the gateway would have used, and on
exit the instance's configuration is put back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest
from helpers.recorder import Recorder, serving

from hookcatcher.connect.client import connect

EVENTS = ["MESSAGES_UPSERT", "CONNECTION_UPDATE"]


@pytest.mark.slow
def test_attach_forwards_to_the_apps_own_url_per_event_with_its_headers(run, make_server) -> None:
    mock = make_server()
    api = mock.url + "/_gateway/evolution/v2"
    with serving(Recorder()) as app:
        configured = {
            "webhook": {
                "enabled": True,
                "url": f"{app.url}/bot",
                "byEvents": True,
                "headers": {"x-team": "support"},
                "events": EVENTS,
            }
        }
        answer = httpx.post(
            f"{api}/webhook/set/sales", json=configured, headers={"apikey": "k"}, timeout=10
        )
        assert answer.status_code < 300, answer.text
        client = connect("evolution", api, key="k", instance="sales")
        before = json.dumps(client.read().comparable(), sort_keys=True)

        attached = run(
            "attach", "evolution", "--api", api, "--apikey", "k", "--instance", "sales",
            "--no-tui", "--port", "0",
        ).started()  # fmt: skip
        said = attached.read_until(r"forwarding every capture to ", stream="stderr")
        assert f"{app.url}/bot (per event" in said
        for event in ("messages.upsert", "connection.update"):
            sent = subprocess.run(
                [sys.executable, "-m", "hookcatcher", "send", event, "--instance", "sales",
                 "--server", mock.url],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
            assert sent.returncode == 0, sent.stdout + sent.stderr
        attached.read_until(r"<-- 200 POST .*/bot/connection-update", stream="stdout")
        assert [a.path for a in app.arrivals] == ["/bot/messages-upsert", "/bot/connection-update"]
        for arrival in app.arrivals:
            assert ("x-team", "support") in arrival.headers
            assert json.loads(arrival.body)["instance"] == "sales"

        attached.process.send_signal(signal.SIGTERM)
        assert attached.process.wait(timeout=20) == 0
        assert json.dumps(client.read().comparable(), sort_keys=True) == before
        client.close()


@pytest.mark.slow
def test_no_forward_leaves_the_app_without_events(run, make_server) -> None:
    mock = make_server()
    api = mock.url + "/_gateway/evolution/v2"
    with serving(Recorder()) as app:
        body = {"webhook": {"enabled": True, "url": f"{app.url}/bot", "events": EVENTS}}
        httpx.post(f"{api}/webhook/set/sales", json=body, headers={"apikey": "k"}, timeout=10)
        attached = run(
            "attach", "evolution", "--api", api, "--apikey", "k", "--instance", "sales",
            "--no-tui", "--port", "0", "--no-forward",
        ).started()  # fmt: skip
        attached.read_until(r"^attached to ", stream="stderr")
        sent = subprocess.run(
            [sys.executable, "-m", "hookcatcher", "send", "messages.upsert", "--instance",
             "sales", "--server", mock.url],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        events = httpx.get(attached.url + "/_hookcatcher/api/events", timeout=10).json()["events"]
        assert len(events) == 1 and events[0]["forwards"] == []
        assert app.arrivals == []
        attached.process.send_signal(signal.SIGTERM)
        assert attached.process.wait(timeout=20) == 0
