"""`hookcatcher send`: one bundled fixture into the user's app (as `stripe trigger` does),
changed with --set, or addressed to an instance the app configured through /_gateway/."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from hookcatcher.cli.main import COMMANDS
from hookcatcher.cli.options import CONTEXT, Command, UsageError, examples, option
from hookcatcher.cli.sending import (
    Delivery,
    delivery_options,
    instance_of,
    overridden,
    planner_for,
    run,
)

if TYPE_CHECKING:
    from hookcatcher.files.fixtures import Fixture
    from hookcatcher.send.webhook import Instance

__all__ = ["command", "list_fixtures"]

WHICH = "which fixture"


@click.command(
    "send",
    cls=Command,
    context_settings=CONTEXT,
    short_help=COMMANDS["send"][1],
    epilog=examples(
        "hookcatcher send messages.upsert --to http://127.0.0.1:3000/webhook",
        "hookcatcher send messages.upsert --set data.message.conversation=menu --to URL",
        "hookcatcher send messages.upsert --instance sales   as the mocked gateway would",
        "hookcatcher send --list messages",
    ),
)
@click.argument("event", required=False, metavar="[EVENT]")
@option(
    "--provider",
    type=click.Choice(["evolution", "codechat", "whapi"]),
    section=WHICH,
    help="the gateway whose fixture to send",
)
@option(
    "--version",
    "version",
    metavar="VERSION",
    section=WHICH,
    help="the gateway version (evolution v1|v2; codechat v1.0-1.2|v1.3|v2|2026)",
)
@option(
    "--variant",
    metavar="NAME",
    section=WHICH,
    help="the fixture variant (text, image, group...: see --list)",
)
@option(
    "--list",
    "list_only",
    is_flag=True,
    section=WHICH,
    help="list the bundled fixtures (those of EVENT, if given) and exit",
)
@delivery_options
def command(
    event: str | None,
    provider: str | None,
    version: str | None,
    variant: str | None,
    list_only: bool,
    delivery: Delivery,
) -> int:
    """Send one bundled fixture into your app. EVENT is an event name (messages.upsert,
    messages/post) or a fixture name (evolution/v2/messages.upsert.image); when several fit,
    Evolution's newest plain or text variant is used unless --provider/--version/--variant
    say otherwise."""
    from hookcatcher.send.sources import item_of

    if list_only:
        return list_fixtures(event)
    if not event:
        raise UsageError(
            "name an event or fixture to send, e.g. messages.upsert; --list shows them all"
        )
    instance = instance_of(delivery)
    fixture = _fixture(event, provider, version, variant, instance)
    planner = planner_for(delivery, instance)
    texts = [*_addressed_to(fixture, instance), *delivery.set]
    items = overridden([item_of(fixture)], texts)
    if not delivery.json:
        print(f"fixture {fixture.name}: {fixture.title}", file=sys.stderr, flush=True)
    return run(items, planner, delivery)


def list_fixtures(event: str | None) -> int:
    from hookcatcher.files import fixtures

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


def _fixture(
    event: str,
    provider: str | None,
    version: str | None,
    variant: str | None,
    instance: Instance | None,
) -> Fixture:
    """The fixture to send: for an instance, one of its gateway (and, when there is one, of
    its version), since the gateway sends nothing else to it."""
    from hookcatcher.files import fixtures
    from hookcatcher.files.fixtures import FixtureError

    if instance is not None:
        if provider not in (None, instance.provider):
            raise UsageError(
                f"--provider {provider}: instance {instance.key} is configured "
                f"on {instance.provider}, so only its events go to it"
            )
        provider = instance.provider
    try:
        if instance is not None and version is None and instance.version:
            try:
                return fixtures.pick(event, provider, instance.version, variant)
            except FixtureError:
                pass  # no fixture of that version: any version of the gateway will do
        return fixtures.pick(event, provider, version, variant)
    except FixtureError as exc:
        raise UsageError(str(exc)) from None


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
