"""An answer of hookcatcher's API as the object it holds, or the RemoteError it means: the
same reading for every request, so a refused token or a bad filter is said the same way
wherever it happens."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from hookcatcher.remote.errors import FilterProblem, RemoteError
from hookcatcher.remote.tokens import refusal

__all__ = ["collector_paused", "object_of", "without_blanks"]


def object_of(response: httpx.Response, path: str, url: str, token: str | None) -> dict[str, Any]:
    """The JSON object of a 200 answer (every route answers one). A 400 is the filter's
    fault and names its term; a 401 says which token to give; anything else says the
    server's own error, or the status."""
    if response.status_code == 400:
        error = response.json()
        raise FilterProblem(error.get("error", "bad request"), error.get("term"))
    if response.status_code == 401:
        raise RemoteError(refusal(url, token))
    if response.status_code != 200:
        try:
            message = response.json().get("error")
        except ValueError:
            message = None
        raise RemoteError(message or f"{path}: HTTP {response.status_code}")
    with collector_paused():
        answer: dict[str, Any] = json.loads(response.content)
    return answer


def without_blanks(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters without the empty ones: no filter is no `q=` at all."""
    return {key: value for key, value in params.items() if value not in (None, "")}


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection while a large answer becomes objects. Decoding 10,000 list rows
    allocates enough to set off collections of the older generations, which took 18 ms of
    decoding to 100 ms at times; the rows hold no cycles, so nothing is lost by waiting."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
