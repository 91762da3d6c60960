"""The connection flags' values (--head-timeout, --body-timeout, --min-body-rate,
--keep-alive, --max-connections) and how the bound is settled against the open-file limit.
Apart from connections.py, which enforces them, so the command line can offer their defaults
without loading the HTTP layer (uvicorn and h11)."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = [
    "ACCEPT_BATCH",
    "ConnectionLimits",
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_HEAD_TIMEOUT",
    "DEFAULT_KEEP_ALIVE",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MIN_BODY_RATE",
    "HEAD_CEILING",
    "RESERVED_FILES",
    "SWEEP_SECONDS",
    "resolved",
    "room_for_connections",
]

# The most of a request head (request line and headers) the HTTP layer takes: past it, 431
# and the connection is closed. The header limits themselves (ingest.Limits, 100 headers,
# 64 KiB) are the app's, answered 431 with a message and recorded; this only keeps a head
# that never ends from growing without bound.
HEAD_CEILING = 1024 * 1024
DEFAULT_HEAD_TIMEOUT = 30.0
DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_MIN_BODY_RATE = 1024  # bytes a second: a slow mobile link sends ten times that
DEFAULT_KEEP_ALIVE = 5.0  # uvicorn's own default: idle between requests
# Open connections by default when the open-file limit allows as many: far more than any
# gateway or test rig opens, and a bound on what idle sockets can cost (each ~5 KB).
DEFAULT_MAX_CONNECTIONS = 4096
# Descriptors kept for what is not a connection the server accepted: the listening socket,
# the event loop's own, the session file, exports and the inspector's save folder, schema
# files, the inspector's client side of its connections, a gateway client.
RESERVED_FILES = 128
# Connections accepted at once (the listen backlog, uvicorn's default), and the fewest when
# the open-file limit is tight: a smaller backlog only makes a burst of new connections wait
# for the kernel to retry them. Room is kept for ACCEPT_TURNS batches (see above).
ACCEPT_BATCH = 2048
MIN_ACCEPT_BATCH = 16
ACCEPT_TURNS = 4
SWEEP_SECONDS = 1.0  # the most a timeout can be late by (less for short timeouts)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What a connection may take: the flags --head-timeout, --body-timeout,
    --min-body-rate, --keep-alive and --max-connections. `min_body_rate` 0: no minimum
    rate (only a pause of `body_timeout` ends a body). `max_connections` None: as many as the
    open-file limit leaves room for, at most DEFAULT_MAX_CONNECTIONS. `backlog`: how many
    connections are accepted at once (not a flag: `resolved` settles it with the bound;
    None until then)."""

    head_timeout: float = DEFAULT_HEAD_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    min_body_rate: int = DEFAULT_MIN_BODY_RATE
    keep_alive: float = DEFAULT_KEEP_ALIVE
    max_connections: int | None = None
    backlog: int | None = None


def _open_file_limit(wanted: int) -> int | None:
    """The soft open-file limit, first raised (never lowered) toward the hard limit as far
    as `wanted`; None when there is no limit (or no such thing: Windows)."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass  # macOS refuses more than its own per-process maximum: keep what there is
    return soft


def room_for_connections(wanted: int | None) -> tuple[int, int]:
    """How many connections the server may hold (`wanted`, or by default as many as fit up
    to DEFAULT_MAX_CONNECTIONS), and how many it may accept at once, so that both together
    stay under the open-file limit. ValueError, saying what fits, when `wanted` cannot."""
    connections = wanted if wanted is not None else DEFAULT_MAX_CONNECTIONS
    soft = _open_file_limit(connections + RESERVED_FILES + ACCEPT_TURNS * ACCEPT_BATCH)
    if soft is None:
        return connections, ACCEPT_BATCH
    room = soft - RESERVED_FILES
    if wanted is None:
        batch = min(ACCEPT_BATCH, max(MIN_ACCEPT_BATCH, room // (2 * ACCEPT_TURNS)))
        connections = max(1, min(DEFAULT_MAX_CONNECTIONS, room - ACCEPT_TURNS * batch))
        return connections, max(1, min(ACCEPT_BATCH, (room - connections) // ACCEPT_TURNS))
    least = ACCEPT_TURNS * MIN_ACCEPT_BATCH
    if room - wanted < least:
        raise ValueError(
            f"{wanted:,} connections need {wanted + RESERVED_FILES + least:,} open files "
            f"({RESERVED_FILES} kept for files and the inspector, {least} for connections "
            f"being accepted), and this process may open {soft:,}: at most "
            f"{max(room - least, 0):,} here (raise `ulimit -n`, or lower it)"
        )
    return wanted, min(ACCEPT_BATCH, (room - wanted) // ACCEPT_TURNS)


def resolved(limits: ConnectionLimits) -> ConnectionLimits:
    """`limits` with its connection bound and backlog settled (see room_for_connections),
    once: limits already settled are returned as they are."""
    if limits.backlog is not None:
        return limits
    connections, backlog = room_for_connections(limits.max_connections)
    return replace(limits, max_connections=connections, backlog=backlog)
