"""QR codes for linking WhatsApp: find one in a capture and draw it in a terminal.

A gateway that is not linked yet keeps sending the QR code's text; the user scans it with the
phone. The text sits at a different place for each gateway generation, so those places are one
table here (`_PLACES`); the image the gateways also send is never decoded, since redrawing the
QR from its text is exact and needs no image library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import segno

from hookcatcher.core.capture import Capture
from hookcatcher.core.jsonpath import json_path

__all__ = ["QrCode", "find", "explain", "may_carry", "matrix", "render"]

_QR_EVENT = "qrcode.updated"
# Whapi's QR statuses for a code that can no longer be scanned.
_DEAD_STATUSES = frozenset({"TIMEOUT", "ERROR"})


@dataclass(frozen=True, slots=True)
class QrCode:
    """A QR code a gateway asks the user to scan, with what the UI shows beside it."""

    text: str  # the payload to encode (`2@...,...`), not the PNG
    provider: str
    instance: str | None
    pairing_code: str | None  # the 8-character code for "link with phone number" instead
    expires: str | None  # "expires in 20 s", "expires at <time>", or both
    source: str  # where the text was found, e.g. `$.data.qrcode.code`
    count: int | None = None  # which code of this linking attempt (1, 2, ...), when sent


@dataclass(frozen=True, slots=True)
class _Place:
    """Where one gateway generation puts its QR code: the object holding it and its keys."""

    provider: str
    event: str | None  # the event that carries it; None: any event with the object
    at: tuple[str, ...]  # the object holding the text
    text: str
    image: str = "base64"  # the same code as a PNG data URL
    pairing: tuple[str, ...] = ()
    expires_in: str | None = None  # seconds
    expires_at: str | None = None  # a timestamp
    status: str | None = None
    refusal: tuple[str, ...] | None = None  # the object holding {message, statusCode} instead


_PLACES: tuple[_Place, ...] = (
    # Evolution API v1 and v2; the limit body replaces `data` with {message, statusCode}.
    _Place(
        "evolution",
        _QR_EVENT,
        ("data", "qrcode"),
        "code",
        pairing=("pairingCode",),
        refusal=("data",),
    ),
    # CodeChat v1.0-1.3; v1.3 spells the pairing code `paringCode`.
    _Place(
        "codechat",
        _QR_EVENT,
        ("data", "qrcode"),
        "code",
        pairing=("pairingCode", "paringCode"),
        refusal=("data",),
    ),
    # CodeChat v2 and the 2026 rewrite (which adds count, expiresInSeconds, expiresAt).
    _Place(
        "codechat",
        _QR_EVENT,
        ("data",),
        "code",
        expires_in="expiresInSeconds",
        expires_at="expiresAt",
        refusal=("data",),
    ),
    # Whapi sends `qr` with channel/patch, but any event carrying it is taken.
    _Place("whapi", None, ("qr",), "rowdata", expires_in="expire", status="status"),
)


def find(capture: Capture) -> QrCode | None:
    """The QR code a capture asks the user to scan, or None (`explain` says why)."""
    for place in _places(capture):
        holder = _get(capture.body, place.at)
        text = holder.get(place.text) if isinstance(holder, dict) else None
        if not isinstance(text, str) or not text.strip() or _dead_status(place, holder):
            continue
        return QrCode(
            text=text,
            provider=capture.provider,
            instance=capture.instance,
            pairing_code=next(
                (
                    holder[key]
                    for key in place.pairing
                    if isinstance(holder.get(key), str) and holder[key]
                ),
                None,
            ),
            expires=_expires(
                holder.get(place.expires_in) if place.expires_in else None,
                holder.get(place.expires_at) if place.expires_at else None,
            ),
            source=json_path((*place.at, place.text)),
            count=_count(holder.get("count")),
        )
    return None


def may_carry(provider: str, event: str | None) -> bool:
    """Whether a capture of this provider and event is worth fetching to look for a QR code
    (the TUI decides from list rows, which have no body). Whapi sends its QR with channel
    events; elsewhere only the QR event does."""
    if provider == "whapi":
        return event is None or event.startswith("channel/")
    return any(place.provider == provider and place.event == event for place in _PLACES)


def explain(capture: Capture) -> str:
    """One line for the UI: where the QR code is, or why this capture has none to draw."""
    found = find(capture)
    if found is not None:
        return f"QR code at {found.source}" + (f", {found.expires}" if found.expires else "")
    places = [
        place
        for place in _places(capture)
        if place.event is not None or isinstance(_get(capture.body, place.at), dict)
    ]
    what = " ".join(part for part in (capture.provider, capture.event) if part) or "this request"
    if not places:
        return f"{what} is not a QR code event"
    for place in places:
        refused = _get(capture.body, place.refusal) if place.refusal else None
        if isinstance(refused, dict) and isinstance(refused.get("message"), str):
            status = refused.get("statusCode")
            suffix = f" (statusCode {status})" if status is not None else ""
            return f'no QR code: the gateway says "{refused["message"]}"{suffix}'
        holder = _get(capture.body, place.at)
        if isinstance(holder, dict) and _dead_status(place, holder):
            return f"no QR code to scan: the gateway reports QR status {holder[place.status]}"
    for place in places:
        holder = _get(capture.body, place.at)
        if isinstance(holder, dict) and isinstance(holder.get(place.image), str):
            image = json_path((*place.at, place.image))
            return f"this {capture.event or 'request'} carries no QR text (only a PNG at {image})"
    wanted = " or ".join(json_path((*place.at, place.text)) for place in places)
    return f"this {capture.event or 'request'} carries no QR text at {wanted}"


def matrix(text: str) -> list[list[bool]]:
    """The QR code's modules, True = dark, without a quiet zone.

    Error correction is L and never boosted: a terminal shows the code undamaged, so the
    extra redundancy of M would only make it larger (a real WhatsApp payload of 220-260
    characters is 53-57 modules at L but 61-65 at M). Always a full QR code, never a Micro QR,
    which phones do not all read."""
    if not text:
        raise ValueError("QR text is empty: there is nothing to encode")
    try:
        code = segno.make_qr(text, error="L", boost_error=False)
    except segno.DataOverflowError:
        raise ValueError(
            f"QR text is too long for a QR code: {len(text)} characters "
            f"({len(text.encode('utf-8'))} bytes as UTF-8); the largest code holds 2953 bytes"
        ) from None
    return [[bool(module) for module in row] for row in code.matrix_iter(scale=1, border=0)]


_GLYPHS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def render(text: str, quiet_zone: int = 2, invert: bool = False) -> list[str]:
    """The QR code as terminal lines of equal width, two modules per character cell.

    By default the LIGHT modules (and the quiet zone) are drawn as block characters and the
    dark ones left blank: on a dark-background terminal the blocks show in the light text
    colour, so the phone sees dark modules on light, the only polarity every scanner reads.
    `invert=True` draws the dark modules instead, for light-background terminals.
    The quiet zone is light on purpose: the terminal around it is dark. An odd number of rows
    gets one more light row below, so the last line's lower halves stay quiet zone."""
    if quiet_zone < 0:
        raise ValueError(f"quiet_zone must be 0 or more modules, not {quiet_zone}")
    grid = matrix(text)
    size = len(grid) + 2 * quiet_zone
    margin = [False] * quiet_zone
    rows = [[False] * size] * quiet_zone + [margin + row + margin for row in grid]
    # A QR code is 17 + 4 * version modules, so `size` is odd: one more light row evens it.
    rows += [[False] * size] * (quiet_zone + 1)
    ink = [[dark == invert for dark in row] for row in rows]
    return [
        "".join(_GLYPHS[top, bottom] for top, bottom in zip(ink[i], ink[i + 1], strict=True))
        for i in range(0, len(ink), 2)
    ]


def _places(capture: Capture) -> list[_Place]:
    return [
        place
        for place in _PLACES
        if place.provider == capture.provider
        and (place.event is None or place.event == capture.event)
    ]


def _get(body: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _dead_status(place: _Place, holder: dict[str, Any]) -> bool:
    return place.status is not None and holder.get(place.status) in _DEAD_STATUSES


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _expires(seconds: Any, at: Any) -> str | None:
    """A note for the UI; the seconds count from when the gateway sent the code."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        seconds = None
    at = at if isinstance(at, str) and at else None
    if seconds is not None:
        amount = int(seconds) if float(seconds).is_integer() else seconds
        return f"expires in {amount} s" + (f" (at {at})" if at else "")
    return f"expires at {at}" if at else None
