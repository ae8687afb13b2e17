"""Reading request bodies safely: size caps (413) enforced while the body streams in, gzip
verified whole and capped on its unpacked size, JSON checked against a model — and nothing of a
body read before its sender is authenticated beyond what sign-in needs.

``BodyLimit`` (ASGI middleware, every route) counts the bytes the app pulls: at most
``UNAUTHENTICATED_BODY`` until ``authenticate`` has named the user (``request.state.user``),
then at most the server's ``max_body_bytes`` — or ``request.state.body_limit``, which a route
that checked its own credential (a signed upload URL) sets for the one body it streams to disk
(``spool_body``). Routes read bodies only after their dependencies
ran (no route declares a FastAPI body parameter, which FastAPI would read first), with their own
tighter caps. Parsing and unpacking run in the thread pool, never on the event loop.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
import zlib
from dataclasses import dataclass
from email.message import Message
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from wakelog.server.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

#: JSON bodies (sign-in, keys, users, members, layouts) are small.
MAX_JSON_BODY = 64 * 1024
#: The larger JSON bodies: a history query (up to 1000 runs × 200 keys), a run's file list.
MAX_QUERY_BODY = 1024 * 1024
#: The most of a body the server reads before knowing who sent it: enough for sign-in.
UNAUTHENTICATED_BODY = MAX_JSON_BODY
#: How deeply a free-form JSON body (a workspace layout) may nest.
MAX_JSON_DEPTH = 64
_Model = TypeVar("_Model", bound=BaseModel)


class BodyLimit:
    """ASGI middleware: refuse (413) a body once the app has pulled more than the sender may send
    — ``UNAUTHENTICATED_BODY`` before authentication, ``ceiling`` after it."""

    def __init__(self, app: ASGIApp, ceiling: int) -> None:
        self.app, self.ceiling = app, ceiling

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        declared = dict(scope["headers"]).get(b"content-length", b"")
        received, answering = 0, False

        async def limited() -> AsgiMessage:
            nonlocal received
            limit = state.get("body_limit") or (
                self.ceiling if state.get("user") is not None else UNAUTHENTICATED_BODY
            )
            over = declared.isdigit() and int(declared) > limit
            if not over:
                message = await receive()
                if message["type"] != "http.request":
                    return message
                received += len(message.get("body", b""))
                over = received > limit
            if not over:
                return message
            if answering:  # a streamed answer listening for the client to go: it may go now
                return {"type": "http.disconnect"}
            raise PayloadTooLarge(f"request body over {limit} bytes")

        async def watched(message: AsgiMessage) -> None:
            nonlocal answering
            answering = answering or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited, watched)


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The body, gunzipped if sent so, at most ``limit`` bytes (the server's limit if smaller or
    not given) before and after unpacking; 413 over it, 400 for gzip that is damaged or cut off."""
    received = await receive_body(request, limit)
    return await run_in_threadpool(received.unpacked) if received.gzipped else received.data


@dataclass(frozen=True)
class Received:
    """A body as it was sent (``receive_body``): ``unpacked()`` is ``read_body``'s answer, for a
    route that goes to the thread pool anyway and unpacks it there, in the same trip."""

    data: bytes
    gzipped: bool
    #: The most the body may hold unpacked.
    limit: int

    def unpacked(self) -> bytes:
        """The body, gunzipped if sent so (413 past ``limit``, 400 for damaged gzip)."""
        return gunzip(self.data, self.limit) if self.gzipped else self.data


async def receive_body(request: Request, limit: int | None = None) -> Received:
    """The body as sent, at most ``limit`` bytes (the server's limit if smaller or not given); 413
    over it. Unpack it with ``Received.unpacked``, in the thread pool."""
    ceiling: int = request.app.state.config.max_body_bytes
    limit = ceiling if limit is None else min(limit, ceiling)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    body = await _received(request, limit)
    return Received(body, request.headers.get("content-encoding", "").lower() == "gzip", limit)


@dataclass(frozen=True)
class Spooled:
    """A body streamed to a temporary file (``spool_body``): where, how big, its hashes."""

    path: str
    size: int
    sha256: str
    #: base64, as S3's ``Content-MD5`` and wandb's artifact manifests name content.
    md5: str


#: The client gave up before sending the whole body (its own timeout, on a busy server; it sends the
#: request again): nothing was applied, and it is no server error to log as one.
_CLIENT_GONE = "the client went away before sending the whole body"

#: How much of a streamed body is gathered before it is hashed and written in one go.
_SPOOL_BLOCK = 1024 * 1024


async def spool_body(request: Request, folder: str | None) -> Spooled:
    """The body streamed into a new temporary file in ``folder``, hashed on the way: never whole
    in memory. The size cap is the middleware's (set ``request.state.body_limit`` first); the
    caller removes the file. Only bodies sent as they are (no ``Content-Encoding``)."""
    if request.headers.get("content-encoding", "identity").lower() != "identity":
        raise UnsupportedMediaType("this upload takes the content as it is, without Content-Encoding")
    tmp = await run_in_threadpool(tempfile.NamedTemporaryFile, dir=folder, prefix=".upload-", delete=False)
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0

    def take(block: bytes) -> None:
        sha256.update(block)
        md5.update(block)
        tmp.write(block)

    try:
        pending, buffered = [], 0
        async for chunk in request.stream():
            pending.append(chunk)
            size, buffered = size + len(chunk), buffered + len(chunk)
            if buffered >= _SPOOL_BLOCK:
                await run_in_threadpool(take, b"".join(pending))
                pending, buffered = [], 0
        await run_in_threadpool(take, b"".join(pending))
        tmp.close()
    except BaseException as exc:
        tmp.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp.name)
        if isinstance(exc, ClientDisconnect):
            raise InvalidRequest(_CLIENT_GONE) from None
        raise
    return Spooled(tmp.name, size, sha256.hexdigest(), base64.b64encode(md5.digest()).decode())


def gunzip(body: bytes, limit: int) -> bytes:
    """One whole gzip member: its CRC and length checked (zlib does, at the trailer), nothing
    after it; at most ``limit`` bytes unpacked."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise InvalidRequest("the body is not valid gzip") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"request body over {limit} bytes once decompressed")
    if not inflater.eof:
        raise InvalidRequest("the gzip body is cut off (no end, checksum or length)")
    if inflater.unused_data:
        raise InvalidRequest("the gzip body goes on after its end")
    return data


def json_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` describing a body that ``read_json`` reads (it is not a FastAPI parameter,
    so that it is read only after authentication). Nested models are written out in place: a
    ``$defs`` reference would point into the OpenAPI document's root."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline(schema)}}}}


async def receive_json(request: Request, limit: int = MAX_JSON_BODY) -> bytes:
    """A JSON body as sent (415 unless JSON, 413 past ``limit``), for ``parse_json`` in the thread
    pool: a route going there anyway parses it in the same trip (``read_json`` does both)."""
    content_type = Message()
    content_type["content-type"] = request.headers.get("content-type", "")
    if content_type.get_content_type() != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    return await _received(request, limit)


async def _received(request: Request, limit: int) -> bytes:
    """The body as it streams in, 413 past ``limit`` bytes."""
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise InvalidRequest(_CLIENT_GONE) from None
    return b"".join(chunks)


def parse_json(model: type[_Model], data: bytes) -> _Model:
    """``data`` (``receive_json``'s) as ``model``: 422 if it is not valid."""
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        errors = json.loads(exc.json(include_url=False, include_input=False))
        raise ValidationFailed(errors) from None


async def read_json(request: Request, model: type[_Model], limit: int = MAX_JSON_BODY) -> _Model:
    """The body as ``model``: JSON only (415 otherwise), at most ``limit`` bytes (413), valid
    (422; lone surrogates and nesting past pydantic's limit are invalid JSON there)."""
    data = await receive_json(request, limit)
    return await run_in_threadpool(parse_json, model, data)


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except RecursionError:  # the parser gave up long before MAX_JSON_DEPTH's check could run
        raise InvalidRequest(f"the body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the body must be a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidRequest("the body must be a JSON object")
    check_json(value)
    return value


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """A free-form JSON object of at most ``limit`` bytes (any content type, as it always was),
    nesting at most ``MAX_JSON_DEPTH`` levels, with text every database can store."""
    return await run_in_threadpool(_json_object, await read_body(request, limit))


def check_json(value: Any) -> None:
    """400 for JSON nested deeper than ``MAX_JSON_DEPTH``, or with text no database stores (NUL,
    lone surrogates), in keys or values."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidRequest(f"the body nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise InvalidRequest("text may not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest("text may not contain lone surrogates (\\ud800-\\udfff)") from None
