"""hookcatcher's own HTTP API under /_hookcatcher/: health, the stored captures (list with
filters and paging, one by id, clear, one sent again to the app), stats, the event catalog
and the instances, plus the route table that also mounts the export route, the stream and
the mocked gateways. Apart from receive/app.py, whose one hot path (a capture) never goes
through Starlette's router: these routes read the store, and heavy reads (body filters,
large captures encoded) run on the workers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from hookcatcher import __version__
from hookcatcher.check.validation import Validator
from hookcatcher.core import catalog
from hookcatcher.core.capture import Capture
from hookcatcher.core.filters import Filter, FilterError, parse
from hookcatcher.core.summary import rows_json
from hookcatcher.mock import list_instances
from hookcatcher.mock import routes as gateway_routes
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.export_route import export_endpoint
from hookcatcher.receive.forwarder import Forwarder
from hookcatcher.receive.store import Store
from hookcatcher.receive.stream import Hub, stream_endpoint
from hookcatcher.receive.workers import INLINE_BYTES, Workers
from hookcatcher.remote import API_PREFIX, GATEWAY_PREFIX

__all__ = ["DEFAULT_LIMIT", "method_not_allowed", "not_found", "routes"]

DEFAULT_LIMIT = 100


def _error(message: str, status: int, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _int_param(request: Request, name: str, default: int | None, minimum: int) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    # Written as ASCII digits only: int() also reads "١", " 5", "1_000" and "+5".
    number = int(value) if len(value) <= 40 and value.isascii() and value.isdigit() else None
    if number is None:
        raise _BadParam(f"query parameter {name}={value[:40]!r} is not a whole number")
    if number < minimum:
        raise _BadParam(f"query parameter {name}={value!r} must be at least {minimum}")
    if number > _LARGEST:
        raise _BadParam(f"query parameter {name}={value!r} is too large (at most {_LARGEST})")
    return number


_LARGEST = 2**63 - 1  # ids, limits and cursors beyond this cannot name anything stored


def _id(text: str) -> int | None:
    """A capture id from a path, or None when it is not one (letters, 5,000 digits)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if number <= _LARGEST else None


class _BadParam(Exception):
    pass


async def health(request: Request) -> Response:
    """Alive, which run, how much is stored, and where captures are forwarded (--forward-to:
    each rule as `URL` or `SELECTOR -> URL`, none without)."""
    store: Store = request.app.state.store
    forwarder: Forwarder | None = request.app.state.forwarder
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "run": store.run,
            "stored": len(store),
            "forward": [rule.describe() for rule in forwarder.rules] if forwarder else [],
        }
    )


async def list_events(request: Request) -> Response:
    """Captures oldest first. With `after`, the first `limit` after that id (paging forward);
    without it, the newest `limit`. `view=summary` gives list rows (summary.py) instead of
    whole captures; `last_id` is the newest id at the moment of the answer, so a client can
    open the stream from exactly there and miss nothing."""
    store: Store = request.app.state.store
    try:
        query = parse(request.query_params.get("q"))
        limit = _int_param(request, "limit", DEFAULT_LIMIT, 1) or DEFAULT_LIMIT
        after = _int_param(request, "after", None, 0)
    except FilterError as exc:
        return _error(str(exc), 400, term=exc.term)
    except _BadParam as exc:
        return _error(str(exc), 400)
    include_raw = request.query_params.get("raw", "") in ("1", "true", "yes")
    view = request.query_params.get("view", "full")
    if view not in ("full", "summary"):
        return _error(f"query parameter view={view!r} must be full or summary", 400)
    wanted = min(limit, len(store)) + 1
    if query.reads_body:
        # Bodies are read (and large ones parsed): on a worker, over the captures stored
        # now, so the receiver answers meanwhile.
        stored = list(store.after(after)) if after is not None else list(store)[::-1]
        workers: Workers = request.app.state.workers
        found = await workers.run(_select, stored, query, wanted)
    else:
        candidates = store.after(after) if after is not None else reversed(list(store))
        found = _select(candidates, query, wanted)
    more = len(found) > limit
    found = found[:limit]
    if after is None:
        found.reverse()
    if view == "summary":
        tail = json.dumps({"more": more, "last_id": store.last_id, "run": store.run})
        return Response(
            b'{"events":' + rows_json(found) + b"," + tail[1:].encode(),
            media_type="application/json",
        )
    document = {"more": more, "last_id": store.last_id, "run": store.run}
    if sum(capture.size for capture in found) > INLINE_BYTES:  # bodies parsed and encoded
        workers = request.app.state.workers
        return Response(
            await workers.run(_events_json, found, include_raw, document),
            media_type="application/json",
        )
    return Response(_events_json(found, include_raw, document), media_type="application/json")


def _select(candidates: Iterable[Capture], query: Filter, wanted: int) -> list[Capture]:
    return list(islice((capture for capture in candidates if query(capture)), wanted))


def _events_json(found: list[Capture], include_raw: bool, document: dict[str, Any]) -> bytes:
    events = [capture.to_json(include_raw=include_raw) for capture in found]
    return json.dumps(
        {"events": events, **document}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def _stored(request: Request) -> Capture | Response:
    """The stored capture the path's `{id}` names, or the 404 that says why there is none."""
    store: Store = request.app.state.store
    capture_id = _id(request.path_params["id"])
    if capture_id is None:
        return _error(
            f"no capture {request.path_params['id'][:40]!r}: capture ids are whole numbers", 404
        )
    capture = store.get(capture_id)
    if capture is None:
        if 0 < capture_id <= store.last_id:
            return _error(
                f"capture {capture_id} is no longer stored (evicted or cleared; "
                f"stored ids are {store.first_id}..{store.last_id})",
                404,
            )
        return _error(f"no capture {capture_id} in this server run", 404)
    return capture


async def get_event(request: Request) -> Response:
    capture = _stored(request)
    if isinstance(capture, Response):
        return capture
    if capture.size > INLINE_BYTES:
        workers: Workers = request.app.state.workers
        return Response(await workers.run(_capture_json, capture), media_type="application/json")
    return Response(_capture_json(capture), media_type="application/json")


def _capture_json(capture: Capture) -> bytes:
    return json.dumps(capture.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def forward_event(request: Request) -> Response:
    """Redelivery: the stored capture sent again, as received, to every --forward-to target
    whose rule matches it (answer rules have no say: this is asked for). The deliveries are
    added to the capture's and answered; 409 when there is nowhere to send it."""
    capture = _stored(request)
    if isinstance(capture, Response):
        return capture
    forwarder: Forwarder | None = request.app.state.forwarder
    if forwarder is None:
        return _error(
            "this server forwards nowhere: start it with --forward-to URL to redeliver captures",
            409,
        )
    rules = forwarder.targets(capture)
    if not rules:
        return _error(
            f"no --forward-to rule matches capture {capture.id} "
            f"(rules: {'; '.join(rule.describe() for rule in forwarder.rules)})",
            409,
        )
    await forwarder.deliver(capture)
    # deliver adds its records together once every target answered, with no wait between
    # that and here: the last ones are this redelivery's, whatever else is under way.
    deliveries = capture.forwards[-len(rules) :]
    capture.row = None  # its list row now says how the app answered
    hub: Hub = request.app.state.hub
    hub.forget(capture)
    store: Store = request.app.state.store
    store.delivered(capture)
    return JSONResponse(
        {"id": capture.id, "forwards": [forward.to_json() for forward in deliveries]}
    )


async def clear_events(request: Request) -> Response:
    store: Store = request.app.state.store
    return JSONResponse({"cleared": store.clear()})


async def stats(request: Request) -> Response:
    """The store's counts, the deliveries to the app (--forward-to: answered 2xx, and not),
    and the answer rules in force (the order they are tried in)."""
    answers: Answers | None = request.app.state.answers
    forwarder: Forwarder | None = request.app.state.forwarder
    return JSONResponse(
        {
            **request.app.state.store.stats(),
            "refused": request.app.state.guard.refused,
            "forwarded": forwarder.forwarded if forwarder else 0,
            "failed": forwarder.failed if forwarder else 0,
            "answers": answers.to_json() if answers else [],
        }
    )


async def catalog_endpoint(request: Request) -> Response:
    validator: Validator = request.app.state.validator
    described = catalog.describe(validator.schema_ids)
    described["schemas"] = {
        schema_id: _explained(validator, schema_id) for schema_id in validator.schema_ids
    }
    return JSONResponse(described)


def _explained(validator: Validator, schema_id: str) -> dict[str, Any]:
    """A schema's title, description and per-field descriptions, to explain an event."""
    document = validator.document(schema_id) or {}
    return {
        "title": document.get("title"),
        "description": document.get("description"),
        "fields": validator.fields(schema_id),
    }


async def not_found(request: Request, exc: Exception) -> Response:
    return _error(f"no such endpoint: {request.method} {request.url.path}", 404)


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    return _error(f"{request.method} is not allowed on {request.url.path}", 405)


def routes() -> list[BaseRoute]:
    api = f"{API_PREFIX}/api"
    return [
        Route(f"{API_PREFIX}/health", health),
        Route(f"{api}/events", list_events, methods=["GET"]),
        Route(f"{api}/events", clear_events, methods=["DELETE"]),
        Route(f"{api}/events/{{id}}", get_event),
        Route(f"{api}/events/{{id}}/forward", forward_event, methods=["POST"]),
        Route(f"{api}/stats", stats),
        Route(f"{api}/catalog", catalog_endpoint),
        Route(f"{api}/instances", list_instances, methods=["GET"]),
        Route(f"{api}/export", export_endpoint, methods=["GET"]),
        Route(f"{API_PREFIX}/stream", stream_endpoint),
        Mount(GATEWAY_PREFIX, routes=gateway_routes()),
    ]
