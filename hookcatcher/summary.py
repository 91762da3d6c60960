"""A capture in one line: what the TUI's list shows and `/api/events?view=summary` serves.

A list of 10,000 captures is fetched whenever the filter changes; rows carry only what a list
column needs (a few hundred bytes each instead of whole bodies), and the chat a message
belongs to is worked out here, once, by the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .capture import Capture
from .conversation import chat_of

__all__ = ["summary", "row_json", "rows_json"]


def summary(capture: Capture) -> dict[str, Any]:
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
