"""Bad configuration requests, found the same way for every gateway.

Each gateway answers a bad body in its own error shape (Evolution's, NestJS's, Whapi's), but
the problems are the same kind of thing everywhere: a JSON path and what is wrong there
(`capture.Problem`), so an app's developer can find the spot in the body their code sent.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from starlette.requests import Request

from hookcatcher.core.body import parse_body
from hookcatcher.core.capture import Problem

T = TypeVar("T")

__all__ = ["Invalid", "Problems", "MAX_PROBLEMS", "read_json", "did_you_mean", "is_http_url"]


class Invalid(Exception):
    """A configuration body the gateway would refuse, with every problem found in it."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in self.problems))


async def read_json(request: Request, reader: Callable[[Any], T]) -> T:
    """What `reader` makes of the request body as JSON; broken JSON is an `Invalid` that
    says the line and column. Parsing and reading run on the server's workers: a body of
    50,000 misspelt events takes seconds to explain, and the loop answers others meanwhile."""
    raw = await request.body()
    result: T = await request.app.state.workers.run(_read, raw, reader)
    return result


def _read(raw: bytes, reader: Callable[[Any], T]) -> T:
    body, problem = parse_body(raw)
    if problem is not None:
        raise Invalid([problem])
    return reader(body)


class Problems(list[Problem]):
    """The problems of one body, at most MAX_PROBLEMS: one more ends the reading with those
    and a last line saying more were left out, so a body of 100,000 wrong values costs no
    more than one of fifty."""

    def append(self, problem: Problem) -> None:
        if len(self) >= MAX_PROBLEMS:
            raise Invalid(
                [*self, Problem("$", f"more problems follow; the first {MAX_PROBLEMS} are listed")]
            )
        super().append(problem)


MAX_PROBLEMS = 50


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
