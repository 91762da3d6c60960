"""Where hookcatcher's own API is: the prefixes its server mounts, its default address, and
every path its clients read. Written here once, so a client never spells a route itself."""

from __future__ import annotations

__all__ = [
    "API_PREFIX",
    "CATALOG",
    "DEFAULT_PORT",
    "DEFAULT_URL",
    "EVENTS",
    "GATEWAY_PREFIX",
    "HEALTH",
    "INSTANCES",
    "STATS",
    "STREAM",
    "event_path",
    "forward_path",
]

API_PREFIX = "/_hookcatcher"
GATEWAY_PREFIX = "/_gateway"
DEFAULT_PORT = 8787
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"

HEALTH = f"{API_PREFIX}/health"
STREAM = f"{API_PREFIX}/stream"
EVENTS = f"{API_PREFIX}/api/events"
STATS = f"{API_PREFIX}/api/stats"
CATALOG = f"{API_PREFIX}/api/catalog"
INSTANCES = f"{API_PREFIX}/api/instances"


def event_path(capture_id: int) -> str:
    """One stored capture, whole, by the id the server gave it."""
    return f"{EVENTS}/{capture_id}"


def forward_path(capture_id: int) -> str:
    """POST: one stored capture sent again to the app (--forward-to), by its id."""
    return f"{event_path(capture_id)}/forward"
