"""The pytest session's Imprint server: `node dist/cli/main.js serve` from the repository (npm
test builds dist/ first), on free ports, with its own data directory; stopped after."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from imprint_client import Client

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "dist" / "cli" / "main.js"
BANNER = re.compile(r"Imprint is serving on ([\d.]+):(\d+)")


@dataclass
class Server:
    """One `imprint serve` process; `output` is everything it wrote."""

    proc: subprocess.Popen[str]
    address: str
    data_dir: Path
    output: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start_server(data_dir: Path, args: list[str] | None = None, port: int = 0, start_s: float = 60.0) -> Server:
    """`imprint --data-dir DATA_DIR serve --port PORT --http-port 0 ARGS`, once it says where it serves."""
    if not CLI.is_file():
        raise RuntimeError(f"{CLI} is missing: run `npm run build` first")
    cmd = ["node", str(CLI), "--data-dir", str(data_dir), "serve", "--port", str(port), "--http-port", "0", *(args or [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "IMPRINT_DRAIN_MS": "0"})
    output: list[str] = []
    found = threading.Event()
    address: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            m = BANNER.search(line)
            if m and not found.is_set():
                address.append(f"{m.group(1)}:{m.group(2)}")
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + start_s
    while not found.wait(0.1):
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"serve did not start within {start_s} s:\n{''.join(output)}")
    if not address:
        proc.wait()
        raise RuntimeError(f"serve exited with {proc.returncode}:\n{''.join(output)}")
    return Server(proc, address[0], data_dir, output)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    data = Path(tempfile.mkdtemp(prefix="imprint-py-"))
    s = start_server(data)
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    with Client(server.address, app="pytest") as c:
        yield c


_counter = [0]


@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> str:
    """A fresh topic name per test."""
    _counter[0] += 1
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]
    return f"py-{base}-{_counter[0]}-{os.getpid()}"
