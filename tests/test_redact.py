"""Redaction: the secrets each gateway sends (Evolution's body `apikey` and `jwt_key` Bearer
JWT, Whapi's and CodeChat's tokens, custom auth headers) are hidden in the copy every export
and screen reads, the body keeps its shape and layout, and the stored capture is untouched."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from hookcatcher import fixtures
from hookcatcher.capture import Capture
from hookcatcher.ingest import build_capture, parse_body
from hookcatcher.redact import (MARKER, header_value, is_secret_name, redacted,
                                redacted_text)
from hookcatcher.validation import Validator

from conftest import fixture

APIKEY = "EVO-INSTANCE-TOKEN-7c1f9e"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhcHAiOiJldm9sdXRpb24iLCJhY3Rpb24iOiJ3ZWJob29rIn0"
       ".c2lnbmF0dXJlLW5vdC1yZWFs")
WHAPI_TOKEN = "whapi-channel-token-5b2d"


def capture_of(validator: Validator, raw: bytes, headers: list[tuple[str, str]] | None = None,
               query: str = "", path: str = "/webhook") -> Capture:
    return build_capture(validator, "POST", path, query,
                         headers if headers is not None else [("content-type", "application/json")],
                         "127.0.0.1:40000", raw)


def evolution_with_secrets(validator: Validator, indent: int | None = None) -> Capture:
    """An Evolution v2 instance.create with the instance token exposed and a jwt_key
    webhook's Bearer header, as the gateway would send it."""
    body = fixture("evolution/v2/instance.create")["body"]
    body["apikey"] = APIKEY
    return capture_of(validator, json.dumps(body, indent=indent).encode(), [
        ("content-type", "application/json"), ("user-agent", "axios/1.7.9"),
        ("Authorization", f"Bearer {JWT}")])


def shape(value: Any) -> Any:
    """Keys and list lengths, without the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return None


def test_evolution_apikey_and_jwt_bearer_are_hidden_and_the_capture_is_untouched(
        validator: Validator) -> None:
    capture = evolution_with_secrets(validator)
    before = copy.deepcopy(capture.to_json())
    shown = redacted(capture)
    assert shown.body["apikey"] == MARKER and shown.header("authorization") == f"Bearer {MARKER}"
    assert shown.header("user-agent") == "axios/1.7.9"
    everything = json.dumps(shown.to_json(include_raw=True))
    assert APIKEY not in everything and JWT not in everything
    assert json.loads(shown.raw) == shown.body
    assert capture.to_json() == before and APIKEY.encode() in capture.raw


def test_a_capture_without_secrets_is_given_back_as_it_is(validator: Validator) -> None:
    capture = capture_of(validator, json.dumps(fixture("evolution/v2/connection.update.open")
                                               ["body"]).encode())
    assert capture.body["apikey"] is None  # null is not a secret
    assert redacted(capture) is capture


def test_the_senders_layout_survives_only_the_secret_changes(validator: Validator) -> None:
    capture = evolution_with_secrets(validator, indent=4)
    assert redacted(capture).raw == capture.raw.replace(APIKEY.encode(), MARKER.encode())


def test_secrets_escaped_in_the_raw_json_are_still_hidden(validator: Validator) -> None:
    """`\\u0041` is `A`: no in-place swap can find it, so the body is written again."""
    raw = b'{"event": "x", "apikey": "\\u0041BC-SECRET-1", "text": "ol\\u00e1"}'
    shown = redacted(capture_of(validator, raw))
    assert shown.raw == '{"event":"x","apikey":"[redacted]","text":"olá"}'.encode()
    assert b"SECRET" not in shown.raw


def test_secret_fields_at_any_depth_in_every_spelling(validator: Validator) -> None:
    body = {
        "event": "custom",
        "data": {"api_key": "k-1111", "apiKey": "k-2222", "nested": [{"access_token": "t-3333",
                 "Password": "p-4444", "client_secret": "s-5555", "token": 66667777}]},
        "auth": {"user": "u-8888", "list": ["v-9999"]},
        "jwt": "",
        "secret": None,
        "token": True,
        "mediaKey": "Pwfbkl5aAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "messageSecret": "q1xZEXAMPLEsecretAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "keyId": "3EB0C767D26A1D8A1F2B",
    }
    capture = capture_of(validator, json.dumps(body).encode())
    shown = redacted(capture)
    assert shape(shown.body) == shape(body)
    for secret in ("k-1111", "k-2222", "t-3333", "p-4444", "s-5555", "66667777", "u-8888",
                   "v-9999"):
        assert secret not in shown.raw.decode()
    assert shown.body["data"]["nested"][0]["token"] == MARKER
    assert shown.body["auth"] == {"user": MARKER, "list": [MARKER]}
    # Nothing to hide in empty, null and boolean values; WhatsApp's own keys are message data.
    assert (shown.body["jwt"], shown.body["secret"], shown.body["token"]) == ("", None, True)
    for kept in ("mediaKey", "messageSecret", "keyId"):
        assert shown.body[kept] == body[kept]


@pytest.mark.parametrize("name, field", [
    ("evolution/v2/error", "api_key"),
    ("evolution/v2/instance.create", "apikey"),
])
def test_evolution_bundled_fixtures_with_a_key_lose_it(validator: Validator, name: str,
                                                       field: str) -> None:
    body = fixture(name)["body"]
    assert body[field].startswith("EXAMPLE-")
    shown = redacted(capture_of(validator, json.dumps(body).encode()))
    assert shown.body[field] == MARKER and body[field].encode() not in shown.raw


@pytest.mark.parametrize("name, path", [
    ("evolution/v1/new.jwt", ("data", "jwt")),
    ("codechat/v1.3/new.jwt", ("auth",)),
])
def test_renewed_tokens_are_hidden(validator: Validator, name: str, path: tuple[str, ...]) -> None:
    body = fixture(name)["body"]
    shown = redacted(capture_of(validator, json.dumps(body).encode()))
    value, original = shown.body, body
    for key in path:
        value, original = value[key], original[key]
    assert value == MARKER and original.encode() not in shown.raw


def test_jwts_and_token_parameters_inside_any_text_are_hidden(validator: Validator) -> None:
    body = {"event": "messages.upsert",
            "destination": f"https://app.example/hook?token={APIKEY}&x=1",
            "data": {"text": f"my login is {JWT} ok"}}
    shown = redacted(capture_of(validator, json.dumps(body).encode()))
    assert shown.body["destination"] == f"https://app.example/hook?token={MARKER}&x=1"
    assert shown.body["data"]["text"] == f"my login is {MARKER} ok"


def test_headers_whapi_and_custom_tokens_cookies_and_schemes() -> None:
    assert header_value("Authorization", f"Bearer {WHAPI_TOKEN}") == f"Bearer {MARKER}"
    assert header_value("proxy-authorization", "Basic eDp5") == f"Basic {MARKER}"
    assert header_value("Authorization", WHAPI_TOKEN) == MARKER
    for name in ("apikey", "x-api-key", "X-Whapi-Token", "token", "x-auth-token",
                 "X-Webhook-Secret"):
        assert header_value(name, "abc def") == MARKER, name
    assert header_value("Cookie", "session=s3cr3t; theme=dark") == MARKER
    assert header_value("Set-Cookie", "session=s3cr3t; HttpOnly") == MARKER
    assert header_value("x-forwarded-for", "10.0.0.1") == "10.0.0.1"
    assert header_value("referer", f"http://app/?access_token={WHAPI_TOKEN}") == \
        f"http://app/?access_token={MARKER}"
    assert header_value("x-anything", JWT) == MARKER
    assert header_value("content-type", "multipart/form-data; boundary=x") == \
        "multipart/form-data; boundary=x"
    assert header_value("authorization", "") == ""


def test_query_parameters(validator: Validator) -> None:
    capture = capture_of(validator, b"{}", query=f"apikey={APIKEY}&owner=5511@s.whatsapp.net"
                                                   f"&access_token=abc&token=&api%5Fkey=zzz")
    assert redacted(capture).query == (f"apikey={MARKER}&owner=5511@s.whatsapp.net"
                                       f"&access_token={MARKER}&token=&api%5Fkey={MARKER}")


def test_bodies_that_are_not_json_are_redacted_by_pattern(validator: Validator) -> None:
    raw = (f"apikey={APIKEY}&name=Zé&jwt={JWT}".encode() + b"\n"
           + f'{{"token": "{WHAPI_TOKEN}", "n": 1, "password": 12345, "event": "x"'.encode()
           + b"\xff\xfe")
    capture = capture_of(validator, raw, headers=[("content-type", "text/plain")])
    assert capture.validation.status == "not-json"
    shown = redacted(capture)
    assert shown.raw == (f"apikey={MARKER}&name=Zé&jwt={MARKER}".encode() + b"\n"
                         + f'{{"token": "{MARKER}", "n": 1, "password": "{MARKER}", "event": "x"'
                         .encode() + b"\xff\xfe")


def test_validation_messages_do_not_quote_the_secret(validator: Validator) -> None:
    body = fixture("evolution/v2/instance.create")["body"]
    body["apikey"] = 987654321  # the schema wants a string or null
    capture = capture_of(validator, json.dumps(body).encode())
    assert "987654321" in json.dumps(capture.validation.to_json())
    shown = redacted(capture)
    assert shown.validation.status == "invalid"
    assert "987654321" not in json.dumps(shown.validation.to_json())
    assert [p.path for p in shown.validation.errors] == [p.path for p in capture.validation.errors]


def test_path_query_parts_and_route_base(validator: Validator) -> None:
    capture = capture_of(validator, b"{}", path=f"/hook/{JWT}")
    shown = redacted(capture)
    assert shown.path == f"/hook/{MARKER}" and JWT not in shown.route.base


def test_names_and_free_text() -> None:
    assert is_secret_name("API-Key") and is_secret_name("access_token") and is_secret_name("JWT")
    assert not is_secret_name("keyId") and not is_secret_name("messageSecret")
    assert redacted_text("nothing here") == "nothing here"
    assert redacted_text("a=1&secret=xyz#frag") == f"a=1&secret={MARKER}#frag"


def test_every_bundled_fixture_keeps_its_shape_and_still_parses(validator: Validator) -> None:
    for item in fixtures.bundled():
        capture = capture_of(validator, item.raw(), [list(h) for h in item.headers])
        shown = redacted(capture)
        body, problem = parse_body(shown.raw)
        assert problem is None and body == shown.body, item.name
        assert shape(shown.body) == shape(capture.body), item.name


def test_bytes_that_are_not_utf8_keep_every_other_byte(validator: Validator) -> None:
    raw = base64.b64decode("/9j/4AAQSkZJRgABAQ==") + b"token=abc&" + b"\x80\x81"
    shown = redacted(capture_of(validator, raw, headers=[("content-type", "image/jpeg")]))
    assert shown.raw == raw.replace(b"token=abc", b"token=" + MARKER.encode())


def test_form_fields_are_redacted_in_the_body_and_the_raw_bytes(validator: Validator) -> None:
    capture = build_capture(validator, "POST", "/", "",
                            [("content-type", "application/x-www-form-urlencoded")], "",
                            b"apikey=FORM-SECRET-1&name=Ana")
    shown = redacted(capture)
    assert capture.validation.status == "form"
    assert shown.body == {"apikey": MARKER, "name": "Ana"}
    assert b"FORM-SECRET-1" not in shown.raw and b"name=Ana" in shown.raw
    assert capture.body["apikey"] == "FORM-SECRET-1"  # the stored capture is untouched


def test_a_compressed_body_is_shown_decoded_and_redacted(validator: Validator) -> None:
    import gzip

    body = {**fixture("evolution/v2/messages.upsert.text")["body"], "apikey": "GZ-SECRET-2"}
    capture = build_capture(validator, "POST", "/", "", [("content-encoding", "gzip"),
                                                         ("content-type", "application/json")],
                            "", gzip.compress(json.dumps(body).encode()))
    shown = redacted(capture)
    assert json.loads(shown.raw)["apikey"] == MARKER  # plain JSON now, so no encoding header
    assert [name for name, _ in shown.headers] == ["content-type"]
    assert shown.decoded_size is None and capture.decoded_size is not None
