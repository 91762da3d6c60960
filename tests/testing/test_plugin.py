"""The pytest plugin, as a user's suite meets it: on by being installed, the `hookcatcher` and
`gateway` fixtures in small test files run by pytester, and what a failure says."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpcore  # noqa: F401 (see below)
import pytest

import hookcatcher.send.delivery  # noqa: F401

# Inner runs happen in this process, and pytester forgets every module an inner run imported
# first. Imported here, these load once: the schemas are compiled once, and httpx (which
# imports httpcore on first use) keeps mapping the one httpcore's errors to its own.

pytest_plugins = ["pytester"]

APP = '''
    import json

    import flask
    import httpx
    import pytest
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route


    def forwarder(crm_url):
        """Answers a webhook with its event, and forwards text messages to a CRM; a body
        saying "boom" gets a 500."""
        async def hook(request: Request) -> JSONResponse:
            body = json.loads(await request.body())
            if "boom" in json.dumps(body):
                return JSONResponse({"error": "boom went the handler"}, status_code=500)
            if body["event"] == "messages.upsert" and crm_url:
                text = body["data"]["message"]["conversation"]
                async with httpx.AsyncClient() as client:
                    await client.post(crm_url + "/crm/notes", json={"note": text})
            return JSONResponse({"handled": body["event"], "path": request.url.path})
        return Starlette(routes=[Route("/webhook", hook, methods=["POST"]),
                                 Route("/webhook/{event}", hook, methods=["POST"])])
'''


# Inner runs share this process: textual-snapshot's session end would remove the folder
# this session's own end still reads.
INNER = ("-p", "no:cacheprovider", "-p", "no:textual-snapshot")


def run(pytester: pytest.Pytester, tests: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=textwrap.dedent(APP) + textwrap.dedent(tests))
    return pytester.runpytest(*INNER, *args)


def test_the_plugin_is_on_wherever_hookcatcher_is_installed(pytester: pytest.Pytester) -> None:
    pytester.runpytest(*INNER, "--fixtures").stdout.fnmatch_lines(
        [
            "*fixtures defined from hookcatcher.testing.plugin*",
            "hookcatcher*",
            "*A `Catcher` serving on a free loopback port for this test*",
            "gateway*",
        ]
    )
    pytester.runpytest(*INNER, "--markers").stdout.fnmatch_lines(
        [
            "@pytest.mark.hookcatcher(**options): options of the hookcatcher fixture's receiver*",
        ]
    )


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    """Every suite in an environment with hookcatcher loads the plugin."""
    heavy = [
        "httpx",
        "uvicorn",
        "starlette",
        "jsonschema",
        "hookcatcher.testing.catcher",
        "hookcatcher.send.delivery",
    ]
    script = (
        "import sys, hookcatcher.testing.plugin\n"
        f"print([name for name in {heavy!r} if name in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_gateway_delivers_and_hookcatcher_catches_what_the_app_sends(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        def test_forwarded(gateway, hookcatcher):
            app = forwarder(hookcatcher.url)
            report = gateway.send(app, "messages.upsert", path="/webhook", by_events=True,
                                  overrides={"data.message.conversation": "two pizzas"})
            assert report.sent[0].attempt.url == "http://testserver/webhook/messages-upsert"
            note = hookcatcher.wait_for("path:/crm/notes", timeout=5)
            assert note.body == {"note": "two pizzas"}
            assert gateway.reports == [report]

        def test_any_source_into_a_wsgi_app(gateway):
            app = flask.Flask("user")
            app.add_url_rule("/hooks/<path:rest>", "hook", lambda rest: {"rest": rest},
                             methods=["POST", "PUT", "PATCH", "DELETE"])
            report = gateway.replay(app, ["whapi/messages.post.text", "messages.update"],
                                    path="/hooks", by_events=True, whapi_mode="method")
            assert [sent.attempt.url for sent in report.sent] == [
                "http://testserver/hooks/messages", "http://testserver/hooks/messages-update"]
            assert report.sent[0].attempt.method == "POST"

        def test_the_receiver_is_the_tests_own(hookcatcher):
            assert hookcatcher.events() == []
    """,
    )
    result.assert_outcomes(passed=3)


def test_a_wait_that_times_out_fails_the_test_with_what_arrived(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_waits(gateway, hookcatcher):
            gateway.send(forwarder(hookcatcher.url), "messages.upsert", path="/webhook")
            hookcatcher.wait_for("event:messages.update", timeout=0.2)
    """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            (
                "E *WaitTimeout: no capture matching 'event:messages.update' arrived within 0.2 s; "
                "1 capture arrived at http://127.0.0.1:*:"
            ),
            "E         #1 POST /crm/notes unknown (no event): no-schema",
        ]
    )


def test_an_answer_that_is_not_2xx_fails_the_test_at_the_call(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_refused(gateway):
            gateway.send(forwarder(None), "messages.upsert", path="/webhook",
                         overrides={"data.message.conversation": "boom"})

        def test_judged_by_the_test(gateway):
            report = gateway.send(forwarder(None), "messages.upsert", path="/webhook",
                                  overrides={"data.message.conversation": "boom"}, check=False)
            assert report.sent[0].attempt.status == 500 and not report.ok

        def test_unknown_event(gateway):
            gateway.send(forwarder(None), "messages.upsrt")
    """,
    )
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            '>       gateway.send(forwarder(None), "messages.upsert", path="/webhook",',
            (
                "E       AssertionError: the app did not answer every request 2xx: 1 request in *: "
                "0 answered 2xx, 1 not 2xx (500 x1)"
            ),
            "E         500 POST http://testserver/webhook  evolution/v2/messages.upsert.text",
            'E             {"error":"boom went the handler"}',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            (
                "E *FixtureError: no bundled fixture for 'messages.upsrt' (did you mean "
                "messages.upsert?)*"
            ),
        ]
    )
    assert "pytest_plugin.py" not in result.stdout.str()  # the test's line, not the plugin's


def test_the_marker_sets_the_receivers_answers(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        @pytest.mark.hookcatcher(respond="path:/crm*=503", delay=["path:/slow*=50"])
        def test_answers(hookcatcher):
            assert httpx.post(hookcatcher.url + "/crm").status_code == 503
            assert httpx.post(hookcatcher.url + "/slow").status_code == 200
            assert [c.answer.delay_ms for c in hookcatcher.events()] == [0, 50]

        @pytest.mark.hookcatcher(respond=503)
        def test_every_capture(hookcatcher):
            assert httpx.post(hookcatcher.url + "/crm").status_code == 503

        @pytest.mark.hookcatcher(respnd=503)
        def test_typo(hookcatcher):
            pass
    """,
        "--strict-markers",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            (
                "*@pytest.mark.hookcatcher: cannot use respnd; it takes respond=, delay=, "
                "fail_first=, max_events=, max_bytes=, token=, ingest_token=*"
            ),
        ]
    )
