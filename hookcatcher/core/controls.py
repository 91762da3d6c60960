"""Terminal control characters in text that came with a request, made harmless.

A terminal acts on C0 controls (ESC, BEL, CR, LF, ...), DEL and C1 controls instead of
showing them: an instance name with `ESC ]0;...BEL` set the terminal's title, `ESC [2J`
cleared the screen and a line break printed a line that looked like a capture of its own.
Every place that shows such text to a person goes through here, in one of two forms:
`escaped` for printed lines and files (ESC as the four characters `\\x1b`, which a reader can
copy back) and `drawn` for the inspector (one visible character per control, so lengths and
offsets into the text hold).
"""

from __future__ import annotations

import re

__all__ = ["CONTROL_CODES", "escaped", "drawn", "replaced"]

# C0 (newline and tab included), DEL and C1.
CONTROL_CODES: tuple[int, ...] = (*range(0x20), 0x7F, *range(0x80, 0xA0))
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

_PICTURES: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ ... ␟
_PICTURES[0x7F] = "\u2421"  # ␡
_PICTURES.update({code: "\ufffd" for code in range(0x80, 0xA0)})
# Lines and tabs lay text out where there is room for them; on one line they are drawn too.
_DRAWN_ON_LINES = str.maketrans(
    {code: shown for code, shown in _PICTURES.items() if chr(code) not in "\n\t"}
)
_DRAWN_ON_ONE_LINE = str.maketrans(_PICTURES)


def escaped(text: str) -> str:
    """Each control character written as a visible escape (`\\x1b`)."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def drawn(text: str, *, one_line: bool = False) -> str:
    """Each control character drawn as one visible character of its own (`␛`, `␍`, `�`);
    newlines and tabs kept unless `one_line`."""
    if text.isprintable():  # no control at all: the common case, drawn per list row
        return text
    return text.translate(_DRAWN_ON_ONE_LINE if one_line else _DRAWN_ON_LINES)


def replaced(text: str, by: str) -> str:
    """Every control character, newlines and tabs too, replaced by `by`."""
    return text.translate(dict.fromkeys(CONTROL_CODES, by))
