"""Evolution API's webhook configuration, v1 and v2: one webhook per instance, so pointing
replaces it and restoring sets the saved one again (v2, which cannot remove a webhook,
disables the one in force when none was set). Which version answers is told apart in
`hookcatcher.connect.client.connect`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hookcatcher.connect.client.base import GIST, GatewayClient, GatewayError, Saved
from hookcatcher.core import catalog
from hookcatcher.mock.evolution import webhooks_of

__all__ = ["EvolutionV1", "EvolutionV2"]


class _Evolution(GatewayClient):
    provider = "evolution"
    title = "Evolution API"
    key_header = "apikey"
    key_name = "$APIKEY"

    def _auth(self, key: str | None) -> dict[str, str]:
        return {"apikey": key} if key else {}

    def _curl_header(self) -> str:
        return f"apikey: {self.key_name}"

    def _find(self) -> Any:
        return self._call("GET", f"/webhook/find/{self.instance}", expect=(dict, type(None)))

    def read(self) -> Saved:
        document = self._find()
        return self._saved(document, webhooks_of(self.instance, self.version, document))

    def _keys(self, events: Sequence[str] | None) -> list[str]:
        accepted = catalog.EVOLUTION_EVENTS[self.version]
        if events is None:
            return list(accepted)
        keys = [catalog.evolution_key(name) for name in events]
        wrong = [name for name, key in zip(events, keys, strict=True) if key not in accepted]
        if wrong:
            raise GatewayError(
                f"Evolution API {self.version} has no webhook event "
                f"{', '.join(wrong)}: its events are {', '.join(accepted)}"
            )
        return list(dict.fromkeys(keys))

    def _set(self, body: dict[str, Any]) -> None:
        self._call("POST", f"/webhook/set/{self.instance}", body)

    def connection_state(self) -> str | None:
        answer = self._call("GET", f"/instance/connectionState/{self.instance}")
        state = (answer.get("instance") or {}).get("state") or answer.get("state")
        if not isinstance(state, str):
            raise GatewayError(
                f"Evolution API at {self.api} answered the connection state of "
                f"{self.instance!r} without a state: {json.dumps(answer)[:GIST]}"
            )
        return state


class EvolutionV1(_Evolution):
    """Evolution API 1.x: a flat webhook (`webhook_by_events`), replaced on every set."""

    version = "v1"

    def _find(self) -> Any:
        return self._call("GET", f"/webhook/find/{self.instance}")

    def point(
        self, url: str, events: Sequence[str] | None = None, by_events: bool = False
    ) -> Saved:
        now = self._find()
        self._set(
            {
                "enabled": True,
                "url": url,
                "events": self._keys(events),
                "webhook_by_events": by_events,
                "webhook_base64": bool(now.get("webhook_base64")),
            }
        )
        return self.read()

    def restore(self, saved: Saved) -> Saved:
        self._set(_v1_body(saved.document))
        return self.read()

    def restore_command(self, saved: Saved) -> str:
        return self._curl("POST", f"/webhook/set/{self.instance}", _v1_body(saved.document))


def _v1_body(document: Any) -> dict[str, Any]:
    """A v1 find answer is a set body already; only its five fields are sent back."""
    keys = ("enabled", "url", "events", "webhook_by_events", "webhook_base64")
    return {key: document[key] for key in keys if key in document}


class EvolutionV2(_Evolution):
    """Evolution API 2.x: the webhook nested under `webhook` (byEvents, base64, headers);
    a set is an upsert, so what it leaves out (the app's headers, base64) stays."""

    version = "v2"

    def __init__(self, api: str, key: str | None, instance: str, **options: Any) -> None:
        super().__init__(api, key, instance, **options)
        self._pointed: str | None = None  # the URL point() set, for restore_command()

    def point(
        self, url: str, events: Sequence[str] | None = None, by_events: bool = False
    ) -> Saved:
        self._pointed = url
        self._set(
            {
                "webhook": {
                    "enabled": True,
                    "url": url,
                    "events": self._keys(events),
                    "byEvents": by_events,
                }
            }
        )
        return self.read()

    def restore(self, saved: Saved) -> Saved:
        body = self._restore_body(saved)
        if body is not None:
            self._set(body)
        return self.read()

    def _restore_body(self, saved: Saved, url: str | None = None) -> dict[str, Any] | None:
        """The set body that puts `saved` back; for none set, one that disables the webhook
        now in force (None when there is none)."""
        document = saved.document
        if isinstance(document, dict):
            hook = {
                "enabled": document.get("enabled", False),
                "url": document.get("url", ""),
                "events": document.get("events") or [],
                "byEvents": bool(document.get("webhookByEvents")),
                "base64": bool(document.get("webhookBase64")),
            }
            if document.get("headers") is not None:
                hook["headers"] = document["headers"]
            return {"webhook": hook}
        if url is None:
            now = self._find()
            if now is None:
                return None
            url = now.get("url") or ""
        return {"webhook": {"enabled": False, "url": url, "events": [], "byEvents": False}}

    def restore_command(self, saved: Saved) -> str:
        body = self._restore_body(saved, url=self._pointed or "http://127.0.0.1/")
        return self._curl("POST", f"/webhook/set/{self.instance}", body)
