"""One verdict on a body: what it is (its gateway and event) and whether it holds to that
event's schema. The receiver, `validate` and `send --set`'s warning ask the same question
here, so they cannot disagree."""

from __future__ import annotations

from typing import Any

from hookcatcher.check.validation import Validator
from hookcatcher.core.body import NOT_JSON
from hookcatcher.core.capture import Problem, Validation
from hookcatcher.core.classify import Classification, classify

__all__ = ["judge"]


def judge(
    validator: Validator,
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: Any,
    problem: Problem | None = None,
) -> tuple[Classification, Validation]:
    """What a parsed body is and whether it holds: the server and `validate` both ask here.
    `problem` is the parse error, when the bytes were not JSON."""
    found = classify(method, path, query, headers, body)
    if problem is not None:
        return found, Validation(NOT_JSON, None, (problem,))
    return found, validator.check(found.provider, found.event, body)
