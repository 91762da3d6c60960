"""What a user installs: the wheel carries the schemas and fixtures and works from any folder;
the README's Quick start is the command CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
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


@pytest.mark.slow
def test_wheel_carries_every_schema_and_fixture(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("schemas", "fixtures"):
        files = [p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*.json")]
        assert files, folder
        for file in files:
            assert f"hookcatcher/{file}" in names


@pytest.mark.slow
def test_wheel_carries_py_typed_license_and_the_one_version(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "hookcatcher/py.typed" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    version = re.search(r'__version__ = "(.+?)"', (ROOT / "hookcatcher/__init__.py").read_text())
    assert version is not None
    assert wheel.name.startswith(f"hookcatcher-{version[1]}-")


@pytest.mark.slow
def test_unpacked_wheel_validates_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import json, hookcatcher.core.resources as r, hookcatcher.check.validation as v\n"
        "fixture = r.data_dir('fixtures') / 'evolution/v2/messages.upsert.text.json'\n"
        "body = json.load(open(fixture))['body']\n"
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


USER_SCRIPT_GOOD = """\
import hookcatcher

report: hookcatcher.Report = hookcatcher.replay("http://127.0.0.1:9/", "x.json", path="/hook")
seconds: float = report.seconds
"""

USER_SCRIPT_BAD = """\
import hookcatcher

hookcatcher.replay("http://127.0.0.1:9/", "x.json", bogus_keyword=1)
hookcatcher.replay("http://127.0.0.1:9/", "x.json", repeat="twice")
"""


@pytest.mark.slow
def test_installed_package_is_typed_for_mypy(wheel: Path, tmp_path: Path) -> None:
    """`pip install .` into a fresh venv (no editable path back to the checkout): the wheel
    carries py.typed and the lazy `hookcatcher.replay` shows mypy its real signature."""
    pytest.importorskip("mypy")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    subprocess.run([*pip, "--no-deps", "--no-index", str(wheel)], check=True, timeout=120)
    # The dependencies come from the running environment, after the fresh site-packages.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(site, "dependencies.pth").write_text(ours + "\n", encoding="utf-8")
    user = tmp_path / "user"
    user.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run(
        [str(python), "-c", "import hookcatcher; hookcatcher.replay; print(hookcatcher.__file__)"],
        cwd=user,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(site)

    (user / "good.py").write_text(USER_SCRIPT_GOOD, encoding="utf-8")
    (user / "bad.py").write_text(USER_SCRIPT_BAD, encoding="utf-8")
    mypy = [sys.executable, "-m", "mypy", "--config-file", "", "--strict"]
    mypy += ["--python-executable", str(python), "--cache-dir", str(tmp_path / "cache")]
    done = subprocess.run(
        [*mypy, "good.py", "bad.py"], cwd=user, env=env, capture_output=True, text=True, timeout=120
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert errors == [
        'bad.py:3: error: Unexpected keyword argument "bogus_keyword" for "replay"  [call-arg]',
        'bad.py:4: error: Argument "repeat" to "replay" has incompatible type "str"; '
        'expected "int"  [arg-type]',
    ], done.stdout + done.stderr
