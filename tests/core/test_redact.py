"""Redaction: the secrets each gateway sends (Evolution's body `apikey` and `jwt_key` Bearer
JWT, Whapi's and CodeChat's tokens, custom auth headers) are hidden in the copy every export
and screen reads, the body keeps its shape and layout, and the stored capture is untouched."""

from __future__ import annotations

import base64
import copy
import json
import time
from typing import Any
from urllib.parse import unquote

import pytest
from helpers.bundled import fixture

from hookcatcher.check.validation import Validator
from hookcatcher.core.body import parse_body
from hookcatcher.core.capture import Capture
from hookcatcher.core.redact import redacted
from hookcatcher.core.secrets import (
    MARKER,
    header_value,
    instance_name,
    is_secret_name,
    redacted_text,
)
from hookcatcher.files import fixtures
from hookcatcher.receive.ingest import build_capture

APIKEY = "EVO-INSTANCE-TOKEN-7c1f9e"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhcHAiOiJldm9sdXRpb24iLCJhY3Rpb24iOiJ3ZWJob29rIn0"
    ".c2lnbmF0dXJlLW5vdC1yZWFs"
)
WHAPI_TOKEN = "whapi-channel-token-5b2d"


def capture_of(
    validator: Validator,
    raw: bytes,
    headers: list[tuple[str, str]] | None = None,
    query: str = "",
    path: str = "/webhook",
) -> Capture:
    return build_capture(
        validator,
        "POST",
        path,
        query,
        headers if headers is not None else [("content-type", "application/json")],
        "127.0.0.1:40000",
        raw,
    )


def evolution_with_secrets(validator: Validator, indent: int | None = None) -> Capture:
    """An Evolution v2 instance.create with the instance token exposed and a jwt_key
    webhook's Bearer header, as the gateway would send it."""
    body = fixture("evolution/v2/instance.create")["body"]
    body["apikey"] = APIKEY
    return capture_of(
        validator,
        json.dumps(body, indent=indent).encode(),
        [
            ("content-type", "application/json"),
            ("user-agent", "axios/1.7.9"),
            ("Authorization", f"Bearer {JWT}"),
        ],
    )


def shape(value: Any) -> Any:
    """Keys and list lengths, without the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return None


def test_evolution_apikey_and_jwt_bearer_are_hidden_and_the_capture_is_untouched(
    validator: Validator,
) -> None:
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
    capture = capture_of(
        validator, json.dumps(fixture("evolution/v2/connection.update.open")["body"]).encode()
    )
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
        "data": {
            "api_key": "k-1111",
            "apiKey": "k-2222",
            "nested": [
                {
                    "access_token": "t-3333",
                    "Password": "p-4444",
                    "client_secret": "s-5555",
                    "token": 66667777,
                }
            ],
        },
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
    for secret in (
        "k-1111",
        "k-2222",
        "t-3333",
        "p-4444",
        "s-5555",
        "66667777",
        "u-8888",
        "v-9999",
    ):
        assert secret not in shown.raw.decode()
    assert shown.body["data"]["nested"][0]["token"] == MARKER
    assert shown.body["auth"] == {"user": MARKER, "list": [MARKER]}
    # Nothing to hide in empty, null and boolean values; WhatsApp's own keys are message data.
    assert (shown.body["jwt"], shown.body["secret"], shown.body["token"]) == ("", None, True)
    for kept in ("mediaKey", "messageSecret", "keyId"):
        assert shown.body[kept] == body[kept]


@pytest.mark.parametrize(
    "name, field",
    [
        ("evolution/v2/error", "api_key"),
        ("evolution/v2/instance.create", "apikey"),
    ],
)
def test_evolution_bundled_fixtures_with_a_key_lose_it(
    validator: Validator, name: str, field: str
) -> None:
    body = fixture(name)["body"]
    assert body[field].startswith("EXAMPLE-")
    shown = redacted(capture_of(validator, json.dumps(body).encode()))
    assert shown.body[field] == MARKER and body[field].encode() not in shown.raw


@pytest.mark.parametrize(
    "name, path",
    [
        ("evolution/v1/new.jwt", ("data", "jwt")),
        ("codechat/v1.3/new.jwt", ("auth",)),
    ],
)
def test_renewed_tokens_are_hidden(validator: Validator, name: str, path: tuple[str, ...]) -> None:
    body = fixture(name)["body"]
    shown = redacted(capture_of(validator, json.dumps(body).encode()))
    value, original = shown.body, body
    for key in path:
        value, original = value[key], original[key]
    assert value == MARKER and original.encode() not in shown.raw


def test_jwts_and_token_parameters_inside_any_text_are_hidden(validator: Validator) -> None:
    body = {
        "event": "messages.upsert",
        "destination": f"https://app.example/hook?token={APIKEY}&x=1",
        "data": {"text": f"my login is {JWT} ok"},
    }
    shown = redacted(capture_of(validator, json.dumps(body).encode()))
    assert shown.body["destination"] == f"https://app.example/hook?token={MARKER}&x=1"
    assert shown.body["data"]["text"] == f"my login is {MARKER} ok"


def test_headers_whapi_and_custom_tokens_cookies_and_schemes() -> None:
    assert header_value("Authorization", f"Bearer {WHAPI_TOKEN}") == f"Bearer {MARKER}"
    assert header_value("proxy-authorization", "Basic eDp5") == f"Basic {MARKER}"
    assert header_value("Authorization", WHAPI_TOKEN) == MARKER
    for name in (
        "apikey",
        "x-api-key",
        "X-Whapi-Token",
        "token",
        "x-auth-token",
        "X-Webhook-Secret",
    ):
        assert header_value(name, "abc def") == MARKER, name
    assert header_value("Cookie", "session=s3cr3t; theme=dark") == MARKER
    assert header_value("Set-Cookie", "session=s3cr3t; HttpOnly") == MARKER
    assert header_value("x-forwarded-for", "10.0.0.1") == "10.0.0.1"
    assert (
        header_value("referer", f"http://app/?access_token={WHAPI_TOKEN}")
        == f"http://app/?access_token={MARKER}"
    )
    assert header_value("x-anything", JWT) == MARKER
    assert (
        header_value("content-type", "multipart/form-data; boundary=x")
        == "multipart/form-data; boundary=x"
    )
    assert header_value("authorization", "") == ""


def test_query_parameters(validator: Validator) -> None:
    capture = capture_of(
        validator,
        b"{}",
        query=f"apikey={APIKEY}&owner=5511@s.whatsapp.net&access_token=abc&token=&api%5Fkey=zzz",
    )
    assert redacted(capture).query == (
        f"apikey={MARKER}&owner=5511@s.whatsapp.net&access_token={MARKER}&token=&api%5Fkey={MARKER}"
    )


def test_bodies_that_are_not_json_are_redacted_by_pattern(validator: Validator) -> None:
    raw = (
        f"apikey={APIKEY}&name=Zé&jwt={JWT}".encode()
        + b"\n"
        + f'{{"token": "{WHAPI_TOKEN}", "n": 1, "password": 12345, "event": "x"'.encode()
        + b"\xff\xfe"
    )
    capture = capture_of(validator, raw, headers=[("content-type", "text/plain")])
    assert capture.validation.status == "not-json"
    shown = redacted(capture)
    assert shown.raw == (
        f"apikey={MARKER}&name=Zé&jwt={MARKER}".encode()
        + b"\n"
        + f'{{"token": "{MARKER}", "n": 1, "password": "{MARKER}", "event": "x"'.encode()
        + b"\xff\xfe"
    )


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
    capture = build_capture(
        validator,
        "POST",
        "/",
        "",
        [("content-type", "application/x-www-form-urlencoded")],
        "",
        b"apikey=FORM-SECRET-1&name=Ana",
    )
    shown = redacted(capture)
    assert capture.validation.status == "form"
    assert shown.body == {"apikey": MARKER, "name": "Ana"}
    assert b"FORM-SECRET-1" not in shown.raw and b"name=Ana" in shown.raw
    assert capture.body["apikey"] == "FORM-SECRET-1"  # the stored capture is untouched


def test_a_compressed_body_is_shown_decoded_and_redacted(validator: Validator) -> None:
    import gzip

    body = {**fixture("evolution/v2/messages.upsert.text")["body"], "apikey": "GZ-SECRET-2"}
    capture = build_capture(
        validator,
        "POST",
        "/",
        "",
        [("content-encoding", "gzip"), ("content-type", "application/json")],
        "",
        gzip.compress(json.dumps(body).encode()),
    )
    shown = redacted(capture)
    assert json.loads(shown.raw)["apikey"] == MARKER  # plain JSON now, so no encoding header
    assert [name for name, _ in shown.headers] == ["content-type"]
    assert shown.decoded_size is None and capture.decoded_size is not None


# -- every depth, every encoding (issue 15)


def test_bracketed_and_dotted_names_and_more_spellings(validator: Validator) -> None:
    for name in (
        "apikey[]",
        "data[apikey]",
        "data%5Bapikey%5D",
        "auth.user",
        "api_token",
        "secret_key",
        "apiToken",
        "SECRET-KEY",
    ):
        assert is_secret_name(unquote(name)), name
    for name in ("keyId", "messageSecret", "mediaKey", "data[text]", "tokens_used"):
        assert not is_secret_name(name), name
    query = "apikey[]=q-1&data[apikey]=q-2&data%5Bapikey%5D=q-3&api_token=q-4&secret_key=q-5&n=1"
    shown = redacted(capture_of(validator, b"{}", query=query)).query
    assert shown == (
        f"apikey[]={MARKER}&data[apikey]={MARKER}&data%5Bapikey%5D={MARKER}"
        f"&api_token={MARKER}&secret_key={MARKER}&n=1"
    )


@pytest.mark.parametrize(
    "header, payload, padded",
    [
        ('{"alg":"HS256","typ":"JWT"}', '{"sub":"1"}', False),
        ('{"alg":"HS256","typ":"JWT"}', '{"sub":"12"}', True),
        ('{ "alg": "HS256" }', '{ "sub": "1" }', True),
        ('{\n  "alg": "HS256"\n}', '{"sub":"1"}', False),
        ('{\r\n"alg":"RS256"}', "{}", False),
    ],
)
def test_jwts_whatever_the_header_spacing_or_padding(
    header: str, payload: str, padded: bool
) -> None:
    def part(text: str) -> str:
        encoded = base64.urlsafe_b64encode(text.encode()).decode()
        return encoded if padded else encoded.rstrip("=")

    jwt = f"{part(header)}.{part(payload)}.{part('a-signature')}"
    assert redacted_text(f"login={jwt}; x") == f"login={MARKER}; x"
    assert redacted_text(f"as name: {jwt}.") == f"as name: {MARKER}."
    assert redacted_text(f"glued:x{jwt}") == f"glued:x{MARKER}"


def test_dotted_words_are_no_jwts() -> None:
    for text in (
        "eyeglasses.com.br",
        "eworldwide.co.uk",
        "v1.2.3",
        "a.b.c",
        "eyJ.x.y",
        "https://eyJhbGciOiJ.example/x",
    ):
        assert redacted_text(text) == text, text


def test_every_value_of_a_repeated_key_is_hidden_and_the_layout_kept(validator: Validator) -> None:
    raw = (
        b'{"event": "x", "apikey": "FIRST-SECRET-1",\n "data": {"token": ["T-1", "T-2"],'
        b' "token": null}, "apikey": "LAST-SECRET-2"}'
    )
    capture = capture_of(validator, raw)
    assert any("duplicate key" in warning for warning in capture.warnings)
    shown = redacted(capture)
    assert shown.raw == (
        b'{"event": "x", "apikey": "[redacted]",\n "data": {"token": '
        b'["[redacted]", "[redacted]"], "token": null}, "apikey": "[redacted]"}'
    )
    assert shown.body == {"event": "x", "apikey": MARKER, "data": {"token": None}}


def test_repeated_keys_survive_when_the_body_is_written_again(validator: Validator) -> None:
    raw = b'{"apikey": "\\u0041-FIRST-3", "n": 1, "apikey": "B-LAST-4"}'
    shown = redacted(capture_of(validator, raw))
    assert shown.raw == b'{"apikey":"[redacted]","n":1,"apikey":"[redacted]"}'


def test_multipart_fields_named_as_secrets_are_hidden_in_the_bytes(validator: Validator) -> None:
    raw = (
        b'--B0\r\nContent-Disposition: form-data; name="apikey"\r\n\r\nMP-1\r\n'
        b'--B0\r\nContent-Disposition: form-data; name="data[token]"; filename="k.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nMP-2\r\n"
        b"--B0\r\nContent-Disposition: form-data; name*=utf-8''api%5Ftoken\r\n\r\nMP-3\r\n"
        b'--B0\r\nContent-Disposition: form-data; name="doc"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"password=MP-4") + b"\r\n"
        b'--B0\r\nContent-Disposition: form-data; name="filename"\r\n\r\nkeep me\r\n'
        b"--B0--\r\n"
    )
    capture = capture_of(
        validator, raw, headers=[("content-type", "multipart/form-data; boundary=B0")]
    )
    assert capture.validation.status == "form"
    shown = redacted(capture)
    for secret in (b"MP-1", b"MP-2", b"MP-3", base64.b64encode(b"password=MP-4")):
        assert secret not in shown.raw
    assert shown.raw.count(MARKER.encode()) == 4 and b"keep me" in shown.raw
    assert shown.raw.replace(MARKER.encode(), b"").count(b"\r\n") == raw.count(b"\r\n")
    assert shown.body["apikey"] == MARKER and shown.body["filename"] == "keep me"


def test_a_compressed_form_is_shown_decoded_and_redacted(validator: Validator) -> None:
    import gzip

    form = b"apikey=GZ-FORM-1&url=https%3A%2F%2Fapp%2Fh%3Ftoken%3DGZ-FORM-2&name=Z%C3%A9"
    capture = build_capture(
        validator,
        "POST",
        "/",
        "",
        [("content-type", "application/x-www-form-urlencoded"), ("content-encoding", "gzip")],
        "",
        gzip.compress(form),
    )
    shown = redacted(capture)
    assert shown.raw == (
        b"apikey=[redacted]&url=https%3A%2F%2Fapp%2Fh%3Ftoken%3D[redacted]&name=Z%C3%A9"
    )
    assert shown.header("content-encoding") is None and shown.decoded_size is None
    plain = build_capture(
        validator,
        "POST",
        "/",
        "",
        [("content-type", "application/x-www-form-urlencoded"), ("content-encoding", "gzip")],
        "",
        gzip.compress(b"name=Ana"),
    )
    assert redacted(plain) is plain  # nothing to hide: the bytes stay as received


def test_a_deflated_json_body_keeps_its_layout_once_decoded(validator: Validator) -> None:
    import zlib

    raw = b'{\n  "event": "x",\n  "token": "DEFLATE-1"\n}'
    capture = build_capture(
        validator,
        "POST",
        "/",
        "",
        [("content-type", "application/json"), ("content-encoding", "deflate")],
        "",
        zlib.compress(raw),
    )
    assert redacted(capture).raw == raw.replace(b"DEFLATE-1", MARKER.encode())


def test_arrays_and_objects_under_a_secret_name_in_bytes_that_are_not_json(
    validator: Validator,
) -> None:
    raw = (
        b'x {"apikey": ["NJ-1", {"a": "NJ-2"}], "token": {"b": [1, "NJ-3"]}, "n": [1],'
        b' "secret": true, "password": "", "auth": "NJ-4", "jwt": {"never": "closed NJ-5'
    )
    shown = redacted(capture_of(validator, raw, headers=[("content-type", "text/plain")]))
    assert shown.raw == (
        b'x {"apikey": "[redacted]", "token": "[redacted]", "n": [1],'
        b' "secret": true, "password": "", "auth": "[redacted]", "jwt": '
        b'"[redacted]"'
    )


def test_json_inside_a_string_value_is_redacted_too(validator: Validator) -> None:
    body = {"event": "x", "note": json.dumps({"apikey": ["IN-STRING-1"], "n": 2})}
    shown = redacted(capture_of(validator, json.dumps(body).encode()))
    assert json.loads(shown.body["note"]) == {"apikey": MARKER, "n": 2}
    assert b"IN-STRING-1" not in shown.raw


def test_a_non_ascii_secret_is_not_quoted_by_a_message(validator: Validator) -> None:
    body = fixture("evolution/v1/new.jwt")["body"]
    body["data"]["jwt"] = "sécrèt-jwt-çãõ-long-enough-to-be-cut-at-57-characters-by-messages"
    capture = capture_of(validator, json.dumps(body, ensure_ascii=False).encode())
    (problem,) = capture.validation.errors
    assert "s\\u00e9cr\\u00e8t" in problem.message  # quoted, escaped and cut
    (shown,) = redacted(capture).validation.errors
    assert "cr" not in shown.message.split("got", 1)[1] and MARKER in shown.message


def test_names_of_the_instance_the_event_and_the_route_are_redacted(validator: Validator) -> None:
    body = {**fixture("evolution/v2/messages.upsert.text")["body"], "instance": JWT}
    capture = capture_of(validator, json.dumps(body).encode())
    assert capture.instance == JWT
    shown = redacted(capture)
    assert shown.instance == MARKER and JWT not in json.dumps(shown.to_json())
    assert fixtures.document_of(shown)["title"].startswith(
        f"captured messages.upsert from {MARKER} at "
    )


def test_a_whapi_channel_is_named_by_the_end_of_its_token() -> None:
    assert instance_name("whapi", WHAPI_TOKEN + "-0123456789") == "[redacted …6789]"
    assert instance_name("whapi", "short") == MARKER
    assert instance_name("whapi", "default") == "default"
    assert instance_name("evolution", "sales") == "sales"
    assert instance_name("evolution", JWT) == MARKER


@pytest.mark.parametrize(
    "text",
    [
        "eyJ" * 40_000,
        "eyJhbGciOiJIUzI1NiJ9." * 6_000,
        '"apikey": [' * 12_000,
        '"token": "' * 12_000,
        "token=" * 20_000,
        "[" * 120_000,
    ],
    ids=["jwt-starts", "jwt-headers", "open-arrays", "open-strings", "parameters", "brackets"],
)
def test_hostile_text_is_redacted_in_linear_time(validator: Validator, text: str) -> None:
    """120 KB of each: a backtracking pattern took seconds (quadratic), this takes
    milliseconds; 1 s leaves room for a busy machine."""
    started = time.monotonic()
    redacted_text(text)
    redacted(capture_of(validator, text.encode(), headers=[("content-type", "text/plain")]))
    assert time.monotonic() - started < 1


def test_a_delivery_to_the_app_is_redacted_with_its_capture(validator: Validator) -> None:
    """An app may echo what it was sent, and the capture's query rides along in the URL."""
    from dataclasses import replace

    from hookcatcher.core.capture import Forward

    capture = capture_of(validator, b'{"event": "messages.upsert", "instance": "s", "data": {}}')
    echoed = json.dumps({"apikey": "K-secret-1", "got": "ok"})
    forward = Forward(
        target="http://127.0.0.1:3000/hook",
        url="http://127.0.0.1:3000/hook?token=T-secret-2",
        at="",
        status=200,
        elapsed_ms=1.0,
        response_headers=(("Authorization", "Bearer B-secret-3"), ("Content-Type", "json")),
        response_body=echoed,
        response_size=len(echoed),
    )
    shown = redacted(replace(capture, body=capture.body, forwards=[forward]))
    [hidden] = shown.forwards
    text = json.dumps(hidden.to_json())
    for secret in ("K-secret-1", "T-secret-2", "B-secret-3"):
        assert secret not in text
    assert hidden.status == 200 and ("Content-Type", "json") in hidden.response_headers
    assert "ok" in hidden.response_body
