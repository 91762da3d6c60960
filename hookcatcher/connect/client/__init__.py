"""A client for each gateway's own webhook-configuration API: read an instance's webhooks,
point them at hookcatcher, and put them back exactly.

The same code talks to a real gateway and to hookcatcher's mock under `/_gateway/`, so the
mock is what its tests run against. How each gateway's answers map to the shared `Webhook`
shape lives with that gateway's mock (`evolution.webhooks_of` and the others); this module
knows the endpoints, the bodies that change a configuration, and what each failure means:
the interface and its requests in `base`, each gateway's endpoints in its own module, and here
`connect`, which chooses the client (Evolution's version told apart by its answers).
Evolution keeps one webhook per instance, so pointing replaces it; CodeChat and Whapi keep
several, so hookcatcher's is added beside the app's and restoring takes only it away.
"""

from __future__ import annotations

from typing import Any

import httpx

from hookcatcher.connect.client.base import GatewayClient, GatewayError, Saved
from hookcatcher.connect.client.codechat import HOOK_NAME, CodeChatV2
from hookcatcher.connect.client.evolution import EvolutionV1, EvolutionV2
from hookcatcher.connect.client.whapi import Whapi
from hookcatcher.core import catalog

__all__ = [
    "GatewayError",
    "Saved",
    "GatewayClient",
    "EvolutionV1",
    "EvolutionV2",
    "CodeChatV2",
    "Whapi",
    "connect",
    "HOOK_NAME",
]


def connect(
    provider: str,
    api: str,
    *,
    key: str | None,
    instance: str | None,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> GatewayClient:
    """Evolution: `key` is sent as the `apikey` header; v1 or v2 detected from `GET {api}/`
        (the welcome document's `version`, 1.x or 2.x) and, failing that, from the find answer's
        shape. CodeChat v2: `key` is the instance bearer JWT, paths
        `{api}/api/v2/instance/{instance}/webhook...`. Whapi: `key` is the channel token
        (Bearer), `{api}/settings`. Raises GatewayError for a gateway that is down, a wrong key,
        an unknown instance and an unexpected body. The caller closes the client it gets (`close()`
    or `with`)."""
    options: dict[str, Any] = {"timeout": timeout, "transport": transport}
    client: GatewayClient
    if provider not in catalog.PROVIDERS:
        raise GatewayError(f"no gateway called {provider!r}: say evolution, codechat or whapi")
    if provider == "whapi":
        client = Whapi(api, key, "", **options)
    elif not instance:
        raise GatewayError(f"{provider} needs the instance to configure (--instance NAME)")
    elif provider == "codechat":
        client = CodeChatV2(api, key, instance, **options)
    else:
        client = EvolutionV2(api, key, instance, **options)
    try:
        if isinstance(client, EvolutionV2) and _evolution_version(client) == "v1":
            client.close()
            client = EvolutionV1(api, key, client.instance, **options)
        client.read()  # a wrong key, an unknown instance or a body of the wrong shape, now
    except BaseException:
        client.close()  # a client that cannot be used holds no connections
        raise
    return client


def _evolution_version(probe: EvolutionV2) -> str:
    """ "v1" or "v2": the find answer's shape where it shows one (a webhook is there), else
    the welcome document's `version`; v2 when neither says (its find answers null)."""
    found = probe._find()
    if isinstance(found, dict) and "webhook_by_events" in found:
        return "v1"
    if isinstance(found, dict) and "webhookByEvents" in found:
        return "v2"
    try:
        welcome = probe._http.get(probe.api + "/").json()
    except (httpx.HTTPError, ValueError):
        return "v2"
    major = str(welcome.get("version", "") if isinstance(welcome, dict) else "").split(".")[0]
    return "v1" if major == "1" else "v2"
