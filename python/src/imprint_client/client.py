"""One connection to an Imprint server: a gRPC channel and the three services' stubs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc

from ._proto.imprint.v1 import consumer_pb2_grpc, operator_pb2_grpc, publisher_pb2_grpc
from .errors import InvalidArgumentError, from_rpc_error

APP_METADATA_KEY = "x-imprint-app"  # proto/metadata-keys.ts

T = TypeVar("T")


class Client:
    """A connection to one Imprint server.

    address: "HOST:PORT". app: the calling application, sent with every call (audit and
    per-application limits count by it). timeout_s: each call's deadline (default 30 s).
    tls: speak TLS (default: when tls_ca is given); tls_ca: PEM bytes of the CA(s) the
    server's certificate must chain to (default: the system roots); tls_server_name: the name
    its certificate must carry when the address's host is not it. token: a bearer token (JWT)
    sent on every call (default: none), or a function returning it, called per call (a token a
    job refreshes). Use as a context manager, or call close().
    """

    def __init__(
        self,
        address: str,
        app: str = "python",
        timeout_s: float = 30.0,
        tls: bool | None = None,
        tls_ca: bytes | None = None,
        tls_server_name: str | None = None,
        token: str | Callable[[], str] | None = None,
    ) -> None:
        if not address:
            raise InvalidArgumentError("address", "must be HOST:PORT", address)
        self.address = address
        self.app = app
        self.timeout_s = timeout_s
        self._token = token
        if tls or (tls is None and tls_ca is not None):
            options = [("grpc.ssl_target_name_override", tls_server_name)] if tls_server_name else []
            self.channel = grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=tls_ca), options=options)
        else:
            self.channel = grpc.insecure_channel(address)
        self.publisher = publisher_pb2_grpc.PublisherServiceStub(self.channel)
        self.consumer = consumer_pb2_grpc.ConsumerServiceStub(self.channel)
        self.operator = operator_pb2_grpc.OperatorServiceStub(self.channel)

    def call(self, rpc: Callable[..., T], request: object) -> T:
        """One unary call with the client's deadline and app metadata; failures as ImprintError."""
        metadata = [(APP_METADATA_KEY, self.app)]
        if self._token is not None:
            metadata.append(("authorization", f"Bearer {self._token() if callable(self._token) else self._token}"))
        try:
            return rpc(request, timeout=self.timeout_s, metadata=metadata)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from err

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
