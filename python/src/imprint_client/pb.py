"""The wire messages and stubs, generated from proto/imprint/v1 (see python/build_proto.py)."""

from ._proto.imprint.v1 import consumer_pb2 as consumer
from ._proto.imprint.v1 import operator_pb2 as operator
from ._proto.imprint.v1 import publisher_pb2 as publisher
from ._proto.imprint.v1 import types_pb2 as types

__all__ = ["consumer", "operator", "publisher", "types"]
