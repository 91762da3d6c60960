"""What the tests share besides pytest fixtures (those stay in the conftest.py files).

Import them by module, e.g. `from helpers.bundled import fixture`: tests/ is on sys.path
(pytest's `pythonpath` setting in pyproject.toml; bench/ scripts insert it themselves).

- `bundled`: the bundled fixture files (`fixture`, `body_of`, `fixtures_root`)
- `api`: talking to a running server with httpx (`TIMEOUT`, `sse_events`)
- `ports`: loopback ports (`free_socket`, `unused_port`)
- `process`: hookcatcher as a real process, its output read line by line (`Running`; the
  `run` fixture in conftest.py starts them)
- `inspector`: driving the TUI with Textual's Pilot (`opened`, `until`, `post`, `shown`, ...)
- `rawhttp`: HTTP/1.1 over plain sockets, for exact bytes and misbehaving clients
- `senders`: many keep-alive senders at once (the load test and bench/load.py)
- `recorder`: a stand-in for the user's app that records what it gets
- `fuzzing`: generated requests and their checks (the fuzz tests and bench/fuzz.py)
- `secret_requests`: one body full of secrets in every form, and the leak checks
"""
