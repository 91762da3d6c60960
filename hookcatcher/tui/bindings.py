"""Every key of the inspector, in one table: the footer, the F1 help screen and the command
palette all read it, so a key cannot be documented in one place and different in another."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

__all__ = ["Key", "KEYS", "bindings", "palette_entries"]


@dataclass(frozen=True, slots=True)
class Key:
    keys: str  # Textual key names, comma-separated
    action: str  # an action of InspectorApp
    label: str  # the footer's word
    help: str  # one sentence for F1 and the command palette
    footer: bool = True
    palette: bool = True

    @property
    def shown_keys(self) -> str:
        return " ".join(_pretty(key) for key in self.keys.split(","))


def _pretty(key: str) -> str:
    names = {
        "slash": "/",
        "question_mark": "?",
        "escape": "Esc",
        "enter": "Enter",
        "ctrl+p": "Ctrl+P",
        "ctrl+q": "Ctrl+Q",
        "f1": "F1",
        "end": "End",
        "home": "Home",
    }
    return names.get(key, key)


KEYS: tuple[Key, ...] = (
    Key(
        "slash",
        "focus_filter",
        "Filter",
        "Type a filter (event:messages.* valid:no ...); Enter applies it.",
    ),
    Key(
        "escape",
        "back_to_list",
        "Back",
        "Leave the filter bar (undoing what was not applied) and go back to the list.",
        footer=False,
        palette=False,
    ),
    Key("i", "toggle_invalid", "Invalid", "Show only invalid captures, or all again."),
    Key("e", "toggle_event", "Event", "Show only the selected capture's event type, or all again."),
    Key(
        "n",
        "toggle_instance",
        "Instance",
        "Show only the selected capture's instance, or all again.",
    ),
    Key("f,end", "follow", "Follow", "Follow new captures (tail); moving up pauses it."),
    Key(
        "r",
        "replay",
        "Replay",
        "Replay the selected capture to your app (edit it first if you like).",
    ),
    Key(
        "R",
        "replay_all",
        "Replay all",
        "Replay every capture the filter shows, oldest first.",
        footer=False,
    ),
    Key(
        "a",
        "deliver",
        "As gateway",
        "Send the selected capture as the gateway would, to an "
        "instance your app configured through /_gateway/.",
        footer=False,
    ),
    Key("t", "set_target", "Target", "Set the URL replays go to (remembered).", footer=False),
    Key("s", "save_fixture", "Save", "Save the selected capture as a fixture file.", footer=False),
    Key(
        "C", "copy_curl", "Copy curl", "Copy the selected capture as a curl command.", footer=False
    ),
    Key("y", "copy_body", "Copy body", "Copy the selected capture's body.", footer=False),
    Key(
        "x",
        "export_har",
        "Export HAR",
        "Export the captures the filter shows as a HAR file "
        "(browser devtools, HAR viewers) into the save folder.",
        footer=False,
    ),
    Key(
        "h",
        "toggle_redact",
        "Secrets",
        "Show secrets (apikey, Authorization, tokens, JWTs) "
        "on screen and in copies, saves and exports, or hide them again.",
        footer=False,
    ),
    Key(
        "Q",
        "show_qr",
        "QR",
        "Show the QR code of a qrcode.updated or channel QR capture, scannable.",
    ),
    Key(
        "c",
        "show_conversations",
        "Chats",
        "Threads messages by chat, with each message's status trail.",
    ),
    Key("1", "tab('body')", "Body", "Show the Body tab.", footer=False),
    Key("2", "tab('headers')", "Headers", "Show the Headers tab.", footer=False),
    Key("3", "tab('validation')", "Validation", "Show the Validation tab.", footer=False),
    Key("4", "tab('raw')", "Raw", "Show the Raw bytes tab.", footer=False),
    Key("5", "tab('replays')", "Replays", "Show the Replays tab.", footer=False),
    Key(
        "6",
        "tab('forwards')",
        "Forwards",
        "Show the Forwards tab: what --forward-to delivered to your app and its answer.",
        footer=False,
    ),
    Key("f1,question_mark", "help", "Help", "List every key."),
    Key(
        "ctrl+p",
        "command_palette",
        "Commands",
        "Search every action by name.",
        footer=False,
        palette=False,
    ),
    Key(
        "q,ctrl+q",
        "quit",
        "Quit",
        "Leave the inspector (the server keeps its captures while it runs).",
        palette=False,
    ),
)


def bindings() -> list[Binding]:
    return [Binding(key.keys, key.action, key.label, show=key.footer) for key in KEYS]


def palette_entries() -> list[Key]:
    return [key for key in KEYS if key.palette]
