"""What every gateway client shares: the `GatewayClient` interface, its requests and the
words of their failures (`GatewayError`), and `Saved`, a configuration read to be put back.

Each gateway's endpoints and bodies are in its own module beside this one (evolution,
codechat, whapi); `hookcatcher.connect.client` chooses among them (`connect`).
"""

from __future__ import annotations

import json
import shlex
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import httpx

from hookcatcher.send.webhook import Webhook

__all__ = ["GatewayError", "Saved", "GatewayClient", "GIST"]

GIST = 200  # how much of an answer's body a message quotes
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
    return text if len(text) <= GIST else text[:GIST] + "..."


_Client = TypeVar("_Client", bound="GatewayClient")


class GatewayClient(ABC):
    """One gateway's webhook-configuration API for one instance (Whapi: one channel).
    It holds an HTTP connection pool: `close()` it, or use it as a context manager."""

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

    def close(self) -> None:
        """Close the connections to the gateway; the client answers nothing afterwards."""
        self._http.close()

    def __enter__(self: _Client) -> _Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

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
