"""`SyncRemote`: the blocking client of a running hookcatcher server, for the commands
(`replay --from`, `export --from`, `send --instance`) and scripts. Each reading says its
failure in the words of what it was reading, since a command prints exactly that."""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

import httpx

from hookcatcher.core.capture import Capture, Forward
from hookcatcher.core.paths import EVENTS, HEALTH, INSTANCES, STATS, forward_path
from hookcatcher.remote.answers import object_of, without_blanks
from hookcatcher.remote.errors import FilterProblem, RemoteError, unreachable
from hookcatcher.remote.tokens import auth_headers, refusal
from hookcatcher.send.outgoing import why_failed
from hookcatcher.send.webhook import Instance

__all__ = ["SyncRemote"]

PAGE = 500  # captures per request when reading them all


class SyncRemote:
    """A connection to one server; close it (`close()` or `with`)."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        """`token`: the server's --token, if it has one, sent as a bearer token."""
        self.url = url.rstrip("/")
        self.token = token
        self.http = httpx.Client(base_url=self.url, timeout=timeout, headers=auth_headers(token))

    def __enter__(self) -> SyncRemote:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, **params: Any) -> dict[str, Any]:
        try:
            response = self.http.get(path, params=without_blanks(params))
        except httpx.TransportError as exc:
            raise RemoteError(
                f"cannot reach the server at {self.url}: {unreachable(exc)}"
            ) from None
        return object_of(response, path, self.url, self.token)

    def health(self) -> dict[str, Any]:
        return self._get(HEALTH)

    def stats(self) -> dict[str, Any]:
        return self._get(STATS)

    def redeliver(self, capture_id: int) -> list[Forward]:
        """Have the server send a stored capture again to its --forward-to targets; the new
        deliveries (RemoteError when the capture is gone or the server forwards nowhere)."""
        path = forward_path(capture_id)
        try:
            response = self.http.post(path)
        except httpx.TransportError as exc:
            raise RemoteError(
                f"cannot reach the server at {self.url}: {unreachable(exc)}"
            ) from None
        answer = object_of(response, path, self.url, self.token)
        return [Forward.from_json(item) for item in answer["forwards"]]

    def captures(self, query: str = "") -> list[Capture]:
        """The stored captures that match `query`, oldest first, with their exact bytes.
        Only what was stored when reading began: replaying into the same server must not
        chase its own arrivals."""
        found: list[Capture] = []
        try:
            after, last = 0, None
            while True:
                page = self._page(query, after)
                last = page["last_id"] if last is None else last
                captures = [Capture.from_json(data) for data in page["events"]]
                found.extend(c for c in captures if last is None or c.id <= last)
                if not page["more"] or not captures or captures[-1].id >= (last or 0):
                    return found
                after = captures[-1].id
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"cannot read captures from {self.url}: {why_failed(exc)}: "
                "is hookcatcher running there?"
            ) from None

    def _page(self, query: str, after: int) -> dict[str, Any]:
        response = self.http.get(
            EVENTS, params={"q": query, "after": after, "limit": PAGE, "raw": "1"}
        )
        if response.status_code == 401:
            raise RemoteError(refusal(self.url, self.token))
        try:
            document = response.json()
        except json.JSONDecodeError:
            document = None
        if response.status_code == 200 and isinstance(document, dict) and "events" in document:
            return document
        message = document.get("error") if isinstance(document, dict) else None
        said = (
            f"{self.url} did not list captures: {message or f'HTTP {response.status_code}'}"
            f"{'' if message else ' (is this a hookcatcher server?)'}"
        )
        if response.status_code == 400 and isinstance(document, dict) and "term" in document:
            raise FilterProblem(said, document["term"])
        raise RemoteError(said)

    def instances(self) -> list[Instance]:
        """The instances an app configured through the server's mock gateway API."""
        try:
            response = self.http.get(INSTANCES)
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"cannot read the configured instances from {self.url}: {why_failed(exc)}: "
                "is hookcatcher running there? (--server URL)"
            ) from None
        if response.status_code == 401:
            raise RemoteError(refusal(self.url, self.token))
        try:
            return [Instance.from_json(item) for item in response.json()["instances"]]
        except (ValueError, KeyError, TypeError):
            raise RemoteError(
                f"{self.url} did not list instances: is it a hookcatcher server?"
            ) from None
