"""The routes the stock wandb client calls (``WANDB_BASE_URL`` pointed at this server).

``POST /graphql`` (run metadata, upload URLs: ``wandb_compat/operations.py``), ``POST
/files/{entity}/{project}/{run_id}/file_stream`` (history, system metrics, summary, console,
exit: ``wandb_compat/filestream.py``) and ``PUT /wandb/uploads/{token}`` (run files, to the
signed URLs ``createRunFiles`` hands out: ``wandb_compat/uploads.py``). The first two take the
API key as wandb sends it (HTTP Basic ``api:<key>``); uploads carry their signature instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from wakelog.server import errors, handlers
from wakelog.server.auth import User, authenticate
from wakelog.server.body import parse_json, read_json_object, receive_json, spool_body
from wakelog.server.http import run_path
from wakelog.server.notify.ingest import IngestNotifier
from wakelog.server.permissions import Writer
from wakelog.server.routes.files import blob_response
from wakelog.server.routes.ingest import announce
from wakelog.server.wandb_compat import artifacts, filestream, graphql, records, uploads
from wakelog.server.wandb_compat.operations import RESOLVERS, Context, stop_requested_of
from wakelog.store.ingest import IngestResult


class _WandbRoute(APIRoute):
    """Error answers the wandb client prints: wakelog's ``{"detail", "code"}`` plus the
    ``errors: [{"message"}]`` it reads (GraphQL's shape, also for the file stream and uploads)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as exc:
                error = handlers.translate(exc)
                if isinstance(error, errors.InternalError):
                    raise  # the app's handlers log it and answer 500
                body = jsonable_encoder(error.body())
                body["errors"] = [{"message": _message(error.status, body["detail"])}]
                return JSONResponse(body, status_code=error.status, headers=error.headers or None)

        return answer


def _message(status: int, detail: Any) -> str:
    if status == 401:
        return (
            "wakelog did not accept the API key (401): set WANDB_API_KEY to a key of this server "
            "(`wakelog key create`), written as local-<key>"
        )
    return detail if isinstance(detail, str) else f"the request is not valid: {detail}"


router = APIRouter(route_class=_WandbRoute)

#: A run's config (with the client's telemetry) comes in one upsert: room for big ones.
MAX_GRAPHQL_BODY = 8 * 2**20
#: A file-stream request holds at most ~10 MB of lines (the client's own cap), plus JSON's quoting.
MAX_FILE_STREAM = 24 * 2**20


@router.post("/graphql", include_in_schema=False)
async def graphql_endpoint(
    request: Request, user: Annotated[User, Depends(authenticate)], later: BackgroundTasks
) -> Any:
    """One GraphQL request. Each operation checks the role under the entity it names."""
    body = await read_json_object(request, MAX_GRAPHQL_BODY)
    key_hash = getattr(request.state, "key_hash", None)
    context = Context(request.app.state, user, str(request.base_url), key_hash, later)
    return await run_in_threadpool(graphql.execute, body, RESOLVERS, context)


@router.post("/files/{entity}/{project}/{run_id}/file_stream", include_in_schema=False)
async def file_stream(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Any:
    """History rows, system metrics, summary, console lines and the exit, each applied once."""
    path = run_path(entity, project, run_id)
    data = await receive_json(request, MAX_FILE_STREAM)
    state = request.app.state
    notifier = IngestNotifier(path, state.clock, state.config.public_url)
    result, stopped = await run_in_threadpool(_file_stream, state, path, user, data, notifier)
    announce(state, path, user, result, notifier)
    # The client learns of a stop from this answer (wandb-core's file stream), then ends the script.
    return {"exitcode": None, "limits": {}, "stopped": stopped}


def _file_stream(
    state: Any, path: tuple[str, str, str], user: User, data: bytes, notifier: IngestNotifier
) -> tuple[IngestResult, bool]:
    """The body checked (422, 400 for a bad line), the disk guard, its records applied and the run's
    stop request read after them, in one trip to the thread pool (a live run sends one every few
    seconds: each trip costs about as much as a small batch's checks)."""
    make = filestream.maker(parse_json(filestream.FileStreamBody, data))
    state.disk_guard.check()
    result = records.apply_now(state, path, user, make, notifier)
    return result, stop_requested_of(state, result.run_pk)


@router.put(uploads.UPLOAD_ROUTE + "{token}", include_in_schema=False)
async def upload(token: str, request: Request) -> Any:
    """A file's content, to a URL ``createRunFiles`` or ``createArtifactFiles`` signed (the key is
    not sent again). The URL is checked before the body is read; the body then streams to disk,
    up to ``uploads.MAX_UPLOAD`` (an artifact's file of any size comes in one PUT)."""
    state = request.app.state
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else None
    user, target = await run_in_threadpool(uploads.check_upload, state, token, size)
    state.disk_guard.check()
    request.state.body_limit = uploads.MAX_UPLOAD
    body = await spool_body(request, await run_in_threadpool(state.blobs.scratch))
    try:
        state.disk_guard.used(body.size)
        await run_in_threadpool(uploads.store_upload, state, user, target, body)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(body.path)
    return {"name": target.name, "size": body.size}


@router.get(artifacts.DOWNLOAD_ROUTE + "{token}", include_in_schema=False)
async def download(token: str, request: Request) -> Any:
    """An artifact's file or manifest, from a URL the GraphQL reads signed (the key is not sent)."""
    found = await run_in_threadpool(artifacts.download, request.app.state, token)
    if isinstance(found, dict):
        return found
    return blob_response(request, found[0], found[1], True)
