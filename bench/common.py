"""What every scenario of the suite shares: servers in their own processes, the load
generator, the figures a scenario reports and how they are judged.

The machine running the suite is usually shared and noisy, so no figure is judged alone
where a baseline makes sense: hookcatcher and a bare Starlette app (bench/bareapp.py) run
one after the other, each pinned to the same CPU with the same uvicorn settings, and the
ratio between them is what the targets speak of.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx

__all__ = [
    "FIXTURES",
    "ROOT",
    "Figure",
    "Server",
    "WrkResult",
    "client_cpus",
    "fixture",
    "peak_rss",
    "percentile",
    "post_many",
    "report",
    "rss",
    "settled_rss",
    "run_pinned",
    "serve_bare",
    "serve_hookcatcher",
    "server_cpus",
    "spawn",
    "wait_healthy",
    "wrk",
]

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
FIXTURES = ROOT / "fixtures"
BANNER = re.compile(r"listening on (http://\S+)")


def _cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def server_cpus() -> set[int]:
    """The server under test gets one CPU of its own; everything else (load generator,
    clients) the rest, so the two never take turns on the same core."""
    return {_cpus()[0]}


def client_cpus() -> set[int]:
    cpus = _cpus()
    return set(cpus[1:]) or set(cpus)


def spawn(command: Sequence[str], cpus: set[int], **options: Any) -> subprocess.Popen[str]:
    """Start a process and pin it to `cpus` (right after it starts: a preexec hook is not
    safe while this process has threads)."""
    process = subprocess.Popen(list(command), text=True, **options)
    os.sched_setaffinity(process.pid, cpus)
    return process


def run_pinned(
    command: Sequence[str],
    cpus: set[int],
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run to the end, pinned; its stdout, or a clear error with its stderr."""
    process = spawn(
        command,
        cpus,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    out, err = process.communicate(input)
    if process.returncode:
        raise RuntimeError(
            f"{' '.join(command[:3])} ... exited {process.returncode}: {err[-1000:]}"
        )
    return out


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured number, with the target it is held against (if any)."""

    name: str
    value: float
    unit: str
    target: str = ""
    passed: bool | None = None

    def line(self) -> str:
        verdict = "" if self.passed is None else ("PASS" if self.passed else "MISS")
        target = f"  (target {self.target})" if self.target else ""
        return f"  {self.name:48} {self.value:12,.2f} {self.unit:8}{target} {verdict}".rstrip()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 4),
            "unit": self.unit,
            "target": self.target or None,
            "passed": self.passed,
        }


def report(title: str, figures: Sequence[Figure]) -> dict[str, Any]:
    print(f"{title}")
    for figure in figures:
        print(figure.line())
    return {"figures": [figure.to_json() for figure in figures]}


@dataclass(slots=True)
class Server:
    """A server process on a free loopback port, read from what it prints when listening."""

    command: list[str]
    process: subprocess.Popen[str] | None = None
    url: str = ""
    spawned: float = 0.0
    lines: list[str] = field(default_factory=list)

    def start(self, timeout: float = 30) -> Self:
        self.spawned = time.monotonic()
        self.process = spawn(
            self.command, server_cpus(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            self.lines.append(line)
            if found := BANNER.search(line):
                self.url = found.group(1)
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.stop()
            raise RuntimeError(
                f"{' '.join(self.command)} did not say where it listens:\n"
                + "".join(self.lines[-20:])
            )
        # Keep draining its output so a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_hookcatcher(*options: str) -> Server:
    """`hookcatcher serve` as a user runs it: validation on (the default)."""
    return Server(
        [
            sys.executable,
            "-m",
            "hookcatcher",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            *options,
        ]
    )


def serve_bare() -> Server:
    return Server([sys.executable, str(BENCH / "bareapp.py")])


def wait_healthy(url: str, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5) as http:
        while True:
            try:
                if http.get(url + path).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}{path} did not answer 200 within {timeout} s")
            time.sleep(0.005)


def fixture(name: str) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Headers and body of a bundled fixture, e.g. `evolution/v2/messages.upsert.text`."""
    document = json.loads((FIXTURES / f"{name}.json").read_text())
    return [(str(k), str(v)) for k, v in document["headers"]], document["body"]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {key}")


def rss(pid: int) -> int:
    """Resident set size now, in bytes."""
    return _status_kib(pid, "VmRSS") * 1024


def settled_rss(pid: int, tries: int = 30) -> int:
    """RSS once it stops moving: the allocator may still be returning pages after a burst."""
    last = rss(pid)
    for _ in range(tries):
        time.sleep(0.1)
        now = rss(pid)
        if abs(now - last) < 64 * 1024:
            return now
        last = now
    return last


def peak_rss(pid: int) -> int:
    """The most the process has ever held resident, in bytes (VmHWM)."""
    return _status_kib(pid, "VmHWM") * 1024


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * WRK_UNITS[unit]


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(
            "wrk is not installed: the ingest and replay scenarios load the "
            "servers with it. Install it with `apt-get install wrk` (Debian/"
            "Ubuntu) or `brew install wrk`, or skip them with --only."
        )
    return found


def wrk(url: str, body_file: Path, seconds: float, connections: int, threads: int = 1) -> WrkResult:
    """wrk posting one body with its headers (bench/wrk/post.lua) for `seconds`."""
    env = {**os.environ, "WRK_BODY": str(body_file)}
    out = run_pinned(
        [
            wrk_path(),
            "--latency",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "-s",
            str(BENCH / "wrk" / "post.lua"),
            url,
        ],
        client_cpus(),
        env=env,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = " ".join(
        line.strip() for line in out.splitlines() if "Socket errors" in line or "Non-2xx" in line
    )
    return WrkResult(rate, p50, p99, total, errors)


def write_wrk_body(path: Path, headers: Sequence[tuple[str, str]], body: bytes) -> Path:
    """The file post.lua reads: a JSON object of headers, a newline, then the raw body."""
    path.write_bytes(json.dumps(dict(headers)).encode() + b"\n" + body)
    return path


POSTER = r"""
import asyncio, json, sys
host, port, count, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
headers, body = json.loads(sys.stdin.read())
lines = ["POST /webhook HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body.encode())}"]
lines += [f"{name}: {value}" for name, value in headers]
request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body.encode()
state = {"left": count, "failed": 0}

async def worker():
    reader, writer = await asyncio.open_connection(host, port)
    while state["left"] > 0:
        state["left"] -= 1
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        state["failed"] += not head.split(b" ", 2)[1].startswith(b"2")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
    writer.close()

async def main():
    await asyncio.gather(*(worker() for _ in range(connections)))
    print(json.dumps({"failed": state["failed"]}))

asyncio.run(main())
"""


def post_many(
    url: str, headers: Sequence[tuple[str, str]], body: bytes, count: int, connections: int = 8
) -> None:
    """`count` POSTs of one body from another process, on raw kept-alive connections (a
    Python HTTP client would cost more per request than the server under test)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    out = run_pinned(
        [sys.executable, "-c", POSTER, host, port, str(count), str(connections)],
        client_cpus(),
        input=json.dumps([list(headers), body.decode()]),
    )
    failed = json.loads(out)["failed"]
    if failed:
        raise RuntimeError(f"{failed} of {count} POSTs to {url} were not answered 2xx")
