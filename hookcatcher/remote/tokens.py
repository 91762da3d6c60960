"""How a client of hookcatcher's own API sends its token, what it says when refused, and what
a token may be. The server reads the same header (receive/access.py)."""

from __future__ import annotations

import re

__all__ = ["HEADER", "auth_headers", "check_token", "refusal"]

HEADER = "x-hookcatcher-token"


_TOKEN = re.compile(r"[\x21-\x7e]+")  # visible ASCII: it travels in headers and URLs


def check_token(text: str) -> str:
    """A token as given on the command line or in the environment, or ValueError."""
    if not _TOKEN.fullmatch(text):
        raise ValueError(
            "a token must be visible ASCII characters without spaces (it is "
            "sent in a header or a URL), e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    return text


def auth_headers(token: str | None) -> dict[str, str]:
    """The header a client of hookcatcher sends its token in (none without a token)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def refusal(server: str, token: str | None) -> str:
    """What a client says when `server` answered 401: which flag to give or to check."""
    if token is None:
        return (
            f"{server} needs the token it was started with: give --token T (or set "
            "HOOKCATCHER_TOKEN)"
        )
    return (
        f"{server} refused the token given (--token or HOOKCATCHER_TOKEN): it is not "
        "the one that hookcatcher was started with"
    )
