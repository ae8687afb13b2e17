"""Ingest: run-log records from the uploader, and file content by its hash.

``POST /api/v1/runs/{entity}/{project}/{run_id}/records`` takes a MessagePack list of
``[seq, type, time, data]`` records (gzip allowed) and answers ``{"ack": n}``, the highest
sequence number applied; a busy server adds ``"interval"``, the seconds it asks a live run to
leave between batches (server/pacing.py). A fork's first batch (its run record names
``fork_from``) starts the run with its parent's rows, once (``store/fork.py``). A malformed batch
is refused whole (400), a batch that skips ahead gets 409 ``sequence_gap`` with the ack to resend
from, a body over the limit 413. Writing needs the entity's ``member`` role
(server/permissions.py). Content is uploaded by hash, under the run it is for (so uploading needs
what writing to the run needs), staged per user and verified; only a user who uploaded it whole (a
holder) may point run files at it. New data is checked against the disk
guard and the storage quotas first (server/diskguard.py, server/quotas.py): 507 when it does not fit.
The events a batch causes (alerts, a run's end, metric rules crossed) are fanned out in its own
transaction (server/notify/); e-mails and webhooks are only queued there, never sent.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from wakelog._limits import MAX_BATCH_BYTES
from wakelog._names import check_file_name
from wakelog.server.auth import User
from wakelog.server.body import MAX_QUERY_BODY, Received, json_body_schema, read_body, read_json, receive_body
from wakelog.server.errors import BlobMissing, ChunkRejected, InvalidRequest
from wakelog.server.http import DirectRoute, json_response, path_parameters, run_path
from wakelog.server.manage import forks
from wakelog.server.notify import inbox
from wakelog.server.notify.ingest import IngestNotifier
from wakelog.server.permissions import Writer, usable_blobs, writer
from wakelog.server.quotas import new_content_bytes, upload_owner
from wakelog.store.blobs import BlobError, check_sha256
from wakelog.store.chunks import chunked
from wakelog.store.fork import fork_point
from wakelog.store.ingest import IngestResult, apply_batch, decode_batch, ensure_run
from wakelog.store.schema import blob_holders, blobs, entities, projects, run_files, runs
from wakelog.store.upsert import upsert

router = APIRouter(prefix="/api/v1")

#: A run's path parameters, in ``run_path``'s order.
RUN_PATH = ("entity", "project", "run_id")


# A live run's every batch comes here, so the route is a ``DirectRoute`` (registered below): no FastAPI
# parameters (resolving them cost a sixth of the event loop's time per batch) and no FastAPI handler
# (a tenth more). It makes the ``Writer`` check itself, reads its path from the request and writes
# its answer without FastAPI's encoding.
async def ingest_records(request: Request) -> Response:
    """Apply a batch of run-log records; answers the ack (highest applied seq)."""
    user = await writer(request)
    path = run_path(*(request.path_params[name] for name in RUN_PATH))
    state = request.app.state
    state.disk_guard.check()
    body = await receive_body(request, MAX_BATCH_BYTES)
    notifier = IngestNotifier(path, state.clock, state.config.public_url)
    result = await state.ingest_threads.run(_ingest, state, path, body, user, notifier)
    announce(state, path, user, result, notifier)
    answer: dict[str, Any] = {"ack": result.ack, "applied": result.applied}
    if result.stop_requested:
        answer["stop"] = True  # the uploader passes it on: the training stops as wandb's does
    if result.refused_files:
        answer["refused_files"] = result.refused_files  # names the server does not take; the rest went in
    interval = state.pacing.interval()
    if interval is not None:
        answer["interval"] = round(interval, 2)  # busy: fewer, larger live batches (server/pacing.py)
    return json_response(answer)


router.add_api_route(
    "/runs/{entity}/{project}/{run_id}/records",
    ingest_records,
    methods=["POST"],
    route_class_override=DirectRoute,
    openapi_extra=path_parameters(*RUN_PATH),
)


def announce(
    state: Any, path: tuple[str, str, str], user: User, result: IngestResult, notifier: IngestNotifier
) -> None:
    """After an applied batch (on the event loop): count it, push it live, wake the dispatcher."""
    if result.applied:
        state.quotas.count(user.username, path[0], rows=result.points + result.applied)  # about
        state.live.publish_ingest(path, result)
        inbox.tell(state.live, notifier.delivered)
        if notifier.delivered.queued:
            state.dispatcher.wake()


def _ingest(
    state: Any, path: tuple[str, str, str], received: Received, user: User, notifier: IngestNotifier
) -> IngestResult:
    """Unpacking, quota, decoding and the transaction, in one trip to the ingest threads (a live
    run's every batch comes here: each trip costs about as much as a small batch's checks)."""
    body = received.unpacked()
    state.disk_guard.used(len(body))
    state.quotas.check(user.username, path[0], rows=True)
    with state.db.writer_turn():  # decoded in the process's turn too (``Database.writer_turn``)
        records = decode_batch(body)
        point = fork_point(records)  # a fork's first batch: its parent's rows come first (store/fork.py)
        inherit = None
        if point is not None and _ack(state.db, path) < 0:  # a resent first batch reads no parent again
            inherit = forks.inheritance(state.db, *path[:2], *point, strict=False)
        return apply_batch(state.db, *path, records, user.id, on_applied=notifier, inherit=inherit)


@router.get("/runs/{entity}/{project}/{run_id}/ack")
def ingest_ack(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Any:
    """The highest applied sequence number (-1 for a run the server has not seen). It tells an
    uploader where to resume writing, so it needs what writing needs."""
    return {"ack": _ack(request.app.state.db, run_path(entity, project, run_id))}


def _ack(db: Any, path: tuple[str, str, str]) -> int:
    """The run's highest applied sequence number; -1 for a run the server has not seen."""
    entity, project, run_id = path
    with db.read() as conn:
        ack = conn.execute(
            sa.select(runs.c.last_seq)
            .join(projects, projects.c.id == runs.c.project_id)
            .join(entities, entities.c.id == projects.c.entity_id)
            .where(entities.c.name == entity, projects.c.name == project, runs.c.run_id == run_id)
        ).scalar()
    return -1 if ack is None else int(ack)


def _owner(user: User) -> str:
    """Whose staging area an upload goes to: each user's chunks stay apart from everyone else's."""
    return upload_owner(user.id)


def _may_use(db: Any, user: User, sha256: str) -> bool:
    with db.read() as conn:
        return sha256 in usable_blobs(conn, user, [sha256])


@router.get("/runs/{entity}/{project}/{run_id}/blobs/{sha256}")
async def blob_status(
    entity: str, project: str, run_id: str, sha256: str, request: Request, user: Writer
) -> Any:
    """Whether you have this content on the server (uploaded whole), else how much of your upload
    of it arrived. Content someone else uploaded counts as missing: upload it to prove you hold it."""
    store, db = request.app.state.blobs, request.app.state.db
    check_sha256(sha256)
    if await run_in_threadpool(store.exists, sha256) and await run_in_threadpool(_may_use, db, user, sha256):
        return {"complete": True, "received": await run_in_threadpool(store.size, sha256)}
    return {"complete": False, "received": await run_in_threadpool(store.received, sha256, _owner(user))}


@router.put("/runs/{entity}/{project}/{run_id}/blobs/{sha256}")
async def blob_upload(
    entity: str,
    project: str,
    run_id: str,
    sha256: str,
    offset: int,
    total: int,
    request: Request,
    user: Writer,
) -> Any:
    """Upload a chunk of content at ``offset`` of ``total`` bytes for files of the run; resumable,
    deduplicated."""
    if offset < 0 or total < 0:
        raise InvalidRequest("offset and total must be ≥ 0")
    check_sha256(sha256)
    entity, project, run_id = run_path(entity, project, run_id)
    await _check_room(request, user, entity, total - offset)
    body = await read_body(request)
    state = request.app.state
    state.disk_guard.used(len(body))
    received = await run_in_threadpool(_store_chunk, state.blobs, state.db, user, sha256, offset, body, total)
    state.quotas.count(user.username, None, new_bytes=len(body))  # the entity's: once attached
    return {"received": received, "complete": received == total}


#: A many-contents upload frames each content as its sha256 (32 bytes) and size (8 bytes, big-endian).
_FRAME = 40


@router.post("/runs/{entity}/{project}/{run_id}/blobs")
async def blob_batch(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Any:
    """Upload many small contents whole in one request (an artifact folder of small files): the
    body holds, one after another, each content's sha256 (32 bytes), size (8 bytes, big-endian)
    and bytes. Every content is checked against its hash first: one that does not match refuses
    the whole request (400) and none is recorded. Answers how many contents were received."""
    entity, project, run_id = run_path(entity, project, run_id)
    state = request.app.state
    body = await read_body(request)
    contents = await run_in_threadpool(_frames, body)
    await _check_room(request, user, entity, len(body))
    state.disk_guard.used(len(body))
    await run_in_threadpool(_store_whole, state.blobs, state.db, user, contents)
    state.quotas.count(user.username, None, new_bytes=sum(len(c) for c in contents.values()))
    return {"received": len(contents)}


def _frames(body: bytes) -> dict[str, bytes]:
    """The contents of a many-contents body by sha256, each checked against its hash."""
    view, contents, at = memoryview(body), {}, 0
    while at < len(body):
        if at + _FRAME > len(body):
            raise InvalidRequest(f"the body ends inside a content's header at byte {at}")
        sha256, size = body[at : at + 32].hex(), int.from_bytes(body[at + 32 : at + _FRAME], "big")
        content = bytes(view[at + _FRAME : at + _FRAME + size])
        if len(content) != size:
            raise InvalidRequest(f"content {sha256} is cut off: {len(content)} of {size} bytes")
        if hashlib.sha256(content).hexdigest() != sha256:
            raise InvalidRequest(f"content {sha256} does not match its sha256; nothing was stored")
        contents[sha256], at = content, at + _FRAME + size
    return contents


def _store_whole(store: Any, db: Any, user: User, contents: dict[str, bytes]) -> None:
    """Store checked contents (those stored already stay) and make the user a holder of all."""
    for sha256, content in contents.items():
        if not store.exists(sha256):
            store.put_whole(sha256, content)
    record_blobs(db, [(sha256, len(content)) for sha256, content in contents.items()], user.id)


async def _check_room(request: Request, user: User, entity: str, new_bytes: int) -> None:
    """507 unless the disk and the user's and entity's quotas have room for ``new_bytes``."""
    state = request.app.state
    state.disk_guard.check()
    await run_in_threadpool(state.quotas.check, user.username, entity, new_bytes=new_bytes)


#: Uploads of the same content by the same user take turns (per server process): two runs saving
#: the same file at once then see each other's progress instead of tripping over it. Striped, so
#: the table stays small; a collision between unrelated uploads only makes one wait a chunk.
_UPLOAD_LOCKS = [threading.Lock() for _ in range(64)]


def _store_chunk(store: Any, db: Any, user: User, sha256: str, offset: int, data: bytes, total: int) -> int:
    """Stage one chunk, publish and record the content when whole; returns the bytes received.

    Content this user holds already is done, whatever the chunk (another upload of theirs
    finished first). A chunk that does not fit the staged upload (``ChunkRejected``) says where
    the upload stands, so the client resumes there.
    """
    owner = _owner(user)
    with _UPLOAD_LOCKS[hash((owner, sha256)) % len(_UPLOAD_LOCKS)]:
        if store.exists(sha256) and _may_use(db, user, sha256):
            return total
        try:
            received: int = store.write_chunk(sha256, offset, data, total, owner)
        except BlobError as exc:
            if store.exists(sha256) and _may_use(db, user, sha256):
                return total  # another server process finished this user's upload meanwhile
            raise ChunkRejected(str(exc), received=store.received(sha256, owner)) from None
        if received == total:
            record_blobs(db, [(sha256, total)], user.id)
    return received


def record_blobs(db: Any, contents: list[tuple[str, int]], holder_id: int) -> None:
    """Record stored contents (sha256, size) and the user as their holder, in one transaction."""
    now = time.time()
    with db.write() as conn:
        upsert(conn, blobs, [{"sha256": s, "size": n, "created_at": now} for s, n in contents], ["sha256"])
        holders = [{"sha256": s, "user_id": holder_id, "created_at": now} for s, _ in contents]
        upsert(conn, blob_holders, holders, ["sha256", "user_id"])


class FileEntry(BaseModel):
    name: str
    sha256: str
    size: int


class FileList(BaseModel):
    files: list[FileEntry]


@router.post("/runs/{entity}/{project}/{run_id}/files", openapi_extra=json_body_schema(FileList))
async def attach_files(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Any:
    """Point run file names at content you uploaded (the content must be uploaded first). A file
    whose name the server does not take is refused alone: it is listed in ``refused`` with the
    reason, the others are attached."""
    path = run_path(entity, project, run_id)
    listing = await read_json(request, FileList, MAX_QUERY_BODY)
    return await run_in_threadpool(_attach_files, request, *path, listing, user)


def _usable_names(listing: FileList) -> tuple[list[FileEntry], list[dict[str, str]]]:
    """The entries whose names the server takes, and the refused ones with the reason (a bad hash
    refuses the whole listing: it is a broken client, not a file the user named)."""
    accepted: list[FileEntry] = []
    refused: list[dict[str, str]] = []
    for entry in listing.files:
        try:
            check_sha256(entry.sha256)
        except BlobError as exc:
            raise InvalidRequest(str(exc)) from None
        try:
            check_file_name(entry.name)
        except ValueError as exc:
            refused.append({"name": entry.name, "detail": str(exc)})
            continue
        accepted.append(entry)
    return accepted, refused


def _attach_files(
    request: Request, entity: str, project: str, run_id: str, listing: FileList, user: User
) -> Any:
    store, db = request.app.state.blobs, request.app.state.db
    accepted, refused = _usable_names(listing)
    request.app.state.disk_guard.check()
    with db.read() as conn:
        usable = usable_blobs(conn, user, (entry.sha256 for entry in accepted))
        new_bytes = new_content_bytes(conn, entity, (entry.sha256 for entry in accepted))
    request.app.state.quotas.check(None, entity, new_bytes=new_bytes)  # the user's counts already
    for entry in accepted:
        # The same answer for content that is not there and content someone else uploaded.
        if entry.sha256 not in usable or not store.exists(entry.sha256):
            raise BlobMissing(f"content {entry.sha256} of {entry.name!r} is not uploaded yet")
    with db.write() as conn:
        _still_stored(conn, accepted)
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
            for e in accepted
        ]
        if rows:
            upsert(conn, run_files, rows, ["run_pk", "name"], update=["sha256", "size", "updated_at"])
    request.app.state.quotas.count(None, entity, new_bytes=new_bytes)
    return {"attached": len(accepted), **({"refused": refused} if refused else {})}


def _still_stored(conn: sa.Connection, files: list[FileEntry]) -> None:
    """Content expired since it was checked (server/expiry.py) is refused like content never sent."""
    present: set[str] = set()
    for some in chunked({entry.sha256 for entry in files}):
        present.update(conn.execute(sa.select(blobs.c.sha256).where(blobs.c.sha256.in_(some))).scalars())
    for entry in files:
        if entry.sha256 not in present:
            raise BlobMissing(f"content {entry.sha256} of {entry.name!r} is not uploaded yet")
