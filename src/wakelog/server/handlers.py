"""Errors to HTTP answers, in one place: the exception handlers ``create_app`` registers.

The server's own errors (``server/errors.py``) carry their status and code. The lower layers'
errors are translated here: the store's (a malformed batch, a sequence gap, a bad blob address, a
schema mismatch, a run in the trash), a full disk (507, as the OS, SQLite or PostgreSQL report
it), FastAPI's request validation and Starlette's own 404/405. Anything else is a bug: 500
``internal_error``, with nothing of the exception in the answer (the server logs it). Every answer
has the body ``{"detail", "code"}`` (``ErrorBody``).
"""

from __future__ import annotations

import errno
import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from wakelog.server import errors
from wakelog.store.blobs import BlobError
from wakelog.store.database import SchemaError
from wakelog.store.ingest import BatchTooLarge, IngestError, InTrash
from wakelog.store.ingest import SequenceGap as StoreSequenceGap

_log = logging.getLogger(__name__)
#: Errors raised by code outside the server (Starlette, libraries) for a status, by that status.
_BY_STATUS: dict[int, type[errors.ServerError]] = {
    cls.status: cls
    for cls in (
        errors.InvalidRequest,
        errors.Unauthorized,
        errors.Forbidden,
        errors.NotFound,
        errors.MethodNotAllowed,
        errors.Conflict,
        errors.PayloadTooLarge,
        errors.UnsupportedMediaType,
        errors.ValidationFailed,
        errors.RateLimited,
        errors.InternalError,
        errors.ServiceUnavailable,
        errors.InsufficientStorage,
    )
}
_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"


def _disk_full(exc: Exception) -> bool:
    """A full disk, as the OS, SQLite (SQLITE_FULL) or PostgreSQL (disk_full) reports it."""
    if isinstance(exc, OSError):
        return exc.errno in _DISK_FULL
    if isinstance(exc, sa.exc.DBAPIError):
        orig = exc.orig
        return (
            getattr(orig, "sqlite_errorcode", None) == _SQLITE_FULL
            or getattr(orig, "sqlstate", None) == _PG_DISK_FULL
            or "database or disk is full" in str(orig)
        )
    return False


def error_response(error: errors.ServerError) -> JSONResponse:
    """The answer for ``error``: its status, its headers, ``{"detail", "code", …}``."""
    return JSONResponse(
        jsonable_encoder(error.body()), status_code=error.status, headers=error.headers or None
    )


def translate(exc: Exception) -> errors.ServerError:
    """The server error a lower layer's exception stands for (``InternalError`` if none)."""
    if isinstance(exc, errors.ServerError):
        return exc
    if isinstance(exc, StoreSequenceGap):
        return errors.SequenceGap(str(exc), ack=exc.ack)
    if isinstance(exc, InTrash):
        return errors.InTrash(str(exc))
    if isinstance(exc, BatchTooLarge):
        return errors.PayloadTooLarge(str(exc))  # the uploader sends smaller batches
    if isinstance(exc, (IngestError, BlobError)):
        return errors.InvalidRequest(str(exc))
    unavailable = _storage_unavailable(exc)
    if unavailable is not None:
        return unavailable
    if isinstance(exc, RequestValidationError):
        return errors.ValidationFailed(exc.errors())
    if isinstance(exc, StarletteHTTPException):
        kind = _BY_STATUS.get(exc.status_code, errors.InternalError if exc.status_code >= 500 else None)
        error = (kind or errors.InvalidRequest)(exc.detail, headers=exc.headers)
        error.status = exc.status_code  # the status stays what was raised, the code is the nearest
        return error
    return errors.InternalError("Internal Server Error")


def _storage_unavailable(exc: Exception) -> errors.ServerError | None:
    """The answer when the database or the disk cannot take the request now (None: not that)."""
    if isinstance(exc, SchemaError):
        return errors.ServiceUnavailable(str(exc))
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        # PostgreSQL restarted under a connection in use (store/database.py: ``_ping_when_idle``):
        # the pool is renewed, so the same request again goes through
        return errors.ServiceUnavailable(
            "the connection to the database was lost; try again", headers={"Retry-After": "1"}
        )
    if _disk_full(exc):
        return errors.InsufficientStorage("the server is out of storage space; tell its administrator")
    return None


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    error = translate(exc)
    if isinstance(error, errors.InternalError) and not isinstance(exc, errors.InternalError):
        _log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(error)


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Registered for ``Exception``: Starlette logs and re-raises it after this answer is sent."""
    return error_response(translate(exc))


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    handled: tuple[type[Exception], ...] = (
        errors.ServerError,
        RequestValidationError,
        StarletteHTTPException,
        StoreSequenceGap,
        IngestError,
        InTrash,
        BlobError,
        SchemaError,
        OSError,
        sa.exc.OperationalError,  # a full disk among them; the others are logged as before
    )
    for kind in handled:
        app.add_exception_handler(kind, _handle)
    app.add_exception_handler(Exception, _handle_unexpected)


#: The error answers of every route, for the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {"model": errors.ErrorBody, "description": "an error: `detail` says what, `code` which kind"}
}
