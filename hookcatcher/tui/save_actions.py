"""What leaves the inspector: a capture saved as a fixture (`s`), its curl command or body
copied (`C`, `y`), the shown captures exported as HAR (`x`), and whether secrets are hidden in
all of these and on screen (`h`).
"""

from __future__ import annotations

from pathlib import Path

from textual import work

from hookcatcher.core.capture import Capture
from hookcatcher.core.redact import redacted
from hookcatcher.files import fixtures
from hookcatcher.files.write import write_new
from hookcatcher.remote import RemoteError
from hookcatcher.send import export
from hookcatcher.send.outgoing import ReplayError, curl, request_for
from hookcatcher.tui.base import InspectorBase

__all__ = ["SaveActions"]


class SaveActions(InspectorBase):
    """Save, copy, export and redaction actions, mixed into `InspectorApp`."""

    def _shown(self, capture: Capture) -> tuple[Capture, str]:
        """The capture as it may leave this window (redacted unless secrets are shown), and
        what the notice adds when something was hidden: a redacted curl command does not
        authenticate, and the user should know why."""
        shown = redacted(capture) if self.redact else capture
        return shown, "" if shown is capture else "; secrets redacted (h shows them)"

    async def save_fixture(self) -> None:
        capture = await self.selected_capture()
        if capture is None:
            return
        shown, hidden = self._shown(capture)
        try:
            path = fixtures.save(shown, self.save_dir)
        except (fixtures.FixtureError, OSError) as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"saved capture #{capture.id} as {path}{hidden}", title="fixture")

    async def copy_curl(self) -> None:
        capture = await self.selected_capture()
        if capture is None:
            return
        shown, hidden = self._shown(capture)
        target = self.settings.target
        aimed = "your replay target" if target else "hookcatcher (t sets a replay target)"
        try:
            outgoing = (
                request_for(shown, target, self.settings.by_events)
                if target
                else export.received_request(shown, self.url)
            )
        except ReplayError as exc:
            self.notify(str(exc), severity="error")
            return
        command = curl(outgoing)
        self.copy_to_clipboard(command)
        self.notify(
            f"curl command for #{capture.id} ({len(command):,} characters), aimed at "
            f"{aimed}, copied to the clipboard{hidden}",
            title="copied",
        )

    async def copy_body(self) -> None:
        capture = await self.selected_capture()
        if capture is None:
            return
        shown, hidden = self._shown(capture)
        try:
            text = shown.raw.decode("utf-8")
        except UnicodeDecodeError:
            self.notify(
                "This body is not UTF-8 text, so it cannot go on the clipboard; the "
                "Raw tab shows it, s saves it.",
                severity="warning",
            )
            return
        self.copy_to_clipboard(text)
        self.notify(
            f"body of #{capture.id} ({shown.size:,} bytes) copied to the clipboard{hidden}",
            title="copied",
        )

    def export_har(self) -> None:
        rows = self.capture_list.rows
        if not rows:
            self.notify("Nothing shown to export.", severity="warning")
            return
        self.export_shown(rows[-1].id)

    @work(group="export", exclusive=True)
    async def export_shown(self, through: int) -> Path | None:
        """Every capture the filter shows, up to the newest row shown when `x` was pressed, as
        one HAR file in the save folder."""
        captures: list[Capture] = []
        after = 0
        while True:
            try:
                page = await self.connection.page(self.filter_text, after, limit=500)
            except RemoteError as exc:
                self.notify(str(exc), severity="error")
                return None
            captures.extend(capture for capture in page.captures if capture.id <= through)
            if not page.more or not page.captures or page.captures[-1].id >= through:
                break
            after = page.captures[-1].id
        text = export.har(captures, base_url=self.url, redact=self.redact)
        try:
            path = write_new(self.save_dir, export.file_name("har"), text)
        except OSError as exc:
            self.notify(f"{self.save_dir}: cannot write: {exc.strerror}", severity="error")
            return None
        secrets = "secrets redacted" if self.redact else "secrets included"
        self.notify(f"{len(captures):,} capture(s) as HAR in {path} ({secrets})", title="exported")
        return path

    def toggle_redact(self) -> None:
        self.redact = self.detail.redact = not self.redact
        capture = self.detail.capture
        if capture is not None:
            self.detail.show(capture, self.attempts.get(capture.id, ()))
        self._draw_status()
        if self.redact:
            self.notify("Secrets are hidden again.", title="secrets")
        else:
            self.notify(
                "Secrets are shown here and in copies, saves and exports; h hides them.",
                title="secrets",
                severity="warning",
            )
