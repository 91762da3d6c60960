"""Who may use the server: hookcatcher's own API and the mocked gateway APIs behind `--token`,
captures behind `--ingest-token`, and neither from a web page on another origin.

One gate in front of every route decides, before the route runs, so an endpoint added later
is covered without remembering to. A token is taken from `Authorization: Bearer <token>`,
from `x-hookcatcher-token: <token>` or from `?token=<token>` (an EventSource cannot set
headers, and a gateway that cannot add headers to its webhook can still carry a query), and
on `/_gateway/` also from `apikey: <token>`, so an app's Evolution set-up code reaches the
mock with hookcatcher's token configured as its Evolution API key. On `/_gateway/`, an
`Authorization` header that carried hookcatcher's token is taken off before the mock sees
it: the Whapi mock names a channel by its bearer token, and the token must not become a
channel name shown by `/api/instances` (such a request configures the `default` channel).

Tokens are compared in constant time, as SHA-256 digests so that not even their length
shows. No answer repeats the expected token. There is no CORS: no answer carries
`Access-Control-Allow-Origin`, and a request to the API or the mocks that comes from a page
on another origin (its `Origin` is not the `Host` it was sent to) is refused, because CORS
only keeps a page from reading an answer, not from sending a form POST that changes state.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from starlette.types import Scope, Send

from hookcatcher.remote import HEADER

__all__ = ["Access", "Guard", "check_host", "exposure"]


@dataclass(frozen=True, slots=True)
class Access:
    """The tokens a server was started with; None leaves that part open."""

    token: str | None = None  # --token: /_hookcatcher/ and /_gateway/
    ingest_token: str | None = None  # --ingest-token: captures
    # --allow-host (and the name given with --host): Host names besides loopback names and
    # IP addresses that /_hookcatcher/ and /_gateway/ answer to.
    allow_hosts: tuple[str, ...] = ()


class Guard:
    """The gate the server puts in front of its routes and its captures. `refused` counts
    the captures answered 401, so a gateway configured without the ingest token shows up
    even though nothing it sent is stored."""

    def __init__(self, access: Access, api_prefix: str, gateway_prefix: str) -> None:
        self.refused = 0
        self.captures_open = access.ingest_token is None
        self._token = _digest(access.token)
        self._ingest = _digest(access.ingest_token)
        self._api = api_prefix
        self._gateway = gateway_prefix
        self._health = f"{api_prefix}/health"
        self._hosts = frozenset(name.lower().rstrip(".") for name in access.allow_hosts)

    async def admit(self, scope: Scope, send: Send) -> Scope | None:
        """The scope to hand to the routes, or None once the refusal has been answered."""
        if scope["type"] != "http":
            return scope  # no route serves anything but HTTP
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        host = _header(headers, b"host")
        if host is not None and not self._known_host(host):
            await _answer(scope, send, 403, {"error": self._unknown_host(host)})
            return None
        origin = _header(headers, b"origin")
        if origin is not None and not _same_origin(origin, _header(headers, b"host")):
            shown = origin.decode("latin-1")
            await _answer(
                scope,
                send,
                403,
                {
                    "error": (
                        f"requests from a web page on another origin ({shown}) are refused: "
                        f"{self._api}/ and {self._gateway}/ are for scripts and tools, and no web "
                        "page may read the captures or change the mocked gateways"
                    )
                },
            )
            return None
        if self._token is None:
            return scope
        path = scope["path"]
        gateway = path == self._gateway or path.startswith(self._gateway + "/")
        presented = _presented(scope, apikey=gateway)
        matched = [place for place, value in presented if _equal(value, self._token)]
        if matched:
            return (
                _without_authorization(scope) if gateway and "Authorization" in matched else scope
            )
        if path == self._health and scope["method"] in ("GET", "HEAD"):
            # Liveness for scripts waiting on a start; the details need the token.
            await _answer(scope, send, 200, {"status": "ok"})
            return None
        await _answer(
            scope, send, 401, {"error": self._why(gateway, presented)}, _challenge(presented)
        )
        return None

    def _known_host(self, host: bytes) -> bool:
        """Whether a Host names this machine in a way a web page cannot borrow: an IP
        address or a loopback name (`localhost`, `*.localhost`), or a name the user
        allowed. A page on a DNS-rebinding domain reaches 127.0.0.1 with its own domain
        in Host: refused here, as Jupyter, Vite and mitmweb do."""
        name = _host_name(host.decode("latin-1"))
        if name is None:
            return False
        return (
            name in self._hosts
            or name == "localhost"
            or name.endswith(".localhost")
            or _address(name) is not None
        )

    def _unknown_host(self, host: bytes) -> str:
        shown = host.decode("latin-1")[:100]
        name = _host_name(host.decode("latin-1"))
        how = (
            (
                f"if this is how you reach hookcatcher, start it with --allow-host {name} "
                "(or HOOKCATCHER_ALLOW_HOST)"
            )
            if name
            else "send the address it listens on"
        )
        return (
            f"Host {shown!r} is not a name this hookcatcher answers to on {self._api}/ "
            f"and {self._gateway}/: only IP addresses, localhost and names given with "
            f"--allow-host are (a web page on a DNS-rebinding domain sends its own name); "
            f"{how}"
        )

    def _why(self, gateway: bool, presented: list[tuple[str, bytes]]) -> str:
        where = f"{self._gateway}/" if gateway else f"{self._api}/"
        how = (
            "send Authorization: Bearer <token>, apikey: <token> (as the Evolution API "
            f"key), {HEADER}: <token> or ?token=<token>"
            if gateway
            else "send Authorization: Bearer <token> or ?token=<token>"
        )
        if not presented:
            return f"{where} needs the token given with --token: {how}"
        places = ", ".join(dict.fromkeys(place for place, _ in presented))
        return (
            f"{where} needs the token given with --token, and the credentials sent "
            f"({places}) do not hold it: {how}"
        )

    async def admit_capture(self, scope: Scope, send: Send) -> bool:
        """True when the capture may be taken; otherwise it is answered 401 with what to
        configure, and its body is never read in."""
        presented = _presented(scope, apikey=False)
        # Evolution's per-event mode appends `/<event>` to the configured URL even when it
        # ends in a query, so `?token=T` arrives as `?token=T/messages-upsert`.
        given = [value for _, value in presented] + [
            value.partition(b"/")[0]
            for place, value in presented
            if place == "?token=" and b"/" in value
        ]
        if any(_equal(value, self._ingest) for value in given):
            return True
        self.refused += 1
        sent = (
            ""
            if not presented
            else (
                f"; the credentials sent "
                f"({', '.join(dict.fromkeys(place for place, _ in presented))}) do not hold it"
            )
        )
        await _answer(
            scope,
            send,
            401,
            {
                "ok": False,
                "error": (
                    "this hookcatcher takes captures only with the token given with --ingest-token"
                    f"{sent}: add the header {HEADER}: <token> "
                    "(or Authorization: Bearer <token>) to "
                    "the webhook's headers, or ?token=<token> to its URL"
                ),
            },
            _challenge(presented),
        )
        return False


def exposure(address: str, access: Access) -> str | None:
    """What to say before serving on `address` (the bound one): nothing on loopback,
    a warning without a token, a note with one."""
    if _loopback(address):
        return None
    where = f"{address} (every network interface)" if _unspecified(address) else address
    if access.token is None:
        ingest = "" if access.ingest_token else ", and --ingest-token T to require one on captures"
        return (
            f"warning: listening on {where} without --token: anyone who can reach this "
            "machine over the network can read every capture (with the secrets the "
            "gateway sent in it), delete them, and change the mocked gateways' webhook "
            "configuration. Give --token T (or HOOKCATCHER_TOKEN) to require a token for "
            f"/_hookcatcher/ and /_gateway/{ingest}."
        )
    captures = (
        "captures need --ingest-token"
        if access.ingest_token
        else "captures are taken from anyone who can reach it (--ingest-token T requires a "
        "token on them too)"
    )
    return f"note: listening on {where}: /_hookcatcher/ and /_gateway/ need --token; {captures}."


def _digest(token: str | None) -> bytes | None:
    return None if token is None else hashlib.sha256(token.encode("ascii")).digest()


def _equal(given: bytes, expected: bytes | None) -> bool:
    return expected is not None and hmac.compare_digest(hashlib.sha256(given).digest(), expected)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _presented(scope: Scope, apikey: bool) -> list[tuple[str, bytes]]:
    """Every credential a request carries that may be hookcatcher's token, by where."""
    found: list[tuple[str, bytes]] = []
    for key, value in scope["headers"]:
        if key == b"authorization":
            scheme, _, credential = value.strip().partition(b" ")
            if scheme.lower() == b"bearer" and credential.strip():
                found.append(("Authorization", credential.strip()))
        elif key == HEADER.encode() or (apikey and key == b"apikey"):
            found.append((key.decode("latin-1"), value.strip()))
    query: bytes = scope.get("query_string", b"")
    if b"token" in query or b"%" in query:
        found.extend(("?token=", value) for value in _query_tokens(query))
    return found


def _query_tokens(query: bytes) -> list[bytes]:
    """The values of every `token` field of a query string, as bytes. Any number of fields
    and any escapes are read without fault (a query is the sender's to write): each
    `&`-separated field is looked at once, and only its name is decoded."""
    tokens = []
    for field in query.split(b"&"):
        name, _, value = field.partition(b"=")
        if (
            name == b"token"
            or (b"%" in name or b"+" in name)
            and unquote_to_bytes(name.replace(b"+", b" ")) == b"token"
        ):
            tokens.append(unquote_to_bytes(value.replace(b"+", b" ")))
    return tokens


def _without_authorization(scope: Scope) -> Scope:
    return {
        **scope,
        "headers": [(key, value) for key, value in scope["headers"] if key != b"authorization"],
    }


def _same_origin(origin: bytes, host: bytes | None) -> bool:
    netloc = urlsplit(origin.decode("latin-1")).netloc.lower()
    return host is not None and bool(netloc) and netloc == host.decode("latin-1").lower()


def _challenge(presented: list[tuple[str, bytes]]) -> bytes:
    """RFC 6750's challenge: `invalid_token` only when a token was sent."""
    return (
        b'Bearer realm="hookcatcher", error="invalid_token"'
        if presented
        else b'Bearer realm="hookcatcher"'
    )


async def _answer(
    scope: Scope, send: Send, status: int, document: dict[str, Any], challenge: bytes | None = None
) -> None:
    payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if challenge is not None:
        headers.append((b"www-authenticate", challenge))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send(
        {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else payload}
    )


def _host_name(host: str) -> str | None:
    """The name in a Host header (port and IPv6 brackets taken off, lower case), or None
    when it is not a host at all."""
    host = host.strip().lower()
    if host.startswith("["):
        inside, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not (rest[:1] == ":" and rest[1:].isdigit())):
            return None
        return inside
    name, colon, port = host.partition(":")
    if colon and not (port.isascii() and port.isdigit()):
        return None
    name = name.rstrip(".")
    return name if name and _HOST_NAME.fullmatch(name) else None


_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")


def check_host(text: str) -> str:
    """A name given with --allow-host, or ValueError."""
    name = _host_name(text)
    if name is None or name != text.strip().lower().rstrip("."):
        raise ValueError(
            f"{text!r} is not a host name (give the name alone, without a "
            "scheme, port or path: e.g. mybox.local)"
        )
    return name


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]").partition("%")[0])
    except ValueError:
        return None


def _loopback(address: str) -> bool:
    parsed = _address(address)
    return address == "localhost" if parsed is None else parsed.is_loopback


def _unspecified(address: str) -> bool:
    parsed = _address(address)
    return parsed is not None and parsed.is_unspecified
