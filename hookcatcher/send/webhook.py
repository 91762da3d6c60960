"""What an app configured through a mocked gateway, in one shape for every gateway, and what
that gateway would send for a capture.

Each gateway stores its webhook settings its own way (Evolution one per instance with a list
of keys, CodeChat several per instance with flags, Whapi several per channel with type/method
pairs). `Webhook` is the part delivery needs, with the subscriptions in the gateway's own
words so a skip can say exactly what to add. It travels as JSON
(`GET /_hookcatcher/api/instances`), and `plan` needs nothing else: a client in another
process plans from the JSON alone.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hookcatcher.core import catalog
from hookcatcher.core.capture import Capture
from hookcatcher.send.outgoing import Outgoing, ReplayError, request_for, with_headers

__all__ = [
    "Webhook",
    "Instance",
    "UnknownInstance",
    "find_instance",
    "Plan",
    "plan",
    "jwt_hs256",
    "JWT_LIFETIME",
]

JWT_LIFETIME = 600  # seconds; Evolution 2.3's webhook JWT
_WHAPI_MODES = {"single": None, "path": "path", "method": "method"}


@dataclass(frozen=True, slots=True)
class Webhook:
    """One configured destination of one instance."""

    provider: str  # evolution | codechat | whapi
    instance: str  # Evolution instance name, CodeChat instanceId, Whapi channel (its token)
    version: str  # Evolution v1 | v2; CodeChat v2; Whapi ""
    id: str | None  # CodeChat webhookId, Whapi index in `webhooks`; None for Evolution
    url: str
    enabled: bool
    mode: str  # single | by-events (Evolution) | path | method (Whapi)
    headers: tuple[tuple[str, str], ...]  # as configured, before Evolution's jwt_key is applied
    events: tuple[str, ...]  # Evolution keys, CodeChat flags set to true, Whapi "type/method"

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "instance": self.instance,
            "version": self.version,
            "id": self.id,
            "url": self.url,
            "enabled": self.enabled,
            "mode": self.mode,
            "headers": [[name, value] for name, value in self.headers],
            "events": list(self.events),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Webhook:
        return cls(
            provider=data["provider"],
            instance=data["instance"],
            version=data.get("version", ""),
            id=data.get("id"),
            url=data.get("url", ""),
            enabled=bool(data.get("enabled", True)),
            mode=data.get("mode", "single"),
            headers=tuple((name, value) for name, value in data.get("headers", [])),
            events=tuple(data.get("events", [])),
        )


@dataclass(frozen=True, slots=True)
class Instance:
    """An instance (Whapi: a channel) configured through `/_gateway/`, with its webhooks."""

    provider: str
    name: str
    version: str
    webhooks: tuple[Webhook, ...]

    @property
    def key(self) -> str:
        """`provider/name`, the spelling that is never ambiguous."""
        return f"{self.provider}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "instance": self.name,
            "version": self.version,
            "webhooks": [webhook.to_json() for webhook in self.webhooks],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Instance:
        return cls(
            data["provider"],
            data["instance"],
            data.get("version", ""),
            tuple(Webhook.from_json(item) for item in data.get("webhooks", [])),
        )


class UnknownInstance(LookupError):
    """A name that picks no configured instance, or more than one; the message lists them."""

    def __str__(self) -> str:
        return str(self.args[0])


def find_instance(instances: Iterable[Instance], name: str) -> Instance:
    """The instance called `name` (or `provider/name`) on whichever gateway has it."""
    known = list(instances)
    listed = ", ".join(instance.key for instance in known)
    if not known:
        raise UnknownInstance(
            f"no instance {name!r}: no gateway instance is configured yet; let the app set one "
            "up under /_gateway/ (for example POST /_gateway/evolution/webhook/set/<instance>)"
        )
    provider, slash, _ = name.partition("/")
    if slash and provider in catalog.PROVIDERS:
        found = [instance for instance in known if instance.key == name]
    else:
        found = [instance for instance in known if instance.name == name]
    if not found:
        close = difflib.get_close_matches(
            name.rpartition("/")[2], [item.name for item in known], n=1
        )
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UnknownInstance(f"no instance {name!r} is configured{hint}; configured: {listed}")
    if len(found) > 1:
        options = " or ".join(instance.key for instance in found)
        raise UnknownInstance(f"{name!r} is configured on more than one gateway: say {options}")
    return found[0]


@dataclass(frozen=True, slots=True)
class Plan:
    """What the gateway sends for one capture: the requests, and why each other webhook
    sends nothing."""

    requests: tuple[Outgoing, ...]
    skipped: tuple[str, ...]


def plan(webhooks: Sequence[Webhook], capture: Capture) -> Plan:
    """The requests one instance's gateway would send for `capture`, by that gateway's rules
    and the instance's configuration."""
    if not webhooks:
        return Plan((), ("the instance has no webhook configured",))
    first = webhooks[0]
    if capture.provider != first.provider:
        return Plan((), (_other_gateway(capture, first),))
    if not capture.event:
        return Plan(
            (), (f"the capture names no event, so {_title(first.provider)} would not send it",)
        )
    requests: list[Outgoing] = []
    skipped: list[str] = []
    deliver = {"evolution": _evolution, "codechat": _codechat, "whapi": _whapi}[first.provider]
    for webhook in webhooks:
        outcome = deliver(webhook, capture, capture.event)
        if isinstance(outcome, Outgoing):
            requests.append(outcome)
        else:
            skipped.append(
                outcome
                if first.provider == "evolution"
                else f"webhook {webhook.id} ({webhook.url or 'no URL'}): {outcome}"
            )
    return Plan(tuple(requests), tuple(skipped))


def _title(provider: str) -> str:
    known = catalog.PROVIDERS.get(provider)
    return known.title if known else provider


def _other_gateway(capture: Capture, webhook: Webhook) -> str:
    came = (
        "an unrecognised sender"
        if capture.provider not in catalog.PROVIDERS
        else _title(capture.provider)
    )
    return (
        f"the capture came from {came}, but {webhook.provider}/{webhook.instance} is "
        f"{_article(_title(webhook.provider))} instance: only "
        f"{_title(webhook.provider)} events are sent to it"
    )


def _article(title: str) -> str:
    return f"an {title}" if title[0].lower() in "aeiou" else f"a {title}"


def _evolution(webhook: Webhook, capture: Capture, event: str) -> Outgoing | str:
    if not webhook.enabled:
        return f"the webhook of evolution/{webhook.instance} is disabled (enabled: false)"
    if not webhook.url:
        return f"the webhook of evolution/{webhook.instance} has no URL"
    never = catalog.EVOLUTION_NEVER_DELIVERED.get(event)
    if never:
        return never
    key = catalog.evolution_key(event)
    if key not in catalog.EVOLUTION_EVENTS.get(webhook.version, ()):
        return (
            f"{event} cannot be subscribed in Evolution API {webhook.version}: {key} is "
            "not among the events /webhook/set accepts"
        )
    if key not in webhook.events:
        subscribed = ", ".join(webhook.events) or "none"
        return (
            f"{event} is not subscribed: add {key} to the instance's events "
            f"(subscribed: {subscribed})"
        )
    return _build(
        webhook,
        capture,
        by_events=webhook.mode == "by-events",
        headers=_evolution_headers(webhook.headers),
    )


def _evolution_headers(headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """Evolution 2.3 turns a `jwt_key` header into `Authorization: Bearer <HS256 JWT>`
    (replacing an Authorization header of the same spelling in place, as a JS object does)."""
    sent = dict(headers)
    if "jwt_key" in sent:
        key = sent.pop("jwt_key")
        now = int(time.time())
        sent["Authorization"] = "Bearer " + jwt_hs256(
            key, {"iat": now, "exp": now + JWT_LIFETIME, "app": "evolution", "action": "webhook"}
        )
    return list(sent.items())


def _codechat(webhook: Webhook, capture: Capture, event: str) -> Outgoing | str:
    where = f"/api/v2/instance/{webhook.instance}/webhook/{webhook.id}"
    if not webhook.enabled:
        return f"disabled (enabled: false): enable it with PUT {where}"
    flag = catalog.codechat_flag(event)
    if flag is None:
        known = catalog.find("codechat", event)
        if known is None or "v2" not in known.versions:
            return f"{event} is not a CodeChat v2 event, and no v2 webhook flag turns it on"
        sent = _build(webhook, capture)
        if isinstance(sent, str):
            return sent
        return replace(
            sent,
            note=f"{event} has no flag among CodeChat v2's webhook events, so no setting stops it",
        )
    if flag not in webhook.events:
        return f'{event} is not subscribed: set "{flag}": true with PATCH {where}/events'
    return _build(webhook, capture)


def _whapi(webhook: Webhook, capture: Capture, event: str) -> Outgoing | str:
    if event not in webhook.events:
        kind, _, method = event.partition("/")
        subscribed = ", ".join(webhook.events) or "none"
        return (
            f'{event} is not subscribed: add {{"type": "{kind}", "method": "{method}"}} '
            f"to its events (subscribed: {subscribed})"
        )
    return _build(
        webhook,
        capture,
        by_events=webhook.mode != "single",
        whapi_mode=_WHAPI_MODES.get(webhook.mode),
    )


def _build(
    webhook: Webhook,
    capture: Capture,
    *,
    by_events: bool = False,
    whapi_mode: str | None = None,
    headers: Iterable[tuple[str, str]] | None = None,
) -> Outgoing | str:
    """The request at the configured URL, per event where the mode says so. A single URL
    is always a POST, whatever method the capture itself came with."""
    try:
        outgoing = request_for(
            capture, webhook.url, by_events=by_events, whapi_mode=whapi_mode, exact=True
        )
    except ReplayError as exc:
        return str(exc)
    if not by_events:
        outgoing = replace(outgoing, method="POST")
    return with_headers(outgoing, webhook.headers if headers is None else headers)


def jwt_hs256(secret: str, payload: Mapping[str, Any]) -> str:
    """A compact JWT signed with HMAC-SHA256, as jsonwebtoken's `sign` writes it."""

    def encoded(part: Mapping[str, Any]) -> str:
        text = json.dumps(part, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(text).rstrip(b"=").decode("ascii")

    signing_input = f"{encoded({'alg': 'HS256', 'typ': 'JWT'})}.{encoded(payload)}"
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode('ascii')}"
