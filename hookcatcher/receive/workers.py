"""CPU-heavy work of the server, done off its event loop.

The event loop answers every sender, the API, the mocks and the streams; one 20 MB body
parsed and validated there (seconds of CPU for an invalid one) would hold all of them up.
So work whose cost grows with what a request brings (a large or encoded body, a form, a
mock's configuration body, an export, a whole capture encoded for the API) runs on a small
pool of threads. The pool is bounded: a burst of heavy requests queues behind it instead of
taking every core, and small bodies, the common case, stay on the loop, where they cost a
few microseconds and no thread hand-off.

Threads share the interpreter lock, but Python code hands it over every few milliseconds
(sys.getswitchinterval), so the loop keeps answering while a worker runs; work that is one
long C call holding the lock (orjson on 20 MB) is kept out of the workers' path (see
ingest.parse_json).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

__all__ = ["Workers", "INLINE_BYTES", "THREADS"]

T = TypeVar("T")

THREADS = 2  # the machines this runs on have a few cores; heavy requests wait their turn
# Bodies up to this size are handled on the loop: parsing and checking them takes well under
# a millisecond, less than handing them to a thread and back.
INLINE_BYTES = 64 * 1024


class Workers:
    """A bounded pool for the server's heavy work; `await workers.run(func, *args)`."""

    def __init__(self, threads: int = THREADS) -> None:
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        if self._pool is None:  # made on first use: most servers never need it
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="hookcatcher-work")
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(func, *args))

    def close(self) -> None:
        """Let the threads go (the server stopped); a later `run` starts a new pool."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
