"""Access control against real servers: `--token` on every API and mock-gateway route (found
from the router itself, so a route added later is covered), `--ingest-token` on captures,
the SSE stream with `?token=`, the clients that pass the token on (the inspector's
connection, replay, send and export), the words said when bound beyond loopback, no CORS,
and no endpoint that reads or writes a file it was not given."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.api import TIMEOUT, sse_events
from helpers.bundled import body_of
from starlette.routing import Mount, Route

from hookcatcher.check.validation import Validator
from hookcatcher.cli.main import main
from hookcatcher.receive.access import Access, exposure
from hookcatcher.receive.app import Hookcatcher, create_app
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store
from hookcatcher.remote import Arrived, Remote, RemoteError

TOKEN = "tok-Admin_1234567890"
INGEST = "tok-Ingest_0987654321"
API_NEEDS = (
    "/_hookcatcher/ needs the token given with --token: send Authorization: Bearer "
    "<token> or ?token=<token>"
)
GATEWAY_NEEDS = (
    "/_gateway/ needs the token given with --token: send Authorization: Bearer "
    "<token>, apikey: <token> (as the Evolution API key), x-hookcatcher-token: "
    "<token> or ?token=<token>"
)
EVOLUTION_V2 = {"webhook": {"enabled": True, "url": "", "events": ["MESSAGES_UPSERT"]}}


@pytest.fixture
def serve(validator: Validator) -> Iterator[Callable[..., BackgroundServer]]:
    started: list[BackgroundServer] = []

    def make(token: str | None = TOKEN, ingest_token: str | None = None) -> BackgroundServer:
        app = create_app(Store(), validator, access=Access(token, ingest_token))
        server = BackgroundServer(app, pace_collector=False).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop(timeout=0)  # the port closes a moment later; no test waits for it


def endpoints(app: Hookcatcher) -> list[tuple[str, str]]:
    """Every (method, concrete path) the API and the mocks serve, read from the router."""

    def concrete(template: str) -> str:
        return re.sub(
            r"\{\w+(:\w+)?\}", lambda m: "1" if m.group(1) == ":int" else "sales", template
        )

    found: list[tuple[str, str]] = []
    for route in app.api.routes:
        children = route.routes if isinstance(route, Mount) else [route]
        prefix = route.path if isinstance(route, Mount) else ""
        for child in children:
            assert isinstance(child, Route)
            found += [(method, concrete(prefix + child.path)) for method in sorted(child.methods)]
    return found


def call(http: httpx.Client, method: str, path: str, **options: Any) -> httpx.Response:
    """One request; a stream that opened is closed at once (its body never ends)."""
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    with http.stream(method, path, content=body, **options) as response:
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            response.read()
        return response


def test_every_route_needs_the_token_and_takes_it_each_way(serve) -> None:
    server = serve()
    routes = endpoints(server.app)
    assert len(routes) > 40  # the API, the stream and three gateways' mocks
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        for method, path in routes:
            gateway = path.startswith("/_gateway/")
            health = path == "/_hookcatcher/health"
            refused = call(http, method, path)
            if health:
                assert refused.status_code == 200
                if method == "GET":
                    assert refused.json() == {"status": "ok"}  # liveness, nothing more
            else:
                assert refused.status_code == 401, (method, path)
                assert refused.headers["www-authenticate"] == 'Bearer realm="hookcatcher"'
                if method != "HEAD":
                    assert refused.json() == {"error": GATEWAY_NEEDS if gateway else API_NEEDS}
            wrong = call(http, method, path, headers={"Authorization": "Bearer nope"})
            if not health:
                assert wrong.status_code == 401
                assert (
                    wrong.headers["www-authenticate"]
                    == 'Bearer realm="hookcatcher", error="invalid_token"'
                )
                if method != "HEAD":
                    assert (
                        "the credentials sent (Authorization) do not hold it"
                        in wrong.json()["error"]
                    )
                    assert TOKEN not in wrong.text
            ways = [
                {"headers": {"Authorization": f"Bearer {TOKEN}"}},
                {"headers": {"x-hookcatcher-token": TOKEN}},
                {"params": {"token": TOKEN}},
            ]
            if gateway:
                ways.append({"headers": {"apikey": TOKEN}})
            for way in ways:
                assert call(http, method, path, **way).status_code not in (401, 403), (
                    method,
                    path,
                    way,
                )
            if not gateway:  # Evolution's apikey header counts only on its mock
                assert call(http, method, path, headers={"apikey": TOKEN}).status_code == (
                    200 if health else 401
                )


def test_health_with_the_token_has_the_details(serve) -> None:
    server = serve()
    answer = httpx.get(f"{server.url}/_hookcatcher/health", params={"token": TOKEN})
    assert set(answer.json()) == {"status", "version", "run", "stored", "forward"}


def test_evolution_set_up_code_uses_the_token_as_its_api_key(serve) -> None:
    server = serve()
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        body = {"webhook": {**EVOLUTION_V2["webhook"], "url": "http://127.0.0.1:3000/hook"}}
        assert (
            http.post(
                "/_gateway/evolution/webhook/set/sales", json=body, headers={"apikey": "not-it"}
            ).status_code
            == 401
        )
        assert (
            http.post(
                "/_gateway/evolution/webhook/set/sales", json=body, headers={"apikey": TOKEN}
            ).status_code
            == 201
        )
        listed = http.get("/_hookcatcher/api/instances", params={"token": TOKEN}).json()
    assert [item["instance"] for item in listed["instances"]] == ["sales"]


def test_whapi_channels_are_never_named_by_hookcatchers_token(serve) -> None:
    """Hookcatcher's token as the bearer configures the `default` channel; a channel's own
    token as the bearer, with hookcatcher's beside it, names that channel."""
    server = serve()
    hooks = {"webhooks": [{"url": "http://127.0.0.1:3000/w", "mode": "body"}]}
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        assert (
            http.patch(
                "/_gateway/whapi/settings", json=hooks, headers={"Authorization": f"Bearer {TOKEN}"}
            ).status_code
            == 200
        )
        assert (
            http.patch(
                "/_gateway/whapi/settings",
                json=hooks,
                headers={"Authorization": "Bearer CHANNEL-A", "x-hookcatcher-token": TOKEN},
            ).status_code
            == 200
        )
        listed = http.get("/_hookcatcher/api/instances", headers={"x-hookcatcher-token": TOKEN})
    assert sorted(item["instance"] for item in listed.json()["instances"]) == [
        "CHANNEL-A",
        "default",
    ]
    assert TOKEN not in listed.text


def test_captures_need_the_ingest_token_and_refusals_are_counted(serve) -> None:
    server = serve(token=None, ingest_token=INGEST)
    body = body_of("evolution/v2/messages.upsert.text")
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        refused = http.post("/webhook", content=body)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Bearer realm="hookcatcher"'
        assert refused.json() == {
            "ok": False,
            "error": (
                "this hookcatcher takes captures only with the token given with --ingest-token: "
                "add the header x-hookcatcher-token: <token> (or Authorization: Bearer <token>) "
                "to the webhook's headers, or ?token=<token> to its URL"
            ),
        }
        wrong = http.post("/webhook?token=nope", content=body)
        assert wrong.status_code == 401 and "(?token=) do not hold it" in wrong.json()["error"]
        # A big body gets its 401 too, not a connection reset mid-upload.
        assert http.post("/webhook", content=b"x" * 4_000_000).status_code == 401
        taken = [
            http.post("/webhook", content=body, headers={"x-hookcatcher-token": INGEST}),
            http.post("/webhook", content=body, headers={"Authorization": f"Bearer {INGEST}"}),
            http.post("/webhook", content=body, params={"token": INGEST}),
            # Evolution's per-event suffix, appended inside the configured URL's query
            http.post(f"/webhook?token={INGEST}/messages-upsert", content=body),
        ]
        assert [answer.json()["id"] for answer in taken] == [1, 2, 3, 4]
        stats = http.get("/_hookcatcher/api/stats").json()  # no --token: the API is open
    assert (stats["received"], stats["stored"]) == (4, 4)
    assert stats["refused"] == server.app.guard.refused == 3
    # Kept as received (a replay sends what the gateway sent), the query token included.
    assert [capture.query for capture in server.app.store] == [
        "",
        "",
        f"token={INGEST}",
        f"token={INGEST}/messages-upsert",
    ]


def test_the_stream_takes_the_token_in_its_query(serve) -> None:
    server = serve(ingest_token=INGEST)
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        assert http.get("/_hookcatcher/stream").status_code == 401
        with http.stream("GET", "/_hookcatcher/stream", params={"token": TOKEN}) as stream:
            assert stream.status_code == 200
            assert "access-control-allow-origin" not in stream.headers
            http.post(
                "/webhook",
                content=body_of("whapi/messages.post.text"),
                headers={"x-hookcatcher-token": INGEST},
            )
            [message] = sse_events(stream.iter_lines(), 1)
    assert message["event"] == "capture" and message["data"]["event"] == "messages/post"


def test_the_inspectors_connection_sends_the_token(serve) -> None:
    server = serve()
    httpx.post(f"{server.url}/webhook", content=body_of("evolution/v2/messages.upsert.text"))

    async def scenario() -> None:
        for token, said in (
            (None, "needs the token it was started with: give --token T"),
            ("nope", "refused the token given"),
        ):
            connection = Remote(server.url, token=token)
            with pytest.raises(RemoteError, match=said):
                await connection.listing("")
            await connection.close()
        connection = Remote(server.url, token=TOKEN)
        listing = await connection.listing("")
        assert [row["id"] for row in listing.rows] == [1]
        arrived: asyncio.Queue[int] = asyncio.Queue()
        follow = asyncio.create_task(
            connection.follow(
                "",
                listing.last_id,
                listing.run,
                lambda event: (
                    arrived.put_nowait(event.row["id"]) if isinstance(event, Arrived) else None
                ),
            )
        )
        await asyncio.to_thread(
            httpx.post, f"{server.url}/webhook", content=body_of("whapi/messages.post.text")
        )
        assert await asyncio.wait_for(arrived.get(), 10) == 2
        follow.cancel()
        await connection.close()

    asyncio.run(scenario())


def test_the_inspector_opens_on_a_server_with_a_token(serve, tmp_path: Path) -> None:
    from hookcatcher.tui import InspectorApp

    server = serve()
    httpx.post(f"{server.url}/webhook", content=body_of("evolution/v2/messages.upsert.text"))

    async def scenario() -> None:
        app = InspectorApp(server.url, token=TOKEN, config_dir=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.monotonic() + 10
            while app.state != "connected" and time.monotonic() < deadline:
                await pilot.pause(0.02)
            assert app.state == "connected", app.state_detail
            assert [row.id for row in app.capture_list.rows] == [1]

    asyncio.run(scenario())


def test_replay_send_and_export_pass_the_token(serve, capsys, monkeypatch) -> None:
    monkeypatch.delenv("HOOKCATCHER_TOKEN", raising=False)
    server, app = serve(), serve(token=None)
    httpx.post(f"{server.url}/webhook", content=body_of("evolution/v2/messages.upsert.text"))
    body = {"webhook": {**EVOLUTION_V2["webhook"], "url": f"{app.url}/app"}}
    httpx.post(
        f"{server.url}/_gateway/evolution/webhook/set/sales", json=body, headers={"apikey": TOKEN}
    )

    assert main(["replay", "--from", server.url, "--to", f"{app.url}/app"]) == 2
    assert "needs the token it was started with: give --token T" in capsys.readouterr().err
    assert main(["replay", "--from", server.url, "--token", TOKEN, "--to", f"{app.url}/app"]) == 0
    assert main(["send", "messages.upsert", "--instance", "sales", "--server", server.url]) == 2
    assert "needs the token" in capsys.readouterr().err
    assert (
        main(
            [
                "replay",
                "evolution/v2/messages.upsert.text",
                "--instance",
                "sales",
                "--server",
                server.url,
                "--token",
                TOKEN,
            ]
        )
        == 0
    )
    assert [capture.path for capture in app.app.store] == ["/app", "/app"]
    capsys.readouterr()
    assert main(["export", "--from", server.url, "--format", "jsonl", "--token", "nope"]) == 2
    assert "refused the token given" in capsys.readouterr().err
    monkeypatch.setenv("HOOKCATCHER_TOKEN", TOKEN)  # the variable the server may share
    assert main(["export", "--from", server.url, "--format", "jsonl"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [1]


@pytest.mark.parametrize(
    ("argv", "env", "said"),
    [
        (["serve", "--token", "two words"], {}, "'--token': a token must be visible ASCII"),
        (["export", "--token", "é"], {}, "'--token': a token must"),
        (["serve"], {"HOOKCATCHER_INGEST_TOKEN": "a b"}, "HOOKCATCHER_INGEST_TOKEN: a token must"),
    ],
)
def test_a_token_that_cannot_travel_is_refused_at_the_start(
    argv, env, said, capsys, monkeypatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    assert said in capsys.readouterr().err


def test_what_is_said_when_others_can_reach_the_server() -> None:
    assert exposure("127.0.0.1", Access()) is None
    assert exposure("::1", Access()) is None
    warning = exposure("0.0.0.0", Access())
    assert warning.startswith(
        "warning: listening on 0.0.0.0 (every network interface) "
        "without --token: anyone who can reach this machine"
    )
    assert "read every capture" in warning and "mocked gateways' webhook" in warning
    assert "Give --token T (or HOOKCATCHER_TOKEN)" in warning and "--ingest-token" in warning
    assert exposure("192.168.1.20", Access(TOKEN)) == (
        "note: listening on 192.168.1.20: /_hookcatcher/ and /_gateway/ need --token; "
        "captures are taken from anyone who can reach it (--ingest-token T requires a token "
        "on them too)."
    )
    assert exposure("::", Access(TOKEN, INGEST)).endswith("captures need --ingest-token.")


@pytest.mark.slow
def test_bound_to_every_interface_it_says_so_before_serving(tmp_path: Path) -> None:
    """`serve --host 0.0.0.0` warns; `hookcatcher --host 0.0.0.0 --token T` on a terminal
    notes it before the screen (which would hide it), and its inspector has the token."""
    import pty

    serve = subprocess.Popen(
        [sys.executable, "-m", "hookcatcher", "serve", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("HOOKCATCHER_")},
    )
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hookcatcher", "--host", "0.0.0.0", "--port", "0"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
        start_new_session=True,
        env={
            **os.environ,
            "TERM": "xterm-256color",
            "HOOKCATCHER_TOKEN": TOKEN,
            "HOOKCATCHER_CONFIG_DIR": str(tmp_path),
        },
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 20
        while b"connected" not in seen and (left := deadline - time.monotonic()) > 0:
            if select.select([master], [], [], left)[0]:
                seen += os.read(master, 65536)
        os.write(master, b"q")
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    try:
        assert select.select([serve.stderr], [], [], 20)[0], "serve said nothing"
        warning = serve.stderr.readline()  # said before the first request is served
    finally:
        serve.kill()
        serve.wait(timeout=10)
    assert warning.startswith(
        "hookcatcher: warning: listening on 0.0.0.0 (every network interface) without --token"
    )
    text = seen.decode("utf-8", "replace")
    note = text.find("note: listening on 0.0.0.0 (every network interface): /_hookcatcher/")
    screen = text.find("\x1b[?1049h")  # the switch to the alternate screen
    assert 0 <= note < screen
    assert "connected" in text and "needs the token" not in text


def test_no_cors_anywhere(serve) -> None:
    """No answer allows another origin: a page elsewhere can neither read the API nor
    change state through a simple (unpreflighted) request."""
    open_server = serve(token=None)
    evil = {"Origin": "http://evil.example"}
    with httpx.Client(base_url=open_server.url, timeout=TIMEOUT) as http:
        answers = [
            http.get("/_hookcatcher/api/events"),
            http.get("/_hookcatcher/api/events", headers={"Origin": open_server.url}),
            http.options(
                "/_hookcatcher/api/events", headers={"Access-Control-Request-Method": "DELETE"}
            ),
            http.options(
                "/_hookcatcher/api/events",
                headers={**evil, "Access-Control-Request-Method": "DELETE"},
            ),
            http.post(
                "/_gateway/evolution/webhook/set/sales",
                headers={**evil, "content-type": "text/plain"},
                content=json.dumps(
                    {"webhook": {**EVOLUTION_V2["webhook"], "url": "http://evil.example/x"}}
                ),
            ),
            http.options("/webhook", headers={**evil, "Access-Control-Request-Method": "POST"}),
        ]
        instances = http.get("/_hookcatcher/api/instances").json()["instances"]
    assert [answer.status_code for answer in answers] == [200, 200, 405, 403, 403, 200]
    assert "another origin (http://evil.example) are refused" in answers[4].json()["error"]
    assert instances == []  # the cross-origin form POST changed nothing
    assert answers[5].json() == {"ok": True, "id": 1}  # OPTIONS to a capture path is a capture
    for answer in answers:
        assert not [name for name in answer.headers if name.startswith("access-control-")]


@pytest.mark.slow
def test_no_endpoint_reads_or_writes_files_it_was_not_given(
    serve, tmp_path: Path, monkeypatch
) -> None:
    """Every route, hostile path and query values (`../`, absolute paths, `%2e%2e`) and
    bodies naming files: nothing appears in the working folder or at any named place, and
    no answer holds a file's content."""
    mark = uuid.uuid4().hex
    secret = tmp_path / "secret.txt"
    secret.write_text(f"SECRET-{mark}")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    hostile = [
        "%2e%2e",
        f"../escape-{mark}",
        f"{tmp_path}/abs-{mark}",
        f"%2e%2e%2fescape-{mark}",
        f"..%2F..%2Fescape-{mark}",
        "../secret.txt",
        str(secret),
        f"file://{secret}",
        f"~/escape-{mark}",
    ]
    server = serve(token=None)
    # Deletions first, so what the others configured is still there to be listed at the end.
    routes = sorted(endpoints(server.app), key=lambda route: route[0] != "DELETE")
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        seen: list[str] = []
        for value in hostile:
            params = {
                name: value
                for name in (
                    "q",
                    "format",
                    "target",
                    "view",
                    "redact",
                    "by_events",
                    "file",
                    "path",
                    "output",
                    "save",
                    "load",
                    "session",
                    "name",
                    "url",
                )
            }
            url = f"http://127.0.0.1:9/{value}"
            bodies = {
                "whapi": {"webhooks": [{"url": url, "mode": "body"}]},
                "codechat": {"name": value, "url": url, "enabled": True},
                "": {
                    "webhook": {
                        "enabled": True,
                        "url": url,
                        "headers": {"file": value},
                        "events": ["MESSAGES_UPSERT"],
                    }
                },
            }
            for method, template in routes + [("POST", "/webhook")]:
                path = template.replace("sales", value)
                sent = (
                    next(body for name, body in bodies.items() if name in path)
                    if method in ("POST", "PUT", "PATCH")
                    else None
                )
                with http.stream(
                    method,
                    path,
                    params=params,
                    json=sent,
                    headers={"Authorization": f"Bearer {value}", "apikey": value},
                ) as answer:
                    if "event-stream" not in answer.headers.get("content-type", ""):
                        seen.append(answer.read().decode("utf-8", "replace"))
            seen.append(http.post(f"/../../escape-{mark}", content=b"{}").text)
            seen.append(http.get(f"/_hookcatcher/api/export?format=har&q={value}").text)
        instances = http.get("/_hookcatcher/api/instances").json()["instances"]
    # The hostile values did reach the handlers (kept in memory, as names, nowhere else).
    assert {"..", str(secret), f"../escape-{mark}"} <= {item["instance"] for item in instances}
    assert len(seen) > 300
    assert not any(f"SECRET-{mark}" in text for text in seen)
    assert list(cwd.iterdir()) == []
    assert [path for path in tmp_path.rglob("*") if mark in path.name] == []
    for folder in (tmp_path.parent, tmp_path.parent.parent, Path.home()):
        assert [path for path in folder.iterdir() if mark in path.name] == []


def test_a_catcher_with_tokens_reads_and_clears_its_own_store() -> None:
    from hookcatcher.testing.catcher import Catcher

    with Catcher(token=TOKEN, ingest_token=INGEST) as catcher:
        assert httpx.post(catcher.webhook_url(), content=b"{}").status_code == 401
        httpx.post(catcher.webhook_url(), content=b"{}", headers={"x-hookcatcher-token": INGEST})
        assert catcher.wait_for().id == 1  # in-process: no token needed
        assert httpx.get(f"{catcher.url}/_hookcatcher/api/events").status_code == 401
        assert catcher.clear() == 1  # through the API, with its token
    with pytest.raises(ValueError, match="ingest_token: a token must be visible ASCII"):
        Catcher(ingest_token="two words")
