"""What the routers share at the HTTP edge: path checks, fast JSON/MessagePack responses, timing,
the headers every API answer carries.

JSON cannot hold NaN or ±Inf; the query API writes them as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``. MessagePack responses (``?format=msgpack`` or
``Accept: application/msgpack``) keep them as floats, and carry numeric series as raw
little-endian float64 bytes (``Float64Array`` in a browser, ``numpy.frombuffer`` in Python).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import numpy as np
from fastapi import Path as FastAPIPath
from fastapi import Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wakelog._names import check_path_part, check_run_id
from wakelog.server.errors import InvalidRequest, NotFound
from wakelog.server.handlers import error_response

MSGPACK = "application/msgpack"
INT64_MAX = 2**63 - 1
#: Integer query parameters that reach SQL stay inside SQL's BIGINT.
Step = Annotated[int | None, Query(ge=-INT64_MAX, le=INT64_MAX)]
#: Row ids are 32-bit on PostgreSQL: a larger one is refused (422), never a database error (500).
INT32_MAX = 2**31 - 1
RowCursor = Annotated[int | None, Query(ge=0, le=INT32_MAX, description="only rows older than this id")]
RowId = Annotated[int, FastAPIPath(ge=1, le=INT32_MAX)]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX)]
XValue = Annotated[float | None, Query(allow_inf_nan=False)]
_MSGPACK_TYPES = ("application/msgpack", "application/x-msgpack", "application/vnd.msgpack")
_json_encoder = msgspec.json.Encoder()
_msgpack_encoder = msgspec.msgpack.Encoder()


def refuse_nul(request: Request) -> None:
    """A router dependency: no query parameter may hold NUL (PostgreSQL text cannot)."""
    if any("\x00" in name or "\x00" in value for name, value in request.query_params.multi_items()):
        raise InvalidRequest("query parameters may not contain NUL characters")


def check_texts(*values: Any) -> None:
    for value in values:
        items = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(item, str) and "\x00" in item for item in items):
            raise InvalidRequest("text may not contain NUL characters")


def entity_name(entity: str) -> str:
    try:
        return check_path_part("entity", entity)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None


def project_path(entity: str, project: str) -> tuple[str, str]:
    try:
        return check_path_part("entity", entity), check_path_part("project", project)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None


def run_path(entity: str, project: str, run_id: str) -> tuple[str, str, str]:
    entity, project = project_path(entity, project)
    try:
        return entity, project, check_run_id(run_id)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None


def path_parameters(*names: str) -> dict[str, Any]:
    """``openapi_extra`` documenting a route's path parameters (strings) when the route reads them
    from the request itself rather than taking them as FastAPI parameters."""
    return {
        "parameters": [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string", "title": _title(n)}}
            for n in names
        ]
    }


def _title(name: str) -> str:
    """A parameter's title as FastAPI writes it (``run_id`` → ``Run Id``)."""
    return name.replace("_", " ").title()


def not_found(what: str) -> NotFound:
    return NotFound(f"{what} not found")


def wants_msgpack(request: Request, format: str | None) -> bool:
    if format is not None:
        if format not in ("json", "msgpack"):
            raise InvalidRequest("format must be json or msgpack")
        return format == "msgpack"
    accept = request.headers.get("accept", "")
    return any(kind in accept for kind in _MSGPACK_TYPES)


class Timer:
    """Measures the handler and reports it as ``Server-Timing: app;dur=<ms>``."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def header(self) -> dict[str, str]:
        return {"Server-Timing": f"app;dur={(time.perf_counter() - self.start) * 1000:.2f}"}


def json_response(content: Any, timer: Timer | None = None, status_code: int = 200) -> Response:
    body = _json_encoder.encode(content)
    headers = timer.header() if timer else None
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def series_json_response(content: Any, timer: Timer | None = None) -> Response:
    """``json_response`` for an answer holding numeric series as numpy arrays (``json_numbers``):
    orjson writes an array's numbers in C, where msgspec needs them as a list first. A 100-run
    chart's 1.6M numbers: about 50 against 120 ms."""
    import orjson

    body = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, media_type="application/json", headers=timer.header() if timer else None)


def msgpack_response(content: Any, timer: Timer | None = None) -> Response:
    body = _msgpack_encoder.encode(content)
    return Response(body, media_type=MSGPACK, headers=timer.header() if timer else None)


def _non_finite(value: float) -> str:
    if np.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def json_array(array: np.ndarray) -> list:
    """A numeric array as a JSON-ready list (non-finite floats as strings)."""
    out = array.tolist()
    if array.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(array))
        for index in bad.tolist():
            out[index] = _non_finite(out[index])
    return out


def json_numbers(array: np.ndarray) -> np.ndarray | list:
    """A numeric array for ``series_json_response``: the array itself when every number is
    finite, else as ``json_array`` writes it (non-finite floats as strings)."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return json_array(array)
    return np.ascontiguousarray(array)


def binary_array(array: np.ndarray) -> bytes:
    """A numeric array as little-endian float64 bytes."""
    return np.ascontiguousarray(array, dtype="<f8").tobytes()


def array_encoder(msgpack: bool) -> Callable[[np.ndarray], Any]:
    """How a response writes a numeric array: raw bytes in MessagePack, ``json_numbers`` in JSON
    (``series_json_response``)."""
    return binary_array if msgpack else json_numbers


class DirectRoute(APIRoute):
    """A route whose endpoint takes the request alone and makes its answer itself: FastAPI's handler
    (resolving parameters and dependencies, encoding the answer) is left out, the route kept in the
    OpenAPI schema. For ingest, which every live run calls every second: the handler cost a tenth of
    a small batch's event-loop time. Dependencies would not run, so a route or router giving it any
    is refused when it is made (those of an ``include_router`` are not seen here: include it with
    none)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        if self.dependencies:
            raise ValueError(f"{path}: a DirectRoute runs no dependencies; check them in its endpoint")

    def get_route_handler(self) -> Callable[[Request], Any]:
        return self.endpoint


class ApiHeaders:
    """ASGI middleware: API answers are never MIME-sniffed nor kept in caches
    (``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store``), unless a route sets its
    own (file downloads: immutable content, revalidated by ETag). The web bundle keeps its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RefuseNul:
    """ASGI middleware: a URL with NUL in it (raw or ``%00``) is refused with a 400. NUL is never
    part of a valid name or parameter, and PostgreSQL cannot even store it. (Plain ASGI: Starlette's
    ``BaseHTTPMiddleware`` costs every request a task group and two memory streams.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"]
            or "%00" in scope["path"].lower()
            or b"%00" in scope["query_string"].lower()
        ):
            response = error_response(InvalidRequest("NUL characters are not allowed in the URL"))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
