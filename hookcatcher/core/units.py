"""Sizes for people: as every screen shows a byte count (`1.2 KB`), as the flags take one
(`64MiB`, `1.5GiB`), and as a limit is said back (`64 MiB`)."""

from __future__ import annotations

import re

__all__ = ["limit_text", "parse_size", "size_text"]


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_size(text: str) -> int:
    """`268435456`, `256MiB`, `64MB`, `1.5GiB` -> bytes."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        raise ValueError(f"{text!r} is not a size (e.g. 268435456, 256MiB, 64MB)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def limit_text(size: int) -> str:
    """A limit as the flags take it: `64 MiB`, `64 KiB`, `1,500 bytes`."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size:,} bytes"


def size_text(n: int) -> str:
    """A byte count as every screen of hookcatcher shows it: `512 B`, `1.2 KB`, `3.4 MB`."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"
