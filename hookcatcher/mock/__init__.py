"""Mocks of each gateway's own webhook-configuration API, under `/_gateway/<provider>/`.

An app's set-up code (Evolution's `POST /webhook/set/{instance}`, CodeChat's
`POST .../webhook`, Whapi's `PATCH /settings`) runs against hookcatcher unchanged; what it
configured is kept per instance for the server's life, and shown in one shape for every
gateway (`webhook.Webhook`) at `GET /_hookcatcher/api/instances`, from which `webhook.plan`
works out what that gateway would send for a capture.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookcatcher.mock import codechat, evolution, whapi
from hookcatcher.send.webhook import Instance, Plan, UnknownInstance, Webhook, find_instance, plan

__all__ = [
    "Gateways",
    "routes",
    "list_instances",
    "Instance",
    "Plan",
    "UnknownInstance",
    "Webhook",
    "find_instance",
    "plan",
]


class Gateways:
    """Every gateway's configuration state for one server run."""

    def __init__(self) -> None:
        self.evolution = evolution.Instances()
        self.codechat = codechat.Instances()
        self.whapi = whapi.Channels()

    def instances(self) -> list[Instance]:
        """Every configured instance, Evolution first, then CodeChat, then Whapi."""
        return [*self.evolution.instances(), *self.codechat.instances(), *self.whapi.instances()]

    def webhooks(self, name: str) -> tuple[Webhook, ...]:
        """The webhooks of the instance called `name` or `provider/name`; `UnknownInstance`
        (listing the configured ones) when there is none or more than one."""
        return find_instance(self.instances(), name).webhooks


def routes() -> list[Route]:
    """Every mocked endpoint, relative to the gateway prefix (`/evolution/...`)."""
    return [*evolution.routes(), *codechat.routes(), *whapi.routes()]


async def list_instances(request: Request) -> Response:
    """`{"instances": [{provider, instance, version, webhooks}]}`."""
    gateways: Gateways = request.app.state.gateways
    return JSONResponse({"instances": [item.to_json() for item in gateways.instances()]})
