"""Signed versions (docs/SIGNING.md): the signed digest, key ids, and the signature check a
subscriber makes before it fetches a payload. Needs the `cryptography` package
(`pip install ./python[signing]`) only to parse keys and verify."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence

from ._proto.imprint.v1 import types_pb2
from .digest import canonical_json
from .errors import InvalidArgumentError

SIGNATURE_BYTES = 64


def signed_encoding(topic: str, metadata: Mapping[str, str], size: int, sha256: str) -> str:
    return canonical_json(["imprint.v1.signed", topic, [[k, metadata[k]] for k in sorted(metadata)], size, sha256])


def signed_digest(topic: str, metadata: Mapping[str, str], size: int, sha256: str) -> bytes:
    """The 32 bytes an Ed25519 signature is made over."""
    return hashlib.sha256(signed_encoding(topic, metadata, size, sha256).encode("utf-8")).digest()


def key_id_of(raw_public_key: bytes) -> str:
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def parse_trusted_key(text: str, field: str = "trusted_keys") -> bytes:
    """A trusted key as a person hands it in: PEM (public, or private: its public half) or the
    raw 32 bytes in base64. Returns the raw public key; InvalidArgumentError naming `field`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    t = text.strip()
    if t.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(t.encode(), None).public_key() if "PRIVATE KEY" in t else serialization.load_pem_public_key(t.encode())
        except ValueError as err:
            raise InvalidArgumentError(field, f"must be an Ed25519 public key in PEM ({err})") from err
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise InvalidArgumentError(field, "must be an Ed25519 key", type(key).__name__)
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = base64.b64decode(t, validate=True)
        ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as err:
        raise InvalidArgumentError(field, "must be a PEM public key or 32 raw bytes in base64", t) from err
    return raw


def signature_problem(record: types_pb2.VersionRecord, trusted: Sequence[bytes]) -> str | None:
    """Why the record's signature does not satisfy `trusted` (raw public keys), or None. No trusted keys: None."""
    if not trusted:
        return None
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if not record.HasField("signature"):
        return f"{record.topic} v{record.version} is not signed; a signature by one of {len(trusted)} trusted key(s) is required"
    key = next((k for k in trusted if key_id_of(k) == record.signature.key_id), None)
    if key is None:
        return f"{record.topic} v{record.version} is signed by key {record.signature.key_id}, not a trusted one ({', '.join(key_id_of(k) for k in trusted)})"
    digest = signed_digest(record.topic, record.metadata, record.pointer.size, record.pointer.sha256)
    try:
        if len(record.signature.signature) != SIGNATURE_BYTES:
            raise InvalidSignature()
        ed25519.Ed25519PublicKey.from_public_bytes(key).verify(record.signature.signature, digest)
    except InvalidSignature:
        return f"{record.topic} v{record.version}: the signature of key {record.signature.key_id} does not verify"
    return None


def sign_pointer(private_key_pem: bytes, topic: str, metadata: Mapping[str, str], pointer: types_pb2.DataPointer) -> types_pb2.Signature:
    """The publisher's signature over a publish's signed digest, by an Ed25519 private key in
    PEM (as `imprint keygen` writes it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    try:
        key = serialization.load_pem_private_key(private_key_pem, None)
    except ValueError as err:
        raise InvalidArgumentError("sign_key", f"must be an Ed25519 private key in PEM ({err})") from err
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise InvalidArgumentError("sign_key", "must be an Ed25519 key", type(key).__name__)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return types_pb2.Signature(key_id=key_id_of(raw), signature=key.sign(signed_digest(topic, metadata, pointer.size, pointer.sha256)))
