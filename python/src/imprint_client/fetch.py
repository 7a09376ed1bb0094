"""Reading a version's payload: direct bytes from the record, or a blob from the first region
that has it whole (boto3, or the URLs GetDownload lends, read with http.client), checked
against the record's size and sha256 (docs/CLIENTS.md)."""

from __future__ import annotations

import ctypes
import functools
import hashlib
import http.client
import platform
import queue
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from ._proto.imprint.v1 import consumer_pb2, types_pb2
from .errors import DataIntegrityError, ImprintError
from .publisher import S3Region

READ_BYTES = 2 * 1024 * 1024  # read, then hashed by the second thread, in chunks this big: hashing the last one is what runs after the last byte


def check_payload(data: bytes, pointer: types_pb2.DataPointer, what: str) -> bytes:
    """`data` when it has the pointer's size and sha256; DataIntegrityError naming `what` otherwise."""
    if len(data) != pointer.size:
        raise DataIntegrityError(f"{what} has {len(data)} bytes, its record says {pointer.size}")
    if hashlib.sha256(data).hexdigest() != pointer.sha256:
        raise DataIntegrityError(f"{what} does not match its sha256")
    return data


def _fresh_bytes(size: int) -> tuple[bytes | bytearray, memoryview]:
    """A new object of `size` bytes and a writable view of its storage, to fill before anyone
    else sees it. On CPython a `bytes` (made uninitialised by PyBytes_FromStringAndSize(NULL,
    size)), so the payload is read straight into the value handed to decode: one buffer, no
    copy (a copy of 256 MiB doubled the peak RSS and took longer than the download: bench/swap.py).
    Elsewhere a bytearray, copied into bytes once filled."""
    if platform.python_implementation() == "CPython" and size > 1:  # 0 and 1 byte are shared singletons
        new = ctypes.pythonapi.PyBytes_FromStringAndSize
        new.restype, new.argtypes = ctypes.py_object, (ctypes.c_char_p, ctypes.c_ssize_t)
        data: bytes = new(None, size)
        at = ctypes.pythonapi.PyBytes_AsString
        at.restype, at.argtypes = ctypes.c_void_p, (ctypes.py_object,)
        return data, memoryview((ctypes.c_ubyte * size).from_address(at(data))).cast("B")
    buf = bytearray(size)
    return buf, memoryview(buf)


def _direct_reader(body: Any) -> Any:
    """What to readinto from: the http.client response under botocore's StreamingBody and
    urllib3's response, when it is there and the body is not content-encoded, since it reads
    from the socket straight into the buffer (urllib3's readinto reads a temporary chunk and
    copies it: a fifth of a 256 MiB swap's time in bench/swap.py); else the body itself. The
    size and sha256 checks stand either way."""
    raw = getattr(body, "_raw_stream", None)
    fp = getattr(raw, "_fp", None)
    headers = getattr(raw, "headers", None) or {}
    if fp is None or not hasattr(fp, "readinto") or headers.get("content-encoding", "identity") not in ("", "identity"):
        return body
    return fp


def _read_checked(body: Any, pointer: types_pb2.DataPointer, what: str) -> bytes:
    """The object's bytes, read once (readinto) into the object of the declared size that is
    returned, while a second thread hashes each chunk as it lands (hashlib releases the GIL),
    then checked."""
    size = pointer.size
    data, view = _fresh_bytes(size)
    reader = _direct_reader(body)
    chunks: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
    h = hashlib.sha256()

    def hash_chunks() -> None:
        while (chunk := chunks.get()) is not None:
            h.update(chunk)

    hasher = threading.Thread(target=hash_chunks, name="imprint-sha256", daemon=True)
    hasher.start()
    n = 0
    try:
        while n < size and (got := reader.readinto(view[n : min(size, n + READ_BYTES)])):
            chunks.put(view[n : n + got])
            n += got
        if n == size and reader.read(1):
            raise DataIntegrityError(f"{what} has more than {size} bytes, its record says {size}")
    finally:
        chunks.put(None)
        hasher.join()
    view.release()
    if n != size:
        raise DataIntegrityError(f"{what} has {n} bytes, its record says {size}")
    if h.hexdigest() != pointer.sha256:
        raise DataIntegrityError(f"{what} does not match its sha256")
    return data if isinstance(data, bytes) else bytes(data)


def _read_s3(region: S3Region, loc: types_pb2.BlobLocation, pointer: types_pb2.DataPointer, what: str) -> bytes:
    """A region's object, read with boto3 into the value and checked."""
    return _read_checked(region.client.get_object(Bucket=loc.bucket, Key=loc.key)["Body"], pointer, what)


def _read_url(url: str, pointer: types_pb2.DataPointer, what: str, timeout_s: float, ssl_context: ssl.SSLContext | None) -> bytes:
    """A lent URL's object, read by http.client straight into the value (as a boto3 body is) and checked."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(u.netloc, timeout=timeout_s, context=ssl_context)
    else:
        conn = http.client.HTTPConnection(u.netloc, timeout=timeout_s)
    try:
        conn.request("GET", u.path + (f"?{u.query}" if u.query else ""))
        res = conn.getresponse()
        if res.status != 200:
            raise ImprintError("UNAVAILABLE", f"GET answered {res.status} {res.reason}")
        return _read_checked(res, pointer, what)
    finally:
        conn.close()


def fetch_payload(
    record: types_pb2.VersionRecord,
    regions: Sequence[S3Region] = (),
    download: Callable[[], consumer_pb2.GetDownloadResponse] | None = None,
    timeout_s: float = 60.0,
    ssl_context: ssl.SSLContext | None = None,
) -> bytes:
    """The version's bytes, verified. A blob is read from the locations in the record's order
    whose region is in `regions` (boto3); when none is, and `download` is given (a GetDownload
    call), from the URLs it lends, in its order (the caller's region first), with http.client
    (timeout_s: each connect and socket read, default 60; ssl_context: what an https URL's
    certificate must chain to, default the system roots). A region that fails (unreachable,
    missing object, wrong bytes) passes to the next. DataIntegrityError or
    ImprintError("UNAVAILABLE") when none gives it whole."""
    p = record.pointer
    what = f"payload of {record.topic} v{record.version}"
    if p.WhichOneof("payload") == "direct":
        return check_payload(p.direct, p, what)
    by_region = {r.region: r for r in regions}
    reads: list[tuple[str, Callable[[], bytes]]] = []  # (region, read it whole and checked), in the order to try
    for loc in p.blob.locations:
        r = by_region.get(loc.region)
        if r is not None:
            reads.append((loc.region, functools.partial(_read_s3, r, loc, p, f"{what} in {loc.region}")))
    if not reads and download is not None:
        try:
            urls = download().urls
        except ImprintError as err:
            raise ImprintError(err.code, f"{what}: GetDownload: {err.message}") from err
        reads = [(u.region, functools.partial(_read_url, u.url, p, f"{what} in {u.region}", timeout_s, ssl_context)) for u in urls]
    problems: list[str] = []
    for region, read in reads:
        try:
            return read()
        except DataIntegrityError as err:
            problems.append(str(err))
        except Exception as err:  # a region that cannot answer: the next may
            problems.append(f"{region}: {err}")
    if not problems:
        raise ImprintError("FAILED_PRECONDITION", f"{what} is in regions {[loc.region for loc in p.blob.locations]}, none of them given (regions=)")
    if all(pr.startswith(what) for pr in problems):
        raise DataIntegrityError("; ".join(problems))
    raise ImprintError("UNAVAILABLE", f"{what}: no region gave it: " + "; ".join(problems))
