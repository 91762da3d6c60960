"""The pytest plugin's old address (the pytest11 entry point and users' `-p` flags name it);
the plugin itself is hookcatcher.testing.plugin."""

from hookcatcher.testing.plugin import gateway, hookcatcher, pytest_configure

__all__ = ["gateway", "hookcatcher", "pytest_configure"]
