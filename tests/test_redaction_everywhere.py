"""One body full of secrets (tests/helpers/secret_requests.py), sent in every form hookcatcher
reads (JSON with repeated keys and a JWT instance name, multipart, gzip form, text that is not
JSON, deflate JSON), leaves through no export and no printed line: HAR, JSON Lines and curl
from the API and the `export` command, fixture files, and serve's lines plain and --json.
The same requests with redaction off show every secret, so the check can see them. The
inspector's screens are tested against the same requests in tests/tui/test_redaction.py."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from helpers.secret_requests import (
    INSTANCE_JWT,
    NON_ASCII_JWT,
    REQUESTS,
    SECRETS,
    WEBHOOK_TOKEN,
    WHAPI_CHANNEL,
    assert_hidden,
    disclosed_curl,
    disclosed_har,
    disclosed_jsonl,
    leaked,
)

from hookcatcher.cli.main import main
from hookcatcher.receive.printer import LinePrinter
from hookcatcher.receive.runner import BackgroundServer

IN_REQUESTS = set(SECRETS) - {WHAPI_CHANNEL, WEBHOOK_TOKEN}  # those two are for the `a` window


def send_all(server: BackgroundServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for method, target, headers, raw in REQUESTS:
            answer = http.request(method, target, content=raw, headers=headers)
            assert answer.status_code == 200, answer.text


def export(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["export", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def printed(server: BackgroundServer, as_json: bool, redact: bool = True) -> str:
    out = io.StringIO()
    printer = LinePrinter(as_json=as_json, out=out, redact=redact)
    for capture in server.app.store:
        printer(capture)
    printer.close()
    return out.getvalue()


def test_no_export_and_no_printed_line_shows_a_secret(
    server: BackgroundServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send_all(server)
    outputs: list[tuple[str, str]] = []
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for kind, disclosed in (
            ("har", disclosed_har),
            ("jsonl", disclosed_jsonl),
            ("curl", disclosed_curl),
        ):
            answer = http.get("/_hookcatcher/api/export", params={"format": kind})
            assert answer.status_code == 200
            outputs.append((f"API {kind}", disclosed(answer.text)))
            unredacted = http.get(
                "/_hookcatcher/api/export", params={"format": kind, "redact": "0"}
            ).text
            assert set(leaked(disclosed(unredacted))) >= IN_REQUESTS, kind
    outputs.append(("export har", disclosed_har(export(capsys, "--from", server.url))))
    outputs.append(
        (
            "export curl to an app",
            disclosed_curl(
                export(
                    capsys,
                    "--from",
                    server.url,
                    "--format",
                    "curl",
                    "--to",
                    "http://127.0.0.1:9/app",
                )
            ),
        )
    )
    folder = tmp_path / "fixtures"
    export(capsys, "--from", server.url, "--format", "fixtures", "-o", str(folder))
    files = sorted(folder.rglob("*.json"))
    assert len(files) == 2  # the JSON bodies; the others are no fixtures
    outputs += [(f"fixture {file.name}", file.read_text()) for file in files]
    outputs += [(f"file name {file}", str(file)) for file in files]
    outputs.append(("serve's lines", printed(server, as_json=False)))
    outputs.append(("serve --json", printed(server, as_json=True)))
    assert_hidden(outputs)
    assert "new.jwt  [redacted]  invalid" in outputs[-2][1]  # the JWT instance name
    # serve --no-redact prints what was sent: the check had something to find there too.
    assert {INSTANCE_JWT, NON_ASCII_JWT, "query-token-0010"} <= set(
        leaked(printed(server, as_json=True, redact=False))
    )
