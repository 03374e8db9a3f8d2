"""Helpers shared by the runtime tests: log reading, a free loopback port, the MJPEG server process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).with_name("mjpeg_server.py")


def read_log(path: Path) -> list[dict]:
    """Every record of a JSON-lines log."""
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def frames_of(records: list[dict]) -> list[dict]:
    """The frame records of a log (event records carry an 'event' key)."""
    return [r for r in records if "event" not in r]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mjpeg_server(
    port: int, value: int, fps: float = 30.0, lifetime_s: float = 60.0, stall_after: int = -1
) -> subprocess.Popen:
    """Start tests/runtime/mjpeg_server.py on 127.0.0.1:port and wait until it listens."""
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), str(port), str(value), str(fps), str(lifetime_s), str(stall_after)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise RuntimeError(f"MJPEG server did not start: {proc.stderr.read()}")
    return proc
