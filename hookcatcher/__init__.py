"""hookcatcher: a local webhook receiver and inspector for WhatsApp gateways.

The Python API, for test suites: `replay` (and `areplay` for async code) sends fixtures or
captures into an app, by URL or in-process (ASGI or WSGI), as the gateway would; it returns
a `Report`. `Catcher` is the receiver on a background thread, for what the app sends out:
`events(q)` and `wait_for(q)` (raising `WaitTimeout`). The pytest plugin
(`hookcatcher.testing.plugin`) offers both as the `gateway` and `hookcatcher` fixtures.
Names load on first use, so `import hookcatcher` stays cheap for the CLI and for pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see; at run time the names load on first use
    from hookcatcher.send.delivery import Report, areplay, replay
    from hookcatcher.send.sources import SourceError
    from hookcatcher.testing.catcher import Catcher, WaitTimeout

__version__ = "0.2.0"

__all__ = ["Catcher", "Report", "SourceError", "WaitTimeout", "__version__", "areplay", "replay"]

_LAZY = {
    "Catcher": "testing.catcher",
    "WaitTimeout": "testing.catcher",
    "Report": "send.delivery",
    "areplay": "send.delivery",
    "replay": "send.delivery",
    "SourceError": "send.sources",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hookcatcher' has no attribute {name!r}")
