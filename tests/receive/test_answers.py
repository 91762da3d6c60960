"""Answer rules: how flag texts are read, which rule wins for a capture, --fail-first's count
per body, and the error for every bad text."""

from __future__ import annotations

import json

import pytest
from helpers.bundled import body_of

from hookcatcher.check.validation import Validator
from hookcatcher.core.capture import Capture
from hookcatcher.receive.answers import Answer, Answers
from hookcatcher.receive.ingest import build_capture

UPSERT = body_of("evolution/v2/messages.upsert.text")
UPDATE = body_of("evolution/v2/messages.update.read")
WHAPI = body_of("whapi/messages.post.text")


def captured(validator: Validator, raw: bytes, path: str = "/webhook") -> Capture:
    return build_capture(validator, "POST", path, "", [], "127.0.0.1:1", raw)


def test_no_rules_answer_the_plain_200(validator: Validator) -> None:
    answers = Answers.from_flags()
    assert len(answers) == 0 and not answers
    assert answers.decide(captured(validator, UPSERT)) == Answer(200, 0, None)
    assert answers.describe() == [] and answers.to_json() == []
    assert len(Answers.from_flags(None, None, None)) == 0  # flags not given at all


def test_respond_for_every_capture_and_per_event(validator: Validator) -> None:
    answers = Answers.from_flags(respond=["messages.upsert=503", "provider:whapi=204", "202"])
    assert answers.decide(captured(validator, UPSERT)) == Answer(
        503, 0, "--respond messages.upsert=503"
    )
    assert answers.decide(captured(validator, WHAPI)) == Answer(
        204, 0, "--respond provider:whapi=204"
    )
    assert answers.decide(captured(validator, UPDATE)) == Answer(202, 0, "--respond 202")


def test_first_matching_selector_wins_in_the_order_given(validator: Validator) -> None:
    answers = Answers.from_flags(respond=["404", "messages.*=502", "messages.upsert=503"])
    assert answers.decide(captured(validator, UPSERT)).status == 502
    assert answers.decide(captured(validator, UPDATE)).status == 502
    assert answers.decide(captured(validator, WHAPI)).status == 404  # messages/post: no match


def test_selector_shorthand_globs_negation_and_a_last_equals_sign(validator: Validator) -> None:
    answers = Answers.from_flags(respond=["-provider:evolution=410", "-messages.upsert=409"])
    assert answers.decide(captured(validator, WHAPI)).status == 410
    assert answers.decide(captured(validator, UPDATE)).status == 409
    assert answers.decide(captured(validator, UPSERT)).status == 200
    # Split on the last '=': a selector may hold one (here in quoted free text).
    free = Answers.from_flags(respond=['"a=b"=418'])
    assert free.decide(captured(validator, b'{"x": "a=b"}')).status == 418
    assert free.decide(captured(validator, b'{"x": "a"}')).status == 200


def test_fail_first_fails_each_distinct_body_then_lets_it_through(validator: Validator) -> None:
    answers = Answers.from_flags(fail_first=["2"], respond=["202"])
    statuses = [answers.decide(captured(validator, UPSERT)) for _ in range(4)]
    assert statuses == [
        Answer(500, 0, "--fail-first 2: failure 1 of 2 for this body"),
        Answer(500, 0, "--fail-first 2: failure 2 of 2 for this body"),
        Answer(202, 0, "--respond 202"),
        Answer(202, 0, "--respond 202"),
    ]
    # Another body has failures of its own; the same bytes on another path count together.
    assert answers.decide(captured(validator, UPDATE)).status == 500
    assert answers.decide(captured(validator, UPSERT, path="/other")).status == 202


def test_fail_first_per_event_leaves_other_events_alone(validator: Validator) -> None:
    answers = Answers.from_flags(fail_first=["messages.upsert=1"])
    assert [answers.decide(captured(validator, UPSERT)).status for _ in range(2)] == [500, 200]
    assert answers.decide(captured(validator, UPDATE)) == Answer()


def test_fail_first_leaves_an_empty_body_to_the_other_rules(validator: Validator) -> None:
    answers = Answers.from_flags(fail_first=["3"])
    assert answers.decide(captured(validator, b"")) == Answer()


def test_fail_first_memory_is_bounded_least_recent_forgotten(validator: Validator) -> None:
    answers = Answers.from_flags(fail_first=["1"], remember=2)
    bodies = [json.dumps({"n": n}).encode() for n in range(3)]

    def status(raw: bytes) -> int:
        return answers.decide(captured(validator, raw)).status

    assert [status(bodies[0]), status(bodies[1])] == [500, 500]
    assert status(bodies[0]) == 200  # body 0 is now the most recent of the two
    assert status(bodies[2]) == 500  # the third body pushes body 1 out
    assert status(bodies[0]) == 200  # still remembered
    assert status(bodies[1]) == 500  # forgotten, so it counts from the start again


def test_delay_adds_to_whatever_status_is_chosen(validator: Validator) -> None:
    answers = Answers.from_flags(delay=["messages.upsert=0", "1500"], fail_first=["1"])
    assert answers.decide(captured(validator, UPDATE)) == Answer(
        500, 1500, "--fail-first 1: failure 1 of 1 for this body; --delay 1500"
    )
    assert answers.decide(captured(validator, UPDATE)) == Answer(200, 1500, "--delay 1500")
    # An explicit 0 for one event overrides the general delay, and is no reason to mention.
    assert answers.decide(captured(validator, UPSERT)) == Answer(
        500, 0, "--fail-first 1: failure 1 of 1 for this body"
    )


def test_describe_and_json_list_the_rules_in_the_order_they_are_tried() -> None:
    answers = Answers.from_flags(
        respond=["503", "messages.upsert=429"], delay=["250"], fail_first=["provider:whapi=2"]
    )
    assert answers.describe() == [
        "--respond messages.upsert=429: captures matching event:messages.upsert are answered 429",
        "--respond 503: every other capture is answered 503",
        "--delay 250: every capture is answered after 250 ms",
        "--fail-first provider:whapi=2: captures matching provider:whapi are answered 500 on the "
        "first 2 arrivals of each (non-empty) body, then as the other rules say",
    ]
    assert answers.to_json()[0] == {
        "flag": "--respond",
        "given": "messages.upsert=429",
        "selector": "event:messages.upsert",
        "value": 429,
        "says": answers.describe()[0],
    }
    assert [(rule["flag"], rule["selector"], rule["value"]) for rule in answers.to_json()[1:]] == [
        ("--respond", None, 503),
        ("--delay", None, 250),
        ("--fail-first", "provider:whapi", 2),
    ]
    assert json.loads(json.dumps(answers.to_json())) == answers.to_json()


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            {"respond": ["messages.upsert=abc"]},
            "--respond messages.upsert=abc: abc is not an HTTP status (100-599)",
        ),
        ({"respond": ["600"]}, "--respond 600: 600 is not an HTTP status (100-599)"),
        ({"respond": ["-5"]}, "--respond -5: -5 is not an HTTP status (100-599)"),
        (
            {"respond": ["101"]},
            "--respond 101: 101 is informational (1xx) and cannot end an exchange",
        ),
        (
            {"respond": ["valid:maybe=503"]},
            "--respond valid:maybe=503: bad filter term 'valid:maybe': valid takes yes or no",
        ),
        ({"respond": ["=503"]}, "--respond =503: nothing before '='"),
        ({"respond": ["messages.upsert="]}, "--respond messages.upsert=: no value after '='"),
        ({"respond": [""]}, "--respond : no value"),
        ({"respond": ["retry:yes=200"]}, "--respond retry:yes=200: retry: cannot choose an answer"),
        (
            {"respond": ["503", "502"]},
            "--respond is given 2 times without a selector (503, 502); keep one",
        ),
        ({"delay": ["1.5"]}, "--delay 1.5: 1.5 is not a delay in milliseconds (0-600000)"),
        ({"delay": ["x=600001"]}, "--delay x=600001: 600001 is not a delay in milliseconds"),
        ({"fail_first": ["0"]}, "--fail-first 0: 0 is not a number of failures (1 or more)"),
        (
            {"fail_first": ["messages.upsert=two"]},
            "--fail-first messages.upsert=two: two is not a number of failures (1 or more)",
        ),
    ],
)
def test_bad_texts_name_the_flag_and_what_is_wrong(flags: dict, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Answers.from_flags(**flags)
    assert str(caught.value).startswith(message)
