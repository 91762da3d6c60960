"""A capture in one line: what the TUI's list shows and `/api/events?view=summary` serves.

A list of 10,000 captures is fetched whenever the filter changes; rows carry only what a list
column needs (a few hundred bytes each instead of whole bodies), and the chat a message
belongs to is worked out here, once, by the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypedDict

from hookcatcher.core.capture import Capture
from hookcatcher.core.chats import chat_of

__all__ = ["Summary", "summary", "app_status", "row_json", "rows_json"]


class Summary(TypedDict):
    """A capture's list row, as the server serves it and the TUI reads it."""

    id: int
    received_at: str
    method: str
    path: str
    provider: str
    event: str | None
    instance: str | None
    chat: str | None
    status: str
    errors: int
    warnings: int
    size: int
    retry_of: int | None
    answered: int
    app: int | str | None  # the first delivery's status, "✗" without one; None: not forwarded


def app_status(capture: Capture) -> int | str | None:
    """What the app answered the first delivery (`--forward-to`): its status, `✗` when it
    gave no answer or the capture was not forwarded, None when nothing was delivered."""
    if not capture.forwards:
        return None
    status = capture.forwards[0].status
    return status if status is not None else "✗"


def summary(capture: Capture) -> Summary:
    return {
        "id": capture.id,
        "received_at": capture.received_at,
        "method": capture.method,
        "path": capture.path,
        "provider": capture.provider,
        "event": capture.event,
        "instance": capture.instance,
        "chat": chat_of(capture),
        "status": capture.validation.status,
        "errors": len(capture.validation.errors),
        "warnings": len(capture.warnings),
        "size": capture.size,
        "retry_of": capture.retry_of,
        "answered": capture.answer.status,
        "app": app_status(capture),
    }


def row_json(capture: Capture) -> bytes:
    """The summary as compact JSON, worked out once per capture."""
    if capture.row is None:
        capture.row = json.dumps(
            summary(capture), ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
    return capture.row


def rows_json(captures: Iterable[Capture]) -> bytes:
    """A JSON array of summaries, joined from the cached rows."""
    return b"[" + b",".join(row_json(capture) for capture in captures) + b"]"
