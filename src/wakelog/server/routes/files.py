"""Query API: a run's files and media, listed and downloaded by their opaque names.

A name is looked up in the run's file index and the content streamed from the blob store by its
hash; it never becomes part of a file system path. Downloads are served so a browser cannot be
tricked into running them: images, video, audio, 3-D models, JSON and plain text, which cannot
carry script, keep their type (``X-Content-Type-Options: nosniff``, a sandboxing
``Content-Security-Policy``); everything else — HTML, SVG, scripts, unknown types — is
``application/octet-stream`` with ``Content-Disposition: attachment``. A ``Range`` header gets
that byte range (206), so players can seek (server/ranges.py).
"""

from __future__ import annotations

import mimetypes
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from wakelog._names import check_file_name
from wakelog.server.errors import InvalidRequest, NotFound, NotUploaded
from wakelog.server.http import Offset, json_response, not_found, refuse_nul, run_path
from wakelog.server.permissions import Viewer
from wakelog.server.query import runs as q
from wakelog.server.ranges import byte_range
from wakelog.server.routes.runs import file_url
from wakelog.store.schema import run_files

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])

#: Types a browser may show inline: they cannot carry script.
SAFE_INLINE_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "application/json",
    "text/plain",
    "text/csv",
    "text/markdown",
    "video/mp4",
    "video/webm",
    "video/ogg",
    "audio/wav",
    "audio/mpeg",
    "audio/ogg",
    "audio/flac",
    "audio/mp4",
    "audio/webm",
    "model/obj",
    "model/stl",
    "model/gltf+json",
    "model/gltf-binary",
}
_TEXT_TYPES = {"text/plain", "text/csv", "text/markdown", "application/json"}
_EXTRA_TYPES = {
    ".log": "text/plain",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".webp": "image/webp",
    ".patch": "text/plain",
    ".diff": "text/plain",
    ".yaml": "text/plain",
    ".yml": "text/plain",
    ".py": "text/plain",
    # media types Python's table lacks or names differently on some systems
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".obj": "model/obj",
    ".stl": "model/stl",
    ".gltf": "model/gltf+json",
    ".glb": "model/gltf-binary",
}
#: Logged videos keep wandb's names: an .ogg file under media/videos/ is a video.
_VIDEO_FOLDER = "media/videos/"


class FileOut(BaseModel):
    name: str
    size: int | None
    sha256: str | None
    policy: str
    updated_at: float
    uploaded: bool
    url: str


class FileList(BaseModel):
    files: list[FileOut]
    total: int
    next_offset: int | None


def content_type(name: str) -> tuple[str, bool]:
    """(Content-Type, inline?) for a file name: known-safe types inline, the rest as downloads."""
    lower = name.lower()
    dot = lower.rfind(".")
    guess = _EXTRA_TYPES.get(lower[dot:]) if dot >= 0 else None
    if guess and guess.startswith("audio/") and lower.startswith(_VIDEO_FOLDER):
        guess = "video/" + guess.split("/", 1)[1]
    if guess is None:
        guess = mimetypes.guess_type(lower, strict=True)[0]
    if guess in SAFE_INLINE_TYPES:
        return (f"{guess}; charset=utf-8" if guess in _TEXT_TYPES else guess), True
    return "application/octet-stream", False


def _disposition(name: str, inline: bool) -> str:
    base = name.rsplit("/", 1)[-1]
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in base) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(base, safe='')}"


@router.get("/runs/{entity}/{project}/{run_id}/files", response_model=FileList)
def list_files(
    entity: str,
    project: str,
    run_id: str,
    request: Request,
    user: Viewer,
    prefix: Annotated[str | None, Query(description="only names starting with this")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Offset = 0,
) -> Any:
    """The run's files (saved files, media, metadata), by name. ``uploaded`` is false while the
    content has not arrived yet."""
    entity, project, run_id = run_path(entity, project, run_id)
    f = run_files.c
    with request.app.state.db.read() as conn:
        run = q.find_run(conn, entity, project, run_id)
        if run is None:
            raise not_found(f"run {entity}/{project}/{run_id}")
        condition = f.run_pk == run.pk
        if prefix:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            condition = sa.and_(condition, f.name.like(escaped + "%", escape="\\"))
        rows = conn.execute(
            sa.select(f.name, f.size, f.sha256, f.policy, f.updated_at, sa.func.count().over().label("total"))
            .where(condition)
            .order_by(f.name)
            .limit(limit)
            .offset(offset)
        ).all()
        total = (
            rows[0].total
            if rows
            else conn.execute(sa.select(sa.func.count()).select_from(run_files).where(condition)).scalar_one()
        )
    files = [
        {
            "name": r.name,
            "size": r.size,
            "sha256": r.sha256,
            "policy": r.policy,
            "updated_at": r.updated_at,
            "uploaded": r.sha256 is not None,
            "url": file_url(entity, project, run_id, r.name),
        }
        for r in rows
    ]
    next_offset = offset + len(rows) if offset + len(rows) < total else None
    return json_response({"files": files, "total": total, "next_offset": next_offset})


@router.get(
    "/runs/{entity}/{project}/{run_id}/files/{name:path}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_file(
    entity: str,
    project: str,
    run_id: str,
    name: str,
    request: Request,
    user: Viewer,
    download: Annotated[bool, Query(description="always as an attachment")] = False,
) -> Any:
    """A run file's content (media included: the ``path`` of a media stub is its name)."""
    entity, project, run_id = run_path(entity, project, run_id)
    try:
        check_file_name(name)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    f = run_files.c
    with request.app.state.db.read() as conn:
        run = q.find_run(conn, entity, project, run_id)
        if run is None:
            raise not_found(f"run {entity}/{project}/{run_id}")
        row = conn.execute(sa.select(f.sha256, f.size).where(f.run_pk == run.pk, f.name == name)).first()
    if row is None:
        raise not_found(f"file {name!r}")
    if row.sha256 is None:
        raise NotUploaded(f"file {name!r} is known but its content has not been uploaded yet")
    return blob_response(request, row.sha256, name, download)


def blob_response(request: Request, sha256: str, name: str, download: bool) -> Response:
    """Stored content served as the file ``name``: its safe type, its ETag, a ``Range`` honoured."""
    etag = f'"{sha256}"'
    kind, inline = content_type(name)
    inline = inline and not download
    headers = {
        "Content-Disposition": _disposition(name, inline),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
        "ETag": etag,
        "Cache-Control": "private, max-age=31536000, immutable",
        "Accept-Ranges": "bytes",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    store = request.app.state.blobs
    try:
        size = store.size(sha256)
    except FileNotFoundError:
        raise NotFound(f"the content of {name!r} is missing from the blob store") from None
    if_range = request.headers.get("if-range")
    span = byte_range(request.headers.get("range"), size) if if_range in (None, etag) else None
    if span is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(store.open(sha256), media_type=kind, headers=headers)
    start, end = span
    headers["Content-Length"] = str(end - start + 1)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    body = store.open(sha256, start, end - start + 1)
    return StreamingResponse(body, status_code=206, media_type=kind, headers=headers)
