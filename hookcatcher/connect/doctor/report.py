"""What `hookcatcher doctor` prints: read the gateway, look, judge, then each finding with its
fix (or one JSON document with `--json`); the exit status is 0 only without findings.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO

import httpx

from hookcatcher.connect.client import GatewayClient, GatewayError, Saved
from hookcatcher.connect.doctor.diagnose import diagnose, gateway_error
from hookcatcher.connect.doctor.observe import Observations, observe
from hookcatcher.connect.doctor.words import listed, title
from hookcatcher.core import catalog
from hookcatcher.send.webhook import Webhook

__all__ = ["run_doctor"]


def _events_text(webhook: Webhook) -> str:
    return listed(list(webhook.events), 4) if webhook.events else "none"


def _header(client: GatewayClient, saved: Saved | None, state: str | None) -> list[str]:
    name = title(client.provider) if client.provider in catalog.PROVIDERS else client.provider
    version = f" {client.version}" if client.version else ""
    instance = f", instance {client.instance}" if client.instance else ""
    connection = f" (connection: {state})" if state else ""
    lines = [f"{name}{version} at {client.api}{instance}{connection}"]
    if saved is None:
        return lines
    for webhook in saved.webhooks:
        label = f"webhook {webhook.id}: " if webhook.id is not None else "webhook: "
        lines.append(
            f"  {label}{webhook.url or '(no URL)'}, "
            f"{'enabled' if webhook.enabled else 'disabled'}, {webhook.mode}, "
            f"events: {_events_text(webhook)}"
        )
    if not saved.webhooks:
        lines.append("  no webhook configured")
    return lines


def run_doctor(
    client_or_error: GatewayClient | GatewayError,
    *,
    expected_events: Sequence[str] = (),
    as_json: bool = False,
    out: IO[str] | None = None,
    api: str | None = None,
    provider: str | None = None,
    timeout: float = 5.0,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Read, look, judge and print; 0 only when nothing is wrong. A gateway that cannot be
    read is a finding like any other, never a traceback. `api` and `provider` name the
    gateway when there is no client to ask (`connect` failed); `transport` carries the
    probes of the app (tests)."""
    out = out if out is not None else sys.stdout
    client = None if isinstance(client_or_error, GatewayError) else client_or_error
    saved: Saved | None = None
    seen: Observations | None = None
    if client is None:
        findings = [gateway_error(str(client_or_error), provider)]
    else:
        try:
            saved = client.read()
        except GatewayError as exc:
            findings = [gateway_error(str(exc), client.provider)]
        else:
            seen = observe(client, saved, timeout=timeout, transport=transport)
            findings = diagnose(saved, seen, expected_events)
    if as_json:
        document = {
            "gateway": (
                {"provider": provider, "version": None, "api": api}
                if client is None
                else {"provider": client.provider, "version": client.version, "api": client.api}
            ),
            "instance": None if client is None else client.instance,
            "connection": None if seen is None else seen.state,
            "probes": [] if seen is None else [reach.to_json() for reach in seen.reach.values()],
            "webhooks": [] if saved is None else [w.to_json() for w in saved.webhooks],
            "findings": [finding.to_json() for finding in findings],
            "ok": not findings,
        }
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        lines = (
            _header(client, saved, None if seen is None else seen.state)
            if client is not None
            else [f"{title(provider) if provider in catalog.PROVIDERS else 'the gateway'} at {api}"]
            if api
            else []
        )
        for finding in findings:
            lines += [f"✗ {finding.problem}", f"  fix: {finding.fix}"]
        if not findings:
            lines.append("no problems found")
        out.write("\n".join(lines) + "\n")
    return 1 if findings else 0
