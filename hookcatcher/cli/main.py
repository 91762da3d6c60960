"""The command line. Every flag can also come from the environment as HOOKCATCHER_<NAME>
(HOOKCATCHER_PORT=9000), so a flag given on the command line wins over the environment."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hookcatcher.check.validation import SchemaError, Validator
from hookcatcher.cli import drive, export
from hookcatcher.cli import validate as offline
from hookcatcher.cli.gateway import attach_gateway, doctor_command
from hookcatcher.cli.options import UsageError, env_now
from hookcatcher.cli.parser import build_parser, refuse_misplaced
from hookcatcher.cli.serve import inspect_server, inspect_session, serve, serve_and_inspect
from hookcatcher.files.session import SessionError
from hookcatcher.receive.runner import PortError
from hookcatcher.remote import DEFAULT_PORT

if TYPE_CHECKING:
    pass

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        arguments = list(sys.argv[1:] if argv is None else argv)
        refuse_misplaced(parser, arguments)
        args = parser.parse_args(arguments)
        if args.command == "validate":
            return offline.run(Validator(), args.files, args.json)
        if args.command == "tui" and args.session is not None:
            if args.connect is not None:
                raise UsageError(
                    f"tui takes a session FILE or --connect URL, not both "
                    f"(got {args.session} and --connect {args.connect})"
                )
            return inspect_session(args.session, args.filter, args.redact)
        if args.command == "tui":
            return inspect_server(
                args.connect or env_now("connect", str, f"http://127.0.0.1:{DEFAULT_PORT}"),
                args.filter,
                args.redact,
                args.token,
            )
        if args.command == "export":
            return export.export_command(args)
        if args.command == "replay":
            return drive.replay_command(args)
        if args.command == "send":
            return drive.send_command(args)
        if args.command == "attach":
            return attach_gateway(args)
        if args.command == "doctor":
            return doctor_command(args)
        if args.command is None and sys.stdin.isatty() and sys.stdout.isatty():
            return serve_and_inspect(args)
        if args.command is None:
            print(
                "hookcatcher: no terminal to draw the inspector on: running headless "
                "(as hookcatcher serve)",
                file=sys.stderr,
                flush=True,
            )
        return serve(args)
    except (UsageError, SchemaError, FileNotFoundError, drive.CommandError, SessionError) as exc:
        # Bad flags, or an installation whose schemas are missing or broken.
        print(f"hookcatcher: error: {exc}", file=sys.stderr)
        return 2
    except PortError as exc:
        print(f"hookcatcher: error: {exc}", file=sys.stderr)
        return 1
