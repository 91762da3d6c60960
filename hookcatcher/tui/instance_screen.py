"""The "as the gateway" window: pick an instance the app configured through hookcatcher's mock
of its gateway's API, see what the gateway would send for the capture, and send it.

The preview comes from the same `plan` the `send --instance` command uses, so the window shows
exactly the requests that will go out, or why the gateway would send none (not subscribed,
webhook disabled, another gateway's event). Secrets are hidden as in the rest of the inspector
until `h` shows them: a Whapi channel is named by its token, and a webhook URL may carry one.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from hookcatcher.core.capture import Capture
from hookcatcher.core.secrets import instance_name, scrubbed
from hookcatcher.send.webhook import Instance, Webhook, plan
from hookcatcher.tui.text import literal

__all__ = ["InstanceScreen", "NO_INSTANCES", "hidden_secrets", "preview"]

NO_INSTANCES = (
    "No gateway instance is configured yet. Let your app set its webhook up "
    "through this server, as it would with the real gateway: Evolution "
    "POST /_gateway/evolution/webhook/set/<instance>, CodeChat "
    "POST /_gateway/codechat/api/v2/instance/<id>/webhook, Whapi "
    "PATCH /_gateway/whapi/settings."
)


def _describe(webhook: Webhook) -> str:
    state = "" if webhook.enabled else " (disabled)"
    return f"{webhook.url or '(no URL)'} [{webhook.mode}]{state}"


def hidden_secrets(text: str, instances: Iterable[Instance], redact: bool = True) -> str:
    """Text about these instances as the inspector shows it: unless secrets are shown, each
    Whapi channel's token (its name) as its last characters, and every other secret hidden
    (a `?token=` in a webhook URL)."""
    if not redact:
        return text
    return scrubbed(
        text, {item.name: instance_name(item.provider, item.name) for item in instances}
    )


def preview(instance: Instance, capture: Capture) -> str:
    """The requests the gateway would send, one per line, then why any webhook sends none."""
    planned = plan(instance.webhooks, capture)
    lines = [f"→ {request.method} {request.url}" for request in planned.requests]
    lines += [f"✗ {reason}" for reason in planned.skipped]
    return "\n".join(lines)


class InstanceScreen(ModalScreen[Instance | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "send", "Send")]
    DEFAULT_CSS = """
    InstanceScreen { align: center middle; }
    InstanceScreen > Vertical { width: 110; height: auto; max-height: 30;
        border: round $accent; background: $panel; padding: 0 1; }
    InstanceScreen OptionList { height: auto; max-height: 10; }
    InstanceScreen #instance-preview { height: auto; color: $text-muted; }
    """

    def __init__(self, capture: Capture, instances: list[Instance]) -> None:
        super().__init__()
        self.capture = capture
        self.instances = instances

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                literal(
                    self._shown(
                        f"Send capture #{self.capture.id} ({self.capture.provider} "
                        f"{self.capture.event or 'unknown event'}) as the gateway would, to:"
                    )
                ),
                id="instance-title",
            )
            if not self.instances:
                yield Static(Text(NO_INSTANCES), id="instance-preview")
                return
            yield OptionList(
                *(
                    Option(
                        literal(
                            self._shown(
                                f"{item.key} {item.version}  "
                                f"{'; '.join(_describe(hook) for hook in item.webhooks)}"
                            )
                        ),
                        id=item.key,
                    )
                    for item in self.instances
                ),
                id="instance-list",
            )
            yield Static(id="instance-preview")
            yield Label("Enter or Ctrl+S sends, Esc cancels", classes="hint")

    def on_mount(self) -> None:
        if self.instances:
            options = self.query_one(OptionList)
            options.highlighted = 0
            options.focus()
            self._show(0)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.instances[event.option_index])

    def _show(self, index: int) -> None:
        self.query_one("#instance-preview", Static).update(
            literal(self._shown(preview(self.instances[index], self.capture)))
        )

    def _shown(self, text: str) -> str:
        return hidden_secrets(text, self.instances, getattr(self.app, "redact", True))

    def action_send(self) -> None:
        if not self.instances:
            return
        index = self.query_one(OptionList).highlighted
        if index is not None:
            self.dismiss(self.instances[index])
