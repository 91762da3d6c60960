"""CodeChat API v2's webhook configuration: several named webhooks per instance, so
hookcatcher's own ("hookcatcher") is added beside the app's and restoring deletes only it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from hookcatcher.connect.client.base import GIST, GatewayClient, GatewayError, Saved
from hookcatcher.core import catalog
from hookcatcher.mock.codechat import FLAGS, webhooks_of

__all__ = ["CodeChatV2", "HOOK_NAME"]

HOOK_NAME = "hookcatcher"  # the name of the webhook point() adds on CodeChat


class CodeChatV2(GatewayClient):
    """CodeChat API v2: several named webhooks per instance, each with its event flags.
    Restoring deletes the webhooks named "hookcatcher" that were not there when saved, so a
    second client (after a crash) restores as well as the one that pointed."""

    provider = "codechat"
    version = "v2"
    title = "CodeChat API"

    def __init__(self, api: str, key: str | None, instance: str, **options: Any) -> None:
        super().__init__(api, key, instance, **options)
        self._added: list[str] = []  # webhookIds point() created, for restore_command()

    @property
    def _base(self) -> str:
        return f"/api/v2/instance/{self.instance}/webhook"

    def read(self) -> Saved:
        try:
            document = self._call("GET", self._base, expect=list)
        except _NoWebhooks:
            # The list is a 404 for an instance that has no webhook yet: nothing to save.
            document = []
        return self._saved(document, webhooks_of(self.instance, document))

    def _not_found(self, method: str, path: str, response: httpx.Response) -> GatewayError:
        if method == "GET" and path == self._base:
            return _NoWebhooks()
        return super()._not_found(method, path, response)

    def point(
        self, url: str, events: Sequence[str] | None = None, by_events: bool = False
    ) -> Saved:
        if by_events:
            raise GatewayError(
                "CodeChat API v2 has no per-event URLs (by-events): every "
                "event is posted to the webhook's URL; leave by-events off"
            )
        flags = _flags(events)
        made = self._call("POST", self._base, {"name": HOOK_NAME, "url": url, "enabled": True})
        webhook_id = made.get("webhookId")
        if not isinstance(webhook_id, str):
            raise GatewayError(
                f"CodeChat API at {self.api} created a webhook but its answer "
                f"names no webhookId: {json.dumps(made)[:GIST]}"
            )
        self._added.append(webhook_id)
        if flags is not None:
            self._call("PATCH", f"{self._base}/{webhook_id}/events", flags)
        return self.read()

    def restore(self, saved: Saved) -> Saved:
        kept = {hook.id for hook in saved.webhooks}
        for item in self.read().document:
            webhook_id = item.get("webhookId")
            ours = webhook_id in self._added or item.get("name") == HOOK_NAME
            if ours and webhook_id not in kept:
                self._call("DELETE", f"{self._base}/{webhook_id}")
                if webhook_id in self._added:
                    self._added.remove(webhook_id)
        return self.read()

    def restore_command(self, saved: Saved) -> str:
        if self._added:
            return "\n".join(
                self._curl("DELETE", f"{self._base}/{webhook_id}") for webhook_id in self._added
            )
        return (
            f"{self._curl('GET', self._base)}\n# then delete the webhook named "
            f"{HOOK_NAME!r}: " + self._curl("DELETE", f"{self._base}/<webhookId>")
        )


class _NoWebhooks(GatewayError):
    """CodeChat's list answered 404: the instance has no webhook."""


def _flags(events: Sequence[str] | None) -> dict[str, bool] | None:
    """The PATCH …/events body for `events`; None for every event (a new webhook's flags
    are all on)."""
    if events is None:
        return None
    flags = {flag: False for flag in FLAGS}
    wrong = []
    for name in events:
        flag = name if name in flags else catalog.codechat_flag(name)
        if flag is None:
            wrong.append(name)
        else:
            flags[flag] = True
    if wrong:
        raise GatewayError(
            f"no CodeChat v2 webhook flag turns on {', '.join(wrong)}: the "
            f"flags are {', '.join(FLAGS)}"
        )
    return flags
