"""Imprint's Python client: publish dataset versions and hot-swap them in subscribers.

The wire messages are in ``imprint_client.pb`` (types, publisher, consumer, operator),
generated from the repository's proto/ when the package is built.
"""

from .client import Client
from .digest import record_digest, record_encoding, record_problem, sha256_hex
from .errors import DataIntegrityError, ImprintError, InvalidArgumentError, PublishOutcomeUnknownError

__all__ = [
    "Client",
    "DataIntegrityError",
    "ImprintError",
    "InvalidArgumentError",
    "PublishOutcomeUnknownError",
    "record_digest",
    "record_encoding",
    "record_problem",
    "sha256_hex",
]
