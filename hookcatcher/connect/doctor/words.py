"""Each gateway's own words for the doctor's findings, kept as data: how a finding names a
webhook, the call that changes it, its per-event setting, and how to enable it, subscribe an
event, add a webhook or connect the instance. One `Words` per gateway (Evolution's v1 differs
from v2 in two settings), so judging has no branch per gateway and a gateway is one entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hookcatcher.core import catalog
from hookcatcher.send.webhook import Webhook

__all__ = [
    "Words",
    "WORDS",
    "CONNECTED",
    "words_of",
    "who",
    "endpoint",
    "enable",
    "mode_setting",
    "mode_off",
    "subscribe",
    "no_webhook",
    "not_connected",
    "title",
    "listed",
]


@dataclass(frozen=True, slots=True)
class Words:
    """One gateway's phrases, as `str.format` templates. A webhook's fill `{instance}`,
    `{id}`, `{url}` (or "no URL"), `{mode}`, `{endpoint}` and `{mode_setting}`; `subscribe`
    also an event's `{key}` (Evolution), `{flag}` (CodeChat), `{kind}` and `{method}` (Whapi);
    the instance's fill `{instance}` and `{state}`."""

    who: str  # how a finding names the webhook
    endpoint: str  # the call that changes its URL, mode or enabled flag
    enable: str  # the fix for a disabled webhook
    mode_setting: str  # the setting that turns per-event URLs on
    mode_off: str  # the fix that turns it off
    subscribe: str  # the fix that subscribes the webhook to an event
    no_webhook: tuple[str, str]  # problem and fix when the instance has no webhook
    connected: str | None = None  # the connection state that means "logged in and sending"
    not_connected: tuple[str, str] = ("", "")  # problem and fix for any other state


EVOLUTION = Words(
    who="the webhook of evolution/{instance}",
    endpoint="POST /webhook/set/{instance}",
    enable=(
        'enable it: {endpoint} with {{"webhook": {{"enabled": true, "url": ..., "events": [...]}}}}'
    ),
    mode_setting="byEvents",
    mode_off="turn {mode_setting} off ({endpoint})",
    subscribe="add {key} to the instance's events ({endpoint})",
    no_webhook=(
        "evolution/{instance} has no webhook configured",
        "set one: POST /webhook/set/{instance} with enabled true, your app's URL and its events",
    ),
    connected="open",
    not_connected=(
        "evolution/{instance} is not connected to WhatsApp (state: {state}): it sends no events",
        "connect it: GET /instance/connect/{instance} and scan the QR code with the phone",
    ),
)

WORDS = {
    "evolution": EVOLUTION,
    "codechat": Words(
        who="webhook {id} of codechat/{instance}",
        endpoint="PUT /api/v2/instance/{instance}/webhook/{id}",
        enable='enable it: {endpoint} with "enabled": true',
        mode_setting='mode "{mode}"',
        mode_off='set webhook {id}\'s mode to "body" (PATCH /settings)',
        subscribe='set "{flag}": true (PATCH /api/v2/instance/{instance}/webhook/{id}/events)',
        no_webhook=(
            "codechat/{instance} has no webhook",
            'create one: POST /api/v2/instance/{instance}/webhook with "name", "url" and '
            '"enabled": true',
        ),
    ),
    "whapi": Words(
        who="Whapi webhook {id} ({url})",
        endpoint="PATCH /settings",
        enable='enable it: {endpoint} with "enabled": true',
        mode_setting='mode "{mode}"',
        mode_off='set webhook {id}\'s mode to "body" (PATCH /settings)',
        subscribe=(
            'add {{"type": "{kind}", "method": "{method}"}} to webhook {id}\'s events '
            "(PATCH /settings)"
        ),
        no_webhook=(
            "the Whapi channel has no webhook",
            'add one: PATCH /settings with "webhooks": [{{"url": ..., "mode": "body"}}]',
        ),
        connected="AUTH",
        not_connected=(
            "the Whapi channel is not connected to WhatsApp (health: {state}): it sends no events",
            "link the phone: scan the channel's QR code in the Whapi dashboard (GET /users/login)",
        ),
    ),
}

# Where a version words things its own way.
_BY_VERSION = {
    ("evolution", "v1"): replace(
        EVOLUTION,
        enable='enable it: {endpoint} with {{"enabled": true, "url": ..., "events": [...]}}',
        mode_setting="webhook_by_events",
    ),
}

# The connection state that means "logged in and sending", per gateway that reports one.
CONNECTED = {provider: words.connected for provider, words in WORDS.items() if words.connected}


def words_of(provider: str, version: str = "") -> Words:
    return _BY_VERSION.get((provider, version)) or WORDS[provider]


def _fill(template: str, webhook: Webhook, **more: object) -> str:
    words = words_of(webhook.provider, webhook.version)
    fields: dict[str, object] = {
        "instance": webhook.instance,
        "id": webhook.id,
        "url": webhook.url or "no URL",
        "mode": webhook.mode,
    }
    fields["endpoint"] = words.endpoint.format(**fields)
    fields["mode_setting"] = words.mode_setting.format(**fields)
    return template.format(**fields, **more)


def who(webhook: Webhook) -> str:
    return _fill(words_of(webhook.provider, webhook.version).who, webhook)


def endpoint(webhook: Webhook) -> str:
    """The gateway call that changes this webhook's URL, mode or enabled flag."""
    return _fill("{endpoint}", webhook)


def enable(webhook: Webhook) -> str:
    return _fill(words_of(webhook.provider, webhook.version).enable, webhook)


def mode_setting(webhook: Webhook) -> str:
    return _fill("{mode_setting}", webhook)


def mode_off(webhook: Webhook) -> str:
    return _fill(words_of(webhook.provider, webhook.version).mode_off, webhook)


def subscribe(webhook: Webhook, event: catalog.Event) -> str:
    kind, _, method = event.name.partition("/")
    return _fill(
        words_of(webhook.provider, webhook.version).subscribe,
        webhook,
        key=catalog.evolution_key(event.name),
        flag=catalog.codechat_flag(event.name),
        kind=kind,
        method=method,
    )


def no_webhook(provider: str, instance: str) -> tuple[str, str]:
    """The problem and fix of an instance without any webhook."""
    problem, fix = WORDS[provider].no_webhook
    return problem.format(instance=instance), fix.format(instance=instance)


def not_connected(provider: str, instance: str, state: str) -> tuple[str, str]:
    """The problem and fix of an instance whose connection state is not `CONNECTED`'s."""
    problem, fix = WORDS[provider].not_connected
    return problem.format(instance=instance, state=state), fix.format(instance=instance)


def title(provider: str) -> str:
    return catalog.PROVIDERS[provider].title


def listed(items: Sequence[str], most: int = 3) -> str:
    """`a, b and c`, or `a, b, c and 4 more`."""
    if len(items) > most:
        return f"{', '.join(items[:most])} and {len(items) - most} more"
    if len(items) > 1:
        return f"{', '.join(items[:-1])} and {items[-1]}"
    return items[0] if items else ""
