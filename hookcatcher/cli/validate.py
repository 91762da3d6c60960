"""`hookcatcher validate`: body or fixture files checked offline, as the server would
(files/checking.py), one line each and a summary. Its --help loads click and nothing of the
server: the schemas load when a file is checked."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO

import click

from hookcatcher.cli.main import COMMANDS
from hookcatcher.cli.options import CONTEXT, Command, examples

if TYPE_CHECKING:
    from hookcatcher.check.validation import Validator

__all__ = ["command", "run"]


@click.command(
    "validate",
    cls=Command,
    context_settings=CONTEXT,
    short_help=COMMANDS["validate"][1],
    epilog=examples(
        "hookcatcher validate body.json",
        "hookcatcher validate fixtures/evolution/v2/",
        "curl -s http://127.0.0.1:3000/last-body | hookcatcher validate -",
    ),
)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON")
def command(files: tuple[str, ...], as_json: bool) -> int:
    """Validate bodies offline, as the server would: prints provider, event and each error
    with its JSON path; exits 1 when any file is invalid or not JSON. FILE is a body or
    fixture file, a folder of them, or - for stdin."""
    from hookcatcher.check.validation import Validator

    return run(Validator(), list(files), as_json)


def run(validator: Validator, names: list[str], as_json: bool, out: TextIO | None = None) -> int:
    """Print one line per file (and its errors), then a summary; 1 when any file failed."""
    from hookcatcher.files.checking import check_files, summary

    out = out or sys.stdout  # the stream of the moment, not the one at import
    stdin = sys.stdin.buffer.read() if "-" in names else None
    results = check_files(validator, names, stdin)
    counts = summary(results)
    if as_json:
        json.dump({"files": [r.to_json() for r in results], "summary": counts}, out, indent=2)
        out.write("\n")
    else:
        for result in results:
            what = " ".join(filter(None, [result.provider, result.event]))
            out.write(f"{result.file}: {result.status}{f'  {what}' if what else ''}\n")
            for error in result.errors:
                out.write(f"  {error.path}: {error.message}\n")
            for warning in result.warnings:
                out.write(f"  warning: {warning}\n")
        out.write(
            f"{counts['files']} file{'s' if counts['files'] != 1 else ''}: "
            f"{counts['valid']} valid, {counts['invalid']} invalid, "
            f"{counts['not-json']} not JSON, {counts['no-schema']} without a schema"
            + (f", {counts['unreadable']} unreadable" if counts["unreadable"] else "")
            + "\n"
        )
    return 1 if any(r.failed for r in results) else 0
