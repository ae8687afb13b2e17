"""Ingest: run-log records from the uploader, and file content by its hash.

``POST /api/v1/runs/{entity}/{project}/{run_id}/records`` takes a MessagePack list of
``[seq, type, time, data]`` records (gzip allowed) and answers ``{"ack": n}``, the highest
sequence number applied. A malformed batch is refused whole (400), a batch that skips ahead gets
409 with the ack to resend from, a body over the limit 413.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from wakelog._names import check_file_name, check_path_part, check_run_id
from wakelog.server.auth import User, authenticate
from wakelog.server.body import read_body
from wakelog.store.blobs import BlobError, check_sha256
from wakelog.store.ingest import IngestError, SequenceGap, apply_batch, decode_batch
from wakelog.store.schema import blobs, entities, projects, run_files, runs

router = APIRouter(prefix="/api/v1")
CurrentUser = Annotated[User, Depends(authenticate)]


def run_path(entity: str, project: str, run_id: str) -> tuple[str, str, str]:
    try:
        return check_path_part("entity", entity), check_path_part("project", project), check_run_id(run_id)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


@router.post("/runs/{entity}/{project}/{run_id}/records")
async def ingest_records(entity: str, project: str, run_id: str, request: Request, user: CurrentUser) -> Any:
    """Apply a batch of run-log records; answers the ack (highest applied seq)."""
    path = run_path(entity, project, run_id)
    body = await read_body(request)
    try:
        records = decode_batch(body)
    except IngestError as exc:
        raise HTTPException(400, str(exc)) from None
    state = request.app.state
    try:
        result = await run_in_threadpool(apply_batch, state.db, *path, records, user.id)
    except SequenceGap as gap:
        return JSONResponse({"detail": str(gap), "ack": gap.ack}, status_code=409)
    if result.applied:
        state.live.publish_ingest(path, result)
    return {"ack": result.ack, "applied": result.applied}


@router.get("/runs/{entity}/{project}/{run_id}/ack")
async def ingest_ack(entity: str, project: str, run_id: str, request: Request, user: CurrentUser) -> Any:
    """The highest applied sequence number (-1 for a run the server has not seen)."""
    entity, project, run_id = run_path(entity, project, run_id)
    with request.app.state.db.read() as conn:
        ack = conn.execute(
            sa.select(runs.c.last_seq)
            .join(projects, projects.c.id == runs.c.project_id)
            .join(entities, entities.c.id == projects.c.entity_id)
            .where(entities.c.name == entity, projects.c.name == project, runs.c.run_id == run_id)
        ).scalar()
    return {"ack": -1 if ack is None else ack}


@router.get("/blobs/{sha256}")
async def blob_status(sha256: str, request: Request, user: CurrentUser) -> Any:
    """Whether the server has this content, and how much of an upload of it arrived."""
    store = request.app.state.blobs
    try:
        check_sha256(sha256)
    except BlobError as exc:
        raise HTTPException(400, str(exc)) from None
    if await run_in_threadpool(store.exists, sha256):
        return {"complete": True, "received": await run_in_threadpool(store.size, sha256)}
    return {"complete": False, "received": await run_in_threadpool(store.received, sha256)}


@router.put("/blobs/{sha256}")
async def blob_upload(sha256: str, offset: int, total: int, request: Request, user: CurrentUser) -> Any:
    """Upload a chunk of content at ``offset`` of ``total`` bytes; resumable, deduplicated."""
    store = request.app.state.blobs
    if offset < 0 or total < 0:
        raise HTTPException(400, "offset and total must be ≥ 0")
    try:
        check_sha256(sha256)
    except BlobError as exc:
        raise HTTPException(400, str(exc)) from None
    body = await read_body(request)
    try:
        received = await run_in_threadpool(store.write_chunk, sha256, offset, body, total)
    except BlobError as exc:
        received = await run_in_threadpool(store.received, sha256)
        return JSONResponse({"detail": str(exc), "received": received}, status_code=409)
    if received == total:
        await run_in_threadpool(_record_blob, request.app.state.db, sha256, total)
    return {"received": received, "complete": received == total}


def _record_blob(db: Any, sha256: str, size: int) -> None:
    from wakelog.store.upsert import upsert

    with db.write() as conn:
        upsert(conn, blobs, [{"sha256": sha256, "size": size, "created_at": time.time()}], ["sha256"])


class FileEntry(BaseModel):
    name: str
    sha256: str
    size: int


class FileList(BaseModel):
    files: list[FileEntry]


@router.post("/runs/{entity}/{project}/{run_id}/files")
async def attach_files(
    entity: str, project: str, run_id: str, listing: FileList, request: Request, user: CurrentUser
) -> Any:
    """Point run file names at uploaded content (the content must be uploaded first)."""
    entity, project, run_id = run_path(entity, project, run_id)
    store = request.app.state.blobs
    for entry in listing.files:
        try:
            check_file_name(entry.name)
            check_sha256(entry.sha256)
        except (ValueError, BlobError) as exc:
            raise HTTPException(400, str(exc)) from None
        if not await run_in_threadpool(store.exists, entry.sha256):
            raise HTTPException(409, f"content {entry.sha256} of {entry.name!r} is not uploaded yet")
    from wakelog.store.ingest import ensure_run
    from wakelog.store.upsert import upsert

    with request.app.state.db.write() as conn:
        run, _ = ensure_run(conn, entity, project, run_id, user.id)
        now = time.time()
        rows = [
            {
                "run_pk": run.id,
                "name": e.name,
                "sha256": e.sha256,
                "size": e.size,
                "policy": "end",
                "updated_at": now,
            }
            for e in listing.files
        ]
        upsert(conn, run_files, rows, ["run_pk", "name"], update=["sha256", "size", "updated_at"])
    return {"attached": len(listing.files)}
