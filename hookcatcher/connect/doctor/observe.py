"""The doctor's looking (I/O): the instance's connection, a test POST to each webhook URL as
the gateway would send it, the gateway's own test, and GETs of the per-event paths (a path
that cannot exist first, so a catch-all app tells nothing by its paths). What it finds is
`Observations`, which `diagnose` judges without any I/O.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from hookcatcher.connect.client import GatewayClient, GatewayError, Saved
from hookcatcher.connect.doctor.events import PER_EVENT, control_url, event_paths
from hookcatcher.send.webhook import Webhook

__all__ = [
    "Reach",
    "Observations",
    "probe",
    "probe_paths",
    "observe",
    "PROBE_BODY",
    "PROBE_HEADER",
]

PROBE_BODY = {"hookcatcher": "doctor", "test": True}
PROBE_HEADER = ("x-hookcatcher-doctor", "1")


@dataclass(frozen=True, slots=True)
class Reach:
    """What became of the test POST to a webhook URL, and of the gateway's own test."""

    url: str
    status: int | None  # the app's answer; None when nothing answered
    error: str | None = None  # why nothing answered, in a few words
    kind: str | None = None  # refused | dns | timeout | other
    gateway_test: str | None = None  # the gateway's own test: its one-line result
    gateway_failed: str | None = None  # ...or what the gateway said when it failed
    # When a hookcatcher answered: where it forwards (--forward-to), () for nowhere; None
    # when the answer was not hookcatcher's, or its rules could not be read.
    forwards_to: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "kind": self.kind,
            "gateway_test": self.gateway_test,
            "gateway_failed": self.gateway_failed,
            "forwards_to": None if self.forwards_to is None else list(self.forwards_to),
        }


@dataclass(frozen=True, slots=True)
class Observations:
    """Everything `diagnose` needs besides the configuration itself."""

    api: str
    state: str | None = None
    reach: Mapping[str, Reach] = field(default_factory=dict)
    app_paths: Mapping[str, int | None] = field(default_factory=dict)
    errors: tuple[str, ...] = ()  # gateway errors met while looking (connection state)


def _host_of(url: str) -> str | None:
    try:
        return httpx.URL(url).host or None
    except httpx.InvalidURL:
        return None


def _why(exc: Exception, url: str, timeout: float) -> tuple[str, str]:
    """A failed request as (kind, a few words)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"no answer within {timeout:g} s"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "refused", "connection refused (nothing listens there)"
        if isinstance(cause, socket.gaierror):
            return "dns", f"cannot resolve the host name {_host_of(url)}"
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "refused" in text.lower():
        return "refused", "connection refused (nothing listens there)"
    return "other", text


def probe(url: str, *, timeout: float = 5.0, transport: httpx.BaseTransport | None = None) -> Reach:
    """A test POST to the webhook URL, as a gateway would send it: any HTTP answer means the
    URL is reachable from here."""
    try:
        with httpx.Client(transport=transport, timeout=timeout) as http:
            response = http.post(url, json=PROBE_BODY, headers=[PROBE_HEADER])
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        kind, error = _why(exc, url, timeout)
        return Reach(url, None, error, kind)
    forwards_to = _hookcatcher_rules(url, timeout) if _from_hookcatcher(response) else None
    return Reach(url, response.status_code, forwards_to=forwards_to)


def _from_hookcatcher(response: httpx.Response) -> bool:
    """hookcatcher answers a capture `{"ok": true, "id": N}` (and forwards its own way)."""
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and set(data) == {"ok", "id"} and data.get("ok") is True


def _hookcatcher_rules(url: str, timeout: float) -> tuple[str, ...] | None:
    """Where the hookcatcher at `url` forwards, read from its health (None if unreadable:
    a token it needs, an older version)."""
    from hookcatcher.remote import RemoteError, SyncRemote

    parts = httpx.URL(url)
    origin = f"{parts.scheme}://{parts.netloc.decode('ascii')}"
    try:
        with SyncRemote(origin, timeout=timeout) as hookcatcher:
            rules = hookcatcher.health().get("forward")
    except RemoteError:
        return None
    return tuple(str(rule) for rule in rules) if isinstance(rules, list) else None


def probe_paths(
    webhook: Webhook, *, timeout: float = 5.0, transport: httpx.BaseTransport | None = None
) -> dict[str, int | None]:
    """GET each per-event URL (and the control path first): the status, or None when
    nothing answered. GET, not POST: a probe must not look like a real event to the app;
    405 says the path exists all the same. Stops at the first URL with no answer."""
    urls = [control_url(webhook), *dict.fromkeys(event_paths(webhook).values())]
    if len(urls) == 1:
        return {}
    found: dict[str, int | None] = {}
    with httpx.Client(transport=transport, timeout=timeout) as http:
        for url in urls:
            try:
                found[url] = http.get(url, headers=[PROBE_HEADER]).status_code
            except (httpx.HTTPError, httpx.InvalidURL):
                found[url] = None
                break
    return found


def observe(
    client: GatewayClient,
    saved: Saved,
    *,
    timeout: float = 5.0,
    transport: httpx.BaseTransport | None = None,
) -> Observations:
    """Ask the gateway for the instance's connection, and the app for its URLs. `transport`
    carries the requests to the app (tests); the gateway's own go through `client`."""
    errors: list[str] = []
    state: str | None = None
    try:
        state = client.connection_state()
    except GatewayError as exc:
        errors.append(str(exc))
    reach: dict[str, Reach] = {}
    app_paths: dict[str, int | None] = {}
    for webhook in saved.webhooks:
        if not webhook.enabled or not webhook.url or webhook.url in reach:
            continue
        found = probe(webhook.url, timeout=timeout, transport=transport)
        try:
            found = replace(found, gateway_test=client.test_delivery(webhook.url))
        except GatewayError as exc:
            found = replace(found, gateway_failed=str(exc))
        reach[webhook.url] = found
        if found.status is not None and webhook.mode in PER_EVENT:
            app_paths.update(probe_paths(webhook, timeout=timeout, transport=transport))
    return Observations(client.api, state, reach, app_paths, tuple(errors))
