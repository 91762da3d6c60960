"""The `replay` and `send` commands: hookcatcher as the gateway, driving the user's own app.

Flags become sources (sources.py), a planner (delivery.py: a URL as received or per event,
or a configured instance's webhooks) and a printer: one line per request as it finishes,
then a summary. The exit code is 0 only when every answer was 2xx, so a script or CI step
can rely on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from typing import TextIO

import httpx

from hookcatcher.core.overrides import OverrideError, parse
from hookcatcher.files import fixtures
from hookcatcher.files.fixtures import Fixture, FixtureError
from hookcatcher.remote import DEFAULT_URL, auth_headers, refusal
from hookcatcher.send.delivery import Planner, Report, Sent, Skipped, deliver, to_url
from hookcatcher.send.outgoing import ReplayError, check_target, make_client, why_failed
from hookcatcher.send.sources import (
    Item,
    SourceError,
    from_paths,
    from_server,
    item_of,
    with_overrides,
)
from hookcatcher.send.webhook import Instance, UnknownInstance, find_instance, plan

__all__ = ["Printer", "list_fixtures", "replay_command", "send_command"]


class CommandError(Exception):
    """Bad input to replay or send; printed as `hookcatcher: error: ...`, exit code 2."""


class Printer:
    """One line per request as it finishes (text or JSON), then the summary."""

    def __init__(self, as_json: bool, out: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout
        self.notes: Counter[str] = Counter()

    def __call__(self, done: Sent | Skipped) -> None:
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


def replay_command(args: argparse.Namespace) -> int:
    items: list[Item] = []
    try:
        items += from_paths(args.sources, on_problem=_say_problem)
        if args.source_server:
            items += from_server(args.source_server, args.filter, args.timeout, args.token)
    except SourceError as exc:
        raise CommandError(str(exc)) from None
    if not args.sources and not args.source_server:
        raise CommandError(
            "nothing to replay: give fixture files or folders, or --from URL "
            "for the captures of a running hookcatcher"
        )
    planner = _planner(args, _instance(args))
    if not items:
        print("nothing to replay: no captures matched", file=sys.stderr)
        return 0
    return _run(_overridden(items, args.set), planner, args)


def _say_problem(message: str) -> None:
    print(f"hookcatcher: {message}", file=sys.stderr, flush=True)


def send_command(args: argparse.Namespace) -> int:
    if args.list:
        return list_fixtures(args.event)
    if not args.event:
        raise CommandError(
            "name an event or fixture to send, e.g. messages.upsert; --list shows them all"
        )
    instance = _instance(args)
    fixture = _fixture(args, instance)
    planner = _planner(args, instance)
    texts = [*_addressed_to(fixture, instance), *args.set]
    items = _overridden([item_of(fixture)], texts)
    if not args.json:
        print(f"fixture {fixture.name}: {fixture.title}", file=sys.stderr, flush=True)
    return _run(items, planner, args)


def list_fixtures(event: str | None) -> int:
    shown = [
        fixture
        for fixture in fixtures.bundled()
        if event is None or event in (fixture.event, fixture.name) or fixture.name.startswith(event)
    ]
    for fixture in shown:
        print(f"{fixture.name:<52} {fixture.title}")
    if event is not None and not shown:
        print(f"no bundled fixture matches {event!r}", file=sys.stderr)
        return 1
    return 0


def _overridden(items: list[Item], texts: list[str]) -> list[Item]:
    try:
        overrides = [parse(text) for text in texts]
        changed = list(with_overrides(items, overrides))
    except (OverrideError, SourceError) as exc:
        raise CommandError(str(exc)) from None
    if overrides:
        _warn_if_invalid(changed)
    return changed


def _run(items: list[Item], planner: Planner, args: argparse.Namespace) -> int:
    printer = Printer(args.json)
    try:
        report = asyncio.run(_deliver(items, planner, args, printer))
    except KeyboardInterrupt:
        print("hookcatcher: interrupted; the lines above are what was sent", file=sys.stderr)
        return 130
    printer.finish(report)
    return 0 if report.ok else 1


async def _deliver(
    items: list[Item], planner: Planner, args: argparse.Namespace, printer: Printer
) -> Report:
    async with make_client(concurrency=args.concurrency) as client:
        return await deliver(
            items,
            planner,
            client,
            concurrency=args.concurrency,
            rate=args.rate,
            repeat=args.repeat,
            timeout=args.timeout,
            on_done=printer,
        )


def _fixture(args: argparse.Namespace, instance: Instance | None) -> Fixture:
    """The fixture to send: for an instance, one of its gateway (and, when there is one, of
    its version), since the gateway sends nothing else to it."""
    provider, version = args.provider, args.version
    if instance is not None:
        if provider not in (None, instance.provider):
            raise CommandError(
                f"--provider {provider}: instance {instance.key} is configured "
                f"on {instance.provider}, so only its events go to it"
            )
        provider = instance.provider
    try:
        if instance is not None and version is None and instance.version:
            try:
                return fixtures.pick(args.event, provider, instance.version, args.variant)
            except FixtureError:
                pass  # no fixture of that version: any version of the gateway will do
        return fixtures.pick(args.event, provider, version, args.variant)
    except FixtureError as exc:
        raise CommandError(str(exc)) from None


def _addressed_to(fixture: Fixture, instance: Instance | None) -> list[str]:
    """Overrides that make a fixture's body name the instance, as the gateway's own would:
    Evolution's `instance` (a name), CodeChat's `instance.instanceId`."""
    if instance is None or not isinstance(fixture.body, dict):
        return []
    named = fixture.body.get("instance")
    if isinstance(named, str):
        return [f"instance={json.dumps(instance.name)}"]
    if isinstance(named, dict) and "instanceId" in named:
        return [f"instance.instanceId={json.dumps(instance.name)}"]
    return []


def _instance(args: argparse.Namespace) -> Instance | None:
    """The instance named by --instance, as the app configured it through hookcatcher's mock
    of its gateway's API, read from the server that holds it."""
    if args.instance is None:
        return None
    if args.to is not None:
        raise CommandError(
            "give --to URL or --instance NAME, not both: an instance sends to "
            "the URL the app configured"
        )
    if args.by_events or args.whapi_mode:
        raise CommandError(
            "--by-events and --whapi-mode do not go with --instance: the "
            "instance's own configuration says how its gateway sends"
        )
    server = (args.server or getattr(args, "source_server", None) or DEFAULT_URL).rstrip("/")
    try:
        response = httpx.get(
            f"{server}/_hookcatcher/api/instances",
            timeout=args.timeout,
            headers=auth_headers(args.token),
        )
        if response.status_code == 401:
            raise CommandError(refusal(server, args.token))
        listed = response.json()["instances"]
    except httpx.HTTPError as exc:
        raise CommandError(
            f"cannot read the configured instances from {server}: "
            f"{why_failed(exc)}: is hookcatcher running there? (--server URL)"
        ) from None
    except (ValueError, KeyError, TypeError):
        raise CommandError(
            f"{server} did not list instances: is it a hookcatcher server?"
        ) from None
    try:
        return find_instance([Instance.from_json(item) for item in listed], args.instance)
    except UnknownInstance as exc:
        raise CommandError(f"--instance {args.instance}: {exc}") from None


def _planner(args: argparse.Namespace, instance: Instance | None) -> Planner:
    if instance is not None:
        return lambda capture: plan(instance.webhooks, capture)
    if args.to is None:
        raise CommandError(
            "where to? give --to URL (your app's webhook URL) or --instance "
            "NAME (an instance your app configured through /_gateway/)"
        )
    try:
        check_target(args.to)
    except ReplayError as exc:
        raise CommandError(f"--to: {exc}") from None
    return to_url(args.to, args.by_events, args.whapi_mode)


def _warn_if_invalid(items: list[Item]) -> None:
    """An override may break the contract on purpose; say so, so it is never by accident."""
    from hookcatcher.check.validation import Validator
    from hookcatcher.receive.ingest import judge

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
