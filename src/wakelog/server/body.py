"""Reading request bodies safely: a size cap (413) and gzip, with the cap on the unpacked size;
small JSON bodies of the management API checked against a model."""

from __future__ import annotations

import json
import zlib
from email.message import Message
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from wakelog.server.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

#: JSON bodies (sign-in, keys, users, members) are small.
MAX_JSON_BODY = 64 * 1024
_Model = TypeVar("_Model", bound=BaseModel)


async def read_body(request: Request) -> bytes:
    limit: int = request.app.state.config.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(wbits=31)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            raise InvalidRequest("the body is not valid gzip") from None
        if len(body) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"request body over {limit} bytes once decompressed")
    return body


def json_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` describing a body that ``read_json`` reads (it is not a FastAPI parameter,
    so that it is read only after authentication)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


async def read_json(request: Request, model: type[_Model]) -> _Model:
    """The body as ``model``: JSON only (415 otherwise), at most 64 KiB (413), valid (422)."""
    content_type = Message()
    content_type["content-type"] = request.headers.get("content-type", "")
    if content_type.get_content_type() != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise PayloadTooLarge(f"request body over {MAX_JSON_BODY} bytes")
        chunks.append(chunk)
    try:
        return model.model_validate_json(b"".join(chunks))
    except ValidationError as exc:
        errors = json.loads(exc.json(include_url=False, include_input=False))
        raise ValidationFailed(errors) from None
