"""`GET /_hookcatcher/api/export`: the stored captures as a download (HAR, JSON Lines or a
curl script, in send.export's formats), made on the server's workers a block at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from hookcatcher.core.capture import Capture
from hookcatcher.core.filters import FilterError, parse
from hookcatcher.receive.workers import Workers
from hookcatcher.send.export import CHUNK_BYTES, FILES, NO, YES, chunks, file_name
from hookcatcher.send.outgoing import ReplayError, check_target

__all__ = ["export_endpoint"]


class _BadParam(ValueError):
    pass


async def export_endpoint(request: Request) -> Response:
    """`GET /_hookcatcher/api/export?format=har|jsonl|curl&q=&redact=0&target=&by_events=1`:
    the stored captures the filter matches, oldest first, as a download. Request URLs in
    a HAR are built on the URL this request reached the server by.

    Only the parameters are read here. Filtering, redacting and writing run on the
    server's workers, a block at a time as the client reads, so the event loop keeps
    answering senders during the export and other heavy work takes turns with it."""
    params = request.query_params
    kind = params.get("format") or "har"
    try:
        if kind not in FILES:
            raise _BadParam(f"query parameter format={kind!r} must be har, jsonl or curl")
        redact = _yes_no(params.get("redact"), "redact", True)
        by_events = _yes_no(params.get("by_events"), "by_events", False)
        target = params.get("target") or None
        if target is not None:
            _checked_target(target)
        if by_events and (kind != "curl" or target is None):
            raise _BadParam("query parameter by_events=1 needs format=curl and a target")
        query = parse(params.get("q"))
    except FilterError as exc:
        return JSONResponse({"error": str(exc), "term": exc.term}, status_code=400)
    except _BadParam as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    stored = list(request.app.state.store)  # the captures as they are now: references only
    pieces = chunks(
        kind,
        _matching(stored, query),
        base_url=str(request.base_url),
        target=target,
        by_events=by_events,
        redact=redact,
    )
    workers: Workers = request.app.state.workers
    return StreamingResponse(
        _made_by(workers, _batched(pieces)),
        media_type=FILES[kind][0],
        headers={"content-disposition": f'attachment; filename="{file_name(kind)}"'},
    )


async def _made_by(workers: Workers, blocks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Each block made on a worker thread; the loop only passes it on."""
    while (block := await workers.run(next, blocks, None)) is not None:
        yield block


def _matching(captures: Iterable[Capture], query: Callable[[Capture], bool]) -> Iterator[Capture]:
    """The captures the filter matches. Each is handed on, then its body let go: a body the
    filter or the export parsed again would otherwise stay with the stored capture (a HAR
    of a full store kept several times its bytes in memory)."""
    for capture in captures:
        try:
            if query(capture):
                yield capture
        finally:
            capture.release_body()


def _batched(pieces: Iterable[str], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The pieces as UTF-8, in blocks of about `size` bytes: one thread hand-off per block,
    not per capture."""
    block: list[bytes] = []
    held = 0
    for piece in pieces:
        data = piece.encode("utf-8")
        block.append(data)
        held += len(data)
        if held >= size:
            yield b"".join(block)
            block, held = [], 0
    if block:
        yield b"".join(block)


def _yes_no(value: str | None, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if value.lower() in YES:
        return True
    if value.lower() in NO:
        return False
    raise _BadParam(f"query parameter {name}={value!r} must be 1 or 0 (true/false, yes/no)")


def _checked_target(target: str) -> None:
    try:
        check_target(target)
    except ReplayError as exc:
        raise _BadParam(f"query parameter target: {exc}") from None
