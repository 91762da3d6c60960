"""hookcatcher as the gateway from the inspector: replay one capture or every one shown
(`r`, `R`, to the target `t` sets), and deliver one as the gateway would to an instance the app
configured (`a`). Attempts are kept per capture for the Replays tab.
"""

from __future__ import annotations

from dataclasses import replace

from textual import work

from hookcatcher.core.capture import Capture
from hookcatcher.remote import RemoteError
from hookcatcher.send.outgoing import Attempt, ReplayError, make_client, request_for, send
from hookcatcher.send.webhook import Instance, plan
from hookcatcher.tui.base import InspectorBase
from hookcatcher.tui.instance_screen import InstanceScreen, hidden_secrets
from hookcatcher.tui.replay_screen import ReplayChoice, ReplayScreen, TargetScreen

__all__ = ["ReplayActions"]


class ReplayActions(InspectorBase):
    """Replay and deliver-as-gateway actions, mixed into `InspectorApp`."""

    async def ask_replay(self) -> None:
        capture = await self.selected_capture()
        if capture is None:
            return

        def chosen(choice: ReplayChoice | None) -> None:
            if choice is not None:
                self.replay_one(capture, choice)

        self.push_screen(
            ReplayScreen(capture, self.settings.target, self.settings.by_events), chosen
        )

    async def ask_replay_all(self) -> None:
        rows = self.capture_list.rows
        if not rows:
            self.notify("Nothing shown to replay.", severity="warning")
            return
        try:
            first = await self.whole_capture(rows[0].id)
        except RemoteError as exc:
            self.notify(str(exc), severity="error")
            return

        def chosen(choice: ReplayChoice | None) -> None:
            if choice is not None:
                self.replay_shown(choice, rows[-1].id)

        self.push_screen(
            ReplayScreen(first, self.settings.target, self.settings.by_events, bodies=len(rows)),
            chosen,
        )

    async def ask_deliver(self) -> None:
        """Send the selected capture as the gateway would to an instance the app configured
        through this server's /_gateway/ API."""
        capture = await self.selected_capture()
        if capture is None:
            return
        try:
            instances = await self.connection.instances()
        except RemoteError as exc:
            self.notify(str(exc), severity="error")
            return

        def chosen(instance: Instance | None) -> None:
            if instance is not None:
                self.deliver_one(capture, instance)

        self.push_screen(InstanceScreen(capture, instances), chosen)

    @work(group="replay")
    async def deliver_one(self, capture: Capture, instance: Instance) -> list[Attempt]:
        planned = plan(instance.webhooks, capture)

        def said(text: str) -> str:  # as the window said it: a channel's token hidden
            return hidden_secrets(text, [instance], self.redact)

        for reason in planned.skipped:
            self.notify(
                said(reason),
                title=said(f"{instance.key} would not send #{capture.id}"),
                severity="warning",
            )
        attempts: list[Attempt] = []
        async with make_client() as client:
            for outgoing in planned.requests:
                attempt = await send(client, outgoing, capture.id)
                self._record(attempt)
                attempts.append(attempt)
                if attempt.error:
                    self.notify(
                        said(attempt.error),
                        title=said(f"#{capture.id} to {instance.key} failed"),
                        severity="error",
                    )
                else:
                    self.notify(
                        said(
                            f"{attempt.method} {attempt.url} → {attempt.status} in "
                            f"{attempt.elapsed_ms:.0f} ms"
                        ),
                        title=said(f"#{capture.id} sent to {instance.key}"),
                        severity="information" if attempt.ok else "warning",
                    )
        return attempts

    def ask_target(self) -> None:
        def chosen(target: str | None) -> None:
            if target:
                self._remember_target(target, self.settings.by_events)
                self.notify(f"Replays go to {target}")

        self.push_screen(TargetScreen(self.settings.target), chosen)

    def _remember_target(self, target: str, by_events: bool) -> None:
        self.settings.target, self.settings.by_events = target, by_events
        problem = self.settings.save(self.config_dir)
        if problem:
            self.notify(problem, severity="warning")

    @work(group="replay")
    async def replay_one(self, capture: Capture, choice: ReplayChoice) -> Attempt | None:
        self._remember_target(choice.target, choice.by_events)
        try:
            outgoing = request_for(capture, choice.target, choice.by_events)
        except ReplayError as exc:
            self.notify(str(exc), severity="error")
            return None
        if choice.content is not None:
            outgoing = replace(outgoing, content=choice.content)
        async with make_client() as client:
            attempt = await send(client, outgoing, capture.id)
        self._record(attempt)
        edited = " (edited body)" if choice.content is not None else ""
        if attempt.error:
            self.notify(
                hidden_secrets(attempt.error, (), self.redact),
                title=f"replay of #{capture.id} failed",
                severity="error",
            )
        else:
            self.notify(
                hidden_secrets(
                    f"{attempt.method} {attempt.url}{edited} → "
                    f"{attempt.status} in {attempt.elapsed_ms:.0f} ms",
                    (),
                    self.redact,
                ),
                title=f"replayed #{capture.id}",
                severity="information" if attempt.ok else "warning",
            )
        return attempt

    @work(group="replay")
    async def replay_shown(self, choice: ReplayChoice, through: int) -> list[Attempt]:
        """Every capture the filter shows (up to the newest when asked), oldest first."""
        self._remember_target(choice.target, choice.by_events)
        attempts: list[Attempt] = []
        after, query = 0, self.filter_text
        async with make_client() as client:
            while True:
                try:
                    page = await self.connection.page(query, after)
                except RemoteError as exc:
                    self.notify(str(exc), severity="error")
                    break
                more = page.more
                for capture in page.captures:
                    if capture.id > through:
                        more = False
                        break
                    outgoing = request_for(capture, choice.target, choice.by_events)
                    attempt = await send(client, outgoing, capture.id)
                    self._record(attempt)
                    attempts.append(attempt)
                if not more or not page.captures:
                    break
                after = page.captures[-1].id
        good = sum(attempt.ok for attempt in attempts)
        self.notify(
            f"{len(attempts)} sent to {choice.target}: {good} answered 2xx, "
            f"{len(attempts) - good} did not",
            title="replay all",
            severity="information" if good == len(attempts) else "warning",
        )
        return attempts

    def _record(self, attempt: Attempt) -> None:
        self.attempts.setdefault(attempt.capture_id, []).append(attempt)
        if self.detail.capture is not None and self.detail.capture.id == attempt.capture_id:
            self.detail.show_replays(self.attempts[attempt.capture_id])
            self.detail.active = "replays"
            self.capture_list.focus()  # keys act on the list again, not a hidden tab's widget
