"""One connection to an Imprint server: a gRPC channel and the three services' stubs."""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import grpc

from ._proto.imprint.v1 import consumer_pb2_grpc, operator_pb2_grpc, publisher_pb2_grpc
from .errors import InvalidArgumentError, from_rpc_error

APP_METADATA_KEY = "x-imprint-app"  # proto/metadata-keys.ts

T = TypeVar("T")

# PEM: the bytes themselves, or the path of a file holding them.
Pem = bytes | str | os.PathLike[str]


def _pem(value: Pem | None, field: str) -> bytes | None:
    """The PEM bytes of a TLS option given as bytes or as a path; InvalidArgumentError naming
    `field` when the file cannot be read or holds no PEM block."""
    if value is None or isinstance(value, bytes):
        return value
    try:
        data = Path(value).read_bytes()
    except OSError as err:
        raise InvalidArgumentError(field, f"must be PEM bytes or the path of a readable PEM file ({err.strerror})", str(value)) from err
    if b"-----BEGIN " not in data:
        raise InvalidArgumentError(field, "must be PEM bytes or the path of a PEM file (the file holds no PEM block)", str(value))
    return data


class Client:
    """A connection to one Imprint server.

    address: "HOST:PORT". app: the calling application, sent with every call (audit and
    per-application limits count by it). timeout_s: each call's deadline (default 30 s).
    tls: speak TLS (default: when tls_ca or tls_cert is given); tls_ca: the CA(s) the server's
    certificate must chain to (default: the system roots); tls_server_name: the name its
    certificate must carry when the address's host is not it; tls_cert and tls_key: this
    client's certificate (chain) and private key, for a server that asks for one (mTLS,
    `serve --tls-client-ca`); both or neither (default: none). Each TLS option is PEM bytes or
    the path of a PEM file (str or Path). The payload URLs the service lends (HTTPS on a TLS
    server) are trusted by the system roots and tls_ca, as the calls are. token: a bearer token (JWT)
    sent on every call (default: none), or a function returning it, called per call (a token a
    job refreshes). Use as a context manager, or call close().
    """

    def __init__(
        self,
        address: str,
        app: str = "python",
        timeout_s: float = 30.0,
        tls: bool | None = None,
        tls_ca: Pem | None = None,
        tls_server_name: str | None = None,
        tls_cert: Pem | None = None,
        tls_key: Pem | None = None,
        token: str | Callable[[], str] | None = None,
    ) -> None:
        if not address:
            raise InvalidArgumentError("address", "must be HOST:PORT", address)
        self.address = address
        self.app = app
        self.timeout_s = timeout_s
        self._token = token
        if (tls_cert is None) != (tls_key is None):
            raise InvalidArgumentError("tls_key" if tls_key is None else "tls_cert", "must be given with tls_cert and tls_key together (a client certificate needs its key)")
        ca, cert, key = _pem(tls_ca, "tls_ca"), _pem(tls_cert, "tls_cert"), _pem(tls_key, "tls_key")
        if tls is False and (ca is not None or cert is not None):
            raise InvalidArgumentError("tls", "must not be False when tls_ca or tls_cert is given", tls)
        self._ca = ca
        if ca is not None:
            self.http_ssl  # a CA that ssl cannot load is refused here, naming tls_ca, not at the first payload
        if tls or ca is not None or cert is not None:
            options = [("grpc.ssl_target_name_override", tls_server_name)] if tls_server_name else []
            creds = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
            self.channel = grpc.secure_channel(address, creds, options=options)
        else:
            self.channel = grpc.insecure_channel(address)
        self.publisher = publisher_pb2_grpc.PublisherServiceStub(self.channel)
        self.consumer = consumer_pb2_grpc.ConsumerServiceStub(self.channel)
        self.operator = operator_pb2_grpc.OperatorServiceStub(self.channel)

    @functools.cached_property
    def http_ssl(self) -> ssl.SSLContext:
        """What the lent payload URLs' HTTPS trusts: the system roots (S3's certificates) and
        tls_ca when given (the service's own URLs on a TLS server)."""
        context = ssl.create_default_context()
        if self._ca is not None:
            try:
                context.load_verify_locations(cadata=self._ca.decode("ascii", errors="replace"))
            except (ssl.SSLError, ValueError) as err:
                raise InvalidArgumentError("tls_ca", f"must hold PEM certificates ({err})", "(PEM)") from err
        return context

    def call(self, rpc: Callable[..., T], request: object) -> T:
        """One unary call with the client's deadline and app metadata; failures as ImprintError."""
        try:
            return rpc(request, timeout=self.timeout_s, metadata=self._metadata())
        except grpc.RpcError as err:
            raise from_rpc_error(err) from err

    def stream(self, rpc: Callable[..., grpc.CallIterator[T]], request: object) -> grpc.CallIterator[T]:
        """A server-streaming call (Watch) with the app metadata and no deadline: it lasts until
        the server ends it or the caller cancels it (`.cancel()` on what this returns). Its
        iteration raises grpc.RpcError on failure (from_rpc_error types it)."""
        return rpc(request, metadata=self._metadata())

    def _metadata(self) -> list[tuple[str, str]]:
        metadata = [(APP_METADATA_KEY, self.app)]
        if self._token is not None:
            metadata.append(("authorization", f"Bearer {self._token() if callable(self._token) else self._token}"))
        return metadata

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
