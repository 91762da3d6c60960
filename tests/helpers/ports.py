"""Loopback ports for servers the tests start, and for addresses nothing listens on."""

from __future__ import annotations

import socket


def free_socket() -> socket.socket:
    """A socket bound to a free loopback port, for a server to listen on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def unused_port() -> int:
    """A port nothing listens on (bound, then released): connecting to it is refused."""
    with free_socket() as sock:
        return sock.getsockname()[1]
