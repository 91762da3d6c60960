"""Files written for the user (saved fixtures, exports): never over a file already there.

A saved capture or export is something the user keeps; writing over one made earlier, maybe
by hand, would lose it, so a counter goes before the suffix instead (`export.2.har`)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_new"]


def write_new(folder: Path, name: str, text: str) -> Path:
    """Write `text` as `folder/name` (the folder made if needed) and return the path; when
    that file exists, `stem.2.suffix`, `stem.3.suffix`... Raises OSError."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, dot, suffix = name.rpartition(".")
    count = 1
    while True:
        path = folder / (name if count == 1 else f"{stem}.{count}{dot}{suffix}")
        try:
            with path.open("x", encoding="utf-8") as file:
                file.write(text)
            return path
        except FileExistsError:
            count += 1
