"""F1 / ?: every key, read from the one bindings table."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from hookcatcher.tui.bindings import KEYS

__all__ = ["HelpScreen", "help_table"]

FILTER_HELP = (
    "Filter terms (all must hold): event:messages.*  provider:whapi  instance:sales  valid:no  "
    'method:PATCH  path:/hooks*  data.key.fromMe:true  "free text"  -term negates, * wildcard.'
)


def help_table() -> Table:
    table = Table(title="hookcatcher keys", box=None, expand=True, title_style="bold")
    table.add_column("key", style="bold cyan", no_wrap=True)
    table.add_column("does")
    for key in KEYS:
        table.add_row(key.shown_keys, key.help)
    table.add_row("↑ ↓ PgUp PgDn", "Move in the list (moving up pauses follow).")
    table.add_row("Tab", "Move between the list, the filter and the detail tabs.")
    table.add_row("Esc (in a window)", "Close it.")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(help_table())
            yield Static(FILTER_HELP, classes="muted")
