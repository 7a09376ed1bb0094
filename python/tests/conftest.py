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

import boto3
import pytest
from botocore.config import Config

from imprint_client import Client
from imprint_client.publisher import S3Region

REPO = Path(__file__).resolve().parents[2]
# The built CLI the tests serve with; IMPRINT_PY_CLI points at another build (another branch's dist).
CLI = Path(os.environ.get("IMPRINT_PY_CLI", str(REPO / "dist" / "cli" / "main.js")))
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


def start_server(data_dir: Path, args: list[str] | None = None, port: int = 0, start_s: float = 60.0, env: dict[str, str] | None = None) -> Server:
    """`imprint --data-dir DATA_DIR serve --port PORT --http-port 0 ARGS`, once it says where it serves."""
    if not CLI.is_file():
        raise RuntimeError(f"{CLI} is missing: run `npm run build` first")
    cmd = ["node", str(CLI), "--data-dir", str(data_dir), "serve", "--port", str(port), "--http-port", "0", *(args or [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "IMPRINT_DRAIN_MS": "0", **(env or {})})
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


class OwnServer:
    """A server of one test's own, on a data directory of its own, that the test may kill (or
    SIGSTOP) and start again on the same port and data: what a killed-server test needs."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server = start_server(data_dir)
        self.port = int(self.server.address.rsplit(":", 1)[1])

    @property
    def address(self) -> str:
        return self.server.address

    @property
    def proc(self) -> subprocess.Popen[str]:
        return self.server.proc

    def kill(self) -> None:
        """SIGKILL, as a crash would end it (a SIGSTOPped server too)."""
        self.server.kill()

    def restart(self) -> None:
        """A new process on the same port and data directory, once the old one is dead."""
        self.server.kill()
        self.server = start_server(self.data_dir, port=self.port)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[OwnServer]:
    """A server the test may kill and restart (OwnServer); killed after the test, whatever state it is in."""
    s = OwnServer(tmp_path / "imprint-data")
    try:
        yield s
    finally:
        s.kill()


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


# ---- S3: two MinIO servers (two regions) from the repository's launcher (scripts/backends) ----

S3_ACCESS_KEY = "imprint"  # scripts/backends/s3.ts
S3_SECRET_KEY = "imprint-secret"
S3_ENV = {"AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY, "AWS_REGION": "us-east-1"}
REGIONS = ("eu-west-1", "us-east-1")


@pytest.fixture(scope="session")
def s3_endpoints() -> Iterator[list[str]]:
    """Two S3 endpoints: $IMPRINT_S3 when it names two running servers (as the vitest s3 set-up
    exports it), else two MinIO servers started by `scripts/backends/cli.ts start s3 s3`, stopped after."""
    given = [e for e in os.environ.get("IMPRINT_S3", "").split(",") if e]
    if len(given) >= 2:
        yield given[:2]
        return
    tsx = REPO / "node_modules" / ".bin" / "tsx"
    proc = subprocess.Popen([str(tsx), "scripts/backends/cli.ts", "start", "s3", "s3"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output: list[str] = []
    endpoints: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            m = re.match(r"export IMPRINT_S3=(\S+)", line)
            if m:
                endpoints = m.group(1).split(",")
                break
        if len(endpoints) < 2:
            raise RuntimeError("MinIO did not start:\n" + "".join(output))
        threading.Thread(target=output.extend, args=(proc.stdout,), daemon=True).start()  # keep its pipe drained
        yield endpoints
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def s3_args(endpoints: list[str], bucket: str) -> list[str]:
    """The serve / publish / download flags for the two regions."""
    pairs = ",".join(f"{r}={e}" for r, e in zip(REGIONS, endpoints))
    return ["--blobs", "s3", "--regions", ",".join(REGIONS), "--bucket", bucket, "--s3-endpoints", pairs, "--s3-path-style"]


def s3_regions(endpoints: list[str]) -> list[S3Region]:
    """boto3 clients for the two regions, with their buckets py-{region}."""
    out = []
    for region, endpoint in zip(REGIONS, endpoints):
        c = boto3.client(
            "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY, config=Config(s3={"addressing_style": "path"})
        )
        out.append(S3Region(region, c, f"py-{region}"))
    return out


@pytest.fixture(scope="session")
def s3_server(s3_endpoints: list[str]) -> Iterator[Server]:
    """A server whose blob stores are the two MinIO regions (buckets py-{region}, made here)."""
    for r in s3_regions(s3_endpoints):
        try:
            if r.region == "us-east-1":
                r.client.create_bucket(Bucket=r.bucket)
            else:
                r.client.create_bucket(Bucket=r.bucket, CreateBucketConfiguration={"LocationConstraint": r.region})  # type: ignore[typeddict-item]
        except r.client.exceptions.BucketAlreadyOwnedByYou:
            pass
    data = Path(tempfile.mkdtemp(prefix="imprint-py-s3-"))
    s = start_server(data, s3_args(s3_endpoints, "py-{region}"), env=S3_ENV)
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(data, ignore_errors=True)
