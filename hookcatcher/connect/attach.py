"""An attach session: point a gateway instance's webhook at this hookcatcher for as long as
it runs, and put the instance's own configuration back afterwards, exactly.

The app's webhook is someone's working set-up, so every step is said out loud: what was
there, what it is now, what was restored; and when the gateway cannot be reached at the
end, the saved configuration and the command that restores it, so nothing is lost.
The URL registered must be reachable from the gateway, which a loopback address is not
when the gateway runs elsewhere (in a container, on another machine): that is warned about
before anything changes.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

from hookcatcher.connect.client import GatewayClient, GatewayError, Saved
from hookcatcher.core import catalog
from hookcatcher.send.webhook import Webhook

__all__ = ["attached", "reachability_warning", "describe", "tap"]

_SHOWN_EVENTS = 4


@contextmanager
def attached(
    client: GatewayClient,
    url: str,
    events: Sequence[str] | None,
    by_events: bool,
    say: Callable[[str], None],
    saved: Saved | None = None,
) -> Iterator[Saved]:
    """Save the instance's webhook configuration, point it at `url`, yield what is now in
    force, and restore the saved one on the way out, whatever ends the session (also
    KeyboardInterrupt). A failed restore says how to restore by hand and does not raise.
    `saved`: the configuration already read (to forward to the app's own URL)."""
    where = _where(client)
    saved = client.read() if saved is None else saved
    try:
        now = client.point(url, events, by_events)
        _changed(say, where, saved, now)
        yield now
    finally:
        _restore(client, saved, where, say)


def tap(saved: Saved) -> tuple[list[str], bool]:
    """Where the app received the instance's webhooks before attaching, for forwarding to it
    (the URLs, and whether the gateway sent per event), when attaching takes them from it:
    Evolution has one webhook, which attach replaces; CodeChat's and Whapi's own webhooks
    keep delivering beside hookcatcher's, so nothing is forwarded for them."""
    if saved.provider != "evolution":
        return [], False
    hooks = [hook for hook in saved.webhooks if hook.enabled and hook.url]
    return [hook.url for hook in hooks], any(hook.mode == "by-events" for hook in hooks)


def _where(client: GatewayClient) -> str:
    known = catalog.PROVIDERS.get(client.provider)
    title = known.title if known else client.provider
    version = f" {client.version}" if client.version else ""
    what = f"instance {client.instance!r}" if client.instance else "channel"
    return f"{title}{version} {what} at {client.api}"


def _changed(say: Callable[[str], None], where: str, saved: Saved, now: Saved) -> None:
    say(f"attached to {where}:")
    if saved.provider == "evolution":
        say(f"  before: {_list(saved.webhooks)}")
        say(f"  now:    {_list(now.webhooks)}")
        return
    added = [hook for hook in now.webhooks if hook not in saved.webhooks]
    for hook in added:
        say(f"  added:  {describe(hook)}")
    others = len(saved.webhooks)
    say(
        f"  kept:   {others} other webhook{'s' if others != 1 else ''} as they were"
        if others
        else "  before: no webhook"
    )


def _restore(client: GatewayClient, saved: Saved, where: str, say: Callable[[str], None]) -> None:
    try:
        restored = client.restore(saved)
    except GatewayError as exc:
        say(f"could not restore the webhook configuration of {where}: {exc}")
        say("the saved configuration (as the gateway answered it before attaching):")
        say(json.dumps(saved.document, indent=2, ensure_ascii=False))
        say("restore it with:")
        say(client.restore_command(saved))
        return
    say(f"restored {where}: {_list(restored.webhooks)}")
    before = json.dumps(saved.comparable(), sort_keys=True)
    after = json.dumps(restored.comparable(), sort_keys=True)
    if before != after:
        say(
            f"warning: the configuration read back differs from the saved one: saved "
            f"{before[:300]}, now {after[:300]}; restore it with: "
            f"{client.restore_command(saved)}"
        )


def _list(webhooks: Sequence[Webhook]) -> str:
    if not webhooks:
        return "no webhook"
    if len(webhooks) == 1:
        return describe(webhooks[0])
    return "; ".join(f"[{index + 1}] {describe(hook)}" for index, hook in enumerate(webhooks))


def describe(hook: Webhook) -> str:
    """One webhook in plain words: URL, enabled, events, mode."""
    state = "enabled" if hook.enabled else "disabled"
    shown = ", ".join(hook.events[:_SHOWN_EVENTS])
    more = len(hook.events) - _SHOWN_EVENTS
    events = (
        (
            f"{len(hook.events)} event{'s' if len(hook.events) != 1 else ''} "
            f"({shown}{f', and {more} more' if more > 0 else ''})"
        )
        if hook.events
        else "no events"
    )
    parts = [hook.url or "no URL", state, events]
    if hook.provider == "evolution":
        parts.append(f"by-events {'on' if hook.mode == 'by-events' else 'off'}")
    elif hook.provider == "whapi":
        parts.append(f"mode {'body' if hook.mode == 'single' else hook.mode}")
    return ", ".join(parts)


def reachability_warning(api: str, url: str) -> str | None:
    """Plain words when the gateway at `api` is not on this machine (or looks like a
    container) while `url` is a loopback address it therefore cannot reach; None when the
    URL can work."""
    gateway = urlsplit(api).hostname or ""
    target = urlsplit(url)
    if not _loopback(target.hostname or "") or _loopback(gateway):
        return None
    kind = "looks like a container address" if _container(gateway) else "is not on this machine"
    try:
        port = target.port or (443 if target.scheme == "https" else 80)
    except ValueError:  # a port past 65535: the URL reaches nothing anywhere
        return f"warning: {url} has no valid port: the gateway cannot deliver to it"
    public = f"http://host.docker.internal:{port}{target.path or '/'}"
    return (
        f"warning: the gateway's address {gateway} {kind}, so it cannot reach {url}: "
        f"127.0.0.1 there is the gateway's own machine, not this one. Start hookcatcher "
        f"with --host 0.0.0.0 --token SECRET and register an address the gateway can "
        f"reach with --public-url {public} (Docker Desktop; on Linux start the gateway's "
        f"container with --add-host=host.docker.internal:host-gateway), or this "
        f"machine's LAN address in place of host.docker.internal."
    )


def _loopback(host: str) -> bool:
    if host in ("localhost", "0.0.0.0", "::") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _container(host: str) -> bool:
    """A Compose service name (no dots), a Docker host name, or a private address."""
    if "." not in host or host.endswith(".docker.internal"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private
