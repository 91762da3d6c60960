"""The conversation window: message captures threaded by chat, each message with its status
trail (SERVER_ACK → DELIVERY_ACK → READ), as WhatsApp itself would show the exchange.

It is built from the same captures as the list (whatever the filter shows) and grows as
message and status events arrive.
"""

from __future__ import annotations

from datetime import datetime, timezone

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from hookcatcher.core.capture import Capture
from hookcatcher.core.conversation import Thread, thread
from hookcatcher.tui.text import literal, printable

__all__ = ["ConversationScreen", "thread_text"]


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "--:--:--"
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).astimezone().strftime("%H:%M:%S")


def _key(chat: Thread) -> tuple[str, str | None, str | None]:
    return chat.provider, chat.instance, chat.chat


def thread_text(chat: Thread) -> RenderableType:
    heading = printable(chat.chat or "(statuses and changes that name no chat)")
    lines: list[RenderableType] = [
        Text.assemble(
            (heading, "bold"), (printable(f"   {chat.provider} {chat.instance or ''}"), "dim")
        )
    ]
    for message in chat.messages:
        arrow, style = ("→", "green") if message.from_me else ("←", "cyan")
        who = "you" if message.from_me else (message.sender or "them")
        line = Text.assemble(
            (f"{arrow} {_when(message.timestamp)} ", style),
            (printable(who), "bold"),
            ": ",
            printable(message.text or f"[{message.kind}]"),
            (printable(f"   #{message.capture_id} {message.event}"), "dim"),
        )
        trail = chat.trail(message.id)
        if trail:
            line.append(printable("\n     " + " → ".join(trail)), style="magenta")
        lines.append(line)
    return Group(*lines)


class ConversationScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,c", "dismiss", "Close")]
    DEFAULT_CSS = """
    ConversationScreen { align: center middle; }
    ConversationScreen > Horizontal { width: 116; height: 36; border: round $accent;
        background: $panel; }
    ConversationScreen #chats { width: 40; height: 100%; }
    ConversationScreen #messages { width: 1fr; height: 100%; padding: 0 1; }
    """

    def __init__(self, captures: list[Capture], filter_text: str) -> None:
        super().__init__()
        self.captures = captures
        self.filter_text = filter_text
        self.threads: list[Thread] = []
        self.current: tuple[str, str | None, str | None] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield OptionList(id="chats")
            with VerticalScroll(id="messages"):
                yield Static(id="messages-text")

    def on_mount(self) -> None:
        self._rebuild()
        self.query_one("#chats", OptionList).focus()

    def offer(self, captures: list[Capture]) -> None:
        """New captures arrived (already filtered like the list): thread them in."""
        self.captures.extend(captures)
        self._rebuild()

    def _rebuild(self) -> None:
        self.threads = thread(self.captures)
        chats = self.query_one("#chats", OptionList)
        chats.clear_options()
        if not self.threads:
            scope = f" matching {self.filter_text!r}" if self.filter_text else ""
            self.query_one("#messages-text", Static).update(
                literal(f"No message or status events{scope} yet.", "yellow")
            )
            return
        for index, chat in enumerate(self.threads):
            last = chat.messages[-1].text if chat.messages else ""
            chats.add_option(
                Option(
                    Text.assemble(
                        (printable(chat.chat or "(no chat named)", one_line=True), "bold"),
                        (
                            "\n"
                            + printable(f"{chat.provider} {chat.instance or ''}", one_line=True),
                            "dim",
                        ),
                        f"\n{len(chat.messages)} msg  {printable(last[:26], one_line=True)}",
                    ),
                    id=f"thread-{index}",
                )
            )
        chosen = next((i for i, t in enumerate(self.threads) if _key(t) == self.current), 0)
        chats.highlighted = chosen
        self._show(self.threads[chosen])

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = int((event.option_id or "thread-0").removeprefix("thread-"))
        if index < len(self.threads):
            self._show(self.threads[index])

    def _show(self, chat: Thread) -> None:
        self.current = _key(chat)
        self.query_one("#messages-text", Static).update(thread_text(chat))
