"""Which of a request's headers go along when it is sent again (a replay, a delivery, an
export, a saved fixture): not those that describe one connection, nor what the next sender
writes itself."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["NOT_FORWARDED", "forwardable"]


# Hop-by-hop headers (RFC 9110 7.6.1) describe one connection, not the message; host and
# content-length are rewritten by whatever sends the message next; hookcatcher's own token
# was for hookcatcher.
NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "x-hookcatcher-token",  # hookcatcher's own --ingest-token, not the gateway's
    }
)


def forwardable(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The headers worth sending again, in their order. Headers that a `Connection` header
    names are hop-by-hop too (RFC 9110 7.6.1), so they go as well."""
    pairs = list(headers)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == "connection"
        for token in value.split(",")
    }
    dropped = NOT_FORWARDED | named
    return tuple((name, value) for name, value in pairs if name.lower() not in dropped)
