"""The inspector TUI (Textual), attached to a hookcatcher server over HTTP and SSE."""

from .app import InspectorApp

__all__ = ["InspectorApp"]
