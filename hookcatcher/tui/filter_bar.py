"""The filter bar: typing a filter, its error under the bar, and the keys that add or remove
one term (invalid only, this event, this instance). The server does the filtering; this
mixin asks it for the new listing and hands it to the app.
"""

from __future__ import annotations

import json
import re
import shlex

from textual import work
from textual.widgets import Input, Static

from hookcatcher.remote import FilterProblem, RemoteError
from hookcatcher.tui.base import InspectorBase
from hookcatcher.tui.text import literal, replace_controls

__all__ = ["FilterBar", "quoted"]


class FilterBar(InspectorBase):
    """The filter bar's handlers and actions, mixed into `InspectorApp`."""

    def on_input_submitted(self, message: Input.Submitted) -> None:
        if message.input.id == "filter":
            self.apply_filter(message.value)
            self.capture_list.focus()

    def on_input_changed(self, message: Input.Changed) -> None:
        if message.input.id == "filter":
            self._clear_filter_error()

    @work(group="list", exclusive=True)
    async def apply_filter(self, text: str) -> None:
        text = text.strip()
        try:
            listing = await self.connection.listing(text)
        except FilterProblem as problem:
            self._show_filter_error(problem)
            return
        except RemoteError as exc:
            self.notify(str(exc), severity="error")
            return
        self.filter_text = text
        self.query_one("#filter", Input).value = text
        self._clear_filter_error()
        selected = self.capture_list.selected
        self._take_listing(listing, keep=selected.id if selected else None)

    def _show_filter_error(self, problem: FilterProblem) -> None:
        self.query_one("#filter", Input).add_class("-bad")
        error = self.query_one("#filter-error", Static)
        error.update(literal(f"✗ {problem}  (the list still shows the previous filter)"))
        error.add_class("-shown")

    def _clear_filter_error(self) -> None:
        self.query_one("#filter", Input).remove_class("-bad")
        self.query_one("#filter-error", Static).remove_class("-shown")

    def back_to_list(self) -> None:
        bar = self.query_one("#filter", Input)
        if bar.has_focus:
            bar.value = self.filter_text
            self._clear_filter_error()
        self.capture_list.focus()

    def focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def _toggle(self, prefix: str, term: str | None) -> None:
        """Add `term` to the filter, or remove every `prefix` term already there."""
        terms = shlex.split(self.filter_text) if self.filter_text else []
        kept = [t for t in terms if not t.startswith(prefix)]
        if len(kept) == len(terms):
            if term is None:
                return
            kept.append(term)
        self.apply_filter(" ".join(quoted(t) for t in kept))

    def toggle_invalid(self) -> None:
        self._toggle("valid:", "valid:no")

    def toggle_event(self) -> None:
        row = self.capture_list.selected
        self._toggle("event:", f"event:{_typable(row.event)}" if row and row.event != "-" else None)

    def toggle_instance(self) -> None:
        row = self.capture_list.selected
        self._toggle(
            "instance:",
            f"instance:{_typable(row.instance)}" if row and row.instance != "-" else None,
        )


def _typable(value: str) -> str:
    """A value for a filter term in the filter bar, which would send a terminal control to
    the terminal as is: each control becomes the wildcard `*`, which still matches it."""
    return replace_controls(value, "*")


def quoted(term: str) -> str:
    """A filter term as the filter bar shows it: quoted only when it has a space."""
    return json.dumps(term) if re.search(r"\s", term) else term
