"""`Remote`: the asynchronous client of a running hookcatcher server, over its HTTP API and
its SSE stream. The inspector has no other way to the server, so `hookcatcher` (server and
inspector in one process) and `hookcatcher tui --connect URL` behave the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from hookcatcher.core.capture import Capture, Forward
from hookcatcher.core.paths import (
    CATALOG,
    EVENTS,
    HEALTH,
    INSTANCES,
    STATS,
    event_path,
    forward_path,
)
from hookcatcher.remote.answers import object_of, without_blanks
from hookcatcher.remote.errors import RemoteError, unreachable
from hookcatcher.remote.stream import StreamEvent, follow
from hookcatcher.remote.tokens import auth_headers
from hookcatcher.send.webhook import Instance

if TYPE_CHECKING:
    from hookcatcher.core.summary import Summary

__all__ = ["Listing", "Page", "Remote"]

EVERYTHING = 1_000_000_000  # a listing's limit: every stored capture the filter lets through


@dataclass(frozen=True, slots=True)
class Listing:
    """List rows, and where the stream must start so that nothing is missed or doubled."""

    rows: list[Summary]
    last_id: int
    run: str


@dataclass(frozen=True, slots=True)
class Page:
    """Whole captures after an id, oldest first; `more` when the server holds further ones,
    `last_id` the newest id it held when it answered (where a snapshot ends)."""

    captures: list[Capture]
    more: bool
    last_id: int


class Remote:
    """A connection to one server; close it (`close()` or `async with`)."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        """`token`: the server's --token, sent as a bearer token with every request (the
        stream too: httpx sets headers where a browser's EventSource cannot)."""
        self.url = url.rstrip("/")
        self.token = token
        self.http = httpx.AsyncClient(
            base_url=self.url, timeout=timeout, headers=auth_headers(token)
        )

    async def __aenter__(self) -> Remote:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        try:
            response = await self.http.get(path, params=without_blanks(params))
        except httpx.TransportError as exc:
            raise RemoteError(
                f"cannot reach the server at {self.url}: {unreachable(exc)}"
            ) from None
        return object_of(response, path, self.url, self.token)

    async def health(self) -> dict[str, Any]:
        return await self._get(HEALTH)

    async def listing(self, q: str) -> Listing:
        """Every stored capture the filter lets through, as list rows."""
        answer = await self._get(EVENTS, q=q, view="summary", limit=EVERYTHING)
        return Listing(answer["events"], answer["last_id"], answer["run"])

    async def capture(self, capture_id: int) -> Capture:
        return Capture.from_json(await self._get(event_path(capture_id)))

    async def page(self, q: str, after: int = 0, limit: int = 200) -> Page:
        """A page of whole captures with their raw bytes, oldest first, after an id."""
        answer = await self._get(EVENTS, q=q, after=after, limit=limit, raw=1)
        return Page(
            [Capture.from_json(item) for item in answer["events"]],
            answer["more"],
            answer["last_id"],
        )

    async def stats(self) -> dict[str, Any]:
        return await self._get(STATS)

    async def redeliver(self, capture_id: int) -> list[Forward]:
        """Have the server send a stored capture again to its --forward-to targets; the new
        deliveries (RemoteError when the capture is gone or the server forwards nowhere)."""
        path = forward_path(capture_id)
        try:
            response = await self.http.post(path)
        except httpx.TransportError as exc:
            raise RemoteError(
                f"cannot reach the server at {self.url}: {unreachable(exc)}"
            ) from None
        answer = object_of(response, path, self.url, self.token)
        return [Forward.from_json(item) for item in answer["forwards"]]

    async def catalog(self) -> dict[str, Any]:
        return await self._get(CATALOG)

    async def instances(self) -> list[Instance]:
        """The instances an app configured through the server's mock gateway API."""
        answer = await self._get(INSTANCES)
        return [Instance.from_json(item) for item in answer["instances"]]

    async def follow(
        self, q: str, last_id: int, run: str, emit: Callable[[StreamEvent], None]
    ) -> None:
        """The stream after `last_id`, for ever (see `stream.follow`); returns only when the
        server turned out to be another run."""
        await follow(self.http, self.url, self.token, q, last_id, run, emit)
