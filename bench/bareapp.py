"""The baseline: a bare Starlette app that reads the body and answers 200, served exactly as
hookcatcher serves (same socket setup, uvicorn on h11, no access log, no lifespan).

    python bench/bareapp.py [--port 0]

Prints `listening on http://127.0.0.1:PORT` once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hookcatcher.receive.runner import HEAD_CEILING, bind, url_of

__all__ = ["app"]


async def receive(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"ok": True})


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
app = Starlette(
    routes=[Route("/_hookcatcher/health", health), Route("/{path:path}", receive, methods=METHODS)]
)


async def serve(port: int) -> None:
    sock = bind("127.0.0.1", port)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="h11",
        h11_max_incomplete_event_size=HEAD_CEILING,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.001)
    print(f"listening on {url_of(sock)}", flush=True)
    await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
