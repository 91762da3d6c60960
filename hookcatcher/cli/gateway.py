"""What `attach` and `doctor` share: the gateway they talk to (its kind, API, credential and
instance) as options, and its client made from them. The credential has the flag each
gateway calls it by: Evolution's --apikey, CodeChat's and Whapi's --gateway-token; --token
is hookcatcher's own everywhere."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from hookcatcher.cli.options import POSITIVE_FLOAT, UsageError, collected, is_url, option
from hookcatcher.cli.receiver import say

if TYPE_CHECKING:
    from hookcatcher.connect.client import GatewayClient

__all__ = ["Gateway", "gateway_client", "gateway_key", "gateway_options"]

GATEWAYS = ("evolution", "codechat", "whapi")
THE_GATEWAY = "the gateway"


@dataclass(frozen=True, slots=True)
class Gateway:
    """The gateway a command talks to, as its options name it."""

    gateway: str
    api: str
    apikey: str | None = None
    gateway_token: str | None = None
    instance: str | None = None
    timeout: float = 10.0


def _gateway_options() -> list[Callable[[Any], Any]]:
    return [
        click.argument("gateway", type=click.Choice(GATEWAYS), metavar="GATEWAY"),
        option("--api", metavar="URL", required=True, section=THE_GATEWAY,
               help="the gateway's API base URL (Evolution: http://localhost:8080; CodeChat: its "
               "server; Whapi: https://gate.whapi.cloud)"),
        option("--apikey", metavar="KEY", section=THE_GATEWAY,
               help="Evolution's API key (global or the instance's), sent as apikey"),
        option("--gateway-token", metavar="TOKEN", section=THE_GATEWAY,
               help="CodeChat: the instance's bearer JWT; Whapi: the channel token"),
        option("--instance", metavar="NAME", section=THE_GATEWAY,
               help="the instance (Evolution: its name; CodeChat: its instanceId; Whapi: not "
               "needed, the token names the channel)"),
        option("--timeout", type=POSITIVE_FLOAT, default=10.0, section=THE_GATEWAY,
               help="wait this long for each gateway answer (default 10)"),
    ]  # fmt: skip


def gateway_options(function: Any) -> Any:
    """GATEWAY and the options that reach it, given as `gateway=Gateway(...)`."""
    return collected(Gateway, "gateway", _gateway_options())(function)


def gateway_key(gateway: Gateway, command: str, token: str | None = None) -> str:
    """The credential the gateway's API takes, from the flag that gateway calls it by.
    `token`: --token as given; doctor takes it as 0.1 meant it (the gateway's), with a
    notice, and attach says it is hookcatcher's own now."""
    if gateway.gateway == "evolution":
        if not gateway.apikey:
            raise UsageError(
                f"{command} evolution needs --apikey KEY (the gateway's API "
                "key: AUTHENTICATION_API_KEY, or the instance's own)"
            )
        return gateway.apikey
    if gateway.gateway_token:
        return gateway.gateway_token
    if command == "doctor" and token:
        say(
            "hookcatcher: doctor's --token is now --gateway-token (--token means hookcatcher's "
            "own token everywhere); the old name goes away in the next release"
        )
        return token
    what = "the instance's bearer JWT" if gateway.gateway == "codechat" else "the channel token"
    moved = " (--token is hookcatcher's own token since 0.2.0)" if token else ""
    raise UsageError(f"{command} {gateway.gateway} needs --gateway-token TOKEN ({what}){moved}")


def gateway_client(gateway: Gateway, command: str, key: str) -> GatewayClient:
    from hookcatcher.connect.client import connect

    if gateway.gateway != "whapi" and not gateway.instance:
        raise UsageError(f"{command} {gateway.gateway} needs --instance NAME")
    if not is_url(gateway.api):
        raise UsageError(f"--api {gateway.api!r} is not a URL (e.g. http://localhost:8080)")
    return connect(
        gateway.gateway,
        gateway.api.rstrip("/"),
        key=key,
        instance=gateway.instance,
        timeout=gateway.timeout,
    )
