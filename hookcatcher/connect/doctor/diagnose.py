"""`hookcatcher doctor`: why an app receives nothing (or not everything) from its gateway.

Reading a gateway's webhook configuration is one thing; knowing whether it will work is
another. The doctor reads it through the gateway's own API, looks at what is there from this
machine (a test POST to the webhook URL, the per-event paths the gateway would post to, the
instance's connection), and says each problem in one line with the exact fix, in the
gateway's own words. Looking (`observe`, I/O) and judging (`diagnose`, pure) are apart, so
every finding can be tested from a hand-built configuration.

Per-event paths are probed on the URL without a trailing slash: the trailing slash is its
own finding, and the paths say what the app serves once it is fixed. An app that answers the
same on any path (a catch-all) tells nothing by its paths, so a path that cannot exist is
probed first and, when it is not a 404, no finding rests on the paths.
"""

from __future__ import annotations

import difflib
import json
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any

import httpx

from hookcatcher.connect.attach import reachability_warning
from hookcatcher.connect.client import GatewayClient, GatewayError, Saved
from hookcatcher.core import catalog
from hookcatcher.send.webhook import Webhook

__all__ = [
    "Finding",
    "Reach",
    "Observations",
    "diagnose",
    "probe",
    "probe_paths",
    "event_paths",
    "control_url",
    "observe",
    "run_doctor",
    "PROBE_BODY",
    "PROBE_HEADER",
]

PROBE_BODY = {"hookcatcher": "doctor", "test": True}
PROBE_HEADER = ("x-hookcatcher-doctor", "1")
# A path no app serves on purpose: its answer tells a catch-all from real routes.
CONTROL_PATH = "/hookcatcher-doctor-no-such-path"
# The connection state that means "logged in and sending", per gateway.
CONNECTED = {"evolution": "open", "whapi": "AUTH"}
_PER_EVENT = {"by-events", "path", "method"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that keeps events from arriving, and what to do about it."""

    code: str  # a short stable id: disabled, no-url, trailing-slash, not-subscribed, ...
    problem: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "problem": self.problem, "fix": self.fix}


@dataclass(frozen=True, slots=True)
class Reach:
    """What became of the test POST to a webhook URL, and of the gateway's own test."""

    url: str
    status: int | None  # the app's answer; None when nothing answered
    error: str | None = None  # why nothing answered, in a few words
    kind: str | None = None  # refused | dns | timeout | other
    gateway_test: str | None = None  # the gateway's own test: its one-line result
    gateway_failed: str | None = None  # ...or what the gateway said when it failed

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "kind": self.kind,
            "gateway_test": self.gateway_test,
            "gateway_failed": self.gateway_failed,
        }


@dataclass(frozen=True, slots=True)
class Observations:
    """Everything `diagnose` needs besides the configuration itself."""

    api: str
    state: str | None = None
    reach: Mapping[str, Reach] = field(default_factory=dict)
    app_paths: Mapping[str, int | None] = field(default_factory=dict)
    errors: tuple[str, ...] = ()  # gateway errors met while looking (connection state)


# What the gateway would post where


def _events_of(webhook: Webhook) -> list[catalog.Event]:
    """The catalog events this gateway (and version) can send to a webhook."""
    provider = catalog.PROVIDERS[webhook.provider]
    if webhook.provider == "evolution":
        return [event for event in provider.events if webhook.version in event.versions]
    return list(provider.events)


def _base(webhook: Webhook) -> str:
    return webhook.url.rstrip("/")


def event_paths(webhook: Webhook) -> dict[str, str]:
    """Catalog event name -> the URL the gateway posts it to in the webhook's per-event
    mode (trailing slash left out); empty when the webhook has one URL for everything or
    its URL has a query (the gateway appends inside the query: the path tells nothing)."""
    if webhook.mode not in _PER_EVENT or not webhook.url or "?" in webhook.url:
        return {}
    mode = "method" if webhook.mode == "method" else "path"
    return {
        event.name: _base(webhook) + event.delivery(mode)[1]
        for event in _events_of(webhook)
        if event.suffix
    }


def control_url(webhook: Webhook) -> str:
    return _base(webhook) + CONTROL_PATH


def _subscribed(webhook: Webhook, event: catalog.Event) -> bool:
    if webhook.provider == "evolution":
        return catalog.evolution_key(event.name) in webhook.events
    if webhook.provider == "codechat":
        flag = catalog.codechat_flag(event.name)
        return flag is None or flag in webhook.events  # no flag: nothing stops it
    return event.name in webhook.events


def _subscribable(webhook: Webhook, event: catalog.Event) -> str | None:
    """Why the gateway can never deliver `event` to this webhook, or None when it can."""
    if webhook.provider == "evolution":
        never = catalog.EVOLUTION_NEVER_DELIVERED.get(event.name)
        if never:
            return never
        key = catalog.evolution_key(event.name)
        if key not in catalog.EVOLUTION_EVENTS.get(webhook.version, ()):
            return (
                f"{event.name} cannot be subscribed in Evolution API {webhook.version}: "
                f"{key} is not among the events /webhook/set accepts"
            )
    if (
        webhook.provider == "codechat"
        and catalog.codechat_flag(event.name) is None
        and "v2" not in event.versions
    ):
        return f"{event.name} is not a CodeChat v2 event, and no v2 webhook flag turns it on"
    return None


# The gateway's words


def _who(webhook: Webhook) -> str:
    if webhook.provider == "evolution":
        return f"the webhook of evolution/{webhook.instance}"
    if webhook.provider == "codechat":
        return f"webhook {webhook.id} of codechat/{webhook.instance}"
    return f"Whapi webhook {webhook.id} ({webhook.url or 'no URL'})"


def _endpoint(webhook: Webhook) -> str:
    """The gateway call that changes this webhook's URL, mode or enabled flag."""
    if webhook.provider == "evolution":
        return f"POST /webhook/set/{webhook.instance}"
    if webhook.provider == "codechat":
        return f"PUT /api/v2/instance/{webhook.instance}/webhook/{webhook.id}"
    return "PATCH /settings"


def _subscribe(webhook: Webhook, event: catalog.Event) -> str:
    if webhook.provider == "evolution":
        return (
            f"add {catalog.evolution_key(event.name)} to the instance's events "
            f"({_endpoint(webhook)})"
        )
    if webhook.provider == "codechat":
        return (
            f'set "{catalog.codechat_flag(event.name)}": true '
            f"(PATCH /api/v2/instance/{webhook.instance}/webhook/{webhook.id}/events)"
        )
    kind, _, method = event.name.partition("/")
    return (
        f'add {{"type": "{kind}", "method": "{method}"}} to webhook {webhook.id}\'s '
        f"events (PATCH /settings)"
    )


def _mode_setting(webhook: Webhook) -> str:
    if webhook.provider == "evolution":
        return "webhook_by_events" if webhook.version == "v1" else "byEvents"
    return f'mode "{webhook.mode}"'


def _mode_off(webhook: Webhook) -> str:
    if webhook.provider == "evolution":
        return f"turn {_mode_setting(webhook)} off ({_endpoint(webhook)})"
    return f'set webhook {webhook.id}\'s mode to "body" (PATCH /settings)'


def _title(provider: str) -> str:
    return catalog.PROVIDERS[provider].title


# Hosts


def _host_of(url: str) -> str | None:
    try:
        return httpx.URL(url).host or None
    except httpx.InvalidURL:
        return None


def _loopback_finding(api: str, webhook: Webhook) -> Finding | None:
    """A loopback URL is this machine only for a gateway on this machine (the rule `attach`
    warns by; its words are about hookcatcher's own flags, these about the user's app)."""
    try:
        if reachability_warning(api, webhook.url) is None:
            return None
        parsed = httpx.URL(webhook.url)
    except (ValueError, httpx.InvalidURL):
        return None  # a URL that is not one: the probe says so
    port = f":{parsed.port}" if parsed.port else ""
    target = f"http://host.docker.internal{port}{parsed.raw_path.decode('ascii')}"
    return Finding(
        "localhost-from-container",
        f"{_who(webhook)} posts to {webhook.url}, but the gateway ({api}) runs in a container "
        f"or on another machine: there {parsed.host} is the gateway itself, so this machine's "
        "app never gets the request",
        f"set a URL the gateway can reach ({_endpoint(webhook)}): {target} (Docker Desktop; on "
        "Linux start the gateway with --add-host=host.docker.internal:host-gateway) or this "
        "machine's LAN address, with your app listening on 0.0.0.0",
    )


# Judging


def _expected(provider: str, name: str) -> catalog.Event | None:
    """A name the user gave with --expect: a catalog name, or for Evolution its key."""
    event = catalog.find(provider, name)
    if event is None and provider == "evolution":
        event = next(
            (
                e
                for e in catalog.PROVIDERS["evolution"].events
                if catalog.evolution_key(e.name) == name.upper()
            ),
            None,
        )
    return event


def _unknown_event(provider: str, name: str) -> Finding:
    names = [event.name for event in catalog.PROVIDERS[provider].events]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return Finding(
        "unknown-event",
        f"--expect {name}: {_title(provider)} has no event {name!r}",
        f"{hint}--expect takes {_title(provider)}'s event names as hookcatcher's catalog "
        f"writes them (GET /_hookcatcher/api/catalog), e.g. {', '.join(names[:3])}",
    )


def _listed(items: Sequence[str], most: int = 3) -> str:
    """`a, b and c`, or `a, b, c and 4 more`."""
    if len(items) > most:
        return f"{', '.join(items[:most])} and {len(items) - most} more"
    if len(items) > 1:
        return f"{', '.join(items[:-1])} and {items[-1]}"
    return items[0] if items else ""


def diagnose(
    saved: Saved, observations: Observations, expected_events: Sequence[str] = ()
) -> list[Finding]:
    """Every problem with `saved` given what was observed, in the order a user fixes them:
    gateway errors, the instance, each webhook (on/URL/path rules), then subscriptions."""
    findings = [_gateway_error(message, saved.provider) for message in observations.errors]
    findings += _connection(saved, observations.state)
    if not saved.webhooks:
        findings.append(_no_webhook(saved))
    for webhook in saved.webhooks:
        findings += _webhook(webhook, observations)
    findings += _subscriptions(saved, observations, expected_events)
    return findings


def _gateway_error(message: str, provider: str | None) -> Finding:
    key = {"evolution": "--apikey", None: "--apikey or --token"}.get(provider, "--token")
    instance = "" if provider == "whapi" else " and --instance"
    return Finding(
        "gateway-error",
        message,
        f"check --api (the gateway's base URL), {key}{instance}, then run hookcatcher doctor again",
    )


def _connection(saved: Saved, state: str | None) -> list[Finding]:
    wanted = CONNECTED.get(saved.provider)
    if state is None or wanted is None or state == wanted:
        return []
    if saved.provider == "evolution":
        return [
            Finding(
                "not-connected",
                f"evolution/{saved.instance} is not connected to WhatsApp (state: {state}): "
                "it sends no events",
                f"connect it: GET /instance/connect/{saved.instance} and scan the QR code with "
                "the phone",
            )
        ]
    return [
        Finding(
            "not-connected",
            f"the Whapi channel is not connected to WhatsApp (health: {state}): it sends no events",
            "link the phone: scan the channel's QR code in the Whapi dashboard (GET /users/login)",
        )
    ]


def _no_webhook(saved: Saved) -> Finding:
    if saved.provider == "evolution":
        return Finding(
            "no-webhook",
            f"evolution/{saved.instance} has no webhook configured",
            f"set one: POST /webhook/set/{saved.instance} with enabled true, your "
            "app's URL and its events",
        )
    if saved.provider == "codechat":
        return Finding(
            "no-webhook",
            f"codechat/{saved.instance} has no webhook",
            f"create one: POST /api/v2/instance/{saved.instance}/webhook with "
            '"name", "url" and "enabled": true',
        )
    return Finding(
        "no-webhook",
        "the Whapi channel has no webhook",
        'add one: PATCH /settings with "webhooks": [{"url": ..., "mode": "body"}]',
    )


def _webhook(webhook: Webhook, seen: Observations) -> list[Finding]:
    if not webhook.enabled:
        return [_disabled(webhook)]
    if not webhook.url:
        return [
            Finding(
                "no-url",
                f"{_who(webhook)} is enabled but has no URL: nothing is sent",
                f"set your app's URL ({_endpoint(webhook)})",
            )
        ]
    found: list[Finding] = []
    loopback = _loopback_finding(seen.api, webhook)
    if loopback:
        found.append(loopback)
    found += _reach(webhook, seen.reach.get(webhook.url))
    if webhook.mode in _PER_EVENT and webhook.url.endswith("/"):
        found.append(_trailing_slash(webhook))
    if webhook.mode in _PER_EVENT:
        found += _missing_paths(webhook, seen.app_paths)
    return found


def _disabled(webhook: Webhook) -> Finding:
    if webhook.provider == "evolution":
        body = (
            '{"enabled": true, "url": ..., "events": [...]}'
            if webhook.version == "v1"
            else '{"webhook": {"enabled": true, "url": ..., "events": [...]}}'
        )
        fix = f"enable it: POST /webhook/set/{webhook.instance} with {body}"
    else:
        fix = f'enable it: {_endpoint(webhook)} with "enabled": true'
    return Finding(
        "disabled",
        f"{_who(webhook)} is disabled (enabled: false): {_title(webhook.provider)} "
        "sends it nothing",
        fix,
    )


def _reach(webhook: Webhook, reach: Reach | None) -> list[Finding]:
    if reach is None:
        return []
    found: list[Finding] = []
    if reach.status is None:
        fixes = {
            "refused": "start your app so it listens there, or point the webhook at where "
            f"it listens ({_endpoint(webhook)})",
            "dns": f"correct the host name in the URL ({_endpoint(webhook)})",
            "timeout": "check that your app answers promptly and that no firewall or proxy "
            "holds the request",
        }
        found.append(
            Finding(
                "unreachable",
                f"{webhook.url} does not answer from here: {reach.error}",
                fixes.get(reach.kind or "", f"check the URL and your app ({_endpoint(webhook)})"),
            )
        )
    elif reach.status == 404 and webhook.mode not in _PER_EVENT:
        path = httpx.URL(webhook.url).path or "/"
        found.append(
            Finding(
                "app-path-missing",
                f"your app answers 404 to a POST at {webhook.url}: {_who(webhook)} posts every "
                "event there",
                f"serve POST {path} in your app, or set the URL to the path it serves "
                f"({_endpoint(webhook)})",
            )
        )
    if reach.gateway_failed:
        found.append(
            Finding(
                "gateway-test-failed",
                f"{_title(webhook.provider)}'s own webhook test to {webhook.url} failed: "
                f"{reach.gateway_failed}",
                f"make {webhook.url} reachable from the gateway's network (a public URL or a "
                f"tunnel), then test again ({_endpoint(webhook)})",
            )
        )
    return found


def _trailing_slash(webhook: Webhook) -> Finding:
    subscribed = [e for e in _events_of(webhook) if e.suffix and _subscribed(webhook, e)]
    event = subscribed[0] if subscribed else _events_of(webhook)[0]
    method, path = event.delivery("method" if webhook.mode == "method" else "path")
    return Finding(
        "trailing-slash",
        f"{_who(webhook)} has {_mode_setting(webhook)} on and a URL ending in '/': "
        f"{_title(webhook.provider)} sends {event.name} as {method} {webhook.url}{path}",
        f"set the URL without the trailing slash: {webhook.url.rstrip('/')} ({_endpoint(webhook)})",
    )


def _paths_tell(webhook: Webhook, app_paths: Mapping[str, int | None]) -> bool:
    """Whether the app's answers on per-event paths mean anything: it answered, and a path
    that cannot exist gets a 404."""
    return app_paths.get(control_url(webhook)) == 404


def _missing_paths(webhook: Webhook, app_paths: Mapping[str, int | None]) -> list[Finding]:
    if not _paths_tell(webhook, app_paths):
        return []
    urls = event_paths(webhook)
    mode = "method" if webhook.mode == "method" else "path"
    missing: list[str] = []
    for event in _events_of(webhook):
        url = urls.get(event.name)
        if (
            url
            and _subscribed(webhook, event)
            and _subscribable(webhook, event) is None
            and app_paths.get(url) == 404
        ):
            method, path = event.delivery(mode)
            served = f"{method} {httpx.URL(_base(webhook)).path.rstrip('/')}{path}"
            if served not in missing:
                missing.append(served)
    if not missing:
        return []
    at = [item.partition(" ")[2] for item in missing]
    more = " (or unsubscribe those events)" if len(missing) > 1 else ""
    return [
        Finding(
            "app-path-missing",
            f"{_mode_setting(webhook)} is on for {_who(webhook)}, but your app answers 404 at "
            f"{_listed(at)} under {_base(webhook)}",
            f"{_mode_off(webhook)}, or serve {_listed(missing)}{more}",
        )
    ]


def _subscriptions(saved: Saved, seen: Observations, expected: Sequence[str]) -> list[Finding]:
    """Events the app handles (said with --expect, or shown by the paths it serves) that no
    working webhook subscribes."""
    working = [w for w in saved.webhooks if w.enabled and w.url]
    found: list[Finding] = []
    wanted: dict[str, tuple[catalog.Event, str]] = {}  # event -> (event, why we think so)
    for name in expected:
        event = _expected(saved.provider, name)
        if event is None:
            found.append(_unknown_event(saved.provider, name))
        else:
            wanted.setdefault(event.name, (event, "your app handles it (--expect)"))
    if not working:
        return found
    for webhook in working:
        if webhook.mode not in {"by-events", "path"} or not _paths_tell(webhook, seen.app_paths):
            continue  # method mode: one path per type, so a served path names no one event
        for name, url in event_paths(webhook).items():
            status = seen.app_paths.get(url)
            event = catalog.find(saved.provider, name)
            if status not in (None, 404) and event and _subscribable(webhook, event) is None:
                wanted.setdefault(name, (event, f"your app answers {status} at {url}"))
    first = working[0]
    for event, why in wanted.values():
        if any(_subscribed(webhook, event) for webhook in working):
            continue
        never = _subscribable(first, event)
        if never:
            found.append(
                Finding(
                    "not-deliverable",
                    f"{event.name}: {never}",
                    f"do not rely on {event.name} from {_title(saved.provider)}; "
                    "drop it from --expect",
                )
            )
            continue
        found.append(
            Finding(
                "not-subscribed",
                f"{event.name} is not subscribed by {_who(first)}, but {why}",
                _subscribe(first, event),
            )
        )
    return found


# Looking


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
    return Reach(url, response.status_code)


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
        if found.status is not None and webhook.mode in _PER_EVENT:
            app_paths.update(probe_paths(webhook, timeout=timeout, transport=transport))
    return Observations(client.api, state, reach, app_paths, tuple(errors))


# Reporting


def _events_text(webhook: Webhook) -> str:
    return _listed(list(webhook.events), 4) if webhook.events else "none"


def _header(client: GatewayClient, saved: Saved | None, state: str | None) -> list[str]:
    title = _title(client.provider) if client.provider in catalog.PROVIDERS else client.provider
    version = f" {client.version}" if client.version else ""
    instance = f", instance {client.instance}" if client.instance else ""
    connection = f" (connection: {state})" if state else ""
    lines = [f"{title}{version} at {client.api}{instance}{connection}"]
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
        findings = [_gateway_error(str(client_or_error), provider)]
    else:
        try:
            saved = client.read()
        except GatewayError as exc:
            findings = [_gateway_error(str(exc), client.provider)]
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
            else [
                f"{_title(provider) if provider in catalog.PROVIDERS else 'the gateway'} at {api}"
            ]
            if api
            else []
        )
        for finding in findings:
            lines += [f"✗ {finding.problem}", f"  fix: {finding.fix}"]
        if not findings:
            lines.append("no problems found")
        out.write("\n".join(lines) + "\n")
    return 1 if findings else 0
