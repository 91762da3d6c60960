"""The `export` command: its flags, reading the captures (a running server or a session
file, filtered) and writing them in one of send/export's formats to stdout, a file or a
folder. The formats live in send/export.py, shared with the API route and the inspector;
this is only the command's side: flags, sources and what it says on stderr."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from hookcatcher.core.capture import Capture
from hookcatcher.core.filters import FilterError, parse
from hookcatcher.files import fixtures
from hookcatcher.files.session import SessionError
from hookcatcher.files.session import load as load_session
from hookcatcher.remote import check_token
from hookcatcher.send.export import DEFAULT_BASE_URL, FORMATS, chunks, fixture_files
from hookcatcher.send.outgoing import ReplayError, check_target
from hookcatcher.send.sources import SourceError, from_server

__all__ = ["add_arguments", "export_captures", "export_command"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `export` command's flags, on the parser the CLI made for it."""
    parser.add_argument(
        "session",
        nargs="?",
        metavar="FILE",
        help="a session file saved with --save (instead of a running server)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="har",
        help="har (browser devtools, HAR viewers), jsonl (one capture per "
        "line), curl (a shell script), fixtures (files, into -o DIR); "
        "default har",
    )
    parser.add_argument(
        "--from",
        dest="source_server",
        metavar="URL",
        default=None,
        help=f"the running hookcatcher to read (default {DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--token",
        metavar="T",
        type=_token,
        default=None,
        help="with --from: the token that hookcatcher was started with (also HOOKCATCHER_TOKEN)",
    )
    parser.add_argument(
        "--filter", metavar="QUERY", default="", help="only captures matching this filter"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE|DIR",
        default=None,
        help="write here instead of stdout (a folder for --format fixtures)",
    )
    parser.add_argument(
        "--to",
        metavar="URL",
        default=None,
        help="curl: your app's webhook URL (default: hookcatcher itself, as "
        "each request first arrived)",
    )
    parser.add_argument(
        "--by-events",
        action="store_true",
        help="curl with --to: per-event URLs, by the gateway's own rule",
    )
    parser.add_argument(
        "--no-redact",
        dest="redact",
        action="store_false",
        help="keep secrets (apikey, Authorization, tokens, JWTs) as captured",
    )


def _token(text: str) -> str:
    try:
        return check_token(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def export_command(args: argparse.Namespace) -> int:
    """`hookcatcher export`: the captures of a running server or a session file. Exit 2 on
    bad input or an unreachable server, with one line that says which."""
    problem = _bad_flags(args)
    if problem:
        return _fail(problem)
    if args.session is not None and args.source_server is not None:
        return _fail(
            f"export takes a session FILE or --from URL, not both (got {args.session} "
            f"and --from {args.source_server})"
        )
    if args.session is not None:
        return _export_session(args)
    server = args.source_server or DEFAULT_BASE_URL
    try:
        captures = [item.capture for item in from_server(server, args.filter, token=args.token)]
    except SourceError as exc:
        return _fail(str(exc))
    return export_captures(captures, args, base_url=server)


def _export_session(args: argparse.Namespace) -> int:
    """A saved session's captures, filtered here by the same filter language; lines the
    session could not give back are said on stderr, and the rest exported."""
    try:
        query = parse(args.filter)
        loaded = load_session(args.session)
    except (FilterError, SessionError) as exc:
        return _fail(str(exc))
    for problem in loaded.problems:
        print(f"hookcatcher: {problem}", file=sys.stderr)
    return export_captures([capture for capture in loaded.captures if query(capture)], args)


def export_captures(
    captures: Sequence[Capture], args: argparse.Namespace, base_url: str = DEFAULT_BASE_URL
) -> int:
    """Write `captures` as the flags say: the part of `export` after reading, for any source
    of captures (a server, a saved session). HAR URLs and target-less curl commands are
    built on `base_url`."""
    problem = _bad_flags(args)
    if problem:
        return _fail(problem)
    how = "secrets redacted; --no-redact keeps them" if args.redact else "secrets kept"
    if args.format == "fixtures":
        try:
            saved = fixture_files(captures, Path(args.output), redact=args.redact)
        except fixtures.FixtureError as exc:
            return _fail(str(exc))
        for reason in saved.skipped:
            print(f"skipped: {reason}", file=sys.stderr)
        print(
            f"hookcatcher: {len(saved.paths)} fixture file(s) in {args.output} ({how})",
            file=sys.stderr,
        )
        return 0
    pieces = chunks(
        args.format,
        captures,
        base_url=base_url,
        target=args.to,
        by_events=args.by_events,
        redact=args.redact,
    )
    if args.output is None:
        for piece in pieces:
            sys.stdout.write(piece)
        sys.stdout.flush()
        where = "stdout"
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                out.writelines(pieces)
        except OSError as exc:
            return _fail(f"{args.output}: cannot write: {exc.strerror}")
        where = args.output
    print(
        f"hookcatcher: {len(captures)} capture(s) as {args.format} to {where} ({how})",
        file=sys.stderr,
    )
    return 0


def _bad_flags(args: argparse.Namespace) -> str | None:
    if args.format == "fixtures" and not args.output:
        return "--format fixtures writes files: give the folder with -o DIR"
    if args.format != "curl" and (args.to or args.by_events):
        return f"--to and --by-events are for --format curl, not {args.format}"
    if args.by_events and not args.to:
        return "--by-events builds per-event URLs on --to URL: give --to"
    if args.to:
        try:
            check_target(args.to)
        except ReplayError as exc:
            return f"--to: {exc}"
    return None


def _fail(message: str) -> int:
    print(f"hookcatcher: error: {message}", file=sys.stderr)
    return 2
