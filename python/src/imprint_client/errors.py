"""Typed errors. Each names what failed in the caller's words; `code` is the gRPC status name."""

from __future__ import annotations

import grpc


class ImprintError(Exception):
    """An Imprint call failed; `code` is the gRPC status name (e.g. "NOT_FOUND")."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidArgumentError(ImprintError):
    """An argument broke a rule: `field` names it, `rule` says what it must be; nothing changed."""

    def __init__(self, field: str, rule: str, got: object = None) -> None:
        shown = "" if got is None else f" (got {got!r})"
        super().__init__("INVALID_ARGUMENT", f"{field} {rule}{shown}")
        self.field = field
        self.rule = rule
        self.got = got


class DataIntegrityError(ImprintError):
    """Bytes or a record failed their check (size, sha256, record digest): they were not used."""

    def __init__(self, message: str) -> None:
        super().__init__("DATA_LOSS", message)


class PublishOutcomeUnknownError(ImprintError):
    """The service never said for certain whether the publish was recorded.

    Publish again with the same `publish_id` to settle it: the answer is the version if there
    is one (replayed), else a new one. Uploaded objects (`kept`, "s3://bucket/key (region)")
    were kept, since the version may point at them.
    """

    def __init__(self, topic: str, publish_id: str, attempts: int, cause: BaseException, kept: list[str] | None = None) -> None:
        where = f"; its uploaded objects were kept ({', '.join(kept)})" if kept else ""
        super().__init__(
            "UNAVAILABLE",
            f'publish to topic "{topic}" may or may not have been recorded: no certain answer in {attempts} attempt(s)'
            f" ({cause}){where}; publish again with publish id {publish_id!r}: it returns the version if there is one, and makes it otherwise",
        )
        self.topic = topic
        self.publish_id = publish_id
        self.kept = kept or []


# Answers that mean "no answer": the outcome of the call is unknown.
_NO_ANSWER = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}


def from_rpc_error(err: grpc.RpcError) -> ImprintError:
    """The typed error of a failed call; no answer at all (deadline, cancel, lost connection) is UNAVAILABLE."""
    code = err.code() if isinstance(err, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (err.details() if isinstance(err, grpc.Call) else None) or str(err)
    name = "UNAVAILABLE" if code in _NO_ANSWER else code.name
    return ImprintError(name, details)
