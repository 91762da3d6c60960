"""What goes wrong between a client and hookcatcher's server, as one family of exceptions
whose messages are what the user reads: the inspector's status line and notices, and the
commands' `hookcatcher: error:` lines."""

from __future__ import annotations

import httpx

from hookcatcher.send.outgoing import why_failed

__all__ = ["FilterProblem", "RemoteError", "unreachable"]


class RemoteError(Exception):
    """The server could not be reached or refused a request; the message says which."""


class FilterProblem(RemoteError):
    """The server rejected the filter; `term` is the part it could not read."""

    def __init__(self, message: str, term: str | None) -> None:
        super().__init__(message)
        self.term = term


def unreachable(exc: httpx.HTTPError) -> str:
    """Why a request got no answer, with the likeliest cause when nothing listens there."""
    reason = why_failed(exc)
    return f"{reason} (is the server running?)" if reason == "connection refused" else reason
