"""hookcatcher's pytest plugin, on wherever hookcatcher is installed (the `pytest11` entry
point): the `hookcatcher` fixture, a receiver for what the app under test sends out, and the
`gateway` fixture, which plays the WhatsApp gateway against that app.

Every suite in an environment with hookcatcher loads this module, used or not, so it imports
nothing heavy: the fixtures and `Gateway`'s methods import what they need when called.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hookcatcher.send.delivery import Report
    from hookcatcher.testing.catcher import Catcher

__all__ = ["Gateway"]

MARKER = "hookcatcher"
SHOWN_BODY = 300  # characters of an app's answer quoted when it was not 2xx


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): options of the hookcatcher fixture's receiver, as "
        "Catcher takes them (respond=, delay=, fail_first=, max_events=, max_bytes=, token=, "
        "ingest_token=)",
    )


@pytest.fixture
def hookcatcher(request: pytest.FixtureRequest) -> Iterator[Catcher]:
    """A `Catcher` serving on a free loopback port for this test: point the app's outgoing
    URLs at `hookcatcher.url`, then `hookcatcher.wait_for(q)`. Answer rules come from
    `@pytest.mark.hookcatcher(respond=..., delay=..., fail_first=...)`."""
    from hookcatcher.testing.catcher import Catcher

    catcher = Catcher(**_marker_options(request, Catcher)).start()
    try:
        yield catcher
    finally:
        catcher.stop(timeout=0)  # uvicorn winds down on its own, not in every teardown


def _marker_options(request: pytest.FixtureRequest, catcher: type) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    known = [
        name
        for name, parameter in inspect.signature(catcher).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = [name for name in marker.kwargs if name not in known]
    if marker.args or unknown:
        given = ", ".join([*map(repr, marker.args), *unknown])
        pytest.fail(
            f"@pytest.mark.{MARKER}: cannot use {given}; it takes "
            f"{', '.join(f'{name}=' for name in known)}",
            pytrace=False,
        )
    return dict(marker.kwargs)


@pytest.fixture
def gateway() -> Gateway:
    """A `Gateway`: `gateway.send(app, "messages.upsert", path="/webhook")` delivers a
    bundled fixture into the app under test as the gateway would."""
    return Gateway()


class Gateway:
    """The WhatsApp gateway, played against the app under test: a URL, or an ASGI or WSGI
    app called in this process (no port, no server).

    Both methods take `hookcatcher.replay`'s options, with the real gateways' defaults: one
    URL for every event (`by_events=True` for Evolution's per-event URLs and Whapi's path
    mode). Unlike the gateway, they fail the test when the app answers anything but 2xx,
    quoting the answer; with `check=False` the report is returned for the test to judge.
    Every report of the test is kept in `reports`."""

    def __init__(self) -> None:
        self.reports: list[Report] = []

    def __repr__(self) -> str:
        sent = sum(len(report.sent) for report in self.reports)
        return f"<Gateway: {sent} request{'' if sent == 1 else 's'} sent>"

    def send(
        self,
        target: Any,
        event: str,
        *,
        provider: str | None = None,
        version: str | None = None,
        variant: str | None = None,
        path: str = "/",
        by_events: bool = False,
        overrides: dict[str, Any] | Iterable[str] | None = None,
        whapi_mode: str | None = None,
        timeout: float = 10.0,
        check: bool = True,
    ) -> Report:
        """One bundled fixture, chosen as `hookcatcher send` chooses it: an event name
        (`messages.upsert`, `messages/post`) or a fixture name
        (`evolution/v1/messages.upsert.text`), narrowed by `provider`, `version` and
        `variant`; `overrides` change the body first (`{"data.key.fromMe": True}`)."""
        __tracebackhide__ = True
        from hookcatcher.files.fixtures import FixtureError, pick

        try:
            fixture = pick(event, provider, version, variant)
        except FixtureError as exc:
            raise FixtureError(str(exc)) from None  # raised here: the failure shows the test
        return self.replay(
            target,
            fixture,
            path=path,
            by_events=by_events,
            overrides=overrides,
            whapi_mode=whapi_mode,
            timeout=timeout,
            check=check,
        )

    def replay(
        self,
        target: Any,
        source: Any,
        *,
        path: str = "/",
        by_events: bool = False,
        overrides: dict[str, Any] | Iterable[str] | None = None,
        whapi_mode: str | None = None,
        concurrency: int = 1,
        rate: float | None = None,
        repeat: int = 1,
        timeout: float = 10.0,
        check: bool = True,
    ) -> Report:
        """Anything `hookcatcher.replay` takes: fixture or body files, folders, bundled
        fixture names, Fixtures, Captures (`hookcatcher.events()`), or a list of them."""
        __tracebackhide__ = True
        from hookcatcher.send.delivery import replay

        report = replay(
            target,
            source,
            by_events=by_events,
            path=path,
            overrides=overrides,
            whapi_mode=whapi_mode,
            concurrency=concurrency,
            rate=rate,
            repeat=repeat,
            timeout=timeout,
        )
        self.reports.append(report)
        if check and not report.ok:
            raise AssertionError(_not_ok(report))
        return report


def _not_ok(report: Report) -> str:
    """The summary, then each request that was not answered 2xx and what came back."""
    lines = [f"the app did not answer every request 2xx: {report.summary()}"]
    for sent in report.sent:
        attempt = sent.attempt
        if attempt.ok:
            continue
        status = str(attempt.status) if attempt.status is not None else "---"
        lines.append(f"  {status} {attempt.method} {attempt.url}  {sent.item.label}")
        said = attempt.response_body if attempt.status is not None else attempt.error
        if said:
            said = " ".join(said.split())
            cut = said[:SHOWN_BODY] + ("..." if len(said) > SHOWN_BODY else "")
            lines.append(f"      {cut}")
    return "\n".join(lines)
