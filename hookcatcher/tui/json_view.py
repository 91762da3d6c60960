"""A body as the Body tab shows it: pretty JSON, coloured by pygments, long base64 folded.

The printer is written here rather than taken from json.dumps because the Validation tab
needs to know on which line each JSON path starts (to jump to `$.data.key.fromMe`), and
because a 40 kB base64 thumbnail must shrink to one line that still says what it was.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from rich.syntax import Syntax
from rich.text import Text

from hookcatcher.core.jsonpath import json_path
from hookcatcher.core.units import size_text
from hookcatcher.tui.text import printable

__all__ = ["BodyView", "render_body", "fold", "line_of", "FOLD_OVER"]

FOLD_OVER = 120  # characters: longer base64 strings are folded
_BASE64 = re.compile(r"^(data:[\w/+.-]+;base64,)?[A-Za-z0-9+/_-]+={0,2}$")
_INDENT = "  "


@dataclass(frozen=True, slots=True)
class BodyView:
    text: Text
    lines: dict[str, int]  # JSON path -> 0-based line where that value starts
    line_count: int


def fold(value: str) -> str | None:
    """The folded form of a long base64 string (a media thumbnail, a QR PNG), else None."""
    if len(value) <= FOLD_OVER or not _BASE64.match(value):
        return None
    prefix = value.split(",", 1)[0] + "," if value.startswith("data:") else ""
    payload = len(value.rstrip("=")) - len(prefix)
    shown = value[len(prefix) : len(prefix) + 24]
    return f"{prefix}{shown}… [{size_text(payload * 3 // 4)} base64, folded]"


def render_body(body: Any, theme: str = "monokai") -> BodyView:
    lines: list[str] = []
    where: dict[str, int] = {}
    _emit(body, "$", 0, "", lines, where, last=True)
    # JSON escapes C0 controls, not DEL or C1 ones; lines stay where they are.
    code = printable("\n".join(lines))
    text = Syntax(code, "json", theme=theme, background_color="default").highlight(code)
    text.rstrip()
    text.no_wrap = True
    return BodyView(text, where, len(lines))


def _emit(
    value: Any,
    path: str,
    depth: int,
    lead: str,
    lines: list[str],
    where: dict[str, int],
    last: bool,
) -> None:
    """Append `value` at `depth`, its first line starting with `lead` (a key or nothing)."""
    pad = _INDENT * depth
    comma = "" if last else ","
    where.setdefault(path, len(lines))
    if isinstance(value, dict) and value:
        lines.append(f"{pad}{lead}{{")
        items = list(value.items())
        for index, (key, item) in enumerate(items):
            child = path + json_path([key])[1:]
            _emit(
                item,
                child,
                depth + 1,
                f"{json.dumps(key, ensure_ascii=False)}: ",
                lines,
                where,
                index == len(items) - 1,
            )
        lines.append(f"{pad}}}{comma}")
    elif isinstance(value, list) and value:
        lines.append(f"{pad}{lead}[")
        for index, item in enumerate(value):
            _emit(item, f"{path}[{index}]", depth + 1, "", lines, where, index == len(value) - 1)
        lines.append(f"{pad}]{comma}")
    else:
        if isinstance(value, str) and (folded := fold(value)) is not None:
            shown = json.dumps(folded, ensure_ascii=False)
        else:
            shown = json.dumps(value, ensure_ascii=False)
        lines.append(f"{pad}{lead}{shown}{comma}")


def line_of(view: BodyView, path: str) -> int | None:
    """The line to show for an error path: the value itself, or where its nearest existing
    parent starts (a missing required field is reported at a path that is not in the body)."""
    while path:
        if path in view.lines:
            return view.lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return view.lines.get("$")
