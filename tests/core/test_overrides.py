"""--set overrides: typed values, JSON paths as the validator prints them, and errors that say
where the path stopped."""

from __future__ import annotations

from typing import Any

import pytest

from hookcatcher.core.overrides import OverrideError, apply, at, parse

BODY: dict[str, Any] = {
    "event": "messages.upsert",
    "data": {
        "key": {"remoteJid": "5511900000001@s.whatsapp.net", "fromMe": False},
        "pushName": "Ana",
    },
    "messages": [{"id": "A1", "text": {"body": "hi"}}],
}


@pytest.mark.parametrize(
    "text, value",
    [
        ("data.key.fromMe=true", True),
        ("data.key.fromMe=null", None),
        ("data.pushName=Zé Maria", "Zé Maria"),
        ('data.pushName="007"', "007"),
        ("data.pushName=007", "007"),  # not JSON (leading zero): phone-like text stays text
        ("data.pushName=7", 7),
        ("data.pushName=", ""),
        ('data.pushName={"a": [1, 2]}', {"a": [1, 2]}),
        ("data.pushName=a=b", "a=b"),
    ],
)
def test_values_are_json_when_they_parse_and_text_otherwise(text: str, value: Any) -> None:
    result = apply(BODY, [parse(text)])
    assert result["data"]["pushName" if "pushName" in text else "key"] == (
        value
        if "pushName" in text
        else {"remoteJid": "5511900000001@s.whatsapp.net", "fromMe": value}
    )


def test_paths_take_dots_indexes_and_a_leading_dollar() -> None:
    result = apply(
        BODY,
        [
            parse("$.messages[0].text.body=changed"),
            parse("data.key.id=NEW"),
            parse("event=messages.update"),
        ],
    )
    assert result["messages"][0]["text"]["body"] == "changed"
    assert result["data"]["key"]["id"] == "NEW"  # the last key may be new
    assert result["event"] == "messages.update"
    assert BODY["messages"][0]["text"]["body"] == "hi"  # the original is untouched


def test_python_values_go_in_as_they_are() -> None:
    assert apply(BODY, [at("data.key.fromMe", True)])["data"]["key"]["fromMe"] is True
    assert apply(BODY, [at("data.pushName", "true")])["data"]["pushName"] == "true"


@pytest.mark.parametrize(
    "text, message",
    [
        ("data.kye.id=1", "--set data.kye.id=1: $.data has no key 'kye' (its keys: key, pushName)"),
        (
            "messages[3].id=1",
            "--set messages[3].id=1: $.messages has 1 item(s); [3] is past the end",
        ),
        (
            "data.pushName.first=1",
            "--set data.pushName.first=1: $.data.pushName is a string, not an object",
        ),
        ("data[0]=1", "--set data[0]=1: $.data is an object, not an array"),
        (
            "data.key.fromMe",
            "--set data.key.fromMe: expected PATH=VALUE, e.g. data.key.fromMe=true",
        ),
        ("=1", "--set =1: expected PATH=VALUE"),
        ("data..key=1", "--set data..key=1: cannot read the path 'data..key' at '..key'"),
    ],
)
def test_a_bad_override_says_where_it_went_wrong(text: str, message: str) -> None:
    with pytest.raises(OverrideError) as caught:
        apply(BODY, [parse(text)])
    assert str(caught.value).startswith(message)
