"""The bundled fixture files, as tests read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hookcatcher.core.resources import data_dir


def fixture(name: str) -> dict[str, Any]:
    """A bundled fixture file, e.g. fixture("evolution/v2/messages.upsert.text")."""
    return json.loads((data_dir("fixtures") / f"{name}.json").read_text(encoding="utf-8"))


def body_of(name: str) -> bytes:
    return json.dumps(fixture(name)["body"]).encode()


def fixtures_root() -> Path:
    return data_dir("fixtures")
