"""DNS rebinding: a page on a domain that resolves to 127.0.0.1 sends its own name in Host
(and in Origin, which then looks like the same origin). Every route of the API, the stream
and the mocks refuses a Host that is not an IP address, a loopback name or a name given with
--allow-host; captures are still taken under any name, as gateways call through many."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from helpers.api import TIMEOUT

from hookcatcher.check.validation import Validator
from hookcatcher.cli.main import main
from hookcatcher.receive.access import Access, check_host
from hookcatcher.receive.app import create_app
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store
from receive.test_access import call, endpoints

EVIL = "evil.example"


@pytest.fixture
def serve(validator: Validator) -> Iterator[Callable[..., BackgroundServer]]:
    started: list[BackgroundServer] = []

    def make(**access: Any) -> BackgroundServer:
        app = create_app(Store(), validator, access=Access(**access))
        server = BackgroundServer(app, pace_collector=False).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop(timeout=0)


def as_page(server: BackgroundServer, host: str, origin: str | None = "same") -> dict[str, str]:
    """The headers a browser sends from a page at http://HOST:PORT (Origin as given, or the
    page's own origin, which is what a rebinding page sends)."""
    port = server.url.rsplit(":", 1)[1]
    headers = {"Host": f"{host}:{port}"}
    if origin == "same":
        headers["Origin"] = f"http://{host}:{port}"
    elif origin is not None:
        headers["Origin"] = origin
    return headers


@pytest.mark.parametrize("origin", ["same", None, "null"])
def test_every_route_refuses_a_rebinding_host(serve, origin: str | None) -> None:
    server = serve()
    store = server.app.store
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        http.post("/webhook", json={"event": "messages.upsert", "instance": "sales"})
        for method, path in endpoints(server.app):
            answer = call(http, method, path, headers=as_page(server, EVIL, origin))
            assert answer.status_code == 403, (method, path, answer.status_code)
            if method != "HEAD":
                message = answer.json()["error"]
                assert f"Host '{EVIL}:" in message
                assert f"--allow-host {EVIL}" in message
    assert len(store) == 1  # DELETE /api/events included: nothing was cleared


def test_the_reads_and_writes_a_rebinding_page_wants_are_refused(serve) -> None:
    """What the attack took: every capture, an unredacted export, the instances, a clear,
    and a text/plain POST (no preflight) that changes a mocked webhook."""
    server = serve()
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        http.post("/webhook", content=b'{"apikey":"secret-1"}')
        page = as_page(server, EVIL)
        assert http.get("/_hookcatcher/api/events", headers=page).status_code == 403
        assert http.get("/_hookcatcher/api/export?redact=0", headers=page).status_code == 403
        assert http.get("/_hookcatcher/api/instances", headers=page).status_code == 403
        assert http.delete("/_hookcatcher/api/events", headers=page).status_code == 403
        assert http.get("/_hookcatcher/stream", headers=page).status_code == 403
        form = http.post(
            "/_gateway/evolution/webhook/set/sales",
            headers={**page, "Content-Type": "text/plain"},
            content=b'{"webhook":{"enabled":true,"url":"http://x/","events":[]}}',
        )
        assert form.status_code == 403
        assert "secret-1" not in form.text
        assert http.get("/_hookcatcher/api/instances").json() == {"instances": []}
        assert len(http.get("/_hookcatcher/api/events").json()["events"]) == 1


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "LOCALHOST", "app.localhost", "[::1]", "192.168.1.20", "10.0.0.7"],
)
def test_addresses_and_loopback_names_are_answered(serve, host: str) -> None:
    """An IP address cannot be rebound, and *.localhost never leaves the machine."""
    server = serve()
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        answer = http.get("/_hookcatcher/api/stats", headers=as_page(server, host, None))
        assert answer.status_code == 200, answer.text
        # With Origin too, as the page served from that name sends it.
        same = http.get("/_hookcatcher/api/stats", headers=as_page(server, host))
        assert same.status_code == 200, same.text


def test_allow_host_admits_a_name(serve) -> None:
    server = serve(allow_hosts=("mybox.local",))
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        assert (
            http.get(
                "/_hookcatcher/api/stats", headers=as_page(server, "MyBox.Local.", None)
            ).status_code
            == 200
        )
        assert (
            http.get("/_hookcatcher/api/stats", headers=as_page(server, EVIL, None)).status_code
            == 403
        )


def test_another_origin_is_still_refused_under_a_known_host(serve) -> None:
    server = serve()
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        page = as_page(server, "127.0.0.1", f"http://{EVIL}")
        answer = http.get("/_hookcatcher/api/events", headers=page)
        assert answer.status_code == 403
        assert "another origin" in answer.json()["error"]


@pytest.mark.parametrize(
    "host", ["evil.example:80:80", "a b", "[::1", "[::1]x", "x:port", "", "é.example"]
)
def test_a_host_that_is_no_host_is_refused(serve, host: str) -> None:
    server = serve()
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        answer = http.get("/_hookcatcher/api/stats", headers={"Host": host.encode("utf-8")})
        assert answer.status_code in (400, 403), answer.text  # 400: h11 refused it first
        assert answer.status_code != 500


def test_captures_are_taken_under_any_host(serve) -> None:
    """A gateway in a container calls host.docker.internal, a tunnel its own domain."""
    server = serve()
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        for name in ("host.docker.internal", "abc.ngrok.app", EVIL):
            answer = http.post("/webhook", json={"event": "call"}, headers=as_page(server, name))
            assert answer.status_code == 200, answer.text
    assert len(server.app.store) == 3


def test_the_token_does_not_replace_the_host_check(serve) -> None:
    server = serve(token="tok-Admin_1234567890")
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        headers = {**as_page(server, EVIL, None), "Authorization": "Bearer tok-Admin_1234567890"}
        assert http.get("/_hookcatcher/api/events", headers=headers).status_code == 403


def test_allow_host_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_host("MyBox.local") == "mybox.local"
    for bad in ("http://mybox", "mybox:8787", "my box", "mybox/x"):
        with pytest.raises(ValueError, match="is not a host name"):
            check_host(bad)
    assert main(["serve", "--allow-host", "http://mybox", "--port", "0"]) == 2
    said = capsys.readouterr().err
    assert "Invalid value for '--allow-host': 'http://mybox' is not a host name" in said


def test_query_with_many_fields_and_a_token_is_no_500(serve) -> None:
    """More than 100 query fields once made the token lookup raise (a 500 with a
    traceback), also with the right token in the header; and an escaped non-Latin-1 token
    value too."""
    server = serve(token="tok-Admin_1234567890", ingest_token="tok-Ingest_0987654321")
    many = "&".join(f"f{i}=x" for i in range(150))
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        right = {"x-hookcatcher-token": "tok-Ingest_0987654321"}
        assert http.post(f"/webhook?{many}&token=nope", headers=right, json={}).status_code == 200
        assert http.post(f"/webhook?{many}&token=tok-Ingest_0987654321", json={}).status_code == 200
        assert http.post("/webhook?token=%E2%82%AC%ff", json={}).status_code == 401
        assert http.post("/webhook?%74oken=tok-Ingest_0987654321", json={}).status_code == 200
        api = http.get(f"/_hookcatcher/api/stats?{many}&token=tok-Admin_1234567890")
        assert api.status_code == 200
        wrong = http.get(f"/_hookcatcher/api/stats?{many}&token=%E2%82%AC")
        assert wrong.status_code == 401
