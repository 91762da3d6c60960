"""Ingest: the request path's work, from the bytes a gateway sent to a Capture.

Parse the body once, classify, validate, and nothing else: this runs before the sender
gets its answer, so it stays small (the store and the stream only take references)."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

from . import catalog
from .capture import Capture, Problem, Validation
from .validation import Validator

__all__ = ["build_capture", "judge", "parse_body"]


def build_capture(validator: Validator, method: str, path: str, query: str,
                  headers: list[tuple[str, str]], remote: str, raw: bytes) -> Capture:
    received_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body, problem = parse_body(raw)
    found, validation = judge(validator, method, path, query, headers, body, problem)
    return Capture(
        received_at=received_at, method=method, path=path, query=query, headers=headers,
        remote=remote, raw=raw, body=body, provider=found.provider, event=found.event,
        instance=found.instance, route=found.route,
        validation=validation, warnings=list(found.warnings),
    )


def judge(validator: Validator, method: str, path: str, query: str,
          headers: list[tuple[str, str]], body: Any,
          problem: Problem | None = None) -> tuple[catalog.Classification, Validation]:
    """What a parsed body is and whether it holds: the server and `validate` both ask here.
    `problem` is the parse error, when the bytes were not JSON."""
    found = catalog.classify(method, path, query, headers, body)
    if problem is not None:
        return found, Validation("not-json", None, (problem,))
    return found, validator.check(found.provider, found.event, body)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _finite_float(text: str) -> float:
    """1e400 would parse as infinity, which no JSON answer can carry back out."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text} is too large for a double")
    return value


def parse_body(raw: bytes) -> tuple[Any, Problem | None]:
    """The body as JSON, or None and a Problem that says where parsing stopped."""
    if not raw.strip():
        return None, Problem("$", "empty body" if not raw else "body is only whitespace")
    try:
        return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float), None
    except json.JSONDecodeError as exc:
        return None, Problem("$", f"broken JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
    except UnicodeDecodeError as exc:
        return None, Problem("$", f"body is not UTF-8 text (byte {exc.start}): not JSON")
    except RecursionError:
        return None, Problem("$", "JSON nested too deeply to parse")
    except ValueError as exc:
        return None, Problem("$", f"not valid JSON: {exc}")
