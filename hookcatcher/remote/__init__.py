"""hookcatcher's own HTTP API as its clients see it, and the one client of it.

Where the API is (`paths`: the prefixes, the default URL, every route a client reads), how a
client sends the token and what it says when refused (`tokens`), and the clients: `Remote`
(asynchronous, with the SSE stream; the inspector's only way to the server) and `SyncRemote`
(blocking, for the commands and scripts). Every failure is a `RemoteError` whose message is
what the user reads.

It sits above `send`: it reads `send.webhook.Instance`s and says failures as
`send.outgoing.why_failed` does; the receiver, the inspector, the test tools and the
commands import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hookcatcher.core.paths import API_PREFIX, DEFAULT_PORT, DEFAULT_URL, GATEWAY_PREFIX
from hookcatcher.remote.tokens import HEADER, auth_headers, check_token, refusal

if TYPE_CHECKING:  # the clients load on first use: the server and `--help` need only the above
    from hookcatcher.remote.answers import collector_paused
    from hookcatcher.remote.client import Listing, Page, Remote
    from hookcatcher.remote.errors import FilterProblem, RemoteError
    from hookcatcher.remote.stream import (
        GONE_AFTER,
        Arrived,
        Lost,
        Notice,
        Restarted,
        StateChanged,
        StreamEvent,
    )
    from hookcatcher.remote.sync import SyncRemote

_LAZY = {
    "collector_paused": "answers",
    "Listing": "client",
    "Page": "client",
    "Remote": "client",
    "FilterProblem": "errors",
    "RemoteError": "errors",
    "GONE_AFTER": "stream",
    "Arrived": "stream",
    "Lost": "stream",
    "Notice": "stream",
    "Restarted": "stream",
    "StateChanged": "stream",
    "StreamEvent": "stream",
    "SyncRemote": "sync",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "API_PREFIX",
    "DEFAULT_PORT",
    "DEFAULT_URL",
    "GATEWAY_PREFIX",
    "GONE_AFTER",
    "HEADER",
    "Arrived",
    "FilterProblem",
    "Listing",
    "Lost",
    "Notice",
    "Page",
    "Remote",
    "RemoteError",
    "Restarted",
    "StateChanged",
    "StreamEvent",
    "SyncRemote",
    "auth_headers",
    "check_token",
    "collector_paused",
    "refusal",
]
