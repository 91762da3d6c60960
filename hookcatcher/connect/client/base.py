"""A client for each gateway's own webhook-configuration API: read an instance's webhooks,
point them at hookcatcher, and put them back exactly.

The same code talks to a real gateway and to hookcatcher's mock under `/_gateway/`, so the
mock is what its tests run against. How each gateway's answers map to the shared `Webhook`
shape lives with that gateway's mock (`evolution.webhooks_of` and the others); this module
knows the endpoints, the bodies that change a configuration, and what each failure means.
Evolution keeps one webhook per instance, so pointing replaces it; CodeChat and Whapi keep
several, so hookcatcher's is added beside the app's and restoring takes only it away.
"""

from __future__ import annotations

import json
import shlex
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from hookcatcher.core import catalog
from hookcatcher.mock import codechat, evolution, whapi
from hookcatcher.send.webhook import Webhook

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

HOOK_NAME = "hookcatcher"  # the name of the webhook point() adds on CodeChat
_GIST = 200
# What Evolution v2 and CodeChat stamp on every write: not part of what was configured.
_STAMPS = ("id", "createdAt", "updatedAt")


class GatewayError(Exception):
    """A gateway answered something other than what its API promises, or did not answer.
    str(exc) is one or two plain sentences naming the gateway's answer (status, the gist of
    its body, cut to ~200 chars) and what to do; never a traceback."""


@dataclass(frozen=True, slots=True)
class Saved:
    """An instance's webhook configuration as read from the gateway, enough to put it back."""

    provider: str  # evolution | codechat | whapi
    version: str  # evolution "v1" | "v2"; codechat "v2"; whapi ""
    instance: str  # Evolution instance name, CodeChat instanceId, Whapi "" (the token)
    document: Any  # the gateway's answer to the read, as parsed JSON (None / [] when none)
    webhooks: tuple[Webhook, ...]  # the same in the shared shape (empty when none)

    def comparable(self) -> Any:
        """`document` without what the gateway stamps itself on every write (ids it
        generates, createdAt/updatedAt): what 'restored exactly' is judged on.
        json.dumps(..., sort_keys=True) of it is the byte-for-byte form.

        Evolution v2 has no way to remove an instance's webhook, so one that was never set
        is put back as a disabled one; a disabled webhook sends nothing whatever else it
        holds, so every disabled v2 webhook compares as null, the answer for none."""
        document = self.document
        if self.provider == "evolution" and self.version == "v2":
            if not isinstance(document, dict) or not document.get("enabled"):
                return None
            return {key: value for key, value in document.items() if key not in _STAMPS}
        return document


def _gist(response: httpx.Response) -> str:
    """The start of an answer's body on one line, for a message."""
    text = " ".join(response.text.split())
    if not text:
        return "an empty body"
    return text if len(text) <= _GIST else text[:_GIST] + "..."


class GatewayClient(ABC):
    """One gateway's webhook-configuration API for one instance (Whapi: one channel)."""

    provider = ""
    version = ""
    title = ""
    key_header = "Authorization: Bearer"  # how the key is sent, for the wrong-key message
    key_name = "$TOKEN"  # how restore_command() shows the key

    def __init__(
        self,
        api: str,
        key: str | None,
        instance: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api = api.rstrip("/")
        self.instance = instance
        self._http = httpx.Client(headers=self._auth(key), timeout=timeout, transport=transport)

    def _auth(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    # The interface.

    @abstractmethod
    def read(self) -> Saved:
        """The instance's webhook configuration now."""

    @abstractmethod
    def point(
        self, url: str, events: Sequence[str] | None = None, by_events: bool = False
    ) -> Saved:
        """Make the gateway deliver to `url`: `events` are catalog event names
        (messages.upsert, messages/post; None = every event the gateway has). Evolution (one
        webhook per instance): replaced. CodeChat and Whapi (several per instance/channel):
        hookcatcher's own webhook is added beside the others (CodeChat name "hookcatcher"),
        the others untouched. Returns the configuration read back afterwards."""

    @abstractmethod
    def restore(self, saved: Saved) -> Saved:
        """Put `saved` back (Evolution: set it again, or disable when nothing was set;
        CodeChat: delete the webhook point() added; Whapi: PATCH the saved `webhooks`
        array). Returns what is read back."""

    @abstractmethod
    def restore_command(self, saved: Saved) -> str:
        """curl command line(s) that restore `saved` by hand (the key shown as $APIKEY /
        $TOKEN, not its value)."""

    def connection_state(self) -> str | None:
        """The instance's connection as the gateway says it; None when the gateway has no
        such endpoint."""
        return None

    def test_delivery(self, url: str) -> str | None:
        """The gateway's own webhook test: None when the gateway has none."""
        return None

    # Requests.

    def _saved(self, document: Any, webhooks: tuple[Webhook, ...]) -> Saved:
        return Saved(self.provider, self.version, self.instance, document, webhooks)

    def _call(
        self, method: str, path: str, body: Any = None, expect: type | tuple[type, ...] = dict
    ) -> Any:
        """The JSON answer of one request, or a GatewayError that says what came instead."""
        url = self.api + path
        try:
            response = self._http.request(method, url, json=body)
        except httpx.TimeoutException:
            raise GatewayError(
                f"{self.title} at {self.api} did not answer {method} {path} in "
                "time: check that it is running and that the address is "
                "right"
            ) from None
        except httpx.HTTPError as exc:
            raise GatewayError(
                f"nothing answers at {self.api} ({type(exc).__name__}: "
                f"{exc}): is {self.title} running, and is this its "
                "address?"
            ) from None
        if response.status_code in (401, 403):
            raise GatewayError(
                f"{self.title} at {self.api} refused the key "
                f"({response.status_code} on {method} {path}: "
                f"{_gist(response)}): check the key sent as "
                f"{self.key_header}"
            )
        if response.status_code == 404:
            raise self._not_found(method, path, response)
        if response.status_code >= 400:
            raise GatewayError(
                f"{self.title} at {self.api} answered {method} {path} with "
                f"{response.status_code}: {_gist(response)}"
            )
        try:
            answer = response.json()
        except ValueError:
            answer = _NOT_JSON
        if answer is _NOT_JSON or not isinstance(answer, expect):
            raise GatewayError(
                f"{self.title} at {self.api} answered {method} {path} with "
                f"{response.status_code} and a body that is not the JSON its "
                f"API promises ({_expected(expect)}): {_gist(response)}; is "
                "this the gateway's API address?"
            )
        return answer

    def _not_found(self, method: str, path: str, response: httpx.Response) -> GatewayError:
        return GatewayError(
            f"{self.title} at {self.api} has no instance {self.instance!r} "
            f"(404 on {method} {path}: {_gist(response)}): check the instance "
            "name, and that the address is the gateway's API"
        )

    def _curl(self, method: str, path: str, body: Any = None) -> str:
        words = [f"curl -X {method} {shlex.quote(self.api + path)}", f'-H "{self._curl_header()}"']
        if body is not None:
            words += [
                "-H 'Content-Type: application/json'",
                f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}",
            ]
        return " ".join(words)

    def _curl_header(self) -> str:
        return f"Authorization: Bearer {self.key_name}"


_NOT_JSON = object()


def _expected(expect: type | tuple[type, ...]) -> str:
    kinds = expect if isinstance(expect, tuple) else (expect,)
    names = {dict: "an object", list: "an array", type(None): "null"}
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds)


# Evolution


class _Evolution(GatewayClient):
    provider = "evolution"
    title = "Evolution API"
    key_header = "apikey"
    key_name = "$APIKEY"

    def _auth(self, key: str | None) -> dict[str, str]:
        return {"apikey": key} if key else {}

    def _curl_header(self) -> str:
        return f"apikey: {self.key_name}"

    def _find(self) -> Any:
        return self._call("GET", f"/webhook/find/{self.instance}", expect=(dict, type(None)))

    def read(self) -> Saved:
        document = self._find()
        return self._saved(document, evolution.webhooks_of(self.instance, self.version, document))

    def _keys(self, events: Sequence[str] | None) -> list[str]:
        accepted = catalog.EVOLUTION_EVENTS[self.version]
        if events is None:
            return list(accepted)
        keys = [catalog.evolution_key(name) for name in events]
        wrong = [name for name, key in zip(events, keys, strict=True) if key not in accepted]
        if wrong:
            raise GatewayError(
                f"Evolution API {self.version} has no webhook event "
                f"{', '.join(wrong)}: its events are {', '.join(accepted)}"
            )
        return list(dict.fromkeys(keys))

    def _set(self, body: dict[str, Any]) -> None:
        self._call("POST", f"/webhook/set/{self.instance}", body)

    def connection_state(self) -> str | None:
        answer = self._call("GET", f"/instance/connectionState/{self.instance}")
        state = (answer.get("instance") or {}).get("state") or answer.get("state")
        if not isinstance(state, str):
            raise GatewayError(
                f"Evolution API at {self.api} answered the connection state of "
                f"{self.instance!r} without a state: {json.dumps(answer)[:_GIST]}"
            )
        return state


class EvolutionV1(_Evolution):
    """Evolution API 1.x: a flat webhook (`webhook_by_events`), replaced on every set."""

    version = "v1"

    def _find(self) -> Any:
        return self._call("GET", f"/webhook/find/{self.instance}")

    def point(
        self, url: str, events: Sequence[str] | None = None, by_events: bool = False
    ) -> Saved:
        now = self._find()
        self._set(
            {
                "enabled": True,
                "url": url,
                "events": self._keys(events),
                "webhook_by_events": by_events,
                "webhook_base64": bool(now.get("webhook_base64")),
            }
        )
        return self.read()

    def restore(self, saved: Saved) -> Saved:
        self._set(_v1_body(saved.document))
        return self.read()

    def restore_command(self, saved: Saved) -> str:
        return self._curl("POST", f"/webhook/set/{self.instance}", _v1_body(saved.document))


def _v1_body(document: Any) -> dict[str, Any]:
    """A v1 find answer is a set body already; only its five fields are sent back."""
    keys = ("enabled", "url", "events", "webhook_by_events", "webhook_base64")
    return {key: document[key] for key in keys if key in document}


class EvolutionV2(_Evolution):
    """Evolution API 2.x: the webhook nested under `webhook` (byEvents, base64, headers);
    a set is an upsert, so what it leaves out (the app's headers, base64) stays."""

    version = "v2"

    def __init__(self, api: str, key: str | None, instance: str, **options: Any) -> None:
        super().__init__(api, key, instance, **options)
        self._pointed: str | None = None  # the URL point() set, for restore_command()

    def point(
        self, url: str, events: Sequence[str] | None = None, by_events: bool = False
    ) -> Saved:
        self._pointed = url
        self._set(
            {
                "webhook": {
                    "enabled": True,
                    "url": url,
                    "events": self._keys(events),
                    "byEvents": by_events,
                }
            }
        )
        return self.read()

    def restore(self, saved: Saved) -> Saved:
        body = self._restore_body(saved)
        if body is not None:
            self._set(body)
        return self.read()

    def _restore_body(self, saved: Saved, url: str | None = None) -> dict[str, Any] | None:
        """The set body that puts `saved` back; for none set, one that disables the webhook
        now in force (None when there is none)."""
        document = saved.document
        if isinstance(document, dict):
            hook = {
                "enabled": document.get("enabled", False),
                "url": document.get("url", ""),
                "events": document.get("events") or [],
                "byEvents": bool(document.get("webhookByEvents")),
                "base64": bool(document.get("webhookBase64")),
            }
            if document.get("headers") is not None:
                hook["headers"] = document["headers"]
            return {"webhook": hook}
        if url is None:
            now = self._find()
            if now is None:
                return None
            url = now.get("url") or ""
        return {"webhook": {"enabled": False, "url": url, "events": [], "byEvents": False}}

    def restore_command(self, saved: Saved) -> str:
        body = self._restore_body(saved, url=self._pointed or "http://127.0.0.1/")
        return self._curl("POST", f"/webhook/set/{self.instance}", body)


# CodeChat


class CodeChatV2(GatewayClient):
    """CodeChat API v2: several named webhooks per instance, each with its event flags.
    Restoring deletes the webhooks named "hookcatcher" that were not there when saved, so a
    second client (after a crash) restores as well as the one that pointed."""

    provider = "codechat"
    version = "v2"
    title = "CodeChat API"

    def __init__(self, api: str, key: str | None, instance: str, **options: Any) -> None:
        super().__init__(api, key, instance, **options)
        self._added: list[str] = []  # webhookIds point() created, for restore_command()

    @property
    def _base(self) -> str:
        return f"/api/v2/instance/{self.instance}/webhook"

    def read(self) -> Saved:
        try:
            document = self._call("GET", self._base, expect=list)
        except _NoWebhooks:
            # The list is a 404 for an instance that has no webhook yet: nothing to save.
            document = []
        return self._saved(document, codechat.webhooks_of(self.instance, document))

    def _not_found(self, method: str, path: str, response: httpx.Response) -> GatewayError:
        if method == "GET" and path == self._base:
            return _NoWebhooks()
        return super()._not_found(method, path, response)

    def point(
        self, url: str, events: Sequence[str] | None = None, by_events: bool = False
    ) -> Saved:
        if by_events:
            raise GatewayError(
                "CodeChat API v2 has no per-event URLs (by-events): every "
                "event is posted to the webhook's URL; leave by-events off"
            )
        flags = _flags(events)
        made = self._call("POST", self._base, {"name": HOOK_NAME, "url": url, "enabled": True})
        webhook_id = made.get("webhookId")
        if not isinstance(webhook_id, str):
            raise GatewayError(
                f"CodeChat API at {self.api} created a webhook but its answer "
                f"names no webhookId: {json.dumps(made)[:_GIST]}"
            )
        self._added.append(webhook_id)
        if flags is not None:
            self._call("PATCH", f"{self._base}/{webhook_id}/events", flags)
        return self.read()

    def restore(self, saved: Saved) -> Saved:
        kept = {hook.id for hook in saved.webhooks}
        for item in self.read().document:
            webhook_id = item.get("webhookId")
            ours = webhook_id in self._added or item.get("name") == HOOK_NAME
            if ours and webhook_id not in kept:
                self._call("DELETE", f"{self._base}/{webhook_id}")
                if webhook_id in self._added:
                    self._added.remove(webhook_id)
        return self.read()

    def restore_command(self, saved: Saved) -> str:
        if self._added:
            return "\n".join(
                self._curl("DELETE", f"{self._base}/{webhook_id}") for webhook_id in self._added
            )
        return (
            f"{self._curl('GET', self._base)}\n# then delete the webhook named "
            f"{HOOK_NAME!r}: " + self._curl("DELETE", f"{self._base}/<webhookId>")
        )


class _NoWebhooks(GatewayError):
    """CodeChat's list answered 404: the instance has no webhook."""


def _flags(events: Sequence[str] | None) -> dict[str, bool] | None:
    """The PATCH …/events body for `events`; None for every event (a new webhook's flags
    are all on)."""
    if events is None:
        return None
    flags = {flag: False for flag in codechat.FLAGS}
    wrong = []
    for name in events:
        flag = name if name in flags else catalog.codechat_flag(name)
        if flag is None:
            wrong.append(name)
        else:
            flags[flag] = True
    if wrong:
        raise GatewayError(
            f"no CodeChat v2 webhook flag turns on {', '.join(wrong)}: the "
            f"flags are {', '.join(codechat.FLAGS)}"
        )
    return flags


# Whapi


class Whapi(GatewayClient):
    """Whapi.Cloud: the channel (named by its token) keeps a `webhooks` array in its
    settings, replaced whole by a PATCH."""

    provider = "whapi"
    version = ""
    title = "Whapi.Cloud"

    def read(self) -> Saved:
        document = self._call("GET", "/settings")
        return self._saved(document, whapi.webhooks_of("", document))

    def point(
        self, url: str, events: Sequence[str] | None = None, by_events: bool = False
    ) -> Saved:
        hooks = self._call("GET", "/settings").get("webhooks") or []
        ours = {"url": url, "mode": "path" if by_events else "body", "events": _pairs(events)}
        self._call("PATCH", "/settings", {"webhooks": [*hooks, ours]})
        return self.read()

    def restore(self, saved: Saved) -> Saved:
        self._call("PATCH", "/settings", _whapi_body(saved))
        return self.read()

    def restore_command(self, saved: Saved) -> str:
        return self._curl("PATCH", "/settings", _whapi_body(saved))

    def connection_state(self) -> str | None:
        answer = self._call("GET", "/health")
        status = answer.get("status")
        text = status.get("text") if isinstance(status, dict) else status
        if not isinstance(text, str):
            raise GatewayError(
                f"Whapi.Cloud at {self.api} answered /health without a status "
                f"text: {json.dumps(answer)[:_GIST]}"
            )
        return text

    def test_delivery(self, url: str) -> str | None:
        """Whapi's `POST /settings/webhook_test`: a one-line result; a GatewayError (with
        Whapi's reason) when the URL did not take the test callback."""
        answer = self._call(
            "POST", "/settings/webhook_test", {"type": "messages", "url": url, "mode": "body"}
        )
        if answer.get("success") is False or "error" in answer:
            raise GatewayError(
                f"Whapi.Cloud's webhook test of {url} failed: {json.dumps(answer)[:_GIST]}"
            )
        status = answer.get("status")
        return f"Whapi.Cloud's webhook test reached {url}" + (
            f" (answered {status})" if status is not None else ""
        )


def _whapi_body(saved: Saved) -> dict[str, Any]:
    document = saved.document if isinstance(saved.document, dict) else {}
    return {"webhooks": document.get("webhooks") or []}


def _pairs(events: Sequence[str] | None) -> list[dict[str, str]]:
    if events is None:
        return [{"type": kind, "method": method} for kind, method in catalog.whapi_pairs()]
    wrong = [name for name in events if catalog.find("whapi", name) is None]
    if wrong:
        known = ", ".join(f"{kind}/{method}" for kind, method in catalog.whapi_pairs())
        raise GatewayError(f"Whapi.Cloud sends no event {', '.join(wrong)}: its events are {known}")
    return [
        {"type": kind, "method": method}
        for kind, _, method in (name.partition("/") for name in dict.fromkeys(events))
    ]


# Choosing the client


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
    an unknown instance and an unexpected body."""
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
        client = probe = EvolutionV2(api, key, instance, **options)
        if _evolution_version(probe) == "v1":
            client = EvolutionV1(api, key, instance, **options)
    client.read()  # a wrong key, an unknown instance or a body of the wrong shape, now
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
