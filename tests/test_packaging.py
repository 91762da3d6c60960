"""What a user installs: the wheel carries the schemas and fixtures and works from any folder;
the README's Quick start is the command CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("needs the source checkout")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    (built,) = out.glob("hookcatcher-*.whl")
    return built


def test_wheel_carries_every_schema_and_fixture(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("schemas", "fixtures"):
        files = [p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*.json")]
        assert files, folder
        for file in files:
            assert f"hookcatcher/{file}" in names


def test_unpacked_wheel_validates_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import json, hookcatcher.resources as r, hookcatcher.validation as v\n"
        "body = json.load(open(r.data_dir('fixtures') / 'evolution/v2/messages.upsert.text.json'))['body']\n"
        "print(r.data_dir('schemas'))\n"
        "print(v.Validator().check('evolution', 'messages.upsert', body).status)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    schemas, status = done.stdout.split()
    assert schemas == str(site / "hookcatcher" / "schemas")
    assert status == "valid"


def quick_start() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    if not (ROOT / "README.md").is_file():
        pytest.skip("needs the source checkout")
    install_and_run, install_and_test = quick_start()
    assert install_and_run.endswith("&& hookcatcher")
    assert install_and_test.endswith("&& pytest")
    assert install_and_test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
