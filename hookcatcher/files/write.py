"""Files written for the user (saved fixtures, exports): never over a file already there, and
never outside the folder the user chose.

A saved capture or export is something the user keeps; writing over one made earlier, maybe
by hand, would lose it, so a counter goes before the suffix instead (`export.2.har`).
Names made from a capture (its provider, event, id) come from whoever sent the request or
wrote the session file, so they go through `safe_name`, and `write_new` checks that the
path it writes stays inside the folder it was given."""

from __future__ import annotations

import errno
import re
from pathlib import Path

__all__ = ["MAX_NAME", "safe_name", "write_new"]

MAX_NAME = 100  # characters: far under every file system's limit, counter and suffix included
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Names Windows keeps for devices, with or without a suffix (`NUL.json` is the device too).
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
)


def safe_name(text: str, fallback: str = "capture") -> str:
    """`text` as one portable file or folder name: letters, digits, `.`, `-` and `_` only
    (anything else becomes `_`), no leading dot (no hidden file, no `..`), no trailing dot
    (Windows drops it), a name Windows keeps for a device prefixed with `_`, at most
    MAX_NAME characters; `fallback` when nothing is left."""
    name = _UNSAFE.sub("_", text).lstrip(".")[:MAX_NAME].rstrip(".")
    if not name:
        return fallback
    if name.split(".", 1)[0].lower() in _RESERVED:
        name = f"_{name}"[:MAX_NAME]
    return name


def write_new(folder: Path, name: str, text: str, *, inside: Path | None = None) -> Path:
    """Write `text` as `folder/name` (the folder made if needed) and return the path; when
    that file exists, `stem.2.suffix`, `stem.3.suffix`... `name` must be a safe name, and
    the file must land inside `inside` (default: `folder`) once every `..` and symbolic
    link is followed. Raises OSError, saying which when it is one of these."""
    if safe_name(name, "") != name:
        raise OSError(errno.EINVAL, "not a plain file name", name)
    root = (inside if inside is not None else folder).resolve()
    _check_inside(folder, root)  # before making folders
    folder.mkdir(parents=True, exist_ok=True)
    _check_inside(folder, root)  # and with every link on the way now there to follow
    stem, dot, suffix = name.rpartition(".")
    count = 1
    while True:
        path = folder / (name if count == 1 else f"{stem}.{count}{dot}{suffix}")
        try:
            # "x" never follows a link left at the path: it fails as if a file were there.
            with path.open("x", encoding="utf-8") as file:
                file.write(text)
            return path
        except FileExistsError:
            count += 1


def _check_inside(path: Path, root: Path) -> None:
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise OSError(
            errno.EPERM, f"outside the folder it was to be written in ({root})", str(path)
        )
