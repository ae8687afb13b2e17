"""Query API: entities and projects.

``GET /api/v1/entities``, ``GET /api/v1/entities/{entity}/projects``, ``GET /api/v1/projects``
(every project, optionally by ``entity`` and ``name``), ``GET /api/v1/projects/{entity}/{project}``
(with run counts by state), ``GET /api/v1/projects/{entity}/{project}/keys`` (the metric and
config keys its runs use, for column pickers), and ``GET``/``PUT …/workspace`` (the signed-in
user's chart layout of the project, kept for them on the server). Listings show only the
entities the caller may read (and projects open to every signed-in user); everything under an
entity needs its ``viewer`` role.

Managing a project (``server/manage/projects.py``): ``PATCH …/{project}`` sets its
``description`` and ``pinned_runs`` (``member``) and its ``name`` and ``visibility`` (``admin``);
``DELETE`` puts it in the entity's trash and ``POST …/restore`` takes it out (``admin``);
``GET /api/v1/entities/{entity}/trash`` lists the trash; ``GET …/overview`` has its description,
pinned and latest runs and the best run by a metric.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from wakelog.server.auth import User, authenticate
from wakelog.server.body import json_body_schema, read_json, read_json_object
from wakelog.server.errors import InvalidRequest
from wakelog.server.http import check_texts, entity_name, json_response, not_found, project_path, refuse_nul
from wakelog.server.manage import projects as manage
from wakelog.server.permissions import (
    EntityAdmin,
    Viewer,
    Writer,
    readable_entities,
    readable_projects,
    require,
)
from wakelog.server.query import runs as q
from wakelog.server.reports.layout import check_layout
from wakelog.store.schema import entities, workspaces
from wakelog.store.upsert import upsert

#: A layout is a small JSON object (panels removed, added, resized; sections and their panels);
#: anything bigger is a mistake.
MAX_LAYOUT_BYTES = 64 * 1024

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
CurrentUser = Annotated[User, Depends(authenticate)]


class EntityOut(BaseModel):
    name: str
    created_at: float
    projects: int


class ProjectOut(BaseModel):
    entity: str
    name: str
    created_at: float
    updated_at: float
    runs: int


class ProjectDetail(ProjectOut):
    states: dict[str, int]
    description: str | None
    visibility: str
    pinned_runs: list[str]


class ProjectEdit(BaseModel):
    """The settings to change; those left out keep their values."""

    description: Annotated[str, StringConstraints(max_length=64 * 1024)] | None = None
    pinned_runs: (
        Annotated[list[Annotated[str, StringConstraints(max_length=128)]], Field(max_length=100)] | None
    ) = None
    name: Annotated[str, StringConstraints(max_length=128)] | None = Field(None, description="rename (admin)")
    visibility: Literal["members", "signed_in"] | None = Field(None, description="who reads it (admin)")


class TrashedProject(BaseModel):
    name: str
    deleted_at: float
    purge_at: float


class ProjectOverview(BaseModel):
    description: str | None
    visibility: str
    pinned_runs: list[str]
    pinned: list[dict[str, Any]]
    latest: list[dict[str, Any]]
    best: dict[str, Any] | None


class ProjectKeys(BaseModel):
    summary: list[str]
    config: list[str]
    #: define_metric name or ``prefix/*`` glob -> its step_metric (``eval/*`` -> ``epoch``)
    step_metrics: dict[str, str]


@router.get("/entities", response_model=list[EntityOut])
def list_entities(request: Request, user: CurrentUser) -> Any:
    """The entities (user or team namespaces) you may read, with their number of projects."""
    with request.app.state.db.read() as conn:
        return json_response(q.list_entities(conn, readable_entities(user)))


@router.get("/entities/{entity}/projects", response_model=list[ProjectOut])
def entity_projects(entity: str, request: Request, user: Viewer) -> Any:
    """An entity's projects, most recently updated first."""
    entity = entity_name(entity)
    with request.app.state.db.read() as conn:
        found = q.list_projects(conn, entity)
        if not found and not q.list_entities(conn, entities.c.name == entity):
            raise not_found(f"entity {entity!r}")
    return json_response(found)


@router.get("/projects", response_model=list[ProjectOut])
def all_projects(
    request: Request,
    user: CurrentUser,
    entity: Annotated[str | None, Query(description="only this entity's projects")] = None,
    name: Annotated[str | None, Query(description="only projects with this name")] = None,
) -> Any:
    """Every project of the entities you may read, most recently updated first."""
    with request.app.state.db.read() as conn:
        return json_response(q.list_projects(conn, entity, name, readable_projects(user)))


@router.get("/projects/{entity}/{project}", response_model=ProjectDetail)
def project_detail(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """A project, with how many of its runs are in each state."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        detail = q.project_detail(conn, entity, project, q.context(conn, request.app.state.config))
        if detail is None:
            raise not_found(f"project {entity}/{project}")
        detail.update(manage.settings(conn, entity, project))
    return json_response(detail)


@router.patch(
    "/projects/{entity}/{project}", response_model=ProjectDetail, openapi_extra=json_body_schema(ProjectEdit)
)
async def edit_project(entity: str, project: str, request: Request, user: Writer) -> Any:
    """Change the project's description or pinned runs (member), its name or visibility (admin)."""
    entity, project = project_path(entity, project)
    body = await read_json(request, ProjectEdit)
    changes = body.model_dump(include=body.model_fields_set)
    if changes.get("name", "") is None or changes.get("visibility", "") is None:
        raise InvalidRequest("name and visibility cannot be null")
    if "name" in changes:
        project_path(entity, changes["name"])
    if "pinned_runs" in changes:
        changes["pinned_runs"] = list(dict.fromkeys(changes["pinned_runs"] or []))
    check_texts(changes.get("description"), changes.get("pinned_runs"))
    return await run_in_threadpool(_edit_project, request, user, entity, project, changes)


def _edit_project(request: Request, user: User, entity: str, project: str, changes: dict[str, Any]) -> Any:
    db = request.app.state.db
    if not manage.MEMBER_SETTINGS.issuperset(changes):
        with db.read() as conn:
            require(conn, user, entity, "admin", missing=f"project {entity}/{project}")
    name = manage.edit(db, user, entity, project, changes)
    return project_detail(entity, name, request, user)


@router.delete("/projects/{entity}/{project}", status_code=204)
def delete_project(entity: str, project: str, request: Request, user: EntityAdmin) -> Response:
    """Put the project, with its runs, in the entity's trash (admin; 30 days by default)."""
    entity, project = project_path(entity, project)
    manage.trash(request.app.state.db, user, entity, project)
    return Response(status_code=204)


@router.post("/projects/{entity}/{project}/restore", status_code=204)
def restore_project(entity: str, project: str, request: Request, user: EntityAdmin) -> Response:
    """Take the project out of the trash, with its runs as they were (admin)."""
    entity, project = project_path(entity, project)
    manage.restore(request.app.state.db, user, entity, project)
    return Response(status_code=204)


@router.get("/entities/{entity}/trash", response_model=list[TrashedProject])
def project_trash(entity: str, request: Request, user: Viewer) -> Any:
    """The entity's projects in the trash, most recently deleted first, with when each is purged."""
    entity = entity_name(entity)
    with request.app.state.db.read() as conn:
        return manage.trashed(conn, entity, request.app.state.config.run_trash_max_age)


@router.get("/projects/{entity}/{project}/overview", response_model=ProjectOverview)
def project_overview(
    entity: str,
    project: str,
    request: Request,
    user: Viewer,
    metric: Annotated[
        str | None, Query(max_length=256, description="the summary key of the best run")
    ] = None,
    goal: Annotated[Literal["max", "min"], Query()] = "max",
    latest: Annotated[int, Query(ge=0, le=100)] = 5,
) -> Any:
    """The project at a glance: description, pinned runs, the latest runs, the best by ``metric``."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        ctx = q.context(conn, request.app.state.config)
        found = manage.overview(conn, entity, project, ctx, metric=metric, goal=goal, latest=latest)
    return json_response(found)


@router.get("/projects/{entity}/{project}/keys", response_model=ProjectKeys)
def project_keys(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """The metric keys (as in the summaries table) and config key paths the project's runs use."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        if q.project_id(conn, entity, project) is None:
            raise not_found(f"project {entity}/{project}")
        return json_response(q.project_keys(conn, entity, project))


class WorkspaceOut(BaseModel):
    layout: dict[str, Any] | None
    updated_at: float | None


@router.get("/projects/{entity}/{project}/workspace", response_model=WorkspaceOut)
def get_workspace(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """Your saved chart layout of this project (``null`` until you change one)."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        pid = q.project_id(conn, entity, project)
        if pid is None:
            raise not_found(f"project {entity}/{project}")
        row = conn.execute(
            sa.select(workspaces.c.layout, workspaces.c.updated_at).where(
                workspaces.c.user_id == user.id, workspaces.c.project_id == pid
            )
        ).first()
    return {"layout": row.layout if row else None, "updated_at": row.updated_at if row else None}


@router.put("/projects/{entity}/{project}/workspace", response_model=WorkspaceOut)
async def put_workspace(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """Save your chart layout of this project: a JSON object of at most 64 KiB. It is your view of
    the project, so reading it (``viewer``) is enough. Its ``sections`` and ``panels`` (the panel
    system: report panel kinds, checked as a report's are) get a 422 naming the field when wrong."""
    entity, project = project_path(entity, project)
    layout = check_layout(await read_json_object(request, MAX_LAYOUT_BYTES))
    now = await run_in_threadpool(_save_workspace, request.app.state.db, entity, project, user.id, layout)
    return {"layout": layout, "updated_at": now}


def _save_workspace(db: Any, entity: str, project: str, user_id: int, layout: dict[str, Any]) -> float:
    with db.write() as conn:
        pid = q.project_id(conn, entity, project)
        if pid is None:
            raise not_found(f"project {entity}/{project}")
        now = time.time()
        row = {"user_id": user_id, "project_id": pid, "layout": layout, "updated_at": now}
        upsert(conn, workspaces, [row], ["user_id", "project_id"], update=["layout", "updated_at"])
    return now
