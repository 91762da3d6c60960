"""The command line: `hookcatcher` (the server with the inspector open on it) and its
commands, one module each, imported only when that command runs, so `hookcatcher validate
--help` loads click and the validate module, not the server or the inspector.

Options go after the command they belong to. `hookcatcher --port 9000` is the main job's
own option; `hookcatcher --token T serve` is refused naming --token, since serve would
otherwise start without it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any

import click

from hookcatcher import __version__
from hookcatcher.cli.options import CONTEXT, format_sections

__all__ = ["COMMANDS", "cli", "main"]

# name: (module, short help). The modules load when their command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "headless server; one line per capture on stdout"),
    "tui": ("tui", "the inspector, on a running server or a saved session file"),
    "replay": ("replay", "send fixtures or captured requests into your app, as the gateway would"),
    "send": ("send", "send one bundled fixture (like stripe trigger), with --set overrides"),
    "export": ("export", "write captures as HAR, JSON Lines, a curl script or fixture files"),
    "validate": ("validate", "validate body or fixture files offline against the schemas"),
    "attach": ("attach", "point a gateway's webhook at hookcatcher; put it back on exit"),
    "doctor": ("doctor", "say why a gateway's webhooks do not arrive, and what to do"),
}
MAIN_JOB = "inspect"  # the command `hookcatcher` runs when given none (hidden; in serve.py)
_OWN = ("-h", "--help", "--version")


class Hookcatcher(click.Group):
    """The commands, loaded lazily; with no command (or options first), the main job."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == MAIN_JOB:
            name = "serve"
            attribute = "main_job"
        elif name in COMMANDS:
            attribute = "command"
        else:
            return None
        command: click.Command = getattr(
            import_module(f"hookcatcher.cli.{COMMANDS[name][0]}"), attribute
        )
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["hookcatcher.argv"] = list(args)  # as typed, for the main job's refusals
        if not args or (args[0].startswith("-") and args[0] not in _OWN):
            args = [MAIN_JOB, *args]
        return super().parse_args(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The main job's options, then the commands: `hookcatcher --port 9000` is valid."""
        main_job = self.get_command(ctx, MAIN_JOB)
        assert main_job is not None
        with main_job.context_class(main_job, info_name="hookcatcher", **CONTEXT) as inner:
            helper = main_job.get_help_option(inner)
            own = [param for param in main_job.get_params(inner) if param is not helper]
            format_sections([*own, *self.get_params(ctx)], ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        main_job = self.get_command(ctx, MAIN_JOB)
        if main_job is not None:
            main_job.format_epilog(ctx, formatter)


@click.group(
    cls=Hookcatcher,
    context_settings=CONTEXT,
    invoke_without_command=False,
    options_metavar="[OPTIONS]",
    subcommand_metavar="| COMMAND [ARGS]...",
    help="Receive, recognise and validate WhatsApp gateway webhooks (Evolution API, CodeChat, "
    "Whapi.Cloud). Without a command: the server with the inspector open on it; the options "
    "below are its own (each command has its own: hookcatcher COMMAND --help).",
)
@click.version_option(
    __version__, "--version", prog_name="hookcatcher", message="%(prog)s %(version)s"
)
def cli() -> None:
    """The commands."""


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: the exit code of the command that ran (2 for a usage error,
    said on stderr as one line, never a traceback)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        result: Any = cli.main(arguments, prog_name="hookcatcher", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        print("hookcatcher: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        code = _reported(exc)
        if code is None:
            raise
        print(f"hookcatcher: error: {exc}", file=sys.stderr)
        return code
    return result if isinstance(result, int) else 0


# Errors a command may end with that are the user's input, not a bug: (module, class, exit
# code). Looked up among the modules already loaded, since the one that raised is.
_REPORTED = (
    ("hookcatcher.check.validation", "SchemaError", 2),
    ("hookcatcher.files.session", "SessionError", 2),
    ("hookcatcher.receive.runner", "PortError", 1),
)


def _reported(exc: Exception) -> int | None:
    if isinstance(exc, FileNotFoundError):
        return 2
    for module, name, code in _REPORTED:
        kind = getattr(sys.modules.get(module), name, None)
        if isinstance(kind, type) and isinstance(exc, kind):
            return code
    return None
