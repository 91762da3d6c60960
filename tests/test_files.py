"""Files written for the user never replace one already there."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookcatcher.files import write_new


def test_a_counter_goes_before_the_suffix(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "folder"
    paths = [write_new(folder, "export.har", f"take {n}") for n in range(3)]
    assert [path.name for path in paths] == ["export.har", "export.2.har", "export.3.har"]
    assert [path.read_text() for path in paths] == ["take 0", "take 1", "take 2"]


def test_an_unwritable_folder_is_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError):
        write_new(tmp_path / "file", "x.har", "")
