"""What the inspector remembers between runs: today, the replay target URL.

Kept in a small JSON file under the user's config folder ($XDG_CONFIG_HOME/hookcatcher,
or ~/.config/hookcatcher), or wherever HOOKCATCHER_CONFIG_DIR points. A broken file is
reported and replaced, never a reason not to start.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Settings", "config_dir"]


def config_dir() -> Path:
    explicit = os.environ.get("HOOKCATCHER_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hookcatcher"


@dataclass
class Settings:
    target: str = ""
    by_events: bool = False

    @classmethod
    def load(cls, folder: Path | None = None) -> tuple[Settings, str | None]:
        """The remembered settings, and a message when the file could not be used."""
        path = (folder or config_dir()) / "tui.json"
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(), None
        except (OSError, ValueError) as exc:
            return cls(), f"{path}: ignored ({exc}); the defaults are used"
        if not isinstance(document, dict):
            return cls(), f"{path}: ignored (not a JSON object); the defaults are used"
        target = document.get("target")
        return cls(
            target=target if isinstance(target, str) else "",
            by_events=document.get("by_events") is True,
        ), None

    def save(self, folder: Path | None = None) -> str | None:
        """Write the settings; a message when that failed (the session goes on regardless)."""
        path = (folder or config_dir()) / "tui.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            return f"could not remember the target in {path}: {exc.strerror}"
        return None
