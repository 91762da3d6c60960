"""Reading values out of bodies that may be anything: the wrong type, an empty string or a
missing key gives None (or []), never an exception.

The conversation readers (core/chats.py, core/messages.py) read captured bodies with these,
since the captures a developer inspects are often the broken ones; each gateway writes its ids,
flags and times its own way, and these say what each of them accepts.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

__all__ = ["Path", "dig", "text", "jid", "row_id", "flag", "items", "first", "seconds"]

Path = tuple[str, ...]


def dig(value: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def jid(value: Any) -> str | None:
    """Evolution and CodeChat chats are JIDs; an `id` without '@' is a database row."""
    return value if isinstance(value, str) and "@" in value else None


def row_id(value: Any) -> str | None:
    """A database row id: CodeChat uses UUID strings (v2) and numbers (1.3, 2026)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def items(value: Any) -> list[dict[str, Any]]:
    """The objects of `data`: one object, or the objects of an array (other entries skipped)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


_DIGITS = re.compile(r"[0-9]{1,16}")
_MILLISECONDS = 10**11  # seconds stay below this until the year 5138
_TOO_LARGE = 10**14


def seconds(value: Any) -> int | None:
    """Seconds since 1970 from whatever a gateway sent: a number, a decimal string, a protobuf
    Long {low, high}, or an ISO 8601 string. Values of 10^11 and up are milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _DIGITS.fullmatch(text):
            return _iso_seconds(text)
        number = int(text)
    elif isinstance(value, dict):
        low, high = value.get("low"), value.get("high")
        if type(low) is not int or type(high) is not int:
            return None
        number = (high << 32) | (low & 0xFFFFFFFF)
    else:
        return None
    if number < 0 or number >= _TOO_LARGE:
        return None
    return number // 1000 if number >= _MILLISECONDS else number


def _iso_seconds(text: str) -> int | None:
    if not 10 <= len(text) <= 40:
        return None
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"  # Python 3.10 reads no Z; 3.11 does
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return int(moment.timestamp())
    except (OverflowError, OSError, ValueError):
        return None
