"""Bad configuration requests, found the same way for every gateway.

Each gateway answers a bad body in its own error shape (Evolution's, NestJS's, Whapi's), but
the problems are the same kind of thing everywhere: a JSON path and what is wrong there
(`capture.Problem`), so an app's developer can find the spot in the body their code sent.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable

from starlette.requests import Request

from ..capture import Problem
from ..ingest import parse_body

__all__ = ["Invalid", "read_json", "did_you_mean", "is_http_url"]


class Invalid(Exception):
    """A configuration body the gateway would refuse, with every problem found in it."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in self.problems))


async def read_json(request: Request) -> Any:
    """The request body as JSON; broken JSON is an `Invalid` that says the line and column."""
    body, problem = parse_body(await request.body())
    if problem is not None:
        raise Invalid([problem])
    return body


def did_you_mean(name: Any, known: Iterable[str]) -> str:
    """` (did you mean MESSAGES_UPSERT?)` when a known name is close, else nothing."""
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def is_http_url(value: str) -> bool:
    """What every mocked gateway needs of a webhook URL: http(s), with a host."""
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and bool(rest.split("/")[0])
