"""What the commands' options are made of: the value types (each refuses a bad value naming
the flag, or the HOOKCATCHER_* variable it came from), the option class that reads its
variable only for the command that runs, the sections a command's --help is drawn in, and
the errors every command reports the same way.

Light on purpose: `hookcatcher validate --help` imports this and click, nothing else."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

__all__ = [
    "Command",
    "Failure",
    "Option",
    "UsageError",
    "collected",
    "examples",
    "option",
    "PORT",
    "POSITIVE_FLOAT",
    "POSITIVE_INT",
    "SIZE",
    "TOKEN",
    "URL",
]

CONTEXT: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class UsageError(click.ClickException):
    """Input that cannot be used (a flag, a file, a server that is not there): said as
    `hookcatcher: error: ...` on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"hookcatcher: error: {self.format_message()}", err=True)


class Failure(UsageError):
    """What was asked could not be done (the port is taken): exit code 1."""

    exit_code = 1


class Option(click.Option):
    """An option whose HOOKCATCHER_* variable is read only when its command runs (click reads
    a command's variables as it parses that command, never another's), and whose bad value
    is refused naming where it came from: `--port` or `HOOKCATCHER_PORT`. `section` is the
    heading it is listed under in --help."""

    def __init__(self, *args: Any, section: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section = section

    def get_error_hint(self, ctx: click.Context | None) -> str:
        if (
            ctx is not None
            and self.name is not None
            and ctx.get_parameter_source(self.name) is ParameterSource.ENVIRONMENT
            and isinstance(self.envvar, str)
        ):
            return self.envvar
        return " / ".join(f"'{name}'" for name in self.opts)


_F = TypeVar("_F", bound=Callable[..., Any])


def option(*decls: str, env: str | None = None, **kwargs: Any) -> Callable[[_F], _F]:
    """click.option with hookcatcher's Option; `env`: the HOOKCATCHER_<NAME> it also reads,
    named at the end of its help."""
    if env is not None:
        kwargs["envvar"] = f"HOOKCATCHER_{env.upper().replace('-', '_')}"
        kwargs["help"] = f"{kwargs.get('help', '')} [{kwargs['envvar']}]".strip()
    return click.option(*decls, cls=Option, **kwargs)


class Command(click.Command):
    """A command whose --help lists its options by section, and keeps its examples' lines
    as written. `greedy` options take every word after them up to the next option, as
    0.1's did (`--events messages.upsert connection.update`)."""

    def __init__(self, *args: Any, greedy: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.greedy = tuple(greedy)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread(args, self.greedy))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        format_sections(self.get_params(ctx), ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.epilog:
            formatter.write_paragraph()
            formatter.write_text("examples:")
            for line in self.epilog.splitlines():
                formatter.write(f"  {line}\n")


def spread(args: list[str], greedy: Sequence[str]) -> list[str]:
    """`--events a b` as `--events a --events b`, for click, whose options take one value."""
    out: list[str] = []
    current: str | None = None
    value_next = False  # the word right after a greedy option's name is its own value
    for index, word in enumerate(args):
        if word == "--":
            return out + args[index:]
        name, equals, value = word.partition("=")
        if name in greedy:
            current, value_next = name, not equals
            out += [name, value] if equals else [name]
            continue
        if word.startswith("-"):
            current = None
        elif current is not None and not value_next:
            out.append(current)
        value_next = False
        out.append(word)
    return out


def format_sections(
    params: Sequence[click.Parameter], ctx: click.Context, formatter: click.HelpFormatter
) -> None:
    """Options under their section headings, in the order the sections first appear."""
    sections: dict[str, list[tuple[str, str]]] = {}
    for param in params:
        if not isinstance(param, click.Option):
            continue  # the usage line and the description name the arguments
        record = param.get_help_record(ctx)
        if record is not None:
            name = getattr(param, "section", None) or "options"
            sections.setdefault(name, []).append(record)
    for name, records in sections.items():
        with formatter.section(name):
            formatter.write_dl(records)


def examples(*lines: str) -> str:
    """A command's examples, for its epilog (Command prints them as written)."""
    return "\n".join(lines)


_T = TypeVar("_T")


def collected(
    cls: type[_T], keyword: str, options: Sequence[Callable[[Any], Any]]
) -> Callable[[_F], _F]:
    """A set of options given to the command as one typed value: the function receives
    `keyword=cls(...)` built from those options' values, instead of each as an argument."""
    names = {field.name for field in fields(cls)}  # type: ignore[arg-type]

    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def gathered(*args: Any, **values: Any) -> Any:
            picked = {name: values.pop(name) for name in list(values) if name in names}
            return function(*args, **values, **{keyword: cls(**picked)})

        wrapped: Any = gathered
        for add in reversed(options):
            wrapped = add(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate


# The value types. Each fails with a sentence about the value; click puts the flag's (or
# the variable's) name in front of it.


if TYPE_CHECKING:  # generic in click's newest types, plain in those of click 8.1
    _ParamType = click.ParamType[Any, Any]
else:
    _ParamType = click.ParamType


class _Checked(_ParamType):
    """A type made of a function that takes the text and raises ValueError with the reason."""

    def __init__(
        self,
        name: str,
        check: Callable[[str], Any],
        split: Callable[[str], Sequence[str]] | None = None,
    ) -> None:
        self.name = name
        self.check = check
        self.split = split

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a default, already a value
        try:
            return self.check(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    def split_envvar_value(self, rv: str) -> Sequence[str]:
        """The values of a repeatable flag's variable, by the type's own rule."""
        return self.split(rv) if self.split else super().split_envvar_value(rv)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise ValueError(f"{text!r} is not a port number (0-65535; 0 picks a free one)")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{text!r} must be at least 1")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not value > 0:
        raise ValueError(f"{text!r} must be more than 0")
    return value


def _size(text: str) -> int:
    from hookcatcher.core.units import parse_size

    return parse_size(text)


def _body_size(text: str) -> int:
    size = _size(text)
    if size < 1:
        raise ValueError(f"{text!r} must be at least 1 byte")
    return size


def _token(text: str) -> str:
    from hookcatcher.remote import check_token

    return check_token(text)


def _host(text: str) -> str:
    from hookcatcher.receive.access import check_host  # the rule the server applies

    return check_host(text)


def is_url(text: str) -> bool:
    """An http(s) URL with a host: what every URL option takes."""
    return re.match(r"^https?://[^/\s]+", text) is not None


def _url(text: str) -> str:
    if not is_url(text):
        raise ValueError(f"{text!r} is not a URL (e.g. http://127.0.0.1:8787)")
    return text


PORT = _Checked("port", _port)
POSITIVE_INT = _Checked("N", _positive_int)
POSITIVE_FLOAT = _Checked("SECONDS", positive_float)
SIZE = _Checked("SIZE", _size)
BODY_SIZE = _Checked("SIZE", _body_size)
TOKEN = _Checked("T", _token)
# HOOKCATCHER_ALLOW_HOST takes several names, comma- or space-separated.
HOST = _Checked("NAME", _host, split=lambda text: text.replace(",", " ").split())
URL = _Checked("URL", _url)
# A repeatable flag whose variable is one value as written (a selector may hold spaces).
RULE = _Checked("RULE", str, split=lambda text: [text] if text.strip() else [])
