"""hookcatcher doctor: each finding with its fix, the probes against real local apps, the
report and its exit code, and the gateway's errors as findings."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from helpers.ports import unused_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookcatcher.connect.client import GatewayError, Saved, connect
from hookcatcher.connect.doctor import (
    Finding,
    Observations,
    Reach,
    control_url,
    diagnose,
    event_paths,
    probe,
    probe_paths,
    run_doctor,
)
from hookcatcher.receive.runner import bind, url_of
from hookcatcher.send.webhook import Webhook

LOCAL_API = "http://127.0.0.1:8080"
APP = "http://127.0.0.1:3000/webhook"


# Hand-built configurations


def evolution(
    url: str = APP,
    *,
    version: str = "v2",
    enabled: bool = True,
    mode: str = "single",
    events: tuple[str, ...] = ("MESSAGES_UPSERT",),
    instance: str = "sales",
) -> Webhook:
    return Webhook("evolution", instance, version, None, url, enabled, mode, (), events)


def whapi(
    url: str = APP,
    *,
    mode: str = "body",
    events: tuple[str, ...] = ("messages/post",),
    index: str = "0",
) -> Webhook:
    return Webhook("whapi", "token", "", index, url, True, mode, (), events)


def codechat(
    url: str = APP, *, enabled: bool = True, events: tuple[str, ...] = ("messagesUpsert",)
) -> Webhook:
    return Webhook("codechat", "inst-1", "v2", "wh-1", url, enabled, "single", (), events)


def saved(
    *webhooks: Webhook, provider: str = "evolution", version: str = "v2", instance: str = "sales"
) -> Saved:
    return Saved(provider, version, instance, None, webhooks)


def seen(**options: Any) -> Observations:
    return Observations(options.pop("api", LOCAL_API), **options)


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def test_a_working_configuration_has_no_findings() -> None:
    hook = evolution()
    assert (
        diagnose(saved(hook), seen(state="open", reach={APP: Reach(APP, 200)}), ["messages.upsert"])
        == []
    )


def test_disabled_evolution_webhook() -> None:
    finding = only(diagnose(saved(evolution(enabled=False, events=())), seen()))
    assert finding.code == "disabled"
    assert finding.problem == (
        "the webhook of evolution/sales is disabled (enabled: false): "
        "Evolution API sends it nothing"
    )
    assert finding.fix == (
        'enable it: POST /webhook/set/sales with {"webhook": {"enabled": '
        'true, "url": ..., "events": [...]}}'
    )


def test_disabled_evolution_v1_webhook_names_the_flat_body() -> None:
    finding = only(
        diagnose(saved(evolution("", version="v1", enabled=False), version="v1"), seen())
    )
    assert finding.code == "disabled"
    assert finding.fix == (
        'enable it: POST /webhook/set/sales with {"enabled": true, "url": ..., "events": [...]}'
    )


def test_disabled_codechat_webhook() -> None:
    finding = only(
        diagnose(saved(codechat(enabled=False), provider="codechat", instance="inst-1"), seen())
    )
    assert finding.problem == (
        "webhook wh-1 of codechat/inst-1 is disabled (enabled: false): CodeChat sends it nothing"
    )
    assert finding.fix == 'enable it: PUT /api/v2/instance/inst-1/webhook/wh-1 with "enabled": true'


def test_enabled_without_url() -> None:
    finding = only(diagnose(saved(evolution("")), seen()))
    assert finding.code == "no-url"
    assert finding.problem == (
        "the webhook of evolution/sales is enabled but has no URL: nothing is sent"
    )
    assert finding.fix == "set your app's URL (POST /webhook/set/sales)"


def test_no_webhook_at_all() -> None:
    finding = only(diagnose(saved(), seen()))
    assert finding.code == "no-webhook"
    assert finding.problem == "evolution/sales has no webhook configured"
    assert finding.fix == (
        "set one: POST /webhook/set/sales with enabled true, your app's URL and its events"
    )


def test_trailing_slash_with_evolution_by_events() -> None:
    hook = evolution(APP + "/", mode="by-events", events=("MESSAGES_UPDATE",))
    finding = only(diagnose(saved(hook), seen()))
    assert finding.code == "trailing-slash"
    assert finding.problem == (
        "the webhook of evolution/sales has byEvents on and a URL ending in '/': "
        "Evolution API sends messages.update as POST "
        "http://127.0.0.1:3000/webhook//messages-update"
    )
    assert finding.fix == (
        "set the URL without the trailing slash: "
        "http://127.0.0.1:3000/webhook (POST /webhook/set/sales)"
    )


def test_trailing_slash_names_webhook_by_events_on_v1() -> None:
    hook = evolution(APP + "/", version="v1", mode="by-events")
    finding = only(diagnose(saved(hook, version="v1"), seen()))
    assert "has webhook_by_events on and" in finding.problem


def test_trailing_slash_with_whapi_path_and_method_modes() -> None:
    path_mode = only(
        diagnose(
            saved(whapi(APP + "/", mode="path"), provider="whapi", version="", instance=""), seen()
        )
    )
    assert path_mode.problem == (
        'Whapi webhook 0 (http://127.0.0.1:3000/webhook/) has mode "path" on and a URL '
        "ending in '/': Whapi.Cloud sends "
        "messages/post as POST http://127.0.0.1:3000/webhook//messages/post"
    )
    assert path_mode.fix == (
        "set the URL without the trailing slash: http://127.0.0.1:3000/webhook (PATCH /settings)"
    )
    method_mode = only(
        diagnose(
            saved(
                whapi(APP + "/", mode="method", events=("statuses/put",)),
                provider="whapi",
                version="",
                instance="",
            ),
            seen(),
        )
    )
    assert method_mode.problem.endswith(
        "sends statuses/put as PUT http://127.0.0.1:3000/webhook//statuses"
    )


def test_trailing_slash_does_not_matter_for_one_url() -> None:
    assert diagnose(saved(evolution(APP + "/")), seen()) == []


def test_expected_event_not_subscribed_evolution() -> None:
    finding = only(diagnose(saved(evolution()), seen(), ["messages.update"]))
    assert finding.code == "not-subscribed"
    assert finding.problem == (
        "messages.update is not subscribed by the webhook of "
        "evolution/sales, but your app handles it (--expect)"
    )
    assert finding.fix == "add MESSAGES_UPDATE to the instance's events (POST /webhook/set/sales)"


def test_expected_event_given_as_evolution_key() -> None:
    finding = only(diagnose(saved(evolution()), seen(), ["SEND_MESSAGE"]))
    assert finding.fix == "add SEND_MESSAGE to the instance's events (POST /webhook/set/sales)"


def test_expected_event_not_subscribed_codechat_and_whapi() -> None:
    chat = only(
        diagnose(
            saved(codechat(), provider="codechat", instance="inst-1"), seen(), ["messages.update"]
        )
    )
    assert chat.problem == (
        "messages.update is not subscribed by webhook wh-1 of "
        "codechat/inst-1, but your app handles it (--expect)"
    )
    assert chat.fix == (
        'set "messagesUpdate": true (PATCH /api/v2/instance/inst-1/webhook/wh-1/events)'
    )
    channel = only(
        diagnose(
            saved(whapi(), provider="whapi", version="", instance=""), seen(), ["statuses/post"]
        )
    )
    assert channel.problem == (
        "statuses/post is not subscribed by Whapi webhook 0 "
        "(http://127.0.0.1:3000/webhook), but your app handles it "
        "(--expect)"
    )
    assert channel.fix == (
        'add {"type": "statuses", "method": "post"} to webhook 0\'s events (PATCH /settings)'
    )


def test_an_event_subscribed_by_any_webhook_is_fine() -> None:
    hooks = (whapi(), whapi("http://127.0.0.1:3001/other", events=("statuses/post",), index="1"))
    assert (
        diagnose(
            saved(*hooks, provider="whapi", version="", instance=""),
            seen(),
            ["statuses/post", "messages/post"],
        )
        == []
    )


def test_unknown_and_undeliverable_expected_events() -> None:
    unknown, never = diagnose(saved(evolution()), seen(), ["messages.upsrt", "groups.update"])
    assert unknown.code == "unknown-event"
    assert unknown.problem == "--expect messages.upsrt: Evolution API has no event 'messages.upsrt'"
    assert unknown.fix.startswith(
        "did you mean messages.upsert? --expect takes Evolution API's event names"
    )
    assert never.code == "not-deliverable"
    assert never.problem.startswith(
        "groups.update: groups.update is never delivered by Evolution API"
    )
    assert never.fix == ("do not rely on groups.update from Evolution API; drop it from --expect")


def by_events_paths(
    hook: Webhook, served: dict[str, int], control: int = 404
) -> dict[str, int | None]:
    """The app's answers on every per-event path: 404 except `served` (by suffix)."""
    answers: dict[str, int | None] = {control_url(hook): control}
    for url in event_paths(hook).values():
        answers[url] = served.get(url.rpartition("/")[2], 404)
    return answers


def test_served_path_of_an_unsubscribed_event() -> None:
    hook = evolution(mode="by-events")
    paths = by_events_paths(hook, {"messages-upsert": 405, "messages-update": 405})
    finding = only(diagnose(saved(hook), seen(app_paths=paths)))
    assert finding.code == "not-subscribed"
    assert finding.problem == (
        "messages.update is not subscribed by the webhook of "
        "evolution/sales, but your app answers 405 at "
        "http://127.0.0.1:3000/webhook/messages-update"
    )
    assert finding.fix == "add MESSAGES_UPDATE to the instance's events (POST /webhook/set/sales)"


def test_a_catch_all_app_tells_nothing_by_its_paths() -> None:
    hook = evolution(mode="by-events")
    paths = {url: 200 for url in by_events_paths(hook, {})}
    assert diagnose(saved(hook), seen(app_paths=paths)) == []


def test_by_events_while_the_app_does_not_serve_the_paths() -> None:
    hook = evolution(mode="by-events", events=("MESSAGES_UPSERT",))
    finding = only(diagnose(saved(hook), seen(app_paths=by_events_paths(hook, {}))))
    assert finding.code == "app-path-missing"
    assert finding.problem == (
        "byEvents is on for the webhook of evolution/sales, but your app "
        "answers 404 at /webhook/messages-upsert under "
        "http://127.0.0.1:3000/webhook"
    )
    assert finding.fix == (
        "turn byEvents off (POST /webhook/set/sales), or serve POST /webhook/messages-upsert"
    )


def test_by_events_with_several_paths_missing() -> None:
    hook = evolution(
        version="v1",
        mode="by-events",
        events=("MESSAGES_UPSERT", "MESSAGES_UPDATE", "SEND_MESSAGE", "CALL"),
    )
    finding = only(
        diagnose(
            saved(hook, version="v1"),
            seen(app_paths=by_events_paths(hook, {"messages-upsert": 200})),
        )
    )
    assert finding.fix == (
        "turn webhook_by_events off (POST /webhook/set/sales), or serve "
        "POST /webhook/messages-update, POST /webhook/send-message and "
        "POST /webhook/call (or unsubscribe those events)"
    )


def test_whapi_method_mode_path_missing() -> None:
    hook = whapi(mode="method", events=("messages/post",))
    paths = {control_url(hook): 404, **{url: 404 for url in event_paths(hook).values()}}
    finding = only(
        diagnose(saved(hook, provider="whapi", version="", instance=""), seen(app_paths=paths))
    )
    assert finding.problem == (
        'mode "method" is on for Whapi webhook 0 '
        "(http://127.0.0.1:3000/webhook), but your app answers 404 at "
        "/webhook/messages under http://127.0.0.1:3000/webhook"
    )
    assert finding.fix == (
        'set webhook 0\'s mode to "body" (PATCH /settings), or serve POST /webhook/messages'
    )


def test_single_url_answering_404() -> None:
    finding = only(diagnose(saved(evolution()), seen(reach={APP: Reach(APP, 404)})))
    assert finding.code == "app-path-missing"
    assert finding.problem == (
        "your app answers 404 to a POST at http://127.0.0.1:3000/webhook: "
        "the webhook of evolution/sales posts every event there"
    )
    assert finding.fix == (
        "serve POST /webhook in your app, or set the URL to the path it "
        "serves (POST /webhook/set/sales)"
    )


@pytest.mark.parametrize("state", ["close", "connecting"])
def test_evolution_instance_not_connected(state: str) -> None:
    finding = only(diagnose(saved(evolution()), seen(state=state)))
    assert finding.code == "not-connected"
    assert finding.problem == (
        f"evolution/sales is not connected to WhatsApp (state: {state}): it sends no events"
    )
    assert finding.fix == (
        "connect it: GET /instance/connect/sales and scan the QR code with the phone"
    )


def test_whapi_channel_not_connected() -> None:
    finding = only(
        diagnose(saved(whapi(), provider="whapi", version="", instance=""), seen(state="QR"))
    )
    assert finding.problem == (
        "the Whapi channel is not connected to WhatsApp (health: QR): it sends no events"
    )
    assert finding.fix.startswith("link the phone: scan the channel's QR code")
    assert (
        diagnose(saved(whapi(), provider="whapi", version="", instance=""), seen(state="AUTH"))
        == []
    )


@pytest.mark.parametrize(
    ("kind", "error", "fix"),
    [
        (
            "refused",
            "connection refused (nothing listens there)",
            "start your app so it listens there, or point the webhook at where it listens "
            "(POST /webhook/set/sales)",
        ),
        (
            "dns",
            "cannot resolve the host name app.invalid",
            "correct the host name in the URL (POST /webhook/set/sales)",
        ),
        (
            "timeout",
            "no answer within 5 s",
            "check that your app answers promptly and that no firewall or proxy holds the request",
        ),
    ],
)
def test_unreachable_url(kind: str, error: str, fix: str) -> None:
    finding = only(diagnose(saved(evolution()), seen(reach={APP: Reach(APP, None, error, kind)})))
    assert finding.code == "unreachable"
    assert finding.problem == f"http://127.0.0.1:3000/webhook does not answer from here: {error}"
    assert finding.fix == fix


def test_loopback_url_while_the_gateway_is_in_a_container() -> None:
    finding = only(
        diagnose(
            saved(evolution()), seen(api="http://evolution-api:8080", reach={APP: Reach(APP, 200)})
        )
    )
    assert finding.code == "localhost-from-container"
    assert finding.problem == (
        "the webhook of evolution/sales posts to http://127.0.0.1:3000/webhook, but the gateway "
        "(http://evolution-api:8080) runs in a container or on another machine: there "
        "127.0.0.1 is the gateway itself, so this machine's app never gets the request"
    )
    assert finding.fix == (
        "set a URL the gateway can reach (POST /webhook/set/sales): "
        "http://host.docker.internal:3000/webhook (Docker Desktop; on Linux start the gateway "
        "with --add-host=host.docker.internal:host-gateway) or this machine's LAN address, "
        "with your app listening on 0.0.0.0"
    )


def test_loopback_url_while_the_gateway_is_elsewhere() -> None:
    hook = evolution("http://localhost:3000/webhook")
    finding = only(diagnose(saved(hook), seen(api="https://evo.example.com")))
    assert "on another machine: there localhost is the gateway itself" in finding.problem
    assert diagnose(saved(hook), seen(api="http://localhost:8080")) == []


def test_gateway_own_test_failed() -> None:
    reach = Reach(APP, 200, gateway_failed="timeout after 10 s")
    finding = only(
        diagnose(
            saved(whapi(), provider="whapi", version="", instance=""), seen(reach={APP: reach})
        )
    )
    assert finding.code == "gateway-test-failed"
    assert finding.problem == (
        "Whapi.Cloud's own webhook test to http://127.0.0.1:3000/webhook failed: timeout after 10 s"
    )
    assert finding.fix == (
        "make http://127.0.0.1:3000/webhook reachable from the gateway's "
        "network (a public URL or a tunnel), then test again "
        "(PATCH /settings)"
    )


def test_gateway_error_while_looking() -> None:
    finding = only(diagnose(saved(evolution()), seen(errors=("Evolution API says no",))))
    assert finding == Finding(
        "gateway-error",
        "Evolution API says no",
        "check --api (the gateway's base URL), --apikey and --instance, "
        "then run hookcatcher doctor again",
    )


# Probing real local apps


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """A Starlette app on a free loopback port, stopped afterwards."""
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.01)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class App:
    """A tiny webhook receiver that serves POST /webhook and the paths it is given."""

    paths: tuple[str, ...] = ()
    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)

    def asgi(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append(
                (await request.json(), request.headers.get("x-hookcatcher-doctor"))
            )
            return JSONResponse({"ok": True})

        return Starlette(
            routes=[
                Route("/webhook", hook, methods=["POST"]),
                *(Route(f"/webhook{path}", hook, methods=["POST"]) for path in self.paths),
            ]
        )


def test_probe_posts_a_marked_test_body() -> None:
    app = App()
    with serving(app.asgi()) as url:
        reach = probe(f"{url}/webhook")
        missing = probe(f"{url}/elsewhere")
    assert reach == Reach(f"{url}/webhook", 200)
    assert app.received == [({"hookcatcher": "doctor", "test": True}, "1")]
    assert missing.status == 404  # any answer is an answer: reachable


def test_probe_nothing_listening() -> None:
    url = f"http://127.0.0.1:{unused_port()}/webhook"
    assert probe(url) == Reach(url, None, "connection refused (nothing listens there)", "refused")


def failing(exc: Callable[[httpx.Request], Exception]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)

    return httpx.MockTransport(handler)


def test_probe_unknown_host_and_timeout() -> None:
    def unresolved(request: httpx.Request) -> Exception:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as cause:
            error = httpx.ConnectError("[Errno -2] Name or service not known", request=request)
            error.__cause__ = cause
            return error

    dns = probe("http://app.invalid/webhook", transport=failing(unresolved))
    assert (dns.status, dns.kind, dns.error) == (
        None,
        "dns",
        "cannot resolve the host name app.invalid",
    )
    slow = probe(
        APP,
        timeout=2,
        transport=failing(lambda request: httpx.ReadTimeout("timed out", request=request)),
    )
    assert (slow.kind, slow.error) == ("timeout", "no answer within 2 s")


def test_probe_paths_against_a_real_app() -> None:
    app = App(paths=("/messages-upsert",))
    with serving(app.asgi()) as url:
        hook = evolution(f"{url}/webhook", mode="by-events")
        answers = probe_paths(hook)
    assert answers[control_url(hook)] == 404
    assert answers[f"{url}/webhook/messages-upsert"] == 405  # GET on a POST route: served
    assert answers[f"{url}/webhook/messages-update"] == 404
    assert app.received == []  # a probe is a GET: the app's handler never runs
    assert probe_paths(evolution(f"{url}/webhook")) == {}  # one URL: nothing to probe


# The report


@dataclass
class Fake:
    """A gateway client for the report's own tests: what the gateway answers is given."""

    found: Saved | GatewayError
    state: str | None = "open"
    provider: str = "evolution"
    version: str = "v2"
    instance: str = "sales"
    api: str = LOCAL_API

    def read(self) -> Saved:
        if isinstance(self.found, GatewayError):
            raise self.found
        return self.found

    def connection_state(self) -> str | None:
        return self.state

    def test_delivery(self, url: str) -> str | None:
        return None


def fake(found: Saved | GatewayError, **options: Any) -> Any:
    """A Fake where run_doctor takes a GatewayClient."""
    return Fake(found, **options)


def test_clean_report_exits_0() -> None:
    app = App()
    with serving(app.asgi()) as url:
        hook = evolution(f"{url}/webhook", events=("MESSAGES_UPSERT", "MESSAGES_UPDATE"))
        out = io.StringIO()
        code = run_doctor(fake(saved(hook)), expected_events=["messages.upsert"], out=out)
    assert code == 0
    assert out.getvalue() == (
        f"Evolution API v2 at {LOCAL_API}, instance sales (connection: open)\n"
        f"  webhook: {url}/webhook, enabled, single, events: MESSAGES_UPSERT and "
        "MESSAGES_UPDATE\n"
        "no problems found\n"
    )


def test_report_lines_and_exit_1() -> None:
    out = io.StringIO()
    code = run_doctor(fake(saved(evolution(enabled=False, events=())), state="close"), out=out)
    assert code == 1
    lines = out.getvalue().splitlines()
    assert lines[2:] == [
        "✗ evolution/sales is not connected to WhatsApp (state: close): it sends no events",
        "  fix: connect it: GET /instance/connect/sales and scan the QR code with the phone",
        "✗ the webhook of evolution/sales is disabled (enabled: false): Evolution API sends it "
        "nothing",
        '  fix: enable it: POST /webhook/set/sales with {"webhook": {"enabled": true, "url": '
        '..., "events": [...]}}',
    ]


def test_json_report() -> None:
    url = f"http://127.0.0.1:{unused_port()}/webhook"
    out = io.StringIO()
    code = run_doctor(fake(saved(evolution(url))), as_json=True, out=out)
    document = json.loads(out.getvalue())
    assert code == 1
    assert document["ok"] is False
    assert document["gateway"] == {"provider": "evolution", "version": "v2", "api": LOCAL_API}
    assert document["instance"] == "sales"
    assert document["webhooks"][0]["url"] == url
    assert [f["code"] for f in document["findings"]] == ["unreachable"]
    assert document["probes"] == [
        {
            "url": url,
            "status": None,
            "error": "connection refused (nothing listens there)",
            "kind": "refused",
            "gateway_test": None,
            "gateway_failed": None,
            "forwards_to": None,
        }
    ]


def test_gateway_error_on_read_is_a_finding() -> None:
    out = io.StringIO()
    error = GatewayError("Evolution API at http://127.0.0.1:8080 refused the key (401)")
    assert run_doctor(fake(error), out=out) == 1
    assert out.getvalue().splitlines()[1:] == [
        "✗ Evolution API at http://127.0.0.1:8080 refused the key (401)",
        "  fix: check --api (the gateway's base URL), --apikey and --instance, then run "
        "hookcatcher doctor again",
    ]


# Against hookcatcher's own mock gateway


def test_gateway_down_is_a_finding() -> None:
    api = f"http://127.0.0.1:{unused_port()}"
    try:
        client: Any = connect("evolution", api, key="k", instance="sales", timeout=2)
    except GatewayError as exc:
        client = exc
    out = io.StringIO()
    assert run_doctor(client, as_json=True, out=out, api=api, provider="evolution") == 1
    document = json.loads(out.getvalue())
    assert document["ok"] is False
    finding = only([Finding(**item) for item in document["findings"]])
    assert finding.code == "gateway-error"
    assert api in finding.problem
    assert finding.fix.startswith("check --api")


def test_whapi_wrong_token_is_a_finding() -> None:
    def unauthorized(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"code": 401, "message": "Unauthorized"}})

    try:
        client: Any = connect(
            "whapi",
            "https://gate.whapi.cloud",
            key="wrong",
            instance=None,
            transport=httpx.MockTransport(unauthorized),
        )
    except GatewayError as exc:
        client = exc
    out = io.StringIO()
    assert run_doctor(client, out=out, api="https://gate.whapi.cloud", provider="whapi") == 1
    text = out.getvalue()
    assert "✗ " in text and "401" in text
    assert text.rstrip().endswith(
        "fix: check --api (the gateway's base URL), --token, then run hookcatcher doctor again"
    )


@pytest.fixture
def gateway(make_server: Callable[..., Any]) -> Iterator[tuple[str, httpx.Client]]:
    """hookcatcher's mock gateway: its base URL and a client to configure it with."""
    server = make_server()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield server.url + "/_gateway", http


def doctor_evolution(api: str, instance: str = "sales", **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    client = connect("evolution", api, key="k", instance=instance)
    return run_doctor(client, out=out, **options), out.getvalue()


def set_evolution(http: httpx.Client, webhook: dict[str, Any]) -> None:
    answer = http.post("/_gateway/evolution/v2/webhook/set/sales", json={"webhook": webhook})
    assert answer.status_code == 201, answer.text


def test_mock_evolution_clean(gateway: tuple[str, httpx.Client]) -> None:
    base, http = gateway
    with serving(App(paths=("/messages-upsert",)).asgi()) as app:
        set_evolution(
            http,
            {
                "enabled": True,
                "url": f"{app}/webhook",
                "byEvents": True,
                "events": ["MESSAGES_UPSERT"],
            },
        )
        code, text = doctor_evolution(f"{base}/evolution/v2", expected_events=["messages.upsert"])
    assert text.splitlines()[0] == (
        f"Evolution API v2 at {base}/evolution/v2, instance sales (connection: open)"
    )
    assert text.splitlines()[-1] == "no problems found"
    assert code == 0


def test_mock_evolution_by_events_with_trailing_slash(gateway: tuple[str, httpx.Client]) -> None:
    base, http = gateway
    with serving(App(paths=("/messages-upsert",)).asgi()) as app:
        set_evolution(
            http,
            {
                "enabled": True,
                "url": f"{app}/webhook/",
                "byEvents": True,
                "events": ["MESSAGES_UPSERT"],
            },
        )
        code, text = doctor_evolution(f"{base}/evolution/v2")
    assert code == 1
    assert text.splitlines()[2:] == [
        "✗ the webhook of evolution/sales has byEvents on and a URL ending in '/': Evolution API "
        f"sends messages.upsert as POST {app}/webhook//messages-upsert",
        f"  fix: set the URL without the trailing slash: {app}/webhook (POST /webhook/set/sales)",
    ]


def test_mock_evolution_disabled(gateway: tuple[str, httpx.Client]) -> None:
    base, http = gateway
    set_evolution(http, {"enabled": False, "url": APP})
    code, text = doctor_evolution(f"{base}/evolution/v2")
    assert code == 1
    assert "✗ the webhook of evolution/sales is disabled (enabled: false)" in text
    assert text.count("✗") == 1


def test_mock_evolution_logged_out(gateway: tuple[str, httpx.Client]) -> None:
    base, http = gateway
    with serving(App().asgi()) as app:
        set_evolution(http, {"enabled": True, "url": f"{app}/webhook"})
        assert http.delete("/_gateway/evolution/v2/instance/logout/sales").status_code == 200
        out = io.StringIO()
        client = connect("evolution", f"{base}/evolution/v2", key="k", instance="sales")
        code = run_doctor(client, as_json=True, out=out)
    document = json.loads(out.getvalue())
    assert code == 1 and document["ok"] is False
    assert document["connection"] == "close"
    assert document["findings"] == [
        {
            "code": "not-connected",
            "problem": "evolution/sales is not connected to WhatsApp (state: close): it sends no "
            "events",
            "fix": "connect it: GET /instance/connect/sales and scan the QR code with the phone",
        }
    ]


def test_mock_evolution_unknown_instance(gateway: tuple[str, httpx.Client]) -> None:
    base, _ = gateway
    code, text = doctor_evolution(f"{base}/evolution/v2", instance="nobody")
    assert code == 1
    assert "nobody" in text.splitlines()[2]  # the gateway's own words about the instance
    assert "Traceback" not in text
    assert "✗ evolution/nobody has no webhook configured" in text


def test_mock_whapi_test_delivery_to_nothing(gateway: tuple[str, httpx.Client]) -> None:
    base, http = gateway
    url = f"http://127.0.0.1:{unused_port()}/hook"
    answer = http.patch(
        "/_gateway/whapi/settings",
        headers={"Authorization": "Bearer chan"},
        json={
            "webhooks": [
                {"url": url, "mode": "body", "events": [{"type": "messages", "method": "post"}]}
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    out = io.StringIO()
    code = run_doctor(connect("whapi", f"{base}/whapi", key="chan", instance=None), out=out)
    text = out.getvalue()
    assert code == 1
    assert f"✗ {url} does not answer from here: connection refused" in text
    assert f"✗ Whapi.Cloud's own webhook test to {url} failed: " in text


def test_a_url_that_is_not_one_is_unreachable_not_a_traceback() -> None:
    hook = whapi("127.0.0.1:3000/hook")
    reach = probe(hook.url)
    finding = only(
        diagnose(
            saved(hook, provider="whapi", version="", instance=""), seen(reach={hook.url: reach})
        )
    )
    assert finding.code == "unreachable"
    assert finding.problem == (
        "127.0.0.1:3000/hook does not answer from here: Request URL is "
        "missing an 'http://' or 'https://' protocol."
    )
    assert finding.fix == "check the URL and your app (PATCH /settings)"
