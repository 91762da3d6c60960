"""hookcatcher inside a test suite: Catcher and the pytest plugin."""
