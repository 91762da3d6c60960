"""QR codes: found in every gateway's QR event, explained when absent, and drawn in half blocks
that read back to exactly the code's modules (which is what a phone's camera needs)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from helpers.bundled import fixture, fixtures_root

from hookcatcher.check.validation import Validator
from hookcatcher.core import qr
from hookcatcher.core.capture import Capture
from hookcatcher.receive.ingest import build_capture

FIXTURE_TEXT = "2@EXAMPLEexampleEXAMPLE==,EXAMPLEkey1=,EXAMPLEkey2=,EXAMPLEkey3="
WHAPI_TEXT = (
    "2@ExampleQrRowData0000000000,Zm9vYmFyZXhhbXBsZQ==,YmFyZm9vZXhhbXBsZQ==,ZXhhbXBsZWtleQ=="
)
LIMIT = 'no QR code: the gateway says "QR code limit reached, please login again" (statusCode 500)'

# fixture -> (text, instance, source, pairing_code, expires, count)
FOUND: dict[str, tuple[str, str, str, str | None, str | None, int | None]] = {
    "evolution/v2/qrcode.updated": (FIXTURE_TEXT, "sales", "$.data.qrcode.code", None, None, None),
    "codechat/v1.3/qrcode.updated": (FIXTURE_TEXT, "support", "$.data.qrcode.code", None, None, 1),
    "codechat/v2/qrcode.updated": (FIXTURE_TEXT, "helpdesk", "$.data.code", None, None, None),
    "codechat/2026/qrcode.updated": (
        FIXTURE_TEXT,
        "support",
        "$.data.code",
        None,
        "expires in 60 s (at 2026-07-04T18:01:00Z)",
        1,
    ),
    "whapi/channel.patch.qr": (
        WHAPI_TEXT,
        "EXAMPLE-M72HC",
        "$.qr.rowdata",
        None,
        "expires in 20 s",
        None,
    ),
}
REFUSED = {"evolution/v2/qrcode.updated.limit", "codechat/v1.3/qrcode.updated.limit"}


def capture_of(
    validator: Validator, name: str, body: Any = None, headers: list[tuple[str, str]] | None = None
) -> Capture:
    """A real capture of a fixture (or of `body` sent with the fixture's headers)."""
    document = fixture(name)
    raw = json.dumps(document["body"] if body is None else body).encode()
    sent = [(key, value) for key, value in document["headers"]] if headers is None else headers
    capture = build_capture(validator, "POST", "/webhook", "", sent, "127.0.0.1:50000", raw)
    assert (capture.provider, capture.event) == (document["provider"], document["event"])
    return capture


def ink_grid(lines: list[str]) -> list[list[bool]]:
    """Half-block lines back into module rows: True where a block covers the module."""
    halves = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}
    grid: list[list[bool]] = []
    for line in lines:
        pairs = [halves[char] for char in line]
        grid.append([top for top, _ in pairs])
        grid.append([bottom for _, bottom in pairs])
    return grid


def with_quiet_zone(modules: list[list[bool]], quiet_zone: int) -> list[list[bool]]:
    size = len(modules) + 2 * quiet_zone
    margin = [False] * quiet_zone
    return (
        [[False] * size for _ in range(quiet_zone)]
        + [margin + row + margin for row in modules]
        + [[False] * size for _ in range(quiet_zone)]
    )


def test_every_bundled_qr_fixture_is_listed_here() -> None:
    root = fixtures_root()
    names = {
        path.relative_to(root).with_suffix("").as_posix()
        for pattern in ("**/qrcode.updated*.json", "**/channel.patch.qr*.json")
        for path in root.glob(pattern)
    }
    assert names == set(FOUND) | REFUSED


@pytest.mark.parametrize("name", sorted(FOUND))
def test_find_in_each_gateways_qr_event(validator: Validator, name: str) -> None:
    text, instance, source, pairing, expires, count = FOUND[name]
    capture = capture_of(validator, name)
    found = qr.find(capture)
    assert found == qr.QrCode(
        text=text,
        provider=capture.provider,
        instance=instance,
        pairing_code=pairing,
        expires=expires,
        source=source,
        count=count,
    )
    assert qr.explain(capture) == f"QR code at {source}" + (f", {expires}" if expires else "")


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_limit_reached_has_no_qr_and_says_so(validator: Validator, name: str) -> None:
    capture = capture_of(validator, name)
    assert qr.find(capture) is None
    assert qr.explain(capture) == LIMIT


@pytest.mark.parametrize(
    "name, why",
    [
        ("evolution/v2/messages.upsert.text", "evolution messages.upsert is not a QR code event"),
        ("whapi/channel.post.health", "whapi channel/post is not a QR code event"),
        (
            "codechat/2026/connection.update.connected",
            "codechat connection.update is not a QR code event",
        ),
    ],
)
def test_other_events_are_not_qr_codes(validator: Validator, name: str, why: str) -> None:
    capture = capture_of(validator, name)
    assert qr.find(capture) is None
    assert qr.explain(capture) == why


def test_pairing_codes_under_both_spellings(validator: Validator) -> None:
    evolution = copy.deepcopy(fixture("evolution/v2/qrcode.updated")["body"])
    evolution["data"]["qrcode"]["pairingCode"] = "V37R3T7X"
    found = qr.find(capture_of(validator, "evolution/v2/qrcode.updated", evolution))
    assert found is not None and found.pairing_code == "V37R3T7X"

    codechat = copy.deepcopy(fixture("codechat/v1.3/qrcode.updated")["body"])
    codechat["data"]["qrcode"]["paringCode"] = "WZYEH1YY"  # CodeChat v1.3's own spelling
    found = qr.find(capture_of(validator, "codechat/v1.3/qrcode.updated", codechat))
    assert found is not None and found.pairing_code == "WZYEH1YY"


def test_codechat_v1_2_with_a_string_instance(validator: Validator) -> None:
    body = {
        "event": "qrcode.updated",
        "instance": "legacy",
        "data": {
            "qrcode": {
                "instance": "legacy",
                "code": FIXTURE_TEXT,
                "base64": "data:image/png;base64,AAAA",
            }
        },
    }
    capture = build_capture(
        validator,
        "POST",
        "/webhook/qrcode-updated",
        "",
        [("x-owner", "5511999999999@s.whatsapp.net")],
        "127.0.0.1:50000",
        json.dumps(body).encode(),
    )
    assert capture.provider == "codechat"
    found = qr.find(capture)
    assert found is not None
    assert (found.text, found.instance, found.source) == (
        FIXTURE_TEXT,
        "legacy",
        "$.data.qrcode.code",
    )


def test_only_a_png_is_explained(validator: Validator) -> None:
    body = copy.deepcopy(fixture("evolution/v2/qrcode.updated")["body"])
    del body["data"]["qrcode"]["code"]
    capture = capture_of(validator, "evolution/v2/qrcode.updated", body)
    assert qr.find(capture) is None
    assert (
        qr.explain(capture)
        == "this qrcode.updated carries no QR text (only a PNG at $.data.qrcode.base64)"
    )


def test_empty_codechat_qr_names_both_places(validator: Validator) -> None:
    body = copy.deepcopy(fixture("codechat/v2/qrcode.updated")["body"])
    body["data"] = {"code": "   "}
    capture = capture_of(validator, "codechat/v2/qrcode.updated", body)
    assert qr.find(capture) is None
    assert (
        qr.explain(capture)
        == "this qrcode.updated carries no QR text at $.data.qrcode.code or $.data.code"
    )


def test_whapi_qr_that_timed_out_is_not_drawn(validator: Validator) -> None:
    body = copy.deepcopy(fixture("whapi/channel.patch.qr")["body"])
    body["qr"]["status"] = "TIMEOUT"
    capture = capture_of(validator, "whapi/channel.patch.qr", body)
    assert qr.find(capture) is None
    assert qr.explain(capture) == "no QR code to scan: the gateway reports QR status TIMEOUT"


def test_find_on_a_capture_read_back_from_the_stream(validator: Validator) -> None:
    capture = capture_of(validator, "codechat/2026/qrcode.updated")
    again = Capture.from_json(capture.to_json(include_raw=False))
    assert qr.find(again) == qr.find(capture) is not None


def test_matrix_is_a_full_qr_code_with_dark_finders() -> None:
    modules = qr.matrix(FIXTURE_TEXT)
    size = len(modules)
    assert all(len(row) == size for row in modules)
    assert size >= 21 and (size - 17) % 4 == 0  # 17 + 4 * version: not a Micro QR
    finder = (
        [[True] * 7]
        + [[True] + [False] * 5 + [True]]
        + [[True, False, True, True, True, False, True]] * 3
        + [[True] + [False] * 5 + [True]]
        + [[True] * 7]
    )
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        assert [row[left : left + 7] for row in modules[top : top + 7]] == finder
    corner = [row[size - 7 :] for row in modules[size - 7 :]]
    assert corner != finder  # three finders only, so the orientation is fixed


def test_a_whatsapp_sized_payload_stays_at_level_l() -> None:
    text = "2@" + "Ab3+" * 59 + "x="  # 240 characters, mixed case: byte mode
    assert len(qr.matrix(text)) == 57  # version 10 at L; M would need 61


@pytest.mark.parametrize("quiet_zone", [0, 2, 4])
@pytest.mark.parametrize("invert", [False, True])
def test_render_reads_back_to_the_modules(quiet_zone: int, invert: bool) -> None:
    lines = qr.render(FIXTURE_TEXT, quiet_zone=quiet_zone, invert=invert)
    expected = with_quiet_zone(qr.matrix(FIXTURE_TEXT), quiet_zone)
    ink = ink_grid(lines)
    dark = [[cell == invert for cell in row] for row in ink]
    assert dark[:-1] == expected
    assert not any(dark[-1])  # the one extra row that evens the count is light, like the zone
    assert len(dark) == len(expected) + 1


def test_default_draws_light_modules_as_blocks() -> None:
    lines = qr.render(FIXTURE_TEXT)
    assert set(lines[0]) == {"█"}  # the top quiet zone: light, so drawn
    # quiet zone, then the finder's top edge (dark, blank) over its light inside (lower blocks)
    assert lines[1][:9] == "██ ▄▄▄▄▄ "
    inverted = qr.render(FIXTURE_TEXT, invert=True)
    assert set(inverted[0]) == {" "}
    assert inverted[1][:9] == "  █▀▀▀▀▀█"


def test_render_lines_have_one_width_that_fits_a_terminal() -> None:
    lines = qr.render(FIXTURE_TEXT)
    size = len(qr.matrix(FIXTURE_TEXT)) + 4
    assert {len(line) for line in lines} == {size}
    assert size < 60
    assert len(lines) == (size + 1) // 2


def test_long_text_still_renders() -> None:
    lines = qr.render("x" * 2000)
    assert len({len(line) for line in lines}) == 1
    assert len(lines[0]) == len(qr.matrix("x" * 2000)) + 4


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "x" * 3000,
            "QR text is too long for a QR code: 3000 characters (3000 bytes as UTF-8); "
            "the largest code holds 2953 bytes",
        ),
        ("", "QR text is empty: there is nothing to encode"),
    ],
)
def test_text_that_cannot_be_encoded(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        qr.render(text)
    assert str(caught.value) == message


def test_negative_quiet_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="quiet_zone must be 0 or more modules, not -1"):
        qr.render(FIXTURE_TEXT, quiet_zone=-1)


def test_may_carry_picks_the_rows_worth_fetching() -> None:
    assert qr.may_carry("evolution", "qrcode.updated")
    assert qr.may_carry("codechat", "qrcode.updated")
    assert qr.may_carry("whapi", "channel/patch")
    assert not qr.may_carry("evolution", "messages.upsert")
    assert not qr.may_carry("whapi", "messages/post")
    assert not qr.may_carry("unknown", None)
