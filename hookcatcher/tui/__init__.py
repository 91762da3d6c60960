"""The inspector TUI (Textual), attached to a hookcatcher server over HTTP and SSE."""

from hookcatcher.tui.app import InspectorApp

__all__ = ["InspectorApp"]
