"""Exports as other tools read them: a HAR 1.2 log that passes the spec's structure rules and
loads in haralyzer with every body intact, JSON Lines that read back into the same captures,
a curl script that sends the same bytes again, fixture files `fixtures.load` accepts; secrets
redacted in all of them unless asked, through the API route and the `export` command."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from haralyzer import HarParser
from helpers.bundled import fixture
from helpers.ports import unused_port
from starlette.routing import Route

from hookcatcher.check.validation import Validator
from hookcatcher.cli.main import main
from hookcatcher.core.capture import Capture
from hookcatcher.core.secrets import MARKER
from hookcatcher.files import fixtures
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.app import create_app
from hookcatcher.receive.export_route import export_endpoint
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store
from hookcatcher.send.export import (
    curl_script,
    fixture_files,
    har,
    jsonl,
    received_request,
)
from hookcatcher.send.outgoing import ReplayError

APIKEY = "EVO-INSTANCE-TOKEN-7c1f9e"
BEARER = "whapi-channel-token-5b2d"
SECRETS = (APIKEY, BEARER)
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxy settings would take loopback requests elsewhere, from httpx and curl alike."""
    for name in list(os.environ):
        if "proxy" in name.lower():
            monkeypatch.delenv(name)


def pretty(name: str, **changes: Any) -> bytes:
    """A fixture body as a sloppy sender writes it: tabs, CRLFs, non-ASCII, a trailing line."""
    body = fixture(name)["body"]
    body.update(changes)
    text = json.dumps(body, indent="\t", ensure_ascii=False).replace("\n", "\r\n")
    return (text + "\n").encode("utf-8")


def capture_of(
    validator: Validator,
    raw: bytes,
    headers: list[tuple[str, str]],
    path: str = "/webhook",
    query: str = "",
    method: str = "POST",
    capture_id: int = 1,
) -> Capture:
    capture = build_capture(validator, method, path, query, headers, "127.0.0.1:40000", raw)
    capture.id = capture_id
    return capture


@pytest.fixture
def plain_captures(validator: Validator) -> list[Capture]:
    """No secrets anywhere: a redacted export must carry these bytes exactly."""
    return [
        capture_of(
            validator,
            pretty("evolution/v2/messages.upsert.text"),
            [("content-type", "application/json"), ("user-agent", "axios/1.7.9")],
            path="/webhook/messages-upsert",
            capture_id=1,
        ),
        capture_of(
            validator,
            pretty("whapi/messages.post.text"),
            [("content-type", "application/json")],
            path="/hooks/messages/post",
            query="owner=5511900000000%40s.whatsapp.net&x=",
            capture_id=2,
        ),
        capture_of(
            validator,
            b"\x00\xffnot text\x80",
            [("content-type", "application/octet-stream")],
            capture_id=3,
        ),
        capture_of(validator, b"", [], method="GET", path="/caf\u00e9 menu", capture_id=4),
    ]


@pytest.fixture
def secret_captures(validator: Validator) -> list[Capture]:
    """Evolution's exposed instance token in the body, a Whapi channel token as Bearer."""
    return [
        capture_of(
            validator,
            pretty("evolution/v2/instance.create", apikey=APIKEY),
            [("content-type", "application/json")],
            capture_id=5,
        ),
        capture_of(
            validator,
            pretty("whapi/messages.post.text"),
            [("content-type", "application/json"), ("authorization", f"Bearer {BEARER}")],
            query=f"token={APIKEY}",
            capture_id=6,
        ),
    ]


# -- HAR 1.2

# Fields the HAR 1.2 spec defines for each object (anything else must start with `_`),
# and those it requires.
SPEC = {
    "log": (
        {"version", "creator", "browser", "pages", "entries", "comment"},
        {"version", "creator", "entries"},
    ),
    "creator": ({"name", "version", "comment"}, {"name", "version"}),
    "entry": (
        {
            "pageref",
            "startedDateTime",
            "time",
            "request",
            "response",
            "cache",
            "timings",
            "serverIPAddress",
            "connection",
            "comment",
        },
        {"startedDateTime", "time", "request", "response", "cache", "timings"},
    ),
    "request": (
        {
            "method",
            "url",
            "httpVersion",
            "cookies",
            "headers",
            "queryString",
            "postData",
            "headersSize",
            "bodySize",
            "comment",
        },
        {
            "method",
            "url",
            "httpVersion",
            "cookies",
            "headers",
            "queryString",
            "headersSize",
            "bodySize",
        },
    ),
    "response": (
        {
            "status",
            "statusText",
            "httpVersion",
            "cookies",
            "headers",
            "content",
            "redirectURL",
            "headersSize",
            "bodySize",
            "comment",
        },
        {
            "status",
            "statusText",
            "httpVersion",
            "cookies",
            "headers",
            "content",
            "redirectURL",
            "headersSize",
            "bodySize",
        },
    ),
    "postData": ({"mimeType", "params", "text", "comment"}, {"mimeType"}),
    "content": (
        {"size", "compression", "mimeType", "text", "encoding", "comment"},
        {"size", "mimeType"},
    ),
    "cache": ({"beforeRequest", "afterRequest", "comment"}, set()),
    "timings": (
        {"blocked", "dns", "connect", "send", "wait", "receive", "ssl", "comment"},
        {"send", "wait", "receive"},
    ),
    "pair": ({"name", "value", "comment"}, {"name", "value"}),
}


def check(kind: str, value: dict[str, Any], where: str) -> None:
    known, required = SPEC[kind]
    assert isinstance(value, dict), f"{where} is not an object"
    missing = required - value.keys()
    assert not missing, f"{where} lacks {sorted(missing)}"
    unknown = [key for key in value if key not in known and not key.startswith("_")]
    assert not unknown, f"{where} has fields outside HAR 1.2 without a leading _: {unknown}"


def check_har(document: dict[str, Any]) -> None:
    """The HAR 1.2 structure rules, checked by hand: required fields and their types,
    custom fields only with an underscore, non-negative send/wait/receive, and `time`
    equal to the sum of the timings."""
    log = document["log"]
    check("log", log, "log")
    assert log["version"] == "1.2"
    check("creator", log["creator"], "log.creator")
    assert all(isinstance(log["creator"][key], str) for key in ("name", "version"))
    assert isinstance(log["entries"], list)
    for index, entry in enumerate(log["entries"]):
        at = f"entries[{index}]"
        check("entry", entry, at)
        datetime.fromisoformat(entry["startedDateTime"].replace("Z", "+00:00"))
        request, response = entry["request"], entry["response"]
        check("request", request, f"{at}.request")
        check("response", response, f"{at}.response")
        check("content", response["content"], f"{at}.response.content")
        check("cache", entry["cache"], f"{at}.cache")
        check("timings", entry["timings"], f"{at}.timings")
        for part, name in ((request, "request"), (response, "response")):
            for list_name in ("headers", "cookies") + (("queryString",) if part is request else ()):
                for pair in part[list_name]:
                    check("pair", pair, f"{at}.{name}.{list_name}")
                    assert isinstance(pair["name"], str) and isinstance(pair["value"], str)
            assert isinstance(part["headersSize"], int) and isinstance(part["bodySize"], int)
        assert isinstance(request["method"], str) and request["url"].startswith("http")
        assert "#" not in request["url"]
        if "postData" in request:
            check("postData", request["postData"], f"{at}.request.postData")
            assert ("text" in request["postData"]) != ("params" in request["postData"])
        assert isinstance(response["status"], int) and isinstance(response["statusText"], str)
        timings = entry["timings"]
        assert all(
            isinstance(timings[key], (int, float)) and timings[key] >= 0
            for key in ("send", "wait", "receive")
        )
        assert entry["time"] == sum(
            value for key, value in timings.items() if key != "comment" and value != -1
        )


def body_of_entry(entry: dict[str, Any]) -> bytes:
    post = entry["request"].get("postData")
    if post is None:
        return b""
    if post.get("_encoding") == "base64":
        return base64.b64decode(post["text"])
    return post["text"].encode("utf-8")


def test_har_passes_the_structure_check_and_haralyzer_reads_every_body_intact(
    plain_captures: list[Capture],
) -> None:
    document = json.loads(har(plain_captures))
    check_har(document)
    assert document["log"]["creator"]["name"] == "hookcatcher"
    entries = HarParser(document).pages[0].entries
    assert len(entries) == len(plain_captures)
    for entry, capture in zip(entries, plain_captures, strict=True):
        assert entry.request.method == capture.method
        assert body_of_entry(entry.raw_entry) == capture.raw
        if capture.raw and capture.validation.status != "not-json":
            assert entry.request.text.encode("utf-8") == capture.raw
        assert entry.response.status == 200
        assert entry.raw_entry["startedDateTime"] == capture.received_at
    first, second, binary, empty = document["log"]["entries"]
    assert first["request"]["url"] == "http://127.0.0.1:8787/webhook/messages-upsert"
    assert second["request"]["queryString"] == [
        {"name": "owner", "value": "5511900000000@s.whatsapp.net"},
        {"name": "x", "value": ""},
    ]
    assert binary["request"]["postData"]["_encoding"] == "base64"
    assert "postData" not in empty["request"] and empty["request"]["bodySize"] == 0
    assert empty["request"]["url"] == "http://127.0.0.1:8787/caf%C3%A9%20menu"
    assert first["_hookcatcher"]["event"] == "messages.upsert"
    assert first["_hookcatcher"]["validation"]["status"] == "valid"
    assert first["response"]["content"]["text"] == '{"ok":true,"id":1}'


def test_har_without_redaction_keeps_secret_bodies_byte_for_byte(
    secret_captures: list[Capture],
) -> None:
    kept = json.loads(har(secret_captures, redact=False, base_url="http://hooks.test:9000/"))
    check_har(kept)
    for entry, capture in zip(HarParser(kept).pages[0].entries, secret_captures, strict=True):
        assert entry.request.text.encode("utf-8") == capture.raw
    assert (
        kept["log"]["entries"][1]["request"]["url"]
        == f"http://hooks.test:9000/webhook?token={APIKEY}"
    )
    hidden = har(secret_captures)
    check_har(json.loads(hidden))
    assert not any(secret in hidden for secret in SECRETS)
    assert f"Bearer {MARKER}" in hidden


def test_har_says_what_hookcatcher_answered(validator: Validator) -> None:
    capture = capture_of(
        validator,
        pretty("evolution/v2/messages.upsert.text"),
        [("content-type", "application/json")],
        capture_id=7,
    )
    capture.answer = Answers.from_flags(["503"], ["250"], None).decide(capture)
    (entry,) = json.loads(har([capture]))["log"]["entries"]
    check_har(
        {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [entry]}}
    )
    response = entry["response"]
    assert (response["status"], response["statusText"]) == (503, "Service Unavailable")
    assert json.loads(response["content"]["text"])["status"] == 503
    assert entry["timings"]["wait"] == entry["time"] == 250


# -- JSON Lines, curl, fixtures


def test_jsonl_reads_back_into_the_same_captures(
    plain_captures: list[Capture], secret_captures: list[Capture]
) -> None:
    everything = plain_captures + secret_captures
    lines = jsonl(everything, redact=False).splitlines()
    assert [Capture.from_json(json.loads(line)) for line in lines] == everything
    hidden = jsonl(everything)
    assert not any(secret in hidden for secret in SECRETS)
    read = [Capture.from_json(json.loads(line)) for line in hidden.splitlines()]
    assert [capture.raw for capture in read[:4]] == [capture.raw for capture in plain_captures]
    assert read[4].body["apikey"] == MARKER


def test_curl_script_without_a_target_aims_at_hookcatcher_with_the_query_once(
    secret_captures: list[Capture],
) -> None:
    script = curl_script(secret_captures, redact=False)
    assert script.startswith("#!/bin/sh\n")
    assert f"'http://127.0.0.1:8787/webhook?token={APIKEY}'" in script
    assert script.count(f"token={APIKEY}") == 1
    hidden = curl_script(secret_captures)
    assert not any(secret in hidden for secret in SECRETS)
    assert "Bearer [redacted]" in hidden
    with pytest.raises(ReplayError):
        curl_script(secret_captures, by_events=True)


def test_received_request_keeps_an_evolution_suffix_query(validator: Validator) -> None:
    """Configured as /hook?src=evo, Evolution sends /hook?src=evo/messages-upsert: a replay
    leaves that query out, the request as received keeps it."""
    capture = capture_of(
        validator,
        pretty("evolution/v2/messages.upsert.text"),
        [("content-type", "application/json")],
        path="/hook",
        query="src=evo/messages-upsert",
    )
    assert received_request(capture, "http://h:1").url == "http://h:1/hook?src=evo/messages-upsert"


def run_script(script: str, folder: Path) -> None:
    path = folder / "replay.sh"
    path.write_text(script, encoding="utf-8")
    done = subprocess.run(["sh", str(path)], capture_output=True, timeout=20, cwd=folder)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


@needs_curl
def test_curl_script_sends_the_same_bytes_to_a_real_server(
    validator: Validator,
    make_server: Callable[..., BackgroundServer],
    plain_captures: list[Capture],
    tmp_path: Path,
) -> None:
    receiver = make_server()
    sneaky = capture_of(
        validator,
        json.dumps({"event": "x\ntouch pwned\n", "instance": "a", "data": {}}).encode(),
        [("content-type", "application/json")],
        capture_id=9,
    )
    sent = [plain_captures[0], plain_captures[1], plain_captures[2], sneaky]
    run_script(curl_script(sent, f"{receiver.url}/app"), tmp_path)
    assert not (tmp_path / "pwned").exists()
    with httpx.Client(base_url=receiver.url) as http:
        events = http.get("/_hookcatcher/api/events", params={"raw": 1}).json()["events"]
    got = [Capture.from_json(event) for event in events]
    assert [capture.raw for capture in got] == [capture.raw for capture in sent]
    assert [capture.path for capture in got] == ["/app"] * 4
    assert got[1].query == plain_captures[1].query


def test_fixture_files_load_and_skip_what_is_not_json(
    plain_captures: list[Capture], secret_captures: list[Capture], tmp_path: Path
) -> None:
    saved = fixture_files(plain_captures + secret_captures, tmp_path)
    assert len(saved.paths) == 4
    assert len(saved.skipped) == 2 and all("not JSON" in reason for reason in saved.skipped)
    loaded = [fixtures.load(path) for path in saved.paths]
    assert [item.body for item in loaded[:2]] == [capture.body for capture in plain_captures[:2]]
    assert loaded[2].body["apikey"] == MARKER
    assert loaded[3].headers[-1] == ("authorization", f"Bearer {MARKER}")
    for path in saved.paths:
        assert not any(secret in path.read_text() for secret in SECRETS)
    kept = fixture_files(secret_captures, tmp_path / "kept", redact=False)
    assert fixtures.load(kept.paths[0]).body["apikey"] == APIKEY


# -- the API route


@pytest.fixture
def export_server(validator: Validator) -> Iterator[BackgroundServer]:
    """A server with the export route added the way server.py adds it."""
    app = create_app(Store(), validator)
    app.api.router.routes.append(Route("/_hookcatcher/api/export", export_endpoint))
    server = BackgroundServer(app).start()
    yield server
    server.stop()


def post_all(server: BackgroundServer, captures: list[Capture]) -> None:
    with httpx.Client(base_url=server.url) as http:
        for capture in captures:
            url = capture.path + (f"?{capture.query}" if capture.query else "")
            answer = http.request(capture.method, url, content=capture.raw, headers=capture.headers)
            assert answer.status_code == 200


def test_api_exports_har_jsonl_and_curl_as_downloads(
    export_server: BackgroundServer, plain_captures: list[Capture], secret_captures: list[Capture]
) -> None:
    post_all(export_server, plain_captures[:3] + secret_captures)
    with httpx.Client(base_url=export_server.url) as http:
        answer = http.get("/_hookcatcher/api/export")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.headers["content-disposition"].startswith("attachment; filename=")
        assert answer.headers["content-disposition"].endswith('.har"')
        document = answer.json()
        check_har(document)
        assert (
            document["log"]["entries"][0]["request"]["url"]
            == f"{export_server.url}/webhook/messages-upsert"
        )
        assert [body_of_entry(entry) for entry in document["log"]["entries"][:3]] == [
            capture.raw for capture in plain_captures[:3]
        ]
        assert not any(secret in answer.text for secret in SECRETS)
        kept = http.get("/_hookcatcher/api/export", params={"redact": "0"})
        assert all(secret in kept.text for secret in SECRETS)
        lines = http.get(
            "/_hookcatcher/api/export", params={"format": "jsonl", "q": "provider:whapi"}
        )
        assert lines.headers["content-type"].startswith("application/x-ndjson")
        assert [json.loads(line)["id"] for line in lines.text.splitlines()] == [2, 5]
        script = http.get(
            "/_hookcatcher/api/export",
            params={"format": "curl", "target": "http://127.0.0.1:3000/app", "by_events": "1"},
        )
        assert script.headers["content-disposition"].endswith('.sh"')
        assert "http://127.0.0.1:3000/app/messages-upsert" in script.text
        assert not any(secret in script.text for secret in SECRETS)


@pytest.mark.parametrize(
    "params, named",
    [
        ({"format": "xml"}, "format"),
        ({"redact": "maybe"}, "redact"),
        ({"format": "curl", "target": "ftp://app/x"}, "target"),
        ({"format": "har", "by_events": "1", "target": "http://a/"}, "by_events"),
        ({"q": "valid:maybe"}, "valid:maybe"),
    ],
)
def test_api_bad_parameters_are_400_naming_them(
    export_server: BackgroundServer, params: dict[str, str], named: str
) -> None:
    with httpx.Client(base_url=export_server.url) as http:
        answer = http.get("/_hookcatcher/api/export", params=params)
    assert answer.status_code == 400
    assert named in answer.json()["error"]


# -- the command


def command(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["export", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_command_writes_to_stdout_a_file_or_a_folder(
    capsys: pytest.CaptureFixture[str],
    export_server: BackgroundServer,
    plain_captures: list[Capture],
    secret_captures: list[Capture],
    tmp_path: Path,
) -> None:
    post_all(export_server, plain_captures[:2] + secret_captures)
    code, out, err = command(capsys, "--from", export_server.url)
    assert code == 0, err
    check_har(json.loads(out))
    assert not any(secret in out for secret in SECRETS)
    assert "4 capture(s) as har to stdout (secrets redacted" in err
    code, _, err = command(
        capsys,
        "--from",
        export_server.url,
        "--format",
        "jsonl",
        "--filter",
        "provider:evolution",
        "--no-redact",
        "-o",
        str(tmp_path / "out.jsonl"),
    )
    assert code == 0, err
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 2 and APIKEY in lines[1]
    code, _, err = command(
        capsys,
        "--from",
        export_server.url,
        "--format",
        "fixtures",
        "-o",
        str(tmp_path / "fixtures"),
    )
    assert code == 0, err
    files = sorted((tmp_path / "fixtures").rglob("*.json"))
    assert len(files) == 4 and all(APIKEY not in file.read_text() for file in files)
    code, out, err = command(
        capsys, "--from", export_server.url, "--format", "curl", "--to", "http://127.0.0.1:3000/app"
    )
    assert code == 0 and out.startswith("#!/bin/sh") and out.count("curl ") == 4


@pytest.mark.parametrize(
    "argv, said",
    [
        (["--format", "fixtures"], "-o DIR"),
        (["--format", "curl", "--by-events"], "--to"),
        (["--format", "har", "--to", "http://a/"], "--format curl"),
        (["--format", "curl", "--to", "ftp://a/"], "--to: target URL 'ftp://a/' must start"),
    ],
)
def test_command_bad_flags_exit_2_saying_why(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    code, out, err = command(capsys, "--from", f"http://127.0.0.1:{unused_port()}", *argv)
    assert (code, out) == (2, "")
    assert err.startswith("hookcatcher: error: ") and said in err


def test_command_without_a_server_or_with_a_bad_filter(
    capsys: pytest.CaptureFixture[str], export_server: BackgroundServer
) -> None:
    code, _, err = command(capsys, "--from", f"http://127.0.0.1:{unused_port()}")
    assert code == 2 and "connection refused" in err and "is hookcatcher running" in err
    code, _, err = command(capsys, "--from", export_server.url, "--filter", "valid:maybe")
    assert code == 2 and "valid:maybe" in err


def saved_session(path: Path, validator: Validator, names: list[str]) -> list[Capture]:
    """A session file as `serve --save` writes it, with one broken line at the end."""
    from hookcatcher.files.session_writer import SessionWriter

    store = Store()
    captures = []
    with SessionWriter(path, store.run) as writer:
        for name in names:
            document = fixture(name)
            capture = store.add(
                build_capture(
                    validator,
                    "POST",
                    "/webhook",
                    "",
                    [tuple(h) for h in document["headers"]],
                    "127.0.0.1:40000",
                    json.dumps({**document["body"], "apikey": APIKEY}).encode(),
                )
            )
            writer.append(capture)
            captures.append(capture)
    with path.open("ab") as file:
        file.write(b'{"id": 99, "broken\n')
    return captures


def test_command_exports_a_saved_session(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, validator: Validator
) -> None:

    session = tmp_path / "s.jsonl"
    captures = saved_session(
        session,
        validator,
        ["evolution/v2/messages.upsert.text", "evolution/v2/messages.update.read"],
    )
    assert (
        main(
            [
                "export",
                str(session),
                "--format",
                "jsonl",
                "--filter",
                "event:messages.*",
                "--no-redact",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert [Capture.from_json(json.loads(line)).raw for line in out.splitlines()] == [
        capture.raw for capture in captures
    ]
    assert f"{session}:4: " in err  # the broken line is named, the rest exported
    assert main(["export", str(session), "--filter", "event:messages.update"]) == 0
    out, _ = capsys.readouterr()
    entries = json.loads(out)["log"]["entries"]
    assert len(entries) == 1 and APIKEY not in out and MARKER in out
    assert main(["export", str(session), "--from", "http://127.0.0.1:9"]) == 2
    assert "export takes a session FILE or --from URL, not both" in capsys.readouterr().err


def test_the_running_server_has_the_export_route(server: BackgroundServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.post(
            "/webhook",
            content=json.dumps(
                {**fixture("evolution/v2/messages.upsert.text")["body"], "apikey": APIKEY}
            ).encode(),
        )
        answer = http.get("/_hookcatcher/api/export", params={"format": "har"})
    assert answer.status_code == 200
    assert answer.json()["log"]["version"] == "1.2"
    assert APIKEY not in answer.text


# -- fixture files stay inside -o

CRAFTED = [
    ("../../escaped", "../../../evil"),
    ("{abs}", "messages.upsert"),
    ("..", ".."),
    ("CON", "nul"),
    ("", "/etc/passwd"),
    ("evolution", "a" * 400),
]


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def test_fixture_files_from_a_crafted_session_stay_inside_the_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, validator: Validator
) -> None:
    """A session file can say anything in `provider` and `event`; each becomes a safe name
    under -o, and nothing is written anywhere else."""

    from hookcatcher.files.session_writer import SessionWriter

    work = tmp_path / "work"
    session = tmp_path / "crafted.jsonl"
    store = Store()
    with SessionWriter(session, store.run) as writer:
        for provider, event in CRAFTED:
            capture = store.add(
                build_capture(
                    validator, "POST", "/webhook", "", [], "127.0.0.1:1", b'{"event": "x"}'
                )
            )
            capture.provider = provider.format(abs=tmp_path / "abs")
            capture.event = event
            writer.append(capture)
    out = work / "out" / "fixtures"
    assert main(["export", str(session), "--format", "fixtures", "-o", str(out)]) == 0, (
        capsys.readouterr().err
    )
    written = files_under(out)
    assert len(written) == len(CRAFTED) and all(path.suffix == ".json" for path in written)
    assert files_under(tmp_path) == written | {session}
    assert all(path.resolve().parent.parent == out.resolve() for path in written)
    assert {path.parent.name for path in written} == {
        "_.._escaped",
        f"_{str(tmp_path / 'abs').replace('/', '_')[1:]}",
        "unknown",
        "_CON",
        "evolution",
    }


def test_fixture_files_from_a_server_stay_inside_the_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, server: BackgroundServer
) -> None:
    """`serve --load` of such a file, then `export --from`: the same."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for _ in CRAFTED:
            http.post("/webhook", content=b'{"event": "x"}')
    for capture, (provider, event) in zip(server.app.store, CRAFTED, strict=True):
        capture.provider, capture.event = provider.format(abs=tmp_path / "abs"), event
    out = tmp_path / "work" / "out"  # deep enough that ../../ stays in tmp_path, even unchecked
    code = main(["export", "--from", server.url, "--format", "fixtures", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert len(files_under(out)) == len(CRAFTED) and files_under(tmp_path) == files_under(out)


# -- an export of a full store does not hold up the server


@pytest.mark.slow
def test_the_server_answers_while_a_full_store_is_exported(
    server: BackgroundServer, validator: Validator
) -> None:
    """10,000 stored captures of 8 KB (the default ring, full), exported as a HAR with
    their secrets redacted: health checks one after another all the while. Written on the
    event loop, the export held every one of them for its whole length (3 s here, 8.5 s for
    a full store on the issue's machine); streamed from a worker thread, none waits long."""
    body = fixture("evolution/v2/messages.upsert.text")["body"]
    body["apikey"] = APIKEY
    body["data"]["message"]["conversation"] = "x" * 8000
    raw = json.dumps(body).encode()
    for _ in range(10_000):
        capture = build_capture(
            validator,
            "POST",
            "/webhook",
            "",
            [("content-type", "application/json")],
            "127.0.0.1:1",
            raw,
        )
        capture.release_body()  # as the server keeps them
        server.app.store.add(capture)
    finished = threading.Event()
    exported: dict[str, Any] = {}

    def export() -> None:
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                answer = http.get("/_hookcatcher/api/export", params={"format": "har"})
            exported.update(
                status=answer.status_code,
                size=len(answer.content),
                leaked=APIKEY.encode() in answer.content,
            )
        finally:
            finished.set()

    thread = threading.Thread(target=export)
    thread.start()
    waits: list[float] = []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        while not finished.is_set():
            started = time.monotonic()
            assert http.get("/_hookcatcher/health").status_code == 200
            waits.append(time.monotonic() - started)
    thread.join(60)
    assert exported == {"status": 200, "size": exported["size"], "leaked": False}
    assert exported["size"] > 80_000_000 and len(waits) > 1
    assert max(waits) < 1.0, f"a health check waited {max(waits):.2f} s"
