"""The server's errors: each one is an HTTP answer ``{"detail": <English message>, "code": <code>}``.

Code anywhere in the server raises these (or a lower layer's errors, which ``server/handlers.py``
translates); the handlers registered in ``create_app`` turn them into answers, in one place. The
``code`` is stable and machine-readable, so clients (the web app, the uploader) tell cases apart
without parsing the English ``detail``. Every code is listed in ``ErrorCode``; the OpenAPI schema
publishes it as an enum with the ``ErrorBody`` model::

    ServerError (wakelog.Error)     400 invalid_request
    ├── InvalidRequest              400 invalid_request
    │   ├── InvalidFilter           400 invalid_filter     (+ position, expected)
    │   ├── InvalidSweepConfig      400 invalid_sweep_config (+ details)
    │   └── InvalidArtifact         400 invalid_artifact
    ├── ValidationFailed            422 validation_failed  (detail: pydantic's list of errors)
    ├── Unauthorized                401 unauthorized       (+ WWW-Authenticate)
    ├── BadCredentials              401 bad_credentials
    ├── Forbidden                   403 forbidden
    ├── CsrfFailed                  403 csrf_failed
    ├── NotFound                    404 not_found
    ├── NotUploaded                 404 not_uploaded
    ├── MethodNotAllowed            405 method_not_allowed
    ├── Conflict                    409 conflict
    ├── SequenceGap                 409 sequence_gap       (+ ack)
    ├── ChunkRejected               409 chunk_rejected     (+ received)
    ├── BlobMissing                 409 blob_missing
    ├── ArtifactIncomplete          409 artifact_incomplete (+ details: {missing})
    ├── InTrash                     409 in_trash
    ├── PayloadTooLarge             413 payload_too_large
    ├── UnsupportedMediaType        415 unsupported_media_type
    ├── RateLimited                 429 rate_limited       (+ Retry-After)
    ├── InternalError               500 internal_error
    ├── ServiceUnavailable          503 service_unavailable
    └── InsufficientStorage         507 insufficient_storage
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from wakelog.errors import Error


class ErrorCode(str, enum.Enum):
    """Every ``code`` an error answer of the API can carry."""

    invalid_request = "invalid_request"
    invalid_filter = "invalid_filter"
    invalid_sweep_config = "invalid_sweep_config"
    invalid_artifact = "invalid_artifact"
    validation_failed = "validation_failed"
    unauthorized = "unauthorized"
    bad_credentials = "bad_credentials"
    forbidden = "forbidden"
    csrf_failed = "csrf_failed"
    not_found = "not_found"
    not_uploaded = "not_uploaded"
    method_not_allowed = "method_not_allowed"
    conflict = "conflict"
    sequence_gap = "sequence_gap"
    chunk_rejected = "chunk_rejected"
    blob_missing = "blob_missing"
    artifact_incomplete = "artifact_incomplete"
    in_trash = "in_trash"
    payload_too_large = "payload_too_large"
    unsupported_media_type = "unsupported_media_type"
    rate_limited = "rate_limited"
    internal_error = "internal_error"
    service_unavailable = "service_unavailable"
    insufficient_storage = "insufficient_storage"


class ErrorBody(BaseModel):
    """The body of every error answer."""

    detail: str | list[dict[str, Any]] = Field(
        description="what went wrong, in English (for validation_failed: pydantic's list of errors)"
    )
    code: ErrorCode = Field(description="which kind of error: stable, for programs to act on")
    position: int | None = Field(None, description="invalid_filter: where in the text it went wrong")
    expected: str | None = Field(None, description="invalid_filter: what was expected there")
    ack: int | None = Field(None, description="sequence_gap: the highest applied seq; resend from ack + 1")
    received: int | None = Field(None, description="chunk_rejected: bytes of the upload the server has")
    version: int | None = Field(None, description="conflict saving a report: its current version")
    details: list[dict[str, str]] | dict[str, list[str]] | None = Field(
        None,
        description="invalid_sweep_config: every problem found, each {key, message}; "
        "artifact_incomplete: {missing: [sha256…]}, the content to upload before retrying",
    )


class ServerError(Error):
    """An error the API answers with ``status`` and ``code``; the message is the answer's detail.

    ``extra`` keyword arguments become further fields of the body (``ack``, ``received``…).
    """

    status: int = 400
    code: ErrorCode = ErrorCode.invalid_request

    def __init__(self, detail: Any = "", *, headers: Mapping[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "code": self.code.value, **self.extra}


class InvalidRequest(ServerError):
    """A parameter, path part or body the server cannot use; the message says which and why."""


class InvalidFilter(InvalidRequest):
    """A run filter or sort order that does not parse or make sense."""

    code = ErrorCode.invalid_filter


class InvalidSweepConfig(InvalidRequest):
    """A sweep configuration wandb would refuse; ``details`` lists each ``{key, message}``."""

    code = ErrorCode.invalid_sweep_config


class InvalidArtifact(InvalidRequest):
    """An artifact, manifest, alias or entry path the server does not take; the message names it."""

    code = ErrorCode.invalid_artifact


class ValidationFailed(ServerError):
    """Parameters or a body that do not match the endpoint's schema."""

    status, code = 422, ErrorCode.validation_failed


class Unauthorized(ServerError):
    """No credentials, or ones the server does not know (never says which)."""

    status, code = 401, ErrorCode.unauthorized


class BadCredentials(ServerError):
    """Sign-in with a wrong username, password or API key."""

    status, code = 401, ErrorCode.bad_credentials


class Forbidden(ServerError):
    """The caller is known but may not do this."""

    status, code = 403, ErrorCode.forbidden


class CsrfFailed(ServerError):
    """A cookie-authenticated write without the session's CSRF token."""

    status, code = 403, ErrorCode.csrf_failed


class NotFound(ServerError):
    """Nothing there, or nothing the caller may see (the same answer)."""

    status, code = 404, ErrorCode.not_found


class NotUploaded(ServerError):
    """A run file the server knows of, whose content has not been uploaded yet."""

    status, code = 404, ErrorCode.not_uploaded


class MethodNotAllowed(ServerError):
    status, code = 405, ErrorCode.method_not_allowed


class Conflict(ServerError):
    """The request clashes with what is stored (a name taken, the last admin…)."""

    status, code = 409, ErrorCode.conflict


class SequenceGap(ServerError):
    """An ingest batch that skips records; the body's ``ack`` says where to resend from."""

    status, code = 409, ErrorCode.sequence_gap


class ChunkRejected(ServerError):
    """An upload chunk at the wrong offset or content that does not match its hash; the body's
    ``received`` says how much of the upload the server has."""

    status, code = 409, ErrorCode.chunk_rejected


class BlobMissing(ServerError):
    """Run files pointed at content the caller has not uploaded whole."""

    status, code = 409, ErrorCode.blob_missing


class ArtifactIncomplete(ServerError):
    """An artifact version whose manifest names content the caller has not uploaded (or may not
    read); ``details.missing`` lists the sha256s to upload before sending it again."""

    status, code = 409, ErrorCode.artifact_incomplete


class InTrash(ServerError):
    """A write to a run or project in the trash (restore it first), or a move or rename onto a
    name a trashed one still holds."""

    status, code = 409, ErrorCode.in_trash


class PayloadTooLarge(ServerError):
    status, code = 413, ErrorCode.payload_too_large


class UnsupportedMediaType(ServerError):
    status, code = 415, ErrorCode.unsupported_media_type


class RateLimited(ServerError):
    """Too many failed attempts; ``Retry-After`` says when to try again."""

    status, code = 429, ErrorCode.rate_limited


class InternalError(ServerError):
    """A bug or an unexpected failure; the answer says nothing more (the log does)."""

    status, code = 500, ErrorCode.internal_error


class ServiceUnavailable(ServerError):
    """The server cannot answer now: its database schema is not the one it expects, or its
    connection to the database was lost (``Retry-After`` says when to try again)."""

    status, code = 503, ErrorCode.service_unavailable


class InsufficientStorage(ServerError):
    """The disk or quota where the server keeps data is full."""

    status, code = 507, ErrorCode.insufficient_storage
