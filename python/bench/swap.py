"""The Python client's benchmarks, each against a baseline measured in the same run (the machine
is shared: ratios hold when its speed drifts). Not tests: nothing passes or fails.

  swap   a 256 MiB payload on two MinIO regions, each measurement a fresh process, ROUNDS rounds
         interleaved (medians): boto3's raw get_object(...)["Body"].read() (the baseline),
         fetch_payload() alone (the client's read: one get_object, readinto the returned bytes,
         sha256 on a second thread, size and sha256 checked), that read without the sha256,
         fetch_payload() with no boto3 region (the URL GetDownload lends, read by http.client:
         a Subscriber without regions= reads so), and a Subscriber's first load of
         it and its swap to a second version of the same size while the first is still held
         (Watch answer, fetch, verify, decode=bytes, swap). Prints seconds, MiB/s, the ratio to
         boto3 (target >= 0.9x), peak RSS (sampled every 2 ms) above the process's start (for
         the swap with the old value counted: target <= 2x + 32 MiB), where the Subscriber's
         time goes (before its fetch starts, the fetch, after it), and the CPU seconds per GiB
         of each read's process and of the MinIO servers beside it: on 2 cores shared with
         MinIO, a read that costs more CPU than boto3's cannot keep up with it. And sha256's
         speed on one core, the part of the CPU a verified read cannot shed. The load average
         is printed with the numbers (the machine may be shared).
  tick   the Subscriber's overhead per poll tick: Subscriber.poll_now() with 10 subscriptions
         that are current (one BatchPoll, nothing to swap) vs the same BatchPoll made with the
         bare grpcio stub.

Run from the repository: `npm run bench -- python` (IMPRINT_BENCH_ROUNDS=9 for more rounds) (scripts/python-test.sh --bench: the tests'
venv, this checkout's python/src, dist/ built). It starts an `imprint serve` of its own, and
two MinIO servers (scripts/backends) unless IMPRINT_S3 names two running ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from imprint_client import Client, fetch
from imprint_client.pb import consumer
from imprint_client.publisher import Publisher, S3Region
from imprint_client.subscriber import Subscriber, identity

MIB = 1024 * 1024
SIZE = 256 * MIB
ROUNDS = int(os.environ.get("IMPRINT_BENCH_ROUNDS", "3"))  # more rounds steady the medians on a busy machine
TICKS = 300
REGIONS = ("eu-west-1", "us-east-1")
REPO = Path(__file__).resolve().parents[2]
PAGE = os.sysconf("SC_PAGE_SIZE")


def regions(endpoints: list[str]) -> list[S3Region]:
    cfg = Config(s3={"addressing_style": "path"})
    return [S3Region(r, boto3.client("s3", endpoint_url=e, region_name=r, aws_access_key_id="imprint", aws_secret_access_key="imprint-secret", config=cfg), f"py-{r}") for r, e in zip(REGIONS, endpoints)]


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class Peak:
    """The highest RSS seen since `reset()`, sampled every 2 ms on a thread."""

    def __init__(self) -> None:
        self.peak = rss()
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss())

    def reset(self) -> int:
        now = rss()
        self.peak = now
        return now

    def stop(self) -> None:
        self._stop.set()


# ---- the measurements, each in a fresh process ----


def child(what: str, address: str, endpoints: str, topic: str) -> dict[str, float]:
    rs = regions(endpoints.split(","))
    peak = Peak()
    with Client(address, app="bench") as c:
        if what == "raw":
            rec = c.call(c.consumer.GetVersion, consumer.GetVersionRequest(topic=topic, version=1)).record
            loc = rec.pointer.blob.locations[0]
            base = peak.reset()
            t, cpu = time.monotonic(), time.process_time()
            data = rs[0].client.get_object(Bucket=loc.bucket, Key=loc.key)["Body"].read()
            took, cpu = time.monotonic() - t, time.process_time() - cpu
            assert len(data) == SIZE
            return {"s": took, "cpu": cpu, "growth": peak.peak - base}
        if what == "unhashed":  # fetch_payload's read alone: readinto the returned bytes, no sha256, no checks
            loc = c.call(c.consumer.GetVersion, consumer.GetVersionRequest(topic=topic, version=1)).record.pointer.blob.locations[0]
            base = peak.reset()
            t, cpu = time.monotonic(), time.process_time()
            body = rs[0].client.get_object(Bucket=loc.bucket, Key=loc.key)["Body"]
            buf, view = fetch._fresh_bytes(SIZE)
            reader, n = fetch._direct_reader(body), 0
            while n < SIZE and (got := reader.readinto(view[n : n + fetch.READ_BYTES])):
                n += got
            took, cpu = time.monotonic() - t, time.process_time() - cpu
            assert n == SIZE and len(buf) == SIZE
            return {"s": took, "cpu": cpu, "growth": peak.peak - base}
        if what == "fetch":
            rec = c.call(c.consumer.GetVersion, consumer.GetVersionRequest(topic=topic, version=1)).record
            base = peak.reset()
            t, cpu = time.monotonic(), time.process_time()
            data = fetch.fetch_payload(rec, rs)
            took, cpu = time.monotonic() - t, time.process_time() - cpu
            assert len(data) == SIZE
            return {"s": took, "cpu": cpu, "growth": peak.peak - base}
        if what == "lent":  # fetch_payload() with no boto3 region: the URL GetDownload lends, read by http.client
            rec = c.call(c.consumer.GetVersion, consumer.GetVersionRequest(topic=topic, version=1)).record
            base = peak.reset()
            t, cpu = time.monotonic(), time.process_time()
            data = fetch.fetch_payload(rec, download=lambda: c.call(c.consumer.GetDownload, consumer.GetDownloadRequest(topic=topic, version=1, region=REGIONS[0])))
            took, cpu = time.monotonic() - t, time.process_time() - cpu
            assert len(data) == SIZE
            return {"s": took, "cpu": cpu, "growth": peak.peak - base}
        if what == "swap":
            pub = Publisher(c)
            pointer = c.call(c.consumer.GetVersion, consumer.GetVersionRequest(topic=topic, version=1)).record.pointer
            with Subscriber(c, identity("bench"), regions=rs, interval_s=3600) as s:
                fetches: list[tuple[float, float, float]] = []  # each fetch of the Subscriber's: its start, end and CPU seconds
                inner = s._fetch

                def timed_fetch(record: Any, direct_omitted: bool) -> bytes:
                    started, cpu = time.monotonic(), time.process_time()
                    try:
                        return inner(record, direct_omitted)
                    finally:
                        fetches.append((started, time.monotonic(), time.process_time() - cpu))

                s._fetch = timed_fetch  # type: ignore[method-assign]  # the bench's stopwatch around step 1-2
                base = peak.reset()
                t, cpu = time.monotonic(), time.process_time()
                sub = s.subscribe(topic, bytes, b"")
                assert sub.ready(600) and len(sub.current) == SIZE
                end = time.monotonic()
                first, first_cpu, first_growth = end - t, time.process_time() - cpu, peak.peak - base
                f0, f1, fetch_cpu = fetches[0]
                steps = {"before_fetch": f0 - t, "in_fetch": f1 - f0, "after_fetch": end - f1, "fetch_cpu": fetch_cpu}
                # Another version of the same object (v1's: each version's key is under its topic): swapped in while the first is held.
                base = peak.reset()
                t = time.monotonic()
                v = pub.publish_pointer(topic, pointer).record.version
                while sub.version != v:
                    time.sleep(0.001)
                second, second_growth = time.monotonic() - t, peak.peak - base
                g0, g1, _ = fetches[-1]
                steps |= {"swap_before_fetch": g0 - t, "swap_in_fetch": g1 - g0}
            return {"s": first, "cpu": first_cpu, "growth": first_growth, "swap_s": second, "swap_growth": second_growth, **steps}
        if what == "tick":
            topics = [f"{topic}-tick-{i}" for i in range(10)]
            with Subscriber(c, identity("bench"), mode="poll", interval_s=3600) as s:
                subs = [s.subscribe(t, bytes, b"") for t in topics]
                assert all(x.ready(60) for x in subs)
                req = consumer.BatchPollRequest(identity=identity("bench"), topics=[x.cursor() for x in subs])

                def bare() -> None:
                    c.consumer.BatchPoll(req, timeout=30, metadata=(("x-imprint-app", "bench"),))

                for _ in range(50):
                    s.poll_now()
                    bare()
                out: dict[str, list[float]] = {"tick": [], "bare": [], "tick_cpu": [], "bare_cpu": []}
                for _ in range(ROUNDS):
                    for name, fn in (("tick", s.poll_now), ("bare", bare)):
                        t, cpu = time.monotonic(), time.process_time()
                        for _ in range(TICKS):
                            fn()
                        out[name].append((time.monotonic() - t) / TICKS)
                        out[f"{name}_cpu"].append((time.process_time() - cpu) / TICKS)
                assert all(x.stats.swaps == 1 for x in subs)  # the ticks found nothing to swap
            return {k: statistics.median(v) for k, v in out.items()}
    raise SystemExit(f"unknown measurement {what}")


# ---- the parent: MinIO, a server, the payload, the rounds ----


def start(cmd: list[str], pattern: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> tuple[subprocess.Popen[str], re.Match[str]]:
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})}, start_new_session=True)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if m := re.search(pattern, line):
            threading.Thread(target=seen.extend, args=(proc.stdout,), daemon=True).start()  # keep its pipe drained
            return proc, m
    raise RuntimeError(f"{cmd[:3]} did not start:\n{''.join(seen)}")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def minio_pids(endpoints: list[str]) -> list[int]:
    """The MinIO servers listening on `endpoints` (their command lines name the address)."""
    addresses = [e.split("//")[-1] for e in endpoints]
    pids = []
    for p in Path("/proc").iterdir():
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if p.name.isdigit() and any(b"minio" in c for c in cmd[:1]) and any(a.encode() in cmd for a in addresses):
            pids.append(int(p.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes `pids` have used so far."""
    ticks = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(what: str, address: str, endpoints: str, topic: str, minio: list[int]) -> dict[str, float]:
    """One measurement in a fresh process, with the load average and MinIO's CPU seconds during it."""
    load, before = os.getloadavg()[0], cpu_seconds(minio)
    run = subprocess.run([sys.executable, __file__, "child", what, address, endpoints, topic], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{what}: {run.stderr}")
    out: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return {**out, "minio_cpu": cpu_seconds(minio) - before, "load": load}


def main() -> None:
    procs: list[subprocess.Popen[str]] = []
    data = Path(tempfile.mkdtemp(prefix="imprint-py-bench-"))
    try:
        endpoints = [e for e in os.environ.get("IMPRINT_S3", "").split(",") if e][:2]
        if len(endpoints) < 2:
            p, m = start([str(REPO / "node_modules" / ".bin" / "tsx"), "scripts/backends/cli.ts", "start", "s3", "s3"], r"export IMPRINT_S3=(\S+)")
            procs.append(p)
            endpoints = m.group(1).split(",")[:2]
        rs = regions(endpoints)
        for r in rs:
            try:
                r.client.create_bucket(Bucket=r.bucket, **({} if r.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": r.region}}))  # type: ignore[arg-type]
            except r.client.exceptions.BucketAlreadyOwnedByYou:
                pass
        s3 = ["--blobs", "s3", "--regions", ",".join(REGIONS), "--bucket", "py-{region}", "--s3-endpoints", ",".join(f"{r}={e}" for r, e in zip(REGIONS, endpoints)), "--s3-path-style"]
        env = {"AWS_ACCESS_KEY_ID": "imprint", "AWS_SECRET_ACCESS_KEY": "imprint-secret", "AWS_REGION": "us-east-1", "IMPRINT_DRAIN_MS": "0"}
        p, m = start(["node", "dist/cli/main.js", "--data-dir", str(data), "serve", "--port", "0", "--http-port", "0", *s3], r"Imprint is serving on ([\d.]+:\d+)", env)
        procs.append(p)
        address = m.group(1)
        with Client(address, app="bench") as c:
            pub = Publisher(c, regions=rs)
            pub.create_topic("big")
            payload = os.urandom(SIZE)
            pub.publish("big", payload)
            hashing = []
            for _ in range(ROUNDS):
                t = time.monotonic()
                hashlib.sha256(payload).hexdigest()
                hashing.append(time.monotonic() - t)
            del payload
            for i in range(10):
                pub.create_topic(f"big-tick-{i}")
                pub.publish(f"big-tick-{i}", b"x" * 1000)
        minio = minio_pids(endpoints)
        raw, fetched, unhashed, lent, swap = [], [], [], [], []
        for _ in range(ROUNDS):
            raw.append(measure("raw", address, ",".join(endpoints), "big", minio))
            fetched.append(measure("fetch", address, ",".join(endpoints), "big", minio))
            unhashed.append(measure("unhashed", address, ",".join(endpoints), "big", minio))
            lent.append(measure("lent", address, ",".join(endpoints), "big", minio))
            swap.append(measure("swap", address, ",".join(endpoints), "big", minio))
        tick = measure("tick", address, ",".join(endpoints), "big", minio)
    finally:
        for p in reversed(procs):
            stop(p)
        shutil.rmtree(data, ignore_errors=True)

    def med(xs: list[dict[str, float]], k: str) -> float:
        return statistics.median(x[k] for x in xs)

    def x(b: float) -> str:
        return f"{b / MIB:.0f} MiB ({b / SIZE:.2f}x)"

    def cpu(xs: list[dict[str, float]], reads: int = 1) -> str:
        gib = SIZE / (1024 * MIB)
        return f"CPU {med(xs, 'cpu') / gib:.2f} s/GiB, MinIO's {med(xs, 'minio_cpu') / reads / gib:.2f} s/GiB"

    loads = [r["load"] for r in raw + fetched + unhashed + lent + swap + [tick]]
    print(f"python swap   load average (1 min) during the runs: {min(loads):.1f} to {max(loads):.1f}")
    raw_s, fetch_s, first_s, swap_s = med(raw, "s"), med(fetched, "s"), med(swap, "s"), med(swap, "swap_s")
    unhashed_s, lent_s = med(unhashed, "s"), med(lent, "s")
    print(f"python swap   boto3 get_object().read() of 256 MiB: {raw_s:.2f} s, {SIZE / MIB / raw_s:.0f} MiB/s; peak RSS growth {x(med(raw, 'growth'))}; {cpu(raw)}  (median of {ROUNDS}, fresh processes)")
    print(f"python swap   fetch_payload() alone (read, sha256, checks): {fetch_s:.2f} s, {SIZE / MIB / fetch_s:.0f} MiB/s, {raw_s / fetch_s:.2f}x boto3; peak RSS growth {x(med(fetched, 'growth'))}; {cpu(fetched)}")
    print(f"python swap     its read alone (readinto the bytes, no sha256): {unhashed_s:.2f} s, {raw_s / unhashed_s:.2f}x boto3; {cpu(unhashed)}")
    print(f"python swap     fetch_payload() through GetDownload's lent URL (http.client, no boto3): {lent_s:.2f} s, {raw_s / lent_s:.2f}x boto3; {cpu(lent)}")
    print(f"python swap   Subscriber first load: {first_s:.2f} s, {SIZE / MIB / first_s:.0f} MiB/s, {raw_s / first_s:.2f}x boto3 (target >= 0.9x); peak RSS growth {x(med(swap, 'growth'))}; {cpu(swap, 2)} (MinIO's over the first load and the swap)")
    print(
        f"python swap     of which: subscribe() to the fetch's start (Watch answer, record checks) {med(swap, 'before_fetch') * 1e3:.0f} ms, the fetch {med(swap, 'in_fetch') * 1e3:.0f} ms (CPU {med(swap, 'fetch_cpu') * 4:.2f} s/GiB),"
        f" the fetch's end to ready() (decode, swap, wake-up) {med(swap, 'after_fetch') * 1e3:.0f} ms"
    )
    both = med(swap, "swap_growth") + SIZE
    bound = 2 * SIZE + 32 * MIB
    print(f"python swap   swap to a second 256 MiB version (old one held): {swap_s:.2f} s, {raw_s / swap_s:.2f}x boto3; peak resident for both {x(both)}; bound 2x + 32 MiB = {bound / MIB:.0f} MiB: {'kept' if both <= bound else 'EXCEEDED'}")
    swap_fetch_s = med(swap, "swap_in_fetch")
    print(f"python swap     of which: the publish until the fetch's start (Publish, Watch push) {med(swap, 'swap_before_fetch') * 1e3:.0f} ms, the fetch {swap_fetch_s:.2f} s ({raw_s / swap_fetch_s:.2f}x boto3)")
    sha = statistics.median(hashing)
    print(f"python swap   sha256 of 256 MiB on one core: {sha:.2f} s, {SIZE / MIB / sha:.0f} MiB/s ({sha * 4:.2f} s/GiB of CPU that boto3's read does not spend)")
    cores = os.cpu_count() or 1
    raw_cpu, fetch_cpu = med(raw, "cpu") + med(raw, "minio_cpu"), med(fetched, "cpu") + med(fetched, "minio_cpu")
    print(
        f"python swap   CPU of a read, the reader's and MinIO's: boto3's {raw_cpu:.2f} s, fetch_payload()'s {fetch_cpu:.2f} s ({raw_cpu / fetch_cpu:.2f}x): on {cores} cores"
        f" fetch_payload() takes at least {fetch_cpu / cores:.2f} s, and with every core busy its time's ratio to boto3's tends to the CPU ratio"
    )
    print(
        f"python tick   Subscriber.poll_now() of 10 current topics: {tick['tick'] * 1e3:.3f} ms, {tick['tick_cpu'] * 1e3:.3f} ms CPU | bare grpcio BatchPoll: {tick['bare'] * 1e3:.3f} ms, {tick['bare_cpu'] * 1e3:.3f} ms CPU"
        f" | overhead {(tick['tick'] - tick['bare']) * 1e3:.3f} ms, {(tick['tick_cpu'] - tick['bare_cpu']) * 1e3:.3f} ms CPU per tick ({tick['tick'] / tick['bare']:.2f}x)  (median of {ROUNDS} x {TICKS})"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        print(json.dumps(child(*sys.argv[2:6])))
    else:
        main()
