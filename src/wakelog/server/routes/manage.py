"""Managing runs: edit one, put runs in the trash and back, stop one, tag, untag and move many.

``PATCH /api/v1/runs/{entity}/{project}/{run_id}`` sets any of ``name``, ``tags``, ``notes``
(markdown), ``group``, ``job_type``; ``DELETE`` on the same path puts the run in the project's
trash and ``POST …/restore`` takes it out; ``POST …/stop`` asks a running run to stop;
``POST …/rewind`` cuts the run's history after a step (``resume_from``: the SDK asks it).
``POST /api/v1/projects/{entity}/{project}/runs/bulk`` does one ``action`` (``tag``, ``untag``,
``delete``, ``restore``, ``move``) to a list of runs and answers which changed and which the
project does not hold. ``GET …/trash`` lists the trash. All writes need the ``member`` role (a
move also under the target's entity); reading the trash ``viewer``. What each does and its audit
entry: ``server/manage/runs.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from wakelog.server.body import json_body_schema, read_json
from wakelog.server.errors import InvalidRequest
from wakelog.server.http import check_texts, json_response, not_found, project_path, refuse_nul, run_path
from wakelog.server.manage import runs as manage
from wakelog.server.permissions import Viewer, Writer, require_writer
from wakelog.server.query import runs as q
from wakelog.store.ingest import MAX_INT64
from wakelog.store.schema import runs

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
#: Runs one bulk request may name.
MAX_BULK = 1000
#: Notes are markdown: a long page is fine, a book is a mistake.
MAX_EDIT_BYTES = 1024 * 1024
Tag = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Tags = Annotated[list[Tag], Field(max_length=256)]


class RunEdit(BaseModel):
    """The fields to set; those left out keep their values (``null`` clears one)."""

    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    tags: Tags | None = None
    notes: Annotated[str, StringConstraints(max_length=MAX_EDIT_BYTES)] | None = None
    group: Annotated[str, StringConstraints(max_length=256)] | None = None
    job_type: Annotated[str, StringConstraints(max_length=128)] | None = None


class RewindTo(BaseModel):
    step: int = Field(ge=0, le=MAX_INT64, description="the last step the run keeps")


class RunRewound(BaseModel):
    last_step: int = Field(description="the run's last step now: the one it was rewound to")
    rows: int = Field(description="the history rows it kept")


class BulkAction(BaseModel):
    action: Literal["tag", "untag", "delete", "restore", "move"]
    runs: Annotated[
        list[Annotated[str, StringConstraints(max_length=128)]], Field(min_length=1, max_length=MAX_BULK)
    ]
    tags: Tags = Field(default_factory=list, description="tag, untag: the tags")
    to: str | None = Field(None, max_length=300, description="move: the target `entity/project`")


class BulkOutcome(BaseModel):
    changed: list[str]
    missing: list[str]


class TrashedRun(BaseModel):
    id: str
    name: str | None
    state: str
    deleted_at: float
    purge_at: float


@router.patch("/runs/{entity}/{project}/{run_id}", openapi_extra=json_body_schema(RunEdit))
async def edit_run(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Any:
    """Edit the run's name, tags, notes, group or job type; answers the run. A value the SDK
    records later (``run.tags = …`` in a training still running) replaces it again."""
    entity, project, run_id = run_path(entity, project, run_id)
    body = await read_json(request, RunEdit, MAX_EDIT_BYTES + 4096)
    changes = body.model_dump(include=body.model_fields_set)
    if "tags" in changes and changes["tags"] is None:
        changes["tags"] = []
    check_texts(*changes.values(), *(changes.get("tags") or []))
    db = request.app.state.db
    await run_in_threadpool(manage.edit, db, user, entity, project, run_id, changes)
    request.app.state.live.publish_runs_changed(entity, project, [run_id])
    return await run_in_threadpool(_detail, request, entity, project, run_id)


def _detail(request: Request, entity: str, project: str, run_id: str) -> Any:
    with request.app.state.db.read() as conn:
        found = q.run_detail(conn, entity, project, run_id, q.context(conn, request.app.state.config))
    if found is None:
        raise not_found(f"run {entity}/{project}/{run_id}")
    return json_response(found)


@router.delete("/runs/{entity}/{project}/{run_id}", status_code=204)
async def delete_run(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Response:
    """Put the run in its project's trash (restorable until it is purged, 30 days by default)."""
    entity, project, run_id = run_path(entity, project, run_id)
    done = await run_in_threadpool(manage.trash, request.app.state.db, user, entity, project, [run_id])
    if not done.changed:
        raise not_found(f"run {entity}/{project}/{run_id}")
    request.app.state.live.publish_runs_changed(entity, project, done.changed)
    return Response(status_code=204)


@router.post("/runs/{entity}/{project}/{run_id}/restore", status_code=204)
async def restore_run(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Response:
    """Take the run out of the trash."""
    entity, project, run_id = run_path(entity, project, run_id)
    done = await run_in_threadpool(manage.restore, request.app.state.db, user, entity, project, [run_id])
    if not done.changed:
        raise not_found(f"run {entity}/{project}/{run_id} in the trash")
    request.app.state.live.publish_runs_changed(entity, project, done.changed)
    return Response(status_code=204)


@router.post("/runs/{entity}/{project}/{run_id}/stop", status_code=204)
async def stop_run(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Response:
    """Ask a running run to stop (the web app's stop button): its client ends the script at its
    next poll, and the run ends as its client reports it. 409 if the run has ended."""
    entity, project, run_id = run_path(entity, project, run_id)
    await run_in_threadpool(manage.stop, request.app.state.db, user, entity, project, run_id)
    request.app.state.live.publish_runs_changed(entity, project, [run_id])
    return Response(status_code=204)


@router.post(
    "/runs/{entity}/{project}/{run_id}/rewind",
    response_model=RunRewound,
    openapi_extra=json_body_schema(RewindTo),
)
async def rewind_run(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Any:
    """Rewind the run to a step of its history (``init(resume_from="<run>?_step=N")``): the rows
    after it are gone from every read, its summary goes back to what they had not set, and it
    logs on from the next step. 400 for a step the run has not logged."""
    entity, project, run_id = run_path(entity, project, run_id)
    body = await read_json(request, RewindTo, 4096)
    db = request.app.state.db
    done = await run_in_threadpool(manage.rewind, db, user, entity, project, run_id, body.step)
    request.app.state.live.publish_rewound(entity, project, run_id, done.keys, done.cut)
    return {"last_step": done.run.last_step, "rows": done.rows}


@router.post(
    "/projects/{entity}/{project}/runs/bulk",
    response_model=BulkOutcome,
    openapi_extra=json_body_schema(BulkAction),
)
async def bulk(entity: str, project: str, request: Request, user: Writer) -> Any:
    """Tag, untag, delete, restore or move many runs at once (``move``: finished runs only, to a
    project you may write; refused whole if one is running or the target has its id)."""
    entity, project = project_path(entity, project)
    body = await read_json(request, BulkAction)
    check_texts(body.runs, body.tags)
    db = request.app.state.db
    if body.action in ("tag", "untag"):
        if not body.tags:
            raise InvalidRequest(f"{body.action} needs tags")
        add, remove = (body.tags, []) if body.action == "tag" else ([], body.tags)
        done = await run_in_threadpool(manage.retag, db, user, entity, project, body.runs, add, remove)
    elif body.action == "move":
        done = await run_in_threadpool(_move, db, user, entity, project, body)
    else:
        change = manage.trash if body.action == "delete" else manage.restore
        done = await run_in_threadpool(change, db, user, entity, project, body.runs)
    request.app.state.live.publish_runs_changed(entity, project, done.changed)
    if body.action == "move" and body.to:
        request.app.state.live.publish_runs_changed(*body.to.split("/", 1), done.changed)
    return {"changed": done.changed, "missing": done.missing}


def _move(db: Any, user: Any, entity: str, project: str, body: BulkAction) -> manage.Outcome:
    parts = (body.to or "").split("/")
    if len(parts) != 2:
        raise InvalidRequest(f"move needs `to` as entity/project, got {body.to!r}")
    to_entity, to_project = project_path(*parts)
    with db.read() as conn:
        require_writer(conn, user, to_entity)
    return manage.move(db, user, entity, project, body.runs, to_entity, to_project)


@router.get("/projects/{entity}/{project}/trash", response_model=list[TrashedRun])
def run_trash(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """The runs in the project's trash, most recently deleted first, with when each is purged."""
    entity, project = project_path(entity, project)
    keep = request.app.state.config.run_trash_max_age
    with request.app.state.db.read() as conn:
        pid = q.project_id(conn, entity, project)
        if pid is None:
            raise not_found(f"project {entity}/{project}")
        rows = conn.execute(
            sa.select(runs.c.run_id, runs.c.name, runs.c.state, runs.c.deleted_at)
            .where(runs.c.project_id == pid, runs.c.deleted_at.is_not(None))
            .order_by(runs.c.deleted_at.desc(), runs.c.run_id)
        ).all()
    return [
        {
            "id": r.run_id,
            "name": r.name,
            "state": r.state,
            "deleted_at": r.deleted_at,
            "purge_at": r.deleted_at + keep,
        }
        for r in rows
    ]
