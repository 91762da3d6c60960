"""`hookcatcher validate` as a user runs it: summary, exit codes, errors with their place."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hookcatcher.core.resources import data_dir


def validate(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hookcatcher", "validate", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        env=os.environ,
    )


@pytest.mark.slow
def test_fixture_folder_is_all_valid() -> None:
    done = validate(str(data_dir("fixtures")))
    out = done.stdout.decode()
    count = len(list(data_dir("fixtures").rglob("*.json")))
    assert out.endswith(
        f"{count} files: {count} valid, 0 invalid, 0 not JSON, 0 without a schema\n"
    )
    assert done.returncode == 0


def test_invalid_and_broken_files_fail_and_say_where(tmp_path: Path) -> None:
    fixture = json.loads(
        (data_dir("fixtures") / "evolution/v2/messages.upsert.text.json").read_text()
    )
    body = copy.deepcopy(fixture["body"])
    body["data"]["key"]["fromMe"] = "yes"
    (tmp_path / "bad.json").write_text(json.dumps(body))
    (tmp_path / "broken.json").write_text('{"event": "call",\n  "instance": "a"\n  "data": {}}')
    (tmp_path / "good.json").write_text(json.dumps(fixture))  # a fixture file is fine too
    done = validate(str(tmp_path))
    lines = done.stdout.decode().splitlines()
    assert lines == [
        f"{tmp_path}/bad.json: invalid  evolution messages.upsert",
        '  $.data.key.fromMe: expected a boolean, got string "yes"',
        f"{tmp_path}/broken.json: not-json",
        "  $: broken JSON at line 3, column 3: Expecting ',' delimiter",
        f"{tmp_path}/good.json: valid  evolution messages.upsert",
        "3 files: 1 valid, 1 invalid, 1 not JSON, 0 without a schema",
    ]
    assert done.returncode == 1


def test_fixture_whose_body_is_another_event_is_invalid(tmp_path: Path) -> None:
    fixture = json.loads(
        (data_dir("fixtures") / "evolution/v2/messages.upsert.text.json").read_text()
    )
    fixture["event"] = "messages.update"
    (tmp_path / "wrong.json").write_text(json.dumps(fixture))
    done = validate(str(tmp_path / "wrong.json"))
    assert (
        "the fixture says evolution messages.update but the body is evolution messages.upsert"
        in done.stdout.decode()
    )
    assert done.returncode == 1


def test_stdin_and_json_output() -> None:
    done = validate(
        "-", "--json", stdin=b'{"event": "messages.upsert", "instance": "a", "data": {}}'
    )
    report = json.loads(done.stdout)
    assert report["summary"]["invalid"] == 1
    (result,) = report["files"]
    assert (result["file"], result["provider"], result["status"]) == (
        "<stdin>",
        "evolution",
        "invalid",
    )
    assert {"path": "$.data.key", "message": "required field is missing"} in result["errors"]
    assert done.returncode == 1


def test_missing_file_is_named(tmp_path: Path) -> None:
    done = validate(str(tmp_path / "nope.json"))
    assert (
        f"{tmp_path}/nope.json: unreadable\n  $: cannot read: No such file or directory"
        in done.stdout.decode()
    )
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
