"""hookcatcher as a user runs it: a real process whose output lines are read as they come."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time


class Running:
    """A hookcatcher process; its output lines are read by threads into queues, so a wait
    for a line is bounded by a timeout."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hookcatcher", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env={**os.environ, **(env or {})},
        )
        self.url = ""
        self.lines: dict[str, queue.Queue[str]] = {}
        for name in ("stdout", "stderr"):
            self.lines[name] = queue.Queue()
            threading.Thread(
                target=self._pump, args=(getattr(self.process, name), self.lines[name]), daemon=True
            ).start()

    @staticmethod
    def _pump(pipe, lines: queue.Queue) -> None:
        for line in pipe:
            lines.put(line)

    def read_until(self, pattern: str, stream: str = "stdout", timeout: float = 15) -> str:
        """Lines from the process until one matches; fails after `timeout` seconds."""
        seen = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines[stream].get(timeout=left)
            except queue.Empty:
                break
            seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} on {stream}; got {seen!r}")

    def started(self, stream: str = "stdout") -> Running:
        line = self.read_until(r"listening on http://", stream)
        self.url = re.search(r"http://\S+", line).group(0)
        return self

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
