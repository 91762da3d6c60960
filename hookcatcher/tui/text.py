"""Text from captures, servers and the user as the inspector draws it: never interpreted.

Textual reads `[...]` in a plain string given to a widget or a notification as markup: an
event named `[/]x` raised MarkupError (and took down the server running in the same
process), `[@click=app.quit]` became a clickable action. Text objects are never read as
markup, so every such string reaches a widget through `literal` (or, for notifications,
through the app's `notify`, which turns markup off).

Nor does Textual filter terminal controls: an ESC in a capture went to the terminal as is,
and `ESC [2J` cleared the screen. `printable` draws each control character as its Unicode
picture (`␛`, `␍`, `␀`); C1 controls, which some terminals obey too, as `�`. Every control
is replaced by exactly one character, so a text's length and the offsets into it hold.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from hookcatcher.core.controls import drawn, replaced

__all__ = ["literal", "printable", "replace_controls"]


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` with every terminal control drawn as a visible character of its own."""
    return drawn(text, one_line=one_line)


def literal(text: str, style: str | Style = "", *, one_line: bool = False) -> Text:
    """`text` for a widget, shown exactly as typed: no markup, no terminal control."""
    return Text(printable(text, one_line=one_line), style=style)


def replace_controls(text: str, by: str) -> str:
    """`text` with every terminal control, newlines and tabs too, replaced by `by`."""
    return replaced(text, by)
