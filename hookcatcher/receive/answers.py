"""Answers other than 200: rules that make the receiver refuse, slow down or fail at first, so a
gateway's retries (or the user's own sender's) can be watched at work.

    --respond 503                 every capture is answered 503
    --respond messages.upsert=204 only captures the selector matches
    --delay 1500                  the answer waits 1.5 s (the capture is stored at once)
    --fail-first 2                500 to the first 2 arrivals of each body, then the other rules

A selector is a query in the filter language (filters.py), or an event name or glob on its
own (`messages.upsert=503` is `event:messages.upsert=503`). Per flag, the first rule whose
selector matches wins, in the order given; the rule without a selector is for the rest.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hookcatcher.core.capture import PLAIN_ANSWER, Answer, Capture
from hookcatcher.core.filters import Filter, FilterError, parse, selector_query

__all__ = [
    "Answer",
    "Answers",
    "Rule",
    "RESPOND",
    "DELAY",
    "FAIL_FIRST",
    "FAILURE_STATUS",
    "MAX_DELAY_MS",
    "REMEMBERED_BODIES",
]

RESPOND, DELAY, FAIL_FIRST = "--respond", "--delay", "--fail-first"
FAILURE_STATUS = 500
MAX_DELAY_MS = 600_000
REMEMBERED_BODIES = 100_000  # distinct bodies --fail-first counts; the least recent go first

# The answer is chosen before the store compares a capture with earlier ones (so the stored
# record already says what it was answered), hence retry: cannot pick an answer.
_RETRY_TERM = re.compile(r"(?:^|\s)-?retry:")


class _BadValue(Exception):
    pass


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _status(text: str) -> int:
    number = _number(text)
    if number is None or not 100 <= number <= 599:
        raise _BadValue(f"{text} is not an HTTP status (100-599)")
    if number < 200:
        raise _BadValue(f"{text} is informational (1xx) and cannot end an exchange; use 200-599")
    return number


def _delay(text: str) -> int:
    number = _number(text)
    if number is None or number > MAX_DELAY_MS:
        raise _BadValue(f"{text} is not a delay in milliseconds (0-{MAX_DELAY_MS})")
    return number


def _failures(text: str) -> int:
    number = _number(text)
    if number is None or number < 1:
        raise _BadValue(f"{text} is not a number of failures (1 or more)")
    return number


_VALUES: dict[str, Callable[[str], int]] = {RESPOND: _status, DELAY: _delay, FAIL_FIRST: _failures}


@dataclass(frozen=True, slots=True)
class Rule:
    """One flag as given: `--respond messages.upsert=503` is flag --respond, given
    `messages.upsert=503`, selector `event:messages.upsert`, value 503."""

    flag: str
    given: str
    selector: Filter | None
    value: int

    @classmethod
    def parse(cls, flag: str, given: str) -> Rule:
        """`VALUE` or `SELECTOR=VALUE`, split on the last `=` (a selector may hold one)."""
        selector_text, sep, value_text = given.rpartition("=")
        selector = None
        try:
            if sep:
                if not selector_text.strip():
                    raise _BadValue(
                        "nothing before '=' (SELECTOR=VALUE, e.g. messages.upsert=VALUE)"
                    )
                if not value_text.strip():
                    raise _BadValue("no value after '='")
                selector = _selector(selector_text.strip())
            elif not given.strip():
                raise _BadValue("no value")
            value = _VALUES[flag](value_text.strip())
        except (_BadValue, FilterError) as exc:
            raise ValueError(f"{flag} {given}: {exc}") from None
        return cls(flag, given, selector, value)

    @property
    def name(self) -> str:
        return f"{self.flag} {self.given}"

    def matches(self, capture: Capture) -> bool:
        return self.selector is None or self.selector(capture)


def _selector(text: str) -> Filter:
    """A query in the filter language; a lone name or glob is an event (`-name` excludes it)."""
    text = selector_query(text)
    if _RETRY_TERM.search(text):
        raise _BadValue(
            "retry: cannot choose an answer: the answer is chosen before a "
            "capture is compared with earlier ones (--fail-first answers the "
            "repeats of a body differently)"
        )
    return parse(text)


def _in_order(flag: str, rules: list[Rule]) -> tuple[Rule, ...]:
    """Rules with a selector in the order given, then the one without (at most one)."""
    general = [rule for rule in rules if rule.selector is None]
    if len(general) > 1:
        raise ValueError(
            f"{flag} is given {len(general)} times without a selector "
            f"({', '.join(rule.given for rule in general)}); keep one, or give "
            "the others a SELECTOR="
        )
    return tuple(rule for rule in rules if rule.selector is not None) + tuple(general)


def _first(rules: tuple[Rule, ...], capture: Capture) -> Rule | None:
    for rule in rules:
        if rule.matches(capture):
            return rule
    return None


class Answers:
    """The answer rules of one server run and the per-body failure counts --fail-first keeps.

    Only the event loop calls `decide`, so the counts need no lock. An empty body is no event
    and repeats nothing: --fail-first leaves it to the other rules."""

    def __init__(self, rules: Iterable[Rule] = (), remember: int = REMEMBERED_BODIES) -> None:
        rules = list(rules)
        self._respond = _in_order(RESPOND, [r for r in rules if r.flag == RESPOND])
        self._delay = _in_order(DELAY, [r for r in rules if r.flag == DELAY])
        self._fail_first = _in_order(FAIL_FIRST, [r for r in rules if r.flag == FAIL_FIRST])
        self._remember = remember
        # hash(body) -> arrivals. A hash collision would share a count (odds 1 in 2**64).
        self._arrivals: OrderedDict[int, int] = OrderedDict()

    @classmethod
    def from_flags(
        cls,
        respond: Iterable[str] | None = (),
        delay: Iterable[str] | None = (),
        fail_first: Iterable[str] | None = (),
        remember: int = REMEMBERED_BODIES,
    ) -> Answers:
        """From the texts of the repeatable flags (None: the flag was not given); ValueError
        names the flag and the text."""
        return cls(
            [
                Rule.parse(flag, given)
                for flag, texts in ((RESPOND, respond), (DELAY, delay), (FAIL_FIRST, fail_first))
                for given in texts or ()
            ],
            remember,
        )

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule, per flag in the order they are tried."""
        return self._respond + self._delay + self._fail_first

    def __len__(self) -> int:
        return len(self.rules)

    def decide(self, capture: Capture) -> Answer:
        """The answer for a capture about to be stored; counts its body's arrival when a
        --fail-first rule covers it."""
        status, delay_ms, reasons = 200, 0, []
        if (rule := _first(self._respond, capture)) is not None:
            status = rule.value
            reasons.append(rule.name)
        if capture.raw and (rule := _first(self._fail_first, capture)) is not None:
            arrival = self._arrival(capture.raw)
            if arrival <= rule.value:
                status = FAILURE_STATUS
                reasons = [f"{rule.name}: failure {arrival} of {rule.value} for this body"]
        if (rule := _first(self._delay, capture)) is not None and rule.value:
            delay_ms = rule.value
            reasons.append(rule.name)
        return Answer(status, delay_ms, "; ".join(reasons)) if reasons else PLAIN_ANSWER

    def _arrival(self, raw: bytes) -> int:
        key = hash(raw)
        seen = self._arrivals.get(key, 0) + 1
        self._arrivals[key] = seen
        if seen > 1:
            self._arrivals.move_to_end(key)
        elif len(self._arrivals) > self._remember:
            self._arrivals.popitem(last=False)
        return seen

    def describe(self) -> list[str]:
        """One line per rule, in the order they are tried: for the banner and the API."""
        return [self._says(rule) for rule in self.rules]

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {
                "flag": rule.flag,
                "given": rule.given,
                "selector": rule.selector.query if rule.selector else None,
                "value": rule.value,
                "says": self._says(rule),
            }
            for rule in self.rules
        ]

    def _says(self, rule: Rule) -> str:
        if rule.selector is not None:
            who = f"captures matching {rule.selector.query} are"
        elif any(r.flag == rule.flag and r.selector is not None for r in self.rules):
            who = "every other capture is"
        else:
            who = "every capture is"
        what = {
            RESPOND: f"{rule.value}",
            DELAY: f"after {rule.value} ms",
            FAIL_FIRST: f"{FAILURE_STATUS} on the first {rule.value} arrivals of each "
            "(non-empty) body, then as the other rules say",
        }[rule.flag]
        return f"{rule.name}: {who} answered {what}"
