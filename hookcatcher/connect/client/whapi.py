"""Whapi.Cloud's webhook configuration: a channel's `webhooks` array in its settings,
replaced whole by a PATCH, so hookcatcher's webhook is appended and the saved array put back;
the channel's health and Whapi's own webhook test.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hookcatcher.connect.client.base import GIST, GatewayClient, GatewayError, Saved
from hookcatcher.core import catalog
from hookcatcher.mock.whapi import webhooks_of

__all__ = ["Whapi"]


class Whapi(GatewayClient):
    """Whapi.Cloud: the channel (named by its token) keeps a `webhooks` array in its
    settings, replaced whole by a PATCH."""

    provider = "whapi"
    version = ""
    title = "Whapi.Cloud"

    def read(self) -> Saved:
        document = self._call("GET", "/settings")
        return self._saved(document, webhooks_of("", document))

    def point(
        self, url: str, events: Sequence[str] | None = None, by_events: bool = False
    ) -> Saved:
        hooks = self._call("GET", "/settings").get("webhooks") or []
        ours = {"url": url, "mode": "path" if by_events else "body", "events": _pairs(events)}
        self._call("PATCH", "/settings", {"webhooks": [*hooks, ours]})
        return self.read()

    def restore(self, saved: Saved) -> Saved:
        self._call("PATCH", "/settings", _whapi_body(saved))
        return self.read()

    def restore_command(self, saved: Saved) -> str:
        return self._curl("PATCH", "/settings", _whapi_body(saved))

    def connection_state(self) -> str | None:
        answer = self._call("GET", "/health")
        status = answer.get("status")
        text = status.get("text") if isinstance(status, dict) else status
        if not isinstance(text, str):
            raise GatewayError(
                f"Whapi.Cloud at {self.api} answered /health without a status "
                f"text: {json.dumps(answer)[:GIST]}"
            )
        return text

    def test_delivery(self, url: str) -> str | None:
        """Whapi's `POST /settings/webhook_test`: a one-line result; a GatewayError (with
        Whapi's reason) when the URL did not take the test callback."""
        answer = self._call(
            "POST", "/settings/webhook_test", {"type": "messages", "url": url, "mode": "body"}
        )
        if answer.get("success") is False or "error" in answer:
            raise GatewayError(
                f"Whapi.Cloud's webhook test of {url} failed: {json.dumps(answer)[:GIST]}"
            )
        status = answer.get("status")
        return f"Whapi.Cloud's webhook test reached {url}" + (
            f" (answered {status})" if status is not None else ""
        )


def _whapi_body(saved: Saved) -> dict[str, Any]:
    document = saved.document if isinstance(saved.document, dict) else {}
    return {"webhooks": document.get("webhooks") or []}


def _pairs(events: Sequence[str] | None) -> list[dict[str, str]]:
    if events is None:
        return [{"type": kind, "method": method} for kind, method in catalog.whapi_pairs()]
    wrong = [name for name in events if catalog.find("whapi", name) is None]
    if wrong:
        known = ", ".join(f"{kind}/{method}" for kind, method in catalog.whapi_pairs())
        raise GatewayError(f"Whapi.Cloud sends no event {', '.join(wrong)}: its events are {known}")
    return [
        {"type": kind, "method": method}
        for kind, _, method in (name.partition("/") for name in dict.fromkeys(events))
    ]
