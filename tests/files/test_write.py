"""Files written for the user never replace one already there."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookcatcher.files.write import MAX_NAME, safe_name, write_new


def test_a_counter_goes_before_the_suffix(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "folder"
    paths = [write_new(folder, "export.har", f"take {n}") for n in range(3)]
    assert [path.name for path in paths] == ["export.har", "export.2.har", "export.3.har"]
    assert [path.read_text() for path in paths] == ["take 0", "take 1", "take 2"]


def test_an_unwritable_folder_is_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError):
        write_new(tmp_path / "file", "x.har", "")


@pytest.mark.parametrize(
    "text, name",
    [
        ("evolution", "evolution"),
        ("../../x", "_.._x"),
        ("/tmp/abs", "_tmp_abs"),
        ("..", "capture"),
        (".hidden", "hidden"),
        ("", "capture"),
        ("a b/c\\d:e*f?\x00", "a_b_c_d_e_f__"),
        ("CON", "_CON"),
        ("nul.json", "_nul.json"),
        ("com1", "_com1"),
        ("console", "console"),
        ("trailing.", "trailing"),
        ("x" * 300, "x" * MAX_NAME),
        ("ação", "a__o"),
    ],
)
def test_names_from_captures_become_safe_portable_names(text: str, name: str) -> None:
    assert safe_name(text) == name


def test_nothing_is_written_outside_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "chosen"
    with pytest.raises(OSError, match="outside the folder"):
        write_new(root / ".." / "escaped", "x.json", "", inside=root)
    (tmp_path / "elsewhere").mkdir()
    root.mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError, match="outside the folder"):
        write_new(root / "link", "x.json", "", inside=root)
    for name in ("../x.json", "/abs.json", "a/b.json", ".."):
        with pytest.raises(OSError, match="not a plain file name"):
            write_new(root, name, "")
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert not (tmp_path / "escaped").exists()
