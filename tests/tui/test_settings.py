"""What the inspector remembers: a round trip through its JSON file, where that file lives,
and a broken file or an unwritable folder reported in one line instead of a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hookcatcher.tui.settings import Settings, config_dir


@pytest.fixture(autouse=True)
def no_config_from_outside(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The user's own settings are never read or written by a test."""
    monkeypatch.delenv("HOOKCATCHER_CONFIG_DIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_save_then_load_gives_the_same_settings(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "config"
    assert Settings("http://127.0.0.1:3000/hook", by_events=True).save(folder) is None
    stored = json.loads((folder / "tui.json").read_text(encoding="utf-8"))
    assert stored == {"target": "http://127.0.0.1:3000/hook", "by_events": True}
    assert Settings.load(folder) == (Settings("http://127.0.0.1:3000/hook", True), None)


def test_saving_again_replaces_the_file(tmp_path: Path) -> None:
    Settings("http://a.test/", True).save(tmp_path)
    Settings("http://b.test/ü", False).save(tmp_path)
    assert Settings.load(tmp_path) == (Settings("http://b.test/ü", False), None)


def test_no_file_yet_gives_the_defaults_quietly(tmp_path: Path) -> None:
    assert Settings.load(tmp_path / "never-made") == (Settings("", False), None)


@pytest.mark.parametrize(
    "content, why",
    [
        ('{"target": "http://a.test/",', "Expecting"),
        ("", "Expecting value"),
        (b"\xff\xfe{}", "utf-8"),
        ('["http://a.test/"]', "not a JSON object"),
        ('"http://a.test/"', "not a JSON object"),
        ("null", "not a JSON object"),
    ],
)
def test_a_broken_file_is_named_and_the_defaults_are_used(
    tmp_path: Path, content: str | bytes, why: str
) -> None:
    path = tmp_path / "tui.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    settings, message = Settings.load(tmp_path)
    assert settings == Settings()
    assert message is not None
    assert message.startswith(f"{path}: ignored (")
    assert why in message
    assert message.endswith("the defaults are used")
    assert "Traceback" not in message


def test_a_folder_where_the_file_should_be_is_reported(tmp_path: Path) -> None:
    (tmp_path / "tui.json").mkdir()
    settings, message = Settings.load(tmp_path)
    assert settings == Settings()
    assert message is not None and message.startswith(f"{tmp_path / 'tui.json'}: ignored (")


def test_fields_of_the_wrong_type_fall_back_to_their_defaults(tmp_path: Path) -> None:
    (tmp_path / "tui.json").write_text(
        json.dumps({"target": 42, "by_events": "yes", "unknown": 1}), encoding="utf-8"
    )
    assert Settings.load(tmp_path) == (Settings("", False), None)


def test_hookcatcher_config_dir_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOOKCATCHER_CONFIG_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "explicit"
    assert Settings("http://x.test/").save() is None
    assert (tmp_path / "explicit" / "tui.json").is_file()
    assert not (tmp_path / "xdg").exists()
    assert Settings.load() == (Settings("http://x.test/"), None)


def test_xdg_config_home_is_used_next(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOOKCATCHER_CONFIG_DIR", "")  # set but empty: as if unset
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "hookcatcher"
    assert Settings("http://y.test/").save() is None
    assert Settings.load(tmp_path / "xdg" / "hookcatcher") == (Settings("http://y.test/"), None)


def test_home_config_is_the_last_resort(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "")
    assert config_dir() == tmp_path / "home" / ".config" / "hookcatcher"


def test_an_unwritable_place_gives_a_message_instead_of_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    message = Settings("http://z.test/").save(blocker / "config")
    assert (
        message == f"could not remember the target in {blocker / 'config' / 'tui.json'}: "
        "Not a directory"
    )
    message = Settings("http://z.test/").save(blocker)
    assert message is not None
    assert message.startswith(f"could not remember the target in {blocker / 'tui.json'}: ")
    assert blocker.read_text(encoding="utf-8") == "not a folder"
