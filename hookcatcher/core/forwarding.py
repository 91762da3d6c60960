"""Forwarding to the user's app (`--forward-to`): the rules that say which captures go where,
the URL each goes to, and the record of one delivery, kept with its capture.

A rule is `URL` (every capture) or `SELECTOR=URL`, the selector a filter or an event name as
in `--respond`. The URL a capture goes to is the rule's URL with the part of the path the
gateway added after its configured base (Evolution's `/messages-upsert`, Whapi's
`/messages/post`) and the query: what the gateway would have called had the app been
configured at the rule's URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hookcatcher.core.capture import Capture
    from hookcatcher.core.filters import Filter

__all__ = ["DEFAULT_FORWARD_TIMEOUT", "DEFAULT_QUEUE", "ForwardRule", "forward_url", "parse_rule"]

DEFAULT_FORWARD_TIMEOUT = 10.0  # seconds for the app's answer
DEFAULT_QUEUE = 1000  # detach: deliveries waiting per target before the oldest is dropped

_RULE = re.compile(r"^(?:(?P<selector>.+?)=)?(?P<url>https?://\S+)$")
_URL = re.compile(r"^https?://[^/\s?#]+")


@dataclass(frozen=True, slots=True)
class ForwardRule:
    """Where captures matching `selector` go (every capture without one)."""

    url: str
    selector: str | None = None
    matches: Filter | None = None

    def applies(self, capture: Capture) -> bool:
        return self.matches is None or bool(self.matches(capture))

    def describe(self) -> str:
        return self.url if self.selector is None else f"{self.selector} -> {self.url}"


def parse_rule(text: str) -> ForwardRule:
    """`URL` or `SELECTOR=URL`, or ValueError saying what is wrong with it."""
    from hookcatcher.core.filters import FilterError, parse, selector_query

    match = _RULE.match(text.strip())
    if match is None or not _URL.match(match.group("url")):
        raise ValueError(
            f"{text!r} is not URL or SELECTOR=URL with an http(s) URL "
            "(e.g. http://127.0.0.1:3000/webhook, 'event:messages.*=http://127.0.0.1:3000/hooks')"
        )
    url, selector = match.group("url"), match.group("selector")
    if selector is None:
        return ForwardRule(url)
    try:
        return ForwardRule(url, selector, parse(selector_query(selector)))
    except FilterError as exc:
        raise ValueError(f"{text!r}: the selector {selector!r} is not a filter: {exc}") from None


def forward_url(base: str, capture: Capture) -> str:
    """The rule's URL plus the gateway's per-event path and the query, as received."""
    suffix = capture.route.suffix
    # Evolution appends its suffix to the whole configured URL: after a query, the suffix
    # came inside the query, and goes on with it.
    in_query = capture.route.mode == "by-events" and "?" in capture.route.base
    url = f"{base.rstrip('/')}/{suffix.lstrip('/')}" if suffix and not in_query else base
    if capture.query:
        url = f"{url}{'&' if '?' in url else '?'}{capture.query}"
    return url
