"""Where the bundled schemas and fixtures are: inside the installed package (a wheel puts
them there), or at the top of a source checkout (an editable install)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir"]

_PACKAGE = Path(__file__).resolve().parent.parent  # hookcatcher/, above core/


def data_dir(name: str) -> Path:
    """The folder `schemas` or `fixtures`, wherever this installation keeps it."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"hookcatcher's {name}/ folder is missing from this installation "
        f"(looked in {_PACKAGE} and {_PACKAGE.parent}); reinstall with `pip install .`"
    )
