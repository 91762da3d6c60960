"""`hookcatcher serve` as a user runs it: a real process, its output, its errors."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.bundled import body_of, fixture
from helpers.ports import unused_port
from helpers.recorder import Recorder, serving

from hookcatcher.core.capture import decode_raw
from hookcatcher.core.units import parse_size
from hookcatcher.files.session import CUT_SHORT, load
from hookcatcher.files.session_writer import SessionWriter
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.store import Store


def test_serve_prints_urls_then_one_line_per_capture(run) -> None:
    server = run("serve", "--port", "0").started()
    assert server.url.startswith("http://127.0.0.1:")
    server.read_until(re.escape(f"Evolution API, per event    {server.url}/webhook"))
    server.read_until(re.escape(f"(it posts to {server.url}/webhook/messages-upsert"))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.post("/webhook/messages-upsert", content=body_of("evolution/v2/messages.upsert.text"))
        line = server.read_until(r"#1 ")
        assert re.fullmatch(
            r"\d\d:\d\d:\d\d\.\d{3}  #1  evolution  messages\.upsert  sales  valid  \d+ B"
            r"  POST /webhook/messages-upsert\n",
            line,
        )
        http.post(
            "/webhook/connection-update", content=body_of("evolution/v2/messages.update.read")
        )
        line = server.read_until(r"#2 ")
        assert "evolution  messages.update  sales  valid" in line
        warning = server.read_until(r"warning:")
        assert (
            "the path says connection.update (/connection-update) but the body says "
            "messages.update" in warning
        )
        http.post("/x", content=b"{oops")
        assert "not-json ($: broken JSON at line 1, column 2" in server.read_until(r"#3 ")
    assert server.stop() == 0


@pytest.mark.slow
def test_plain_hookcatcher_without_a_terminal_runs_headless_and_says_so(run) -> None:
    server = run("--port", "0")
    assert "no terminal to draw the inspector on: running headless" in server.read_until(
        "no terminal", stream="stderr"
    )
    server.started()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/_hookcatcher/health").json()["status"] == "ok"
    assert server.stop() == 0


@pytest.mark.slow
def test_json_lines(run) -> None:
    server = run("serve", "--port", "0", "--json").started(stream="stderr")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.post("/", content=body_of("whapi/messages.post.text"))
    record = json.loads(server.read_until(r"^\{"))
    assert (record["id"], record["provider"], record["event"]) == (1, "whapi", "messages/post")
    assert record["validation"]["status"] == "valid"
    server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("flags, shown", [([], False), (["--no-redact"], True)])
def test_printed_lines_hide_secrets_unless_asked(run, flags, shown) -> None:
    server = run("serve", "--port", "0", "--json", *flags).started(stream="stderr")
    body = json.loads(body_of("evolution/v2/messages.upsert.text"))
    body["apikey"] = "EVO-SECRET-4242"
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.post(
            "/webhook?token=QUERY-SECRET-77",
            json=body,
            headers={"Authorization": "Bearer HEADER-SECRET-99"},
        )
        stored = http.get("/_hookcatcher/api/events/1").json()
    line = server.read_until(r"^\{")
    for secret in ("EVO-SECRET-4242", "QUERY-SECRET-77", "HEADER-SECRET-99"):
        assert (secret in line) is shown
        assert secret in json.dumps(stored)  # the stored capture keeps the real bytes
    server.stop()


@pytest.mark.slow
def test_environment_sets_flags(run) -> None:
    server = run("serve", env={"HOOKCATCHER_PORT": "0", "HOOKCATCHER_MAX_EVENTS": "2"}).started()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for _ in range(3):
            http.post("/", content=b"{}")
        stats = http.get("/_hookcatcher/api/stats").json()
    assert (stats["max_events"], stats["stored"], stats["evicted"]) == (2, 2, 1)
    server.stop()


@pytest.mark.slow
def test_port_in_use_is_a_clear_error(run) -> None:
    first = run("serve", "--port", "0").started()
    port = first.url.rsplit(":", 1)[1]
    second = run("serve", "--port", port)
    assert second.process.wait(timeout=15) == 1
    error = second.read_until("error", stream="stderr")
    assert f"hookcatcher: error: port {port} on 127.0.0.1 is already in use" in error
    assert "Traceback" not in error
    first.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, env, message",
    [
        (["serve", "--port", "http"], {}, "'--port': 'http' is not a port number"),
        (["serve", "--max-bytes", "12XB"], {}, "'--max-bytes': '12XB' is not a size"),
        (["serve", "--max-events", "0"], {}, "'--max-events': '0' must be at least 1"),
        (
            ["serve"],
            {"HOOKCATCHER_PORT": "99999"},
            "HOOKCATCHER_PORT: '99999' is not a port number",
        ),
        (
            ["serve"],
            {"HOOKCATCHER_JSON": "perhaps"},
            "HOOKCATCHER_JSON: 'perhaps' is not a valid boolean",
        ),
        (
            ["tui", "--connect", "localhost:8787"],
            {},
            "--connect 'localhost:8787' is not a server URL (e.g. http://127.0.0.1:8787)",
        ),
        (["tui"], {"HOOKCATCHER_CONNECT": "ftp://x"}, "--connect 'ftp://x' is not a server URL"),
        (
            ["tui", "--connect", "http://127.0.0.1:9"],
            {},
            "hookcatcher tui needs a terminal to draw on",
        ),
        (["serve", "--respond", "abc"], {}, "--respond abc: abc is not an HTTP status (100-599)"),
        (["serve", "--fail-first", "messages.upsert=0"], {}, "--fail-first messages.upsert=0:"),
        (["serve"], {"HOOKCATCHER_DELAY": "soon"}, "--delay soon:"),
        (
            ["tui", "session.jsonl"],
            {},
            "hookcatcher tui needs a terminal to draw on; without one, "
            "serve the session (hookcatcher serve --load session.jsonl) and read its HTTP API",
        ),
        (
            ["tui", "session.jsonl", "--connect", "http://127.0.0.1:9"],
            {},
            "tui takes a session FILE or --connect URL, not both",
        ),
        (
            ["serve", "--port", "0", "--fsync"],
            {},
            "--fsync syncs each line --save writes: give --save FILE too",
        ),
        (
            ["serve", "--port", "0"],
            {"HOOKCATCHER_LOAD": "no-such-session.jsonl"},
            "hookcatcher: error: no-such-session.jsonl: no such file",
        ),
        (
            ["serve", "--port", "0", "--save", "/no-such-folder/session.jsonl"],
            {},
            "cannot save to /no-such-folder/session.jsonl: No such file or directory",
        ),
    ],
)
def test_bad_flags_and_environment_name_what_was_wrong(args, env, message) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hookcatcher", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **env},
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_fail_first_makes_a_retrying_sender_see_500_500_200(run) -> None:
    server = run(
        "serve", "--port", "0", "--fail-first", "2", "--delay", "provider:whapi=50"
    ).started()
    server.read_until(
        re.escape(
            "--fail-first 2: every capture is answered 500 on the first 2 "
            "arrivals of each (non-empty) body"
        )
    )
    body = body_of("evolution/v2/messages.upsert.text")
    seen = []
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for _ in range(5):  # a sender that retries until it gets a 2xx
            answer = http.post("/webhook", content=body)
            seen.append(answer.status_code)
            if answer.is_success:
                break
        events = http.get("/_hookcatcher/api/events", params={"q": "retry:yes"}).json()["events"]
    assert seen == [500, 500, 200]
    assert [(event["id"], event["retry_of"], event["answer"]["status"]) for event in events] == [
        (2, 1, 500),
        (3, 1, 200),
    ]
    assert server.read_until(r"#1 ").rstrip().endswith("POST /webhook  answered 500")
    assert server.read_until(r"#2 ").rstrip().endswith("retry of #1  answered 500")
    assert server.read_until(r"#3 ").rstrip().endswith("POST /webhook  retry of #1")
    server.stop()


@pytest.mark.slow
def test_a_killed_server_loses_no_acknowledged_capture(run, tmp_path) -> None:
    """Issue 6's acceptance: `serve --save F` acknowledges 1,000 captures from four senders
    and is killed (SIGKILL) with more in flight; every acknowledged capture is in F with its
    bytes, and `serve --load F` serves them all."""
    file = tmp_path / "session.jsonl"
    server = run("serve", "--port", "0", "--save", str(file)).started()
    template = fixture("evolution/v2/messages.upsert.text")["body"]

    def body(n: int) -> bytes:
        if n % 10 == 0:
            return b"\xff\xfe not UTF-8 #%d" % n
        template["data"]["message"]["conversation"] = f"olá #{n} ✓"
        return json.dumps(template, ensure_ascii=False).encode()

    acknowledged: dict[int, bytes] = {}
    numbers = itertools.count()
    lock = threading.Lock()
    enough = threading.Event()

    def sender() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            while (n := next(numbers)) < 3000:
                with lock:
                    raw = body(n)
                try:
                    answer = http.post("/webhook/messages-upsert", content=raw)
                except httpx.TransportError:
                    return  # the server is gone
                if answer.is_success:
                    with lock:
                        acknowledged[answer.json()["id"]] = raw
                        if len(acknowledged) >= 1000:
                            enough.set()

    senders = [threading.Thread(target=sender, daemon=True) for _ in range(4)]
    for thread in senders:
        thread.start()
    assert enough.wait(timeout=60)
    server.process.kill()
    server.process.wait(timeout=10)
    for thread in senders:
        thread.join(timeout=15)

    loaded = load(file)
    saved = {capture.id: capture.raw for capture in loaded.captures}
    assert len(acknowledged) >= 1000
    assert [id_ for id_, raw in acknowledged.items() if saved.get(id_) != raw] == []
    assert len(saved) <= len(acknowledged) + len(senders)  # written, killed before answering
    assert all(problem.message == CUT_SHORT for problem in loaded.problems)

    again = run("serve", "--port", "0", "--load", str(file)).started()
    again.read_until(re.escape(f"loaded {len(saved):,} captures from {file}"))
    with httpx.Client(base_url=again.url, timeout=10) as http:
        events = http.get("/_hookcatcher/api/events", params={"limit": 5000, "raw": 1}).json()[
            "events"
        ]
        stats = http.get("/_hookcatcher/api/stats").json()
    assert {
        event["id"]: decode_raw(event["raw"], event["raw_encoding"]) for event in events
    } == saved
    assert (stats["received"], stats["loaded"], stats["stored"], stats["last_id"]) == (
        len(saved),
        len(saved),
        len(saved),
        max(saved),
    )
    assert again.stop() == 0


@pytest.mark.slow
def test_serve_loads_what_it_can_then_appends_and_closes_the_file_on_sigterm(
    run, tmp_path, validator
) -> None:
    file = tmp_path / "session.jsonl"
    store = Store()
    with SessionWriter(file, store.run) as writer:
        for n in (1, 2):
            writer.append(
                store.add(build_capture(validator, "POST", "/", "", [], "", b'{"n": %d}' % n))
            )
    with file.open("ab") as session:
        session.write(b"{broken\n")
    server = run(
        "serve", "--port", "0", "--load", str(file), "--save", str(file), "--fsync"
    ).started()
    assert (
        server.read_until("broken", stream="stderr")
        == f"hookcatcher: {file}:4: broken JSON at column 2: Expecting property name enclosed "
        "in double quotes\n"
    )
    server.read_until(re.escape(f"loaded 2 captures from {file} (1 line skipped)"))
    server.read_until(
        re.escape(f"saving to {file} (each capture before it is answered, synced to disk)")
    )
    answer = httpx.post(f"{server.url}/webhook", content=b'{"n": 3}', timeout=10)
    assert answer.json() == {"ok": True, "id": 3}
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) == 0
    loaded = load(file)
    assert [(capture.id, capture.raw) for capture in loaded.captures] == [
        (1, b'{"n": 1}'),
        (2, b'{"n": 2}'),
        (3, b'{"n": 3}'),
    ]
    assert (loaded.runs, [problem.line for problem in loaded.problems]) == (2, [4])


def test_sizes() -> None:
    assert parse_size("268435456") == 268435456
    assert parse_size("256MiB") == 256 * 1024 * 1024
    assert parse_size("64MB") == 64_000_000
    assert parse_size("1.5 KiB") == 1536


class Terminal:
    """A hookcatcher process on a pseudo-terminal (120x40), as a user starts it; what it
    draws is read by a thread, so every wait is bounded."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hookcatcher", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            close_fds=True,
            start_new_session=True,
            env={**os.environ, "TERM": "xterm-256color", **(env or {})},
        )
        os.close(slave)
        self.screen = ""
        self._lock = threading.Lock()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.screen += chunk.decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = re.search(pattern, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.screen))
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} never appeared on the terminal")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            os.close(self.master)


@pytest.mark.slow
def test_plain_hookcatcher_on_a_terminal_opens_the_inspector_on_its_own_server(tmp_path) -> None:
    terminal = Terminal("--port", "0", env={"HOOKCATCHER_CONFIG_DIR": str(tmp_path)})
    try:
        port = terminal.wait_for(r"hookcatcher 127\.0\.0\.1:(\d+)").group(1)
        terminal.wait_for("connected")
        answer = httpx.post(
            f"http://127.0.0.1:{port}/webhook/messages-upsert",
            content=body_of("evolution/v2/messages.upsert.text"),
            timeout=10,
        )
        assert answer.json() == {"ok": True, "id": 1}
        terminal.wait_for("messages.upsert")
        terminal.type("q")
        assert terminal.close() == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    with pytest.raises(httpx.ConnectError):  # the server went with the inspector
        httpx.get(f"http://127.0.0.1:{port}/_hookcatcher/health", timeout=5)


@pytest.mark.slow
def test_tui_connect_attaches_to_a_running_server(run, tmp_path) -> None:
    server = run("serve", "--port", "0").started()
    httpx.post(
        f"{server.url}/hooks/messages/post", content=body_of("whapi/messages.post.text"), timeout=10
    )
    terminal = Terminal(
        "tui",
        "--connect",
        server.url,
        "--filter",
        "provider:whapi",
        env={"HOOKCATCHER_CONFIG_DIR": str(tmp_path)},
    )
    try:
        terminal.wait_for("connected")
        terminal.wait_for("messages/post")
        terminal.type("q")
        assert terminal.close() == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    assert server.stop() == 0


@pytest.mark.slow
def test_tui_file_opens_the_inspector_on_a_saved_session(tmp_path, validator) -> None:
    file = tmp_path / "session.jsonl"
    store = Store()
    with SessionWriter(file, store.run) as writer:
        for name in ("evolution/v2/messages.upsert.text", "whapi/messages.post.text"):
            writer.append(
                store.add(build_capture(validator, "POST", "/webhook", "", [], "", body_of(name)))
            )
    terminal = Terminal("tui", str(file), env={"HOOKCATCHER_CONFIG_DIR": str(tmp_path)})
    try:
        terminal.wait_for(r"received 2\s+shown 2")
        terminal.wait_for("messages/post")
        terminal.type("q")
        assert terminal.close() == 0
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()


# --- attach: the mock gateway pointed at a hookcatcher process, and put back on exit --------

APP = "http://127.0.0.1:9/app"  # replaced by a live URL in the test: the mock delivers to it too
ATTACH_CASES = {
    # gateway flag, API path under the mock, key flag, instance, set-up request (method, path, body)
    "evolution-v2": (
        "evolution",
        "/_gateway/evolution/v2",
        "--apikey",
        "sales",
        (
            "POST",
            "/webhook/set/sales",
            {
                "webhook": {
                    "enabled": True,
                    "url": APP,
                    "byEvents": False,
                    "headers": {"x-team": "support"},
                    "events": ["MESSAGES_UPSERT", "SEND_MESSAGE"],
                }
            },
        ),
    ),
    "evolution-v1": (
        "evolution",
        "/_gateway/evolution/v1",
        "--apikey",
        "sales",
        (
            "POST",
            "/webhook/set/sales",
            {"enabled": True, "url": APP, "webhook_by_events": True, "events": ["MESSAGES_UPSERT"]},
        ),
    ),
    "codechat-v2": (
        "codechat",
        "/_gateway/codechat",
        "--gateway-token",
        "inst-1",
        ("POST", "/api/v2/instance/inst-1/webhook", {"name": "app", "url": APP, "enabled": True}),
    ),
    "whapi": (
        "whapi",
        "/_gateway/whapi",
        "--gateway-token",
        None,
        (
            "PATCH",
            "/settings",
            {
                "webhooks": [
                    {"url": APP, "mode": "body", "events": [{"type": "messages", "method": "post"}]}
                ]
            },
        ),
    ),
}


def _configuration(client) -> str:
    return json.dumps(client.read().comparable(), sort_keys=True)


@pytest.mark.slow
@pytest.mark.parametrize("case", list(ATTACH_CASES))
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_attach_points_the_gateway_here_and_puts_it_back(run, make_server, case, stop) -> None:
    from hookcatcher.connect.client import connect

    gateway, prefix, key_flag, instance, (method, path, body) = ATTACH_CASES[case]
    mock = make_server()
    api = mock.url + prefix
    headers = {"apikey": "k", "authorization": "Bearer k"}
    # The app's own webhook goes to a live URL (the mock captures it too): CodeChat and Whapi
    # keep delivering there while hookcatcher's is added beside it.
    body = json.loads(json.dumps(body).replace(APP, mock.url + "/app"))
    answer = httpx.request(method, api + path, json=body, headers=headers, timeout=10)
    assert answer.status_code < 300, answer.text
    client = connect(gateway, api, key="k", instance=instance)
    before = _configuration(client)

    event = "messages/post" if gateway == "whapi" else "messages.upsert"
    flags = [
        "attach",
        gateway,
        "--api",
        api,
        key_flag,
        "k",
        "--no-tui",
        "--port",
        "0",
        "--events",
        event,
    ]
    if instance:
        flags += ["--instance", instance]
    attached = run(*flags).started()
    attached.read_until(r"^attached to ", stream="stderr")
    changed = attached.read_until(r"^  (now|added): ", stream="stderr")
    assert f"{attached.url}/webhook" in changed and "messages" in changed.lower()
    assert f"{attached.url}/webhook" in _configuration(client)

    # The mock delivers to what is configured now: hookcatcher's URL.
    sent = subprocess.run(
        [
            sys.executable,
            "-m",
            "hookcatcher",
            "send",
            event,
            "--instance",
            instance or "k",
            "--server",
            mock.url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    events = httpx.get(attached.url + "/_hookcatcher/api/events", timeout=10).json()["events"]
    assert [e["provider"] for e in events] == [gateway]

    attached.process.send_signal(getattr(signal, stop))
    assert attached.process.wait(timeout=20) == 0
    attached.read_until(r"restored", stream="stderr")
    assert _configuration(client) == before


@pytest.mark.slow
def test_attach_and_doctor_say_what_is_wrong_without_a_traceback(make_server, capsys) -> None:
    from hookcatcher.cli.main import main
    from hookcatcher.receive.access import Access
    from hookcatcher.receive.app import create_app
    from hookcatcher.receive.runner import BackgroundServer

    down = f"http://127.0.0.1:{unused_port()}"
    assert main(["attach", "evolution", "--api", down, "--instance", "s", "--no-tui"]) == 2
    assert "attach evolution needs --apikey KEY" in capsys.readouterr().err
    assert main(["attach", "whapi", "--api", down, "--no-tui"]) == 2
    assert "attach whapi needs --gateway-token TOKEN (the channel token)" in capsys.readouterr().err
    assert main(["attach", "whapi", "--api", down, "--token", "tok-1", "--no-tui"]) == 2
    assert (
        "attach whapi needs --gateway-token TOKEN (the channel token) (--token is hookcatcher's "
        "own token since 0.2.0)" in capsys.readouterr().err
    )
    assert (
        main(
            [
                "attach",
                "evolution",
                "--api",
                "localhost:8080",
                "--apikey",
                "k",
                "--instance",
                "s",
                "--no-tui",
            ]
        )
        == 2
    )
    assert "--api 'localhost:8080' is not a URL" in capsys.readouterr().err
    assert (
        main(
            [
                "attach",
                "evolution",
                "--api",
                down,
                "--apikey",
                "k",
                "--instance",
                "s",
                "--public-url",
                "notaurl",
                "--no-tui",
            ]
        )
        == 2
    )
    assert "--public-url 'notaurl' is not a URL" in capsys.readouterr().err

    assert (
        main(["attach", "evolution", "--api", down, "--apikey", "k", "--instance", "s", "--no-tui"])
        == 1
    )
    err = capsys.readouterr().err
    assert down in err and "Traceback" not in err

    with BackgroundServer(
        create_app(access=Access(token="right-key")), pace_collector=False
    ) as guarded:
        api = guarded.url + "/_gateway/evolution/v2"
        assert (
            main(
                [
                    "attach",
                    "evolution",
                    "--api",
                    api,
                    "--apikey",
                    "wrong",
                    "--instance",
                    "s",
                    "--no-tui",
                ]
            )
            == 1
        )
        err = capsys.readouterr().err
        assert "401" in err and "apikey" in err and "Traceback" not in err
        assert (
            main(["doctor", "evolution", "--api", api, "--apikey", "wrong", "--instance", "s"]) == 1
        )
        out = capsys.readouterr().out
        assert "401" in out and "fix:" in out


@pytest.fixture
def plain_app() -> Iterator[Recorder]:
    """An app that answers 200 everywhere (not a hookcatcher: doctor tells those apart)."""
    with serving(Recorder()) as app:
        yield app


def test_doctor_reports_each_problem_with_its_fix_and_exits_0_only_when_clean(
    make_server, plain_app, capsys
) -> None:
    from hookcatcher.cli.main import main

    mock, app = make_server(), plain_app
    api = mock.url + "/_gateway/evolution/v2"

    def configure(url: str, by_events: bool) -> None:
        answer = httpx.post(
            f"{api}/webhook/set/sales",
            timeout=10,
            json={
                "webhook": {
                    "enabled": True,
                    "url": url,
                    "byEvents": by_events,
                    "events": ["MESSAGES_UPSERT", "CONNECTION_UPDATE"],
                }
            },
        )
        assert answer.status_code == 201, answer.text

    configure(app.url + "/webhook/", True)
    assert (
        main(
            [
                "doctor",
                "evolution",
                "--api",
                api,
                "--apikey",
                "k",
                "--instance",
                "sales",
                "--expect",
                "messages.update",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "a URL ending in '/'" in out and "without the trailing slash" in out
    assert "add MESSAGES_UPDATE to the instance's events" in out
    assert out.count("✗") >= 2 and out.count("fix:") == out.count("✗")

    configure(app.url + "/webhook", False)
    assert (
        main(
            [
                "doctor",
                "evolution",
                "--api",
                api,
                "--apikey",
                "k",
                "--instance",
                "sales",
                "--expect",
                "messages.upsert",
            ]
        )
        == 0
    )
    assert "no problems found" in capsys.readouterr().out
    assert (
        main(
            ["doctor", "evolution", "--api", api, "--apikey", "k", "--instance", "sales", "--json"]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["findings"] == []


def test_doctor_says_when_the_webhook_is_a_hookcatcher_that_forwards_nowhere(
    make_server, plain_app, capsys
) -> None:
    from hookcatcher.cli.main import main
    from hookcatcher.core.forwarding import parse_rule
    from hookcatcher.receive.app import create_app
    from hookcatcher.receive.forwarder import Forwarder
    from hookcatcher.receive.runner import BackgroundServer

    mock, idle = make_server(), make_server()
    api = mock.url + "/_gateway/evolution/v2"
    forwarding = create_app(forwarder=Forwarder([parse_rule(plain_app.url)]))
    with BackgroundServer(forwarding, quiet=True) as tap:
        for url, nowhere in ((idle.url, True), (tap.url, False)):
            hook = {"enabled": True, "url": f"{url}/webhook", "events": ["MESSAGES_UPSERT"]}
            answer = httpx.post(f"{api}/webhook/set/sales", json={"webhook": hook}, timeout=10)
            assert answer.status_code == 201, answer.text
            flags = ["--api", api, "--apikey", "k", "--instance", "sales", "--json"]
            code = main(["doctor", "evolution", *flags])
            findings = json.loads(capsys.readouterr().out)["findings"]
            codes = [finding["code"] for finding in findings]
            assert ("forwards-nowhere" in codes) is nowhere, findings
            assert code == (1 if nowhere else 0)


def test_every_help_example_is_a_command_line_the_parser_takes() -> None:
    """The examples at the end of each --help are checked, not just printed."""
    import shlex

    import click

    from hookcatcher.cli.main import COMMANDS, MAIN_JOB, cli

    for name in [MAIN_JOB, *COMMANDS]:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.epilog, name
        lines = command.epilog.splitlines()
        assert 2 <= len(lines) <= 4, name
        for line in lines:
            segments = line.split("  ")[0].split(" | ")
            words = next(shlex.split(part) for part in segments if part.startswith("hookcatcher"))
            which = words[1] if len(words) > 1 and words[1] in COMMANDS else MAIN_JOB
            example = cli.get_command(click.Context(cli), which)
            assert example is not None
            given = words[2:] if which != MAIN_JOB else words[1:]
            try:
                example.make_context(which, given).close()
            except click.ClickException as exc:
                raise AssertionError(f"{line!r}: {exc.format_message()}") from exc
    help_text = io.StringIO()
    with contextlib.redirect_stdout(help_text):
        from hookcatcher.cli.main import main

        assert main(["serve", "--help"]) == 0
    assert "examples:\n  hookcatcher serve " in help_text.getvalue()


@pytest.mark.parametrize(
    "argv, misplaced",
    [
        (["--token", "T-123", "serve", "--port", "0"], "--token"),
        (["--port", "8795", "serve"], "--port"),
        (["--port=8795", "replay", "x", "--to", "http://127.0.0.1:1/"], "--port"),
    ],
)
def test_an_option_before_the_command_is_refused_not_dropped(
    argv: list[str], misplaced: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hookcatcher --token T serve` once served the API without a token."""
    from hookcatcher.cli.main import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    command = next(word for word in argv[1:] if word in ("serve", "replay"))
    assert f"{misplaced} goes after the command: hookcatcher {command} {misplaced}" in err


def test_an_environment_default_is_read_only_by_the_command_that_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from hookcatcher.cli.main import main

    body = tmp_path / "body.json"
    body.write_text('{"event": "call", "instance": "x", "data": {}}')
    monkeypatch.setenv("HOOKCATCHER_PORT", "abc")
    assert main(["validate", str(body)]) == 1  # 1: it ran, and found the body invalid
    assert main(["serve"]) == 2
    assert "HOOKCATCHER_PORT: 'abc' is not a port number" in capfd.readouterr().err


def test_token_is_hookcatchers_own_in_attach_and_the_old_names_still_work(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--token means hookcatcher's own token in every command; the gateway's credential is
    --gateway-token. 0.1's --server-token (attach) and doctor's --token for the gateway
    still work this release, each with a notice."""
    from hookcatcher.cli.attach import own_token
    from hookcatcher.cli.gateway import Gateway, gateway_key
    from hookcatcher.cli.main import main

    whapi = Gateway("whapi", "http://127.0.0.1:1", gateway_token="chan-1")
    assert (gateway_key(whapi, "attach"), own_token("own-1", None)) == ("chan-1", "own-1")
    assert capsys.readouterr().err == ""
    assert own_token(None, "own-2") == "own-2"
    assert own_token("own-1", "own-2") == "own-1"  # --token wins
    assert capsys.readouterr().err.count("--server-token is now --token") == 2
    doctor = Gateway("whapi", "http://127.0.0.1:1")
    assert gateway_key(doctor, "doctor", token="c") == "c"
    assert "doctor's --token is now --gateway-token" in capsys.readouterr().err
    # and from the command line: the old spellings are taken, not refused
    assert main(["doctor", "whapi", "--api", "http://127.0.0.1:1", "--token", "c", "--json"]) == 1
    assert "doctor's --token is now --gateway-token" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "absent"),
    [
        (["validate", "--help"], ("jsonschema", "httpx", "starlette", "uvicorn", "textual")),
        (["serve", "--help"], ("httpx", "starlette", "uvicorn", "textual")),
        (["--help"], ("jsonschema", "httpx", "starlette", "uvicorn", "textual")),
    ],
)
def test_a_command_imports_only_what_it_needs(argv: list[str], absent: tuple[str, ...]) -> None:
    """Each command's module loads when it runs: `validate --help` is click and validate."""
    probe = (
        "import sys, contextlib, io\n"
        "from hookcatcher.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({argv!r})\n"
        "print(code, sorted(m.split('.')[0] for m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    code, loaded = done.stdout.split(" ", 1)
    assert code == "0", done.stderr
    assert [name for name in absent if f"'{name}'" in loaded] == []
