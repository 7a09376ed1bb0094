"""One connection to an Imprint server: a gRPC channel and the three services' stubs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc

from ._proto.imprint.v1 import consumer_pb2_grpc, operator_pb2_grpc, publisher_pb2_grpc
from .errors import ImprintError, from_rpc_error

APP_METADATA_KEY = "x-imprint-app"  # proto/metadata-keys.ts

T = TypeVar("T")


class Client:
    """A connection to one Imprint server (plaintext gRPC).

    address: "HOST:PORT". app: the calling application, sent with every call (audit and
    per-application limits count by it). timeout_s: each call's deadline (default 30 s).
    Use as a context manager, or call close().
    """

    def __init__(self, address: str, app: str = "python", timeout_s: float = 30.0) -> None:
        if not address:
            raise ImprintError("INVALID_ARGUMENT", "address must be HOST:PORT (got '')")
        self.address = address
        self.app = app
        self.timeout_s = timeout_s
        self.channel = grpc.insecure_channel(address)
        self.publisher = publisher_pb2_grpc.PublisherServiceStub(self.channel)
        self.consumer = consumer_pb2_grpc.ConsumerServiceStub(self.channel)
        self.operator = operator_pb2_grpc.OperatorServiceStub(self.channel)

    def call(self, rpc: Callable[..., T], request: object) -> T:
        """One unary call with the client's deadline and app metadata; failures as ImprintError."""
        try:
            return rpc(request, timeout=self.timeout_s, metadata=((APP_METADATA_KEY, self.app),))
        except grpc.RpcError as err:
            raise from_rpc_error(err) from err

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
