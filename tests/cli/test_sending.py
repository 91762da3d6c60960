"""`hookcatcher replay` and `hookcatcher send` as a user runs them: into a real app on a free
port, one line per request, a summary that adds up, exit codes a script can trust."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.bundled import body_of
from helpers.ports import unused_port
from helpers.recorder import Recorder, serving

from hookcatcher.cli.main import main
from hookcatcher.core import catalog
from hookcatcher.core.headers import NOT_FORWARDED
from hookcatcher.core.resources import data_dir
from hookcatcher.files.fixtures import Fixture, bundled, pick
from hookcatcher.receive.runner import BackgroundServer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def expected_path(fixture: Fixture) -> tuple[str, str]:
    """Where each gateway sends an event in its per-event mode, by the reference: Evolution
    appends its suffix (new.jwt and the errors webhook never do), Whapi /<type>/<method>
    (path mode), CodeChat never changes the URL."""
    if fixture.provider == "evolution":
        suffix = catalog.evolution_suffix(fixture.event)
        plain = fixture.event in ("new.jwt", "error")
        return "POST", "/webhook" if plain else f"/webhook/{suffix}"
    if fixture.provider == "whapi":
        return "POST", f"/webhook/{fixture.event}"
    return "POST", "/webhook"


@pytest.mark.slow
def test_replay_the_whole_fixtures_folder_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    everything = list(bundled())
    with serving(Recorder()) as app:
        code, out, err = run(
            capsys, "replay", str(data_dir("fixtures")), "--to", f"{app.url}/webhook", "--by-events"
        )
    assert code == 0, err
    assert len(app.arrivals) == len(everything) == 184
    for fixture, arrival in zip(everything, app.arrivals, strict=True):
        assert (arrival.method, arrival.path) == expected_path(fixture), fixture.name
        assert arrival.body == fixture.raw(), fixture.name
        sent = [
            (name.lower(), value)
            for name, value in fixture.headers
            if name.lower() not in NOT_FORWARDED
        ]
        got = [
            (name, value)
            for name, value in arrival.headers
            if name not in ("host", "content-length")
        ]
        assert got == sent, fixture.name
        assert dict(arrival.headers)["content-length"] == str(len(fixture.raw()))
        assert dict(arrival.headers)["host"] == app.url.removeprefix("http://")
    lines = out.splitlines()
    request_lines = [line for line in lines if line.startswith(" 200  ")]
    assert len(request_lines) == 184
    assert any(
        line.startswith(f" 200  POST {app.url}/webhook/messages-upsert  ")
        and line.endswith(" ms  evolution/v2/messages.upsert.text")
        for line in request_lines
    )
    codechat = sum(fixture.provider == "codechat" for fixture in everything)
    assert f"note: CodeChat has no per-event URLs: sent as received. ({codechat} requests)" in lines
    assert lines[-1].startswith("184 requests in ")
    assert lines[-1].endswith(": 184 answered 2xx")


@pytest.mark.slow
def test_the_summary_counts_what_the_app_answered(capsys: pytest.CaptureFixture[str]) -> None:
    app = Recorder(statuses={"/webhook/messages-update": 500, "/webhook/send-message": 404})
    with serving(app):
        code, out, _ = run(
            capsys,
            "replay",
            str(data_dir("fixtures") / "evolution" / "v2"),
            "--to",
            f"{app.url}/webhook",
            "--by-events",
            "--json",
        )
    records = [json.loads(line) for line in out.splitlines()]
    summary = records.pop()["summary"]
    updates = sum(fixture.name.startswith("evolution/v2/messages.update") for fixture in bundled())
    sends = sum(
        fixture.name.startswith("evolution/v2/send.message.") and fixture.event == "send.message"
        for fixture in bundled()
    )
    assert code == 1
    assert summary["sent"] == len(records) == 47
    assert summary["statuses"] == {"404": sends, "500": updates}
    assert summary["ok"] == 47 - updates - sends and summary["not_ok"] == updates + sends
    assert summary["unreachable"] == summary["skipped"] == 0
    failed = {(record["status"], record["event"]) for record in records if not record["ok"]}
    assert failed == {(500, "messages.update"), (404, "send.message")}


def test_an_app_that_is_not_running(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{unused_port()}/webhook"
    code, out, err = run(capsys, "replay", str(data_dir("fixtures") / "whapi"), "--to", url)
    assert code == 1
    assert f"connection refused to {url}: is your app running?" in out.splitlines()[0]
    assert err.strip().endswith(f"hookcatcher: connection refused to {url}: is your app running?")
    assert out.splitlines()[-1].endswith(
        f"stopped early: connection refused to {url}: is your app running?"
    )


@pytest.mark.slow
def test_the_console_script_exit_code_for_a_refused_app() -> None:
    url = f"http://127.0.0.1:{unused_port()}/"
    done = subprocess.run(
        [sys.executable, "-m", "hookcatcher", "send", "messages.upsert", "--to", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"hookcatcher: connection refused to {url}: is your app running?" in done.stderr


def test_send_with_overrides_and_a_fixture_choice(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(Recorder()) as app:
        code, out, err = run(
            capsys,
            "send",
            "messages.upsert",
            "--version",
            "v1",
            "--to",
            f"{app.url}/hook",
            "--by-events",
            "--set",
            "data.key.remoteJid=5511900000009@s.whatsapp.net",
            "--set",
            "data.key.fromMe=true",
            "--set",
            "data.pushName=Zé",
        )
    assert code == 0
    body = json.loads(app.arrivals[0].body)
    assert body["data"]["key"] == {
        **pick("evolution/v1/messages.upsert.text").body["data"]["key"],
        "remoteJid": "5511900000009@s.whatsapp.net",
        "fromMe": True,
    }
    assert body["data"]["pushName"] == "Zé"
    assert app.arrivals[0].path == "/hook/messages-upsert"
    assert err.startswith("fixture evolution/v1/messages.upsert.text: ")
    assert out.splitlines()[0].endswith("evolution/v1/messages.upsert.text")


def test_an_override_that_breaks_the_contract_is_sent_with_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serving(Recorder()) as app:
        code, _, err = run(
            capsys,
            "send",
            "whapi/messages.post.text",
            "--to",
            app.url,
            "--set",
            "messages[0].from_me=maybe",
        )
    assert code == 0 and json.loads(app.arrivals[0].body)["messages"][0]["from_me"] == "maybe"
    assert (
        "warning: whapi/messages.post.text after --set is invalid against "
        "whapi/messages.post: $.messages[0].from_me: expected a boolean, got string "
        '"maybe"'
    ) in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["send", "messages.upsrt", "--to", "http://127.0.0.1:9/"],
            "no bundled fixture for 'messages.upsrt' (did you mean messages.upsert?)",
        ),
        (["send", "messages.upsert"], "where to? give --to URL"),
        (
            ["send", "messages.upsert", "--to", "ftp://x"],
            "--to: target URL 'ftp://x' must start with http:// or https://",
        ),
        (
            ["send", "messages.upsert", "--to", "http://127.0.0.1:9/", "--set", "data.kye.id=1"],
            "--set data.kye.id=1: $.data has no key 'kye'",
        ),
        (["send", "--to", "http://127.0.0.1:9/"], "name an event or fixture to send"),
        (
            ["replay", "--to", "http://127.0.0.1:9/"],
            "nothing to replay: give fixture files or folders, or --from URL",
        ),
        (
            ["replay", "missing.json", "--to", "http://127.0.0.1:9/"],
            "missing.json: no such file or folder, and no bundled fixture for 'missing.json'",
        ),
        (
            ["replay", "--from", "http://127.0.0.1:{port}", "--to", "http://127.0.0.1:9/"],
            "cannot read captures from http://127.0.0.1:{port}: connection refused: is hookcatcher "
            "running there?",
        ),
    ],
)
def test_bad_input_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    port = unused_port()
    code, out, err = run(capsys, *(arg.format(port=port) for arg in argv))
    assert code == 2 and out == ""
    assert err.startswith(f"hookcatcher: error: {message.format(port=port)}")


def test_a_broken_file_is_named_with_where_it_broke(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"event": "messages.upsert",\n  "data": }\n')
    code, _, err = run(capsys, "replay", str(tmp_path), "--to", "http://127.0.0.1:9/")
    assert code == 2
    assert err == (
        f"hookcatcher: error: {broken}: broken JSON at line 2, column 11: Expecting value\n"
    )


def test_a_plain_body_file_goes_byte_for_byte(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    raw = b'{ "event":"messages.upsert" ,\r\n "instance":"sales", "data": {} }\n'
    (tmp_path / "body.json").write_bytes(raw)
    with serving(Recorder()) as app:
        code, _, _ = run(
            capsys, "replay", str(tmp_path / "body.json"), "--to", app.url + "/x", "--by-events"
        )
    assert code == 0
    assert (app.arrivals[0].path, app.arrivals[0].body) == ("/x/messages-upsert", raw)
    assert ("content-type", "application/json") in app.arrivals[0].headers


def test_replay_the_captures_of_a_running_server(
    capsys: pytest.CaptureFixture[str], server: BackgroundServer, client: Any
) -> None:
    sent = [
        ("/hooks/messages-upsert", body_of("evolution/v2/messages.upsert.text")),
        ("/hooks", body_of("whapi/messages.post.text")),
        ("/hooks/messages-update", body_of("evolution/v2/messages.update.read")),
    ]
    for path, raw in sent:
        client.post(
            path, content=raw, headers={"content-type": "application/json", "x-trace": path}
        )
    with serving(Recorder()) as app:
        code, out, _ = run(
            capsys,
            "replay",
            "--from",
            server.url,
            "--filter",
            "provider:evolution",
            "--to",
            f"{app.url}/in",
            "--by-events",
            "--repeat",
            "2",
        )
    assert code == 0
    assert [(arrival.path, arrival.body) for arrival in app.arrivals] == [
        ("/in/messages-upsert", sent[0][1]),
        ("/in/messages-update", sent[2][1]),
    ] * 2
    assert ("x-trace", "/hooks/messages-upsert") in app.arrivals[0].headers
    assert out.splitlines()[0].endswith("  #1 evolution messages.upsert")
    assert out.splitlines()[-1].startswith("4 requests in ")


def test_list_fixtures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "send", "--list", "messages/post")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == [fixture.name for fixture in bundled() if fixture.event == "messages/post"]
    assert run(capsys, "send", "--list", "nothing.like.this")[0] == 1


# -- as the gateway, to an instance the app configured through /_gateway/


def configure(
    server: BackgroundServer, method: str, path: str, body: Any, token: str | None = None
) -> Any:
    """What the app's own set-up code does against the real gateway's API."""
    headers = {"apikey": "B1C2-EXAMPLE"} if token is None else {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{server.url}/_gateway", timeout=10) as http:
        response = http.request(method, path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_evolution_v2_instance(
    capsys: pytest.CaptureFixture[str], server: BackgroundServer
) -> None:
    with serving(Recorder()) as app:
        configure(
            server,
            "POST",
            "/evolution/webhook/set/sales",
            {
                "webhook": {
                    "enabled": True,
                    "url": f"{app.url}/hook",
                    "byEvents": True,
                    "base64": False,
                    "headers": {"x-team": "support"},
                    "events": ["MESSAGES_UPSERT", "SEND_MESSAGE"],
                }
            },
        )
        code, out, err = run(
            capsys, "send", "messages.upsert", "--instance", "sales", "--server", server.url
        )
        assert code == 0, err
        assert [(arrival.method, arrival.path) for arrival in app.arrivals] == [
            ("POST", "/hook/messages-upsert")
        ]
        arrival = app.arrivals[0]
        assert ("x-team", "support") in arrival.headers
        assert json.loads(arrival.body)["instance"] == "sales"
        assert err.startswith("fixture evolution/v2/messages.upsert.text: ")
        assert out.splitlines()[0].startswith(f" 200  POST {app.url}/hook/messages-upsert  ")

        code, out, _ = run(
            capsys, "send", "messages.update", "--instance", "sales", "--server", server.url
        )
        assert code == 0 and len(app.arrivals) == 1
        assert out.splitlines()[0] == (
            "skip  evolution/v2/messages.update.edit: messages.update is not subscribed: add "
            "MESSAGES_UPDATE to the instance's events (subscribed: MESSAGES_UPSERT, SEND_MESSAGE)"
        )
        assert out.splitlines()[-1].endswith(": 0 answered 2xx, 1 skipped")


@pytest.mark.slow
def test_evolution_v1_instance(
    capsys: pytest.CaptureFixture[str], server: BackgroundServer
) -> None:
    with serving(Recorder()) as app:
        configure(
            server,
            "POST",
            "/evolution/webhook/set/legacy",
            {
                "enabled": True,
                "url": f"{app.url}/v1hook",
                "webhook_by_events": True,
                "events": ["MESSAGES_UPSERT", "CONNECTION_UPDATE"],
            },
        )
        code, _, err = run(
            capsys, "send", "messages.upsert", "--instance", "legacy", "--server", server.url
        )
        assert code == 0
        assert app.arrivals[0].path == "/v1hook/messages-upsert"
        assert err.startswith("fixture evolution/v1/messages.upsert.text: ")  # its version
        code, out, _ = run(
            capsys,
            "replay",
            str(data_dir("fixtures") / "evolution" / "v1"),
            "--instance",
            "evolution/legacy",
            "--server",
            server.url,
            "--json",
        )
    records = [json.loads(line) for line in out.splitlines()]
    summary = records.pop()["summary"]
    sent = [record for record in records if "skipped" not in record]
    assert {record["event"] for record in sent} == {"messages.upsert", "connection.update"}
    assert summary["skipped"] == len(records) - len(sent) > 0
    assert {record["url"] for record in sent} == {
        f"{app.url}/v1hook/messages-upsert",
        f"{app.url}/v1hook/connection-update",
    }


@pytest.mark.slow
def test_codechat_v2_instance(capsys: pytest.CaptureFixture[str], server: BackgroundServer) -> None:
    base = "/codechat/api/v2/instance/inst-42/webhook"
    with serving(Recorder()) as app:
        hook = configure(
            server, "POST", base, {"name": "crm", "url": f"{app.url}/cc", "enabled": True}
        )
        flags = {flag: False for flag in catalog.CODECHAT_V2_FLAGS}
        configure(
            server, "PATCH", f"{base}/{hook['webhookId']}/events", {**flags, "messagesUpsert": True}
        )
        code, _, err = run(
            capsys, "send", "messages.upsert", "--instance", "inst-42", "--server", server.url
        )
        assert code == 0, err
        assert [(arrival.method, arrival.path) for arrival in app.arrivals] == [("POST", "/cc")]
        assert json.loads(app.arrivals[0].body)["instance"]["instanceId"] == "inst-42"
        assert err.startswith("fixture codechat/v2/messages.upsert.text: ")
        code, out, _ = run(
            capsys, "send", "messages.update", "--instance", "inst-42", "--server", server.url
        )
    assert code == 0 and len(app.arrivals) == 1
    assert out.startswith("skip  codechat/v2/messages.update")
    assert "messagesUpdate" in out.splitlines()[0]


def test_whapi_channel_in_path_mode(
    capsys: pytest.CaptureFixture[str], server: BackgroundServer
) -> None:
    with serving(Recorder()) as app:
        configure(
            server,
            "PATCH",
            "/whapi/settings",
            {
                "webhooks": [
                    {
                        "url": f"{app.url}/wh",
                        "mode": "path",
                        "events": [{"type": "messages", "method": "post"}],
                        "headers": {"x-secret": "s3"},
                    }
                ]
            },
            token="CHANNEL-TOKEN",
        )
        code, _, err = run(
            capsys, "send", "messages/post", "--instance", "CHANNEL-TOKEN", "--server", server.url
        )
        assert code == 0, err
        assert [(arrival.method, arrival.path) for arrival in app.arrivals] == [
            ("POST", "/wh/messages/post")
        ]
        assert ("x-secret", "s3") in app.arrivals[0].headers
        code, out, _ = run(
            capsys, "send", "statuses/post", "--instance", "CHANNEL-TOKEN", "--server", server.url
        )
    assert code == 0 and len(app.arrivals) == 1
    assert out.startswith("skip  whapi/statuses.post.")


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["send", "messages.upsert", "--instance", "nobody"],
            "--instance nobody: no instance 'nobody': no gateway instance is configured yet",
        ),
        (
            ["send", "messages.upsert", "--instance", "x", "--to", "http://127.0.0.1:9/"],
            "give --to URL or --instance NAME, not both",
        ),
        (
            ["send", "messages.upsert", "--instance", "x", "--by-events"],
            "--by-events and --whapi-mode do not go with --instance",
        ),
    ],
)
def test_instance_errors(
    capsys: pytest.CaptureFixture[str], server: BackgroundServer, argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv, "--server", server.url)
    assert code == 2
    assert err.startswith(f"hookcatcher: error: {message}")


def test_instance_without_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    code, _, err = run(capsys, "send", "messages.upsert", "--instance", "sales", "--server", url)
    assert code == 2
    assert err == (
        f"hookcatcher: error: cannot read the configured instances from {url}: "
        "connection refused: is hookcatcher running there? (--server URL)\n"
    )


def test_replay_a_saved_session(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, validator: Any
) -> None:
    from hookcatcher.files.session_writer import SessionWriter
    from hookcatcher.receive.ingest import build_capture
    from hookcatcher.receive.store import Store

    store, session = Store(), tmp_path / "s.jsonl"
    raws = [body_of("evolution/v2/messages.upsert.text"), b"\xff not utf-8"]
    with SessionWriter(session, store.run) as writer:
        for raw in raws:
            writer.append(
                store.add(
                    build_capture(
                        validator, "POST", "/webhook/messages-upsert", "", [("x-n", "1")], "", raw
                    )
                )
            )
    with session.open("ab") as file:
        file.write(b"{not a capture}\n")
    with serving(Recorder()) as app:
        code, out, err = run(capsys, "replay", str(session), "--to", f"{app.url}/in")
    assert code == 0
    assert [arrival.body for arrival in app.arrivals] == raws
    assert out.splitlines()[0].endswith("  #1 evolution messages.upsert")
    assert err.startswith(f"hookcatcher: {session}:4: ")
