"""What a gateway would post where: the events a webhook can get, which it is subscribed to
(or can never be), and the URL each goes to in per-event mode. Gateway facts read from the
catalog, shared by the probes (`observe`) and the judging (`diagnose`).
"""

from __future__ import annotations

from hookcatcher.core import catalog
from hookcatcher.send.webhook import Webhook

__all__ = [
    "CONTROL_PATH",
    "PER_EVENT",
    "events_of",
    "base",
    "event_paths",
    "control_url",
    "subscribed",
    "subscribable",
]

# A path no app serves on purpose: its answer tells a catch-all from real routes.
CONTROL_PATH = "/hookcatcher-doctor-no-such-path"
# The webhook modes in which the gateway adds a path per event to the URL.
PER_EVENT = {"by-events", "path", "method"}


def events_of(webhook: Webhook) -> list[catalog.Event]:
    """The catalog events this gateway (and version) can send to a webhook."""
    provider = catalog.PROVIDERS[webhook.provider]
    if webhook.provider == "evolution":
        return [event for event in provider.events if webhook.version in event.versions]
    return list(provider.events)


def base(webhook: Webhook) -> str:
    return webhook.url.rstrip("/")


def event_paths(webhook: Webhook) -> dict[str, str]:
    """Catalog event name -> the URL the gateway posts it to in the webhook's per-event
    mode (trailing slash left out); empty when the webhook has one URL for everything or
    its URL has a query (the gateway appends inside the query: the path tells nothing)."""
    if webhook.mode not in PER_EVENT or not webhook.url or "?" in webhook.url:
        return {}
    mode = "method" if webhook.mode == "method" else "path"
    return {
        event.name: base(webhook) + event.delivery(mode)[1]
        for event in events_of(webhook)
        if event.suffix
    }


def control_url(webhook: Webhook) -> str:
    return base(webhook) + CONTROL_PATH


def subscribed(webhook: Webhook, event: catalog.Event) -> bool:
    if webhook.provider == "evolution":
        return catalog.evolution_key(event.name) in webhook.events
    if webhook.provider == "codechat":
        flag = catalog.codechat_flag(event.name)
        return flag is None or flag in webhook.events  # no flag: nothing stops it
    return event.name in webhook.events


def subscribable(webhook: Webhook, event: catalog.Event) -> str | None:
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
