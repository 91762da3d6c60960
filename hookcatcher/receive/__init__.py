"""The receiver: the ASGI app and its API, ingest, access, answers, the store, the stream,
the runner and serve's printer."""
