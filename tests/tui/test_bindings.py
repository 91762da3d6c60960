"""The key table: every key does something the app can do, no key means two things, and the
footer shows exactly the keys marked for it."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from textual.app import App
from textual.binding import Binding

from hookcatcher.tui import InspectorApp
from hookcatcher.tui.bindings import KEYS, Key, bindings, palette_entries
from hookcatcher.tui.capture_list import CaptureList

TEXTUAL_OWN = {"command_palette", "quit"}


def action_name(action: str) -> str:
    """`tab('body')` -> `tab`."""
    match = re.fullmatch(r"(\w+)(\(.*\))?", action)
    assert match, f"{action!r} is not an action"
    return match.group(1)


def keys_of(binding_keys: str) -> list[str]:
    return [key.strip() for key in binding_keys.split(",")]


@pytest.mark.parametrize("key", KEYS, ids=lambda key: key.action)
def test_every_action_exists_on_the_inspector(key: Key) -> None:
    name = action_name(key.action)
    method = getattr(InspectorApp, f"action_{name}", None)
    assert callable(method), f"{key.keys}: InspectorApp has no action_{name}"
    if name in TEXTUAL_OWN:
        assert method is getattr(App, f"action_{name}"), f"action_{name} is Textual's own"
    else:
        assert f"action_{name}" in vars(InspectorApp), f"action_{name} is the inspector's own"


def test_actions_with_arguments_name_the_tab_they_show() -> None:
    tabs = [key.action for key in KEYS if "(" in key.action]
    assert tabs == [
        "tab('body')",
        "tab('headers')",
        "tab('validation')",
        "tab('raw')",
        "tab('replays')",
        "tab('forwards')",
    ]
    assert [key.keys for key in KEYS if key.action in tabs] == ["1", "2", "3", "4", "5", "6"]


def test_no_key_is_bound_twice() -> None:
    counts = Counter(key for entry in KEYS for key in keys_of(entry.keys))
    assert [key for key, count in counts.items() if count > 1] == []
    assert len({entry.action for entry in KEYS}) == len(KEYS)


def test_no_app_key_is_taken_by_the_focused_list() -> None:
    # The list has the focus most of the time; a key it binds never reaches the app.
    app_keys = {key for entry in KEYS for key in keys_of(entry.keys)}
    list_keys = {key for binding in CaptureList.BINDINGS for key in keys_of(binding.key)}
    assert app_keys & list_keys == set()


def test_bindings_are_textual_bindings_matching_the_table() -> None:
    made = bindings()
    assert len(made) == len(KEYS)
    for binding, key in zip(made, KEYS, strict=True):
        assert isinstance(binding, Binding)
        assert (binding.key, binding.action, binding.description) == (
            key.keys,
            key.action,
            key.label,
        )
        assert binding.show is key.footer
    assert [b.description for b in made if b.show] == [
        "Filter",
        "Invalid",
        "Event",
        "Instance",
        "Follow",
        "Replay",
        "QR",
        "Chats",
        "Help",
        "Quit",
    ]


def test_the_inspector_uses_this_table() -> None:
    assert [(b.key, b.action) for b in InspectorApp.BINDINGS] == [(k.keys, k.action) for k in KEYS]


def test_the_palette_lists_the_keys_marked_for_it_but_never_itself_or_quit() -> None:
    entries = palette_entries()
    assert entries == [key for key in KEYS if key.palette]
    actions = {key.action for key in entries}
    assert not actions & {"command_palette", "quit"}
    assert {"replay", "replay_all", "save_fixture", "tab('raw')"} <= actions


def test_keys_are_shown_the_way_a_keyboard_labels_them() -> None:
    shown = {key.action: key.shown_keys for key in KEYS}
    assert shown["focus_filter"] == "/"
    assert shown["help"] == "F1 ?"
    assert shown["follow"] == "f End"
    assert shown["quit"] == "q Ctrl+Q"
    assert shown["replay_all"] == "R"
