"""What `replay` and `send` share: hookcatcher as the gateway, driving the user's own app.

Their options (where to, what to change, how fast) become `Delivery`; the sources become
items (send/sources.py), the target a planner (send/delivery.py: a URL as received or per
event, or a configured instance's webhooks), and the printer says one line per request as it
finishes, then a summary. The exit code is 0 only when every answer was 2xx, so a script or
CI step can rely on it."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import click

from hookcatcher.cli.options import (
    POSITIVE_FLOAT,
    POSITIVE_INT,
    TOKEN,
    UsageError,
    collected,
    option,
)
from hookcatcher.remote import DEFAULT_URL

if TYPE_CHECKING:
    from hookcatcher.send.delivery import Planner, Report, Sent, Skipped
    from hookcatcher.send.sources import Item
    from hookcatcher.send.webhook import Instance

__all__ = ["Delivery", "Printer", "delivery_options", "instance_of", "run", "overridden"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where replay and send deliver, what they change first, and how fast."""

    to: str | None = None
    instance: str | None = None
    server: str | None = None
    token: str | None = None
    by_events: bool = False
    whapi_mode: str | None = None
    set: tuple[str, ...] = ()
    concurrency: int = 1
    rate: float | None = None
    repeat: int = 1
    timeout: float = 10.0
    json: bool = False


WHERE, WHAT, HOW = "where to", "what", "how"


def _delivery_options() -> list[Callable[[Any], Any]]:
    return [
        option("--to", env="to", metavar="URL", section=WHERE,
               help="your app's webhook URL, as you would configure it in the gateway"),
        option("--instance", metavar="NAME", section=WHERE,
               help="send as the gateway would to an instance your app configured through "
               "hookcatcher's /_gateway/ API: its URL, per-event mode, headers and subscribed "
               "events (provider/NAME if ambiguous)"),
        option("--server", env="server", metavar="URL", section=WHERE,
               help="with --instance: the hookcatcher holding that configuration (default "
               f"--from, else {DEFAULT_URL})"),
        option("--token", env="token", type=TOKEN, section=WHERE,
               help="the token of the hookcatcher that --from or --server names"),
        option("--by-events", is_flag=True, section=WHERE,
               help="per-event URLs, by the gateway's own rule: Evolution URL/<suffix>, Whapi "
               "URL/<type>/<method> (CodeChat has none)"),
        option("--whapi-mode", type=click.Choice(["path", "method"]), section=WHERE,
               help="Whapi's per-event form with --by-events: path (POST URL/type/method, the "
               "default) or method (the event's method to URL/type)"),
        option("--set", multiple=True, metavar="PATH=VALUE", section=WHAT,
               help="change the body first (repeatable): data.key.fromMe=true, "
               "messages[0].text.body=hi; VALUE is JSON when it parses, else text"),
        option("--concurrency", type=POSITIVE_INT, default=1, section=HOW,
               help="requests in flight at once (default 1: strictly in order)"),
        option("--rate", type=POSITIVE_FLOAT, metavar="PER_SECOND", section=HOW,
               help="at most this many requests per second"),
        option("--repeat", type=POSITIVE_INT, default=1, section=HOW,
               help="send the whole list this many times (default 1)"),
        option("--timeout", type=POSITIVE_FLOAT, default=10.0, section=HOW,
               help="wait this long for each answer (default 10)"),
        option("--json", is_flag=True, section=HOW,
               help='one JSON line per request and a last {"summary": ...} line'),
    ]  # fmt: skip


def delivery_options(function: Any) -> Any:
    """The options replay and send share, given as `delivery=Delivery(...)`."""
    return collected(Delivery, "delivery", _delivery_options())(function)


class Printer:
    """One line per request as it finishes (text or JSON), then the summary."""

    def __init__(self, as_json: bool, out: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout
        self.notes: Counter[str] = Counter()

    def __call__(self, done: Sent | Skipped) -> None:
        from hookcatcher.send.delivery import Skipped

        if self.as_json:
            self.out.write(json.dumps(done.to_json(), ensure_ascii=False) + "\n")
        elif isinstance(done, Skipped):
            self.out.write(f"skip  {done.item.label}: {done.reason}\n")
        else:
            attempt = done.attempt
            status = f"{attempt.status:>4}" if attempt.status is not None else " ---"
            outcome = (
                f"{attempt.elapsed_ms:.1f} ms" if attempt.status is not None else attempt.error
            )
            self.out.write(
                f"{status}  {attempt.method} {attempt.url}  {outcome}  {done.item.label}\n"
            )
            if done.note:
                self.notes[done.note] += 1
        self.out.flush()

    def finish(self, report: Report) -> None:
        if self.as_json:
            self.out.write(json.dumps({"summary": report.counts()}) + "\n")
        else:
            for note, count in self.notes.items():
                self.out.write(f"note: {note} ({count} request{'s' if count != 1 else ''})\n")
            self.out.write(report.summary() + "\n")
        self.out.flush()
        if report.stopped:
            print(f"hookcatcher: {report.stopped}", file=sys.stderr, flush=True)


def say_problem(message: str) -> None:
    print(f"hookcatcher: {message}", file=sys.stderr, flush=True)


def overridden(items: list[Item], texts: list[str]) -> list[Item]:
    """The items with --set applied; a change that breaks the contract is warned about."""
    from hookcatcher.core.overrides import OverrideError, parse
    from hookcatcher.send.sources import SourceError, with_overrides

    try:
        overrides = [parse(text) for text in texts]
        changed = list(with_overrides(items, overrides))
    except (OverrideError, SourceError) as exc:
        raise UsageError(str(exc)) from None
    if overrides:
        _warn_if_invalid(changed)
    return changed


def run(items: list[Item], planner: Planner, delivery: Delivery) -> int:
    """Deliver the items, a line each as they finish; 130 when interrupted."""
    import asyncio

    printer = Printer(delivery.json)
    try:
        report = asyncio.run(_deliver(items, planner, delivery, printer))
    except KeyboardInterrupt:
        print("hookcatcher: interrupted; the lines above are what was sent", file=sys.stderr)
        return 130
    printer.finish(report)
    return 0 if report.ok else 1


async def _deliver(
    items: list[Item], planner: Planner, delivery: Delivery, printer: Printer
) -> Report:
    from hookcatcher.send.delivery import deliver
    from hookcatcher.send.outgoing import make_client

    async with make_client(concurrency=delivery.concurrency) as client:
        return await deliver(
            items,
            planner,
            client,
            concurrency=delivery.concurrency,
            rate=delivery.rate,
            repeat=delivery.repeat,
            timeout=delivery.timeout,
            on_done=printer,
        )


def instance_of(delivery: Delivery, source_server: str | None = None) -> Instance | None:
    """The instance named by --instance, as the app configured it through hookcatcher's mock
    of its gateway's API, read from the server that holds it."""
    if delivery.instance is None:
        return None
    if delivery.to is not None:
        raise UsageError(
            "give --to URL or --instance NAME, not both: an instance sends to "
            "the URL the app configured"
        )
    if delivery.by_events or delivery.whapi_mode:
        raise UsageError(
            "--by-events and --whapi-mode do not go with --instance: the "
            "instance's own configuration says how its gateway sends"
        )
    from hookcatcher.remote import RemoteError, SyncRemote
    from hookcatcher.send.webhook import UnknownInstance, find_instance

    server = delivery.server or source_server or DEFAULT_URL
    try:
        with SyncRemote(server, token=delivery.token, timeout=delivery.timeout) as remote:
            listed = remote.instances()
    except RemoteError as exc:
        raise UsageError(str(exc)) from None
    try:
        return find_instance(listed, delivery.instance)
    except UnknownInstance as exc:
        raise UsageError(f"--instance {delivery.instance}: {exc}") from None


def planner_for(delivery: Delivery, instance: Instance | None) -> Planner:
    """Where each request goes: the instance's webhooks, or --to (per event or not)."""
    from hookcatcher.send.delivery import to_url
    from hookcatcher.send.outgoing import ReplayError, check_target
    from hookcatcher.send.webhook import plan

    if instance is not None:
        return lambda capture: plan(instance.webhooks, capture)
    if delivery.to is None:
        raise UsageError(
            "where to? give --to URL (your app's webhook URL) or --instance "
            "NAME (an instance your app configured through /_gateway/)"
        )
    try:
        check_target(delivery.to)
    except ReplayError as exc:
        raise UsageError(f"--to: {exc}") from None
    return to_url(delivery.to, delivery.by_events, delivery.whapi_mode)


def _warn_if_invalid(items: list[Item]) -> None:
    """An override may break the contract on purpose; say so, so it is never by accident."""
    from hookcatcher.check.validation import Validator
    from hookcatcher.check.verdict import judge

    validator = Validator()
    for item in items:
        capture = item.capture
        _, verdict = judge(
            validator, capture.method, capture.path, capture.query, capture.headers, capture.body
        )
        for problem in verdict.errors:
            print(
                f"warning: {item.label} after --set is invalid against {verdict.schema}: "
                f"{problem.path}: {problem.message}",
                file=sys.stderr,
            )
