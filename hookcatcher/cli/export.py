"""`hookcatcher export`: the captures of a running server or a saved session, filtered, in
one of send/export.py's formats (shared with the API route and the inspector) to stdout, a
file or a folder. This is only the command's side: options, sources, what it says on
stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hookcatcher.cli.main import COMMANDS
from hookcatcher.cli.options import CONTEXT, TOKEN, URL, Command, UsageError, examples, option
from hookcatcher.remote import DEFAULT_URL
from hookcatcher.send.export import FORMATS

if TYPE_CHECKING:
    from hookcatcher.core.capture import Capture

__all__ = ["Written", "command", "export_captures"]


@dataclass(frozen=True, slots=True)
class Written:
    """How the captures are written: the format, where, and for curl where to."""

    format: str = "har"
    output: str | None = None
    to: str | None = None
    by_events: bool = False
    redact: bool = True


@click.command(
    "export",
    cls=Command,
    context_settings=CONTEXT,
    short_help=COMMANDS["export"][1],
    epilog=examples(
        "hookcatcher export --format har -o day.har",
        "hookcatcher export day.jsonl --format curl --to http://127.0.0.1:3000/hook -o go.sh",
        "hookcatcher export --format fixtures -o my-fixtures --filter 'event:messages.*'",
    ),
)
@click.argument("session", required=False, metavar="[FILE]")
@option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default="har",
    help="har (browser devtools, HAR viewers), jsonl (one capture per line), curl (a shell "
    "script), fixtures (files, into -o DIR); default har",
)
@option(
    "--from",
    "source_server",
    type=URL,
    metavar="URL",
    help=f"the running hookcatcher to read (default {DEFAULT_URL})",
)
@option(
    "--token",
    env="token",
    type=TOKEN,
    help="with --from: the token that hookcatcher was started with",
)
@option("--filter", metavar="QUERY", default="", help="only captures matching this filter")
@option(
    "-o",
    "--output",
    metavar="FILE|DIR",
    help="write here instead of stdout (a folder for --format fixtures)",
)
@option(
    "--to",
    metavar="URL",
    help="curl: your app's webhook URL (default: hookcatcher itself, as each request "
    "first arrived)",
)
@option("--by-events", is_flag=True, help="curl with --to: per-event URLs, by the gateway's rule")
@option(
    "--redact/--no-redact",
    default=True,
    help="hide secrets (apikey, Authorization, tokens, JWTs; default), or keep them as captured",
)
def command(
    session: str | None,
    format_: str,
    source_server: str | None,
    token: str | None,
    filter: str,
    output: str | None,
    to: str | None,
    by_events: bool,
    redact: bool,
) -> int:
    """Write the captures of a running hookcatcher (or of a saved session FILE) as HAR 1.2,
    JSON Lines, a curl script or fixture files, secrets redacted unless --no-redact."""
    written = Written(format_, output, to, by_events, redact)
    _check(written)
    if session is not None and source_server is not None:
        raise UsageError(
            f"export takes a session FILE or --from URL, not both (got {session} "
            f"and --from {source_server})"
        )
    if session is not None:
        return export_captures(_from_session(session, filter), written)
    from hookcatcher.remote import RemoteError, SyncRemote

    server = source_server or DEFAULT_URL
    try:
        with SyncRemote(server, token=token) as remote:
            captures = remote.captures(filter)
    except RemoteError as exc:
        raise UsageError(str(exc)) from None
    return export_captures(captures, written, base_url=server)


def _from_session(path: str, filter: str) -> list[Capture]:
    """A saved session's captures, filtered here by the same filter language; lines the
    session could not give back are said on stderr."""
    from hookcatcher.core.filters import FilterError, parse
    from hookcatcher.files.session import SessionError, load

    try:
        query = parse(filter)
        loaded = load(path)
    except (FilterError, SessionError) as exc:
        raise UsageError(str(exc)) from None
    for problem in loaded.problems:
        print(f"hookcatcher: {problem}", file=sys.stderr)
    return [capture for capture in loaded.captures if query(capture)]


def export_captures(
    captures: Sequence[Capture], written: Written, base_url: str = DEFAULT_URL
) -> int:
    """Write `captures` as `written` says: the part of `export` after reading, for any source
    of captures (a server, a saved session). HAR URLs and target-less curl commands are
    built on `base_url`."""
    from hookcatcher.files import fixtures
    from hookcatcher.send.export import chunks, fixture_files

    _check(written)
    how = "secrets redacted; --no-redact keeps them" if written.redact else "secrets kept"
    if written.format == "fixtures":
        assert written.output is not None  # _check
        try:
            saved = fixture_files(captures, Path(written.output), redact=written.redact)
        except fixtures.FixtureError as exc:
            raise UsageError(str(exc)) from None
        for reason in saved.skipped:
            print(f"skipped: {reason}", file=sys.stderr)
        print(
            f"hookcatcher: {len(saved.paths)} fixture file(s) in {written.output} ({how})",
            file=sys.stderr,
        )
        return 0
    pieces = chunks(
        written.format,
        captures,
        base_url=base_url,
        target=written.to,
        by_events=written.by_events,
        redact=written.redact,
    )
    if written.output is None:
        for piece in pieces:
            sys.stdout.write(piece)
        sys.stdout.flush()
        where = "stdout"
    else:
        try:
            with open(written.output, "w", encoding="utf-8") as out:
                out.writelines(pieces)
        except OSError as exc:
            raise UsageError(f"{written.output}: cannot write: {exc.strerror}") from None
        where = written.output
    print(
        f"hookcatcher: {len(captures)} capture(s) as {written.format} to {where} ({how})",
        file=sys.stderr,
    )
    return 0


def _check(written: Written) -> None:
    """Options that do not go together, refused before anything is read."""
    if written.format == "fixtures" and not written.output:
        raise UsageError("--format fixtures writes files: give the folder with -o DIR")
    if written.format != "curl" and (written.to or written.by_events):
        raise UsageError(f"--to and --by-events are for --format curl, not {written.format}")
    if written.by_events and not written.to:
        raise UsageError("--by-events builds per-event URLs on --to URL: give --to")
    if written.to:
        from hookcatcher.send.outgoing import ReplayError, check_target

        try:
            check_target(written.to)
        except ReplayError as exc:
            raise UsageError(f"--to: {exc}") from None
