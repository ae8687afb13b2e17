"""Reading request bodies safely: a size cap (413) and gzip, with the cap on the unpacked size."""

from __future__ import annotations

import zlib

from fastapi import HTTPException, Request


async def read_body(request: Request) -> bytes:
    limit: int = request.app.state.config.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body over {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(wbits=31)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            raise HTTPException(400, "the body is not valid gzip") from None
        if len(body) > limit or inflater.unconsumed_tail:
            raise HTTPException(413, f"request body over {limit} bytes once decompressed")
    return body
