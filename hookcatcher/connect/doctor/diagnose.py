"""The doctor's judging: a configuration read from the gateway plus what was observed
(`Observations`) into `Finding`s, each a problem and its exact fix in the gateway's own words
(`words`). Pure, so every finding can be tested from a hand-built configuration; the order is
the one a user fixes them in.

Per-event paths are judged on the URL without a trailing slash: the trailing slash is its
own finding, and the paths say what the app serves once it is fixed. When the path that
cannot exist was not a 404 (a catch-all app), no finding rests on the paths.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from hookcatcher.connect.attach import reachability_warning
from hookcatcher.connect.client import Saved
from hookcatcher.connect.doctor.events import (
    PER_EVENT,
    base,
    control_url,
    event_paths,
    events_of,
    subscribable,
    subscribed,
)
from hookcatcher.connect.doctor.observe import Observations, Reach
from hookcatcher.connect.doctor.words import (
    CONNECTED,
    enable,
    endpoint,
    listed,
    mode_off,
    mode_setting,
    no_webhook,
    not_connected,
    subscribe,
    title,
    who,
)
from hookcatcher.core import catalog
from hookcatcher.send.webhook import Webhook

__all__ = ["Finding", "diagnose", "gateway_error"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that keeps events from arriving, and what to do about it."""

    code: str  # a short stable id: disabled, no-url, trailing-slash, not-subscribed, ...
    problem: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "problem": self.problem, "fix": self.fix}


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
        f"{who(webhook)} posts to {webhook.url}, but the gateway ({api}) runs in a container "
        f"or on another machine: there {parsed.host} is the gateway itself, so this machine's "
        "app never gets the request",
        f"set a URL the gateway can reach ({endpoint(webhook)}): {target} (Docker Desktop; on "
        "Linux start the gateway with --add-host=host.docker.internal:host-gateway) or this "
        "machine's LAN address, with your app listening on 0.0.0.0",
    )


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
        f"--expect {name}: {title(provider)} has no event {name!r}",
        f"{hint}--expect takes {title(provider)}'s event names as hookcatcher's catalog "
        f"writes them (GET /_hookcatcher/api/catalog), e.g. {', '.join(names[:3])}",
    )


def diagnose(
    saved: Saved, observations: Observations, expected_events: Sequence[str] = ()
) -> list[Finding]:
    """Every problem with `saved` given what was observed, in the order a user fixes them:
    gateway errors, the instance, each webhook (on/URL/path rules), then subscriptions."""
    findings = [gateway_error(message, saved.provider) for message in observations.errors]
    findings += _connection(saved, observations.state)
    if not saved.webhooks:
        findings.append(_no_webhook(saved))
    for webhook in saved.webhooks:
        findings += _webhook(webhook, observations)
    findings += _subscriptions(saved, observations, expected_events)
    return findings


def gateway_error(message: str, provider: str | None) -> Finding:
    """A gateway that cannot be read (or asked) as a finding, never a traceback."""
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
    return [Finding("not-connected", *not_connected(saved.provider, saved.instance, state))]


def _no_webhook(saved: Saved) -> Finding:
    return Finding("no-webhook", *no_webhook(saved.provider, saved.instance))


def _webhook(webhook: Webhook, seen: Observations) -> list[Finding]:
    if not webhook.enabled:
        return [_disabled(webhook)]
    if not webhook.url:
        return [
            Finding(
                "no-url",
                f"{who(webhook)} is enabled but has no URL: nothing is sent",
                f"set your app's URL ({endpoint(webhook)})",
            )
        ]
    found: list[Finding] = []
    loopback = _loopback_finding(seen.api, webhook)
    if loopback:
        found.append(loopback)
    found += _reach(webhook, seen.reach.get(webhook.url))
    if webhook.mode in PER_EVENT and webhook.url.endswith("/"):
        found.append(_trailing_slash(webhook))
    if webhook.mode in PER_EVENT:
        found += _missing_paths(webhook, seen.app_paths)
    return found


def _disabled(webhook: Webhook) -> Finding:
    return Finding(
        "disabled",
        f"{who(webhook)} is disabled (enabled: false): {title(webhook.provider)} sends it nothing",
        enable(webhook),
    )


def _reach(webhook: Webhook, reach: Reach | None) -> list[Finding]:
    if reach is None:
        return []
    found: list[Finding] = []
    if reach.status is None:
        fixes = {
            "refused": "start your app so it listens there, or point the webhook at where "
            f"it listens ({endpoint(webhook)})",
            "dns": f"correct the host name in the URL ({endpoint(webhook)})",
            "timeout": "check that your app answers promptly and that no firewall or proxy "
            "holds the request",
        }
        found.append(
            Finding(
                "unreachable",
                f"{webhook.url} does not answer from here: {reach.error}",
                fixes.get(reach.kind or "", f"check the URL and your app ({endpoint(webhook)})"),
            )
        )
    elif reach.status == 404 and webhook.mode not in PER_EVENT:
        path = httpx.URL(webhook.url).path or "/"
        found.append(
            Finding(
                "app-path-missing",
                f"your app answers 404 to a POST at {webhook.url}: {who(webhook)} posts every "
                "event there",
                f"serve POST {path} in your app, or set the URL to the path it serves "
                f"({endpoint(webhook)})",
            )
        )
    if reach.forwards_to == ():
        found.append(
            Finding(
                "forwards-nowhere",
                f"{webhook.url} is a hookcatcher that forwards nowhere: it keeps every event, "
                "and your app receives none of them while it runs",
                "start it with --forward-to YOUR_APP_URL, or use hookcatcher attach (which "
                "forwards to the URL the instance had); point the webhook back at your app "
                f"when you are done ({endpoint(webhook)})",
            )
        )
    if reach.gateway_failed:
        found.append(
            Finding(
                "gateway-test-failed",
                f"{title(webhook.provider)}'s own webhook test to {webhook.url} failed: "
                f"{reach.gateway_failed}",
                f"make {webhook.url} reachable from the gateway's network (a public URL or a "
                f"tunnel), then test again ({endpoint(webhook)})",
            )
        )
    return found


def _trailing_slash(webhook: Webhook) -> Finding:
    sent = [e for e in events_of(webhook) if e.suffix and subscribed(webhook, e)]
    event = sent[0] if sent else events_of(webhook)[0]
    method, path = event.delivery("method" if webhook.mode == "method" else "path")
    return Finding(
        "trailing-slash",
        f"{who(webhook)} has {mode_setting(webhook)} on and a URL ending in '/': "
        f"{title(webhook.provider)} sends {event.name} as {method} {webhook.url}{path}",
        f"set the URL without the trailing slash: {webhook.url.rstrip('/')} ({endpoint(webhook)})",
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
    for event in events_of(webhook):
        url = urls.get(event.name)
        if (
            url
            and subscribed(webhook, event)
            and subscribable(webhook, event) is None
            and app_paths.get(url) == 404
        ):
            method, path = event.delivery(mode)
            served = f"{method} {httpx.URL(base(webhook)).path.rstrip('/')}{path}"
            if served not in missing:
                missing.append(served)
    if not missing:
        return []
    at = [item.partition(" ")[2] for item in missing]
    more = " (or unsubscribe those events)" if len(missing) > 1 else ""
    return [
        Finding(
            "app-path-missing",
            f"{mode_setting(webhook)} is on for {who(webhook)}, but your app answers 404 at "
            f"{listed(at)} under {base(webhook)}",
            f"{mode_off(webhook)}, or serve {listed(missing)}{more}",
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
            if status not in (None, 404) and event and subscribable(webhook, event) is None:
                wanted.setdefault(name, (event, f"your app answers {status} at {url}"))
    first = working[0]
    for event, why in wanted.values():
        if any(subscribed(webhook, event) for webhook in working):
            continue
        never = subscribable(first, event)
        if never:
            found.append(
                Finding(
                    "not-deliverable",
                    f"{event.name}: {never}",
                    f"do not rely on {event.name} from {title(saved.provider)}; "
                    "drop it from --expect",
                )
            )
            continue
        found.append(
            Finding(
                "not-subscribed",
                f"{event.name} is not subscribed by {who(first)}, but {why}",
                subscribe(first, event),
            )
        )
    return found
