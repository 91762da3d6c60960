"""`hookcatcher doctor`: why a gateway's webhooks do not arrive, one problem a line with its
fix (connect/doctor/)."""

from __future__ import annotations

from typing import Any

import click

from hookcatcher.cli.gateway import Gateway, gateway_client, gateway_key, gateway_options
from hookcatcher.cli.main import COMMANDS
from hookcatcher.cli.options import CONTEXT, Command, examples, option

__all__ = ["command"]


@click.command(
    "doctor",
    cls=Command,
    context_settings=CONTEXT,
    greedy=("--expect",),
    short_help=COMMANDS["doctor"][1],
    epilog=examples(
        "hookcatcher doctor evolution --api http://127.0.0.1:8080 --apikey K --instance sales",
        "hookcatcher doctor whapi --api https://gate.whapi.cloud --gateway-token T --json",
        "hookcatcher doctor evolution --api URL --apikey K --instance a --expect messages.upsert",
    ),
)
@gateway_options
@option(
    "--expect",
    multiple=True,
    metavar="EVENT",
    help="events your app handles (messages.upsert ...): each must be subscribed "
    "(repeatable, or several after one --expect)",
)
@option("--json", "as_json", is_flag=True, help="one JSON document, for scripts")
@option("--token", "old_token", hidden=True)  # 0.1's --gateway-token, taken with a notice
def command(gateway: Gateway, expect: tuple[str, ...], as_json: bool, old_token: str | None) -> int:
    """Read the instance's webhook configuration and connection state from the gateway, try
    its webhook URL, and report each problem on one line with its fix. Exits 0 only when
    nothing is wrong."""
    from hookcatcher.connect import doctor
    from hookcatcher.connect.client import GatewayError

    key = gateway_key(gateway, "doctor", old_token)
    try:
        client: Any = gateway_client(gateway, "doctor", key)
    except GatewayError as exc:
        client = exc
    try:
        return doctor.run_doctor(
            client,
            expected_events=list(expect),
            as_json=as_json,
            api=gateway.api,
            provider=gateway.gateway,
            timeout=gateway.timeout,
        )
    finally:
        if not isinstance(client, GatewayError):
            client.close()
