"""Query API: entities and projects.

``GET /api/v1/entities``, ``GET /api/v1/entities/{entity}/projects``, ``GET /api/v1/projects``
(every project, optionally by ``entity`` and ``name``), ``GET /api/v1/projects/{entity}/{project}``
(with run counts by state), ``GET /api/v1/projects/{entity}/{project}/keys`` (the metric and
config keys its runs use, for column pickers), and ``GET``/``PUT …/workspace`` (the signed-in
user's chart layout of the project, kept for them on the server). Listings show only the
entities the caller may read; everything under an entity needs its ``viewer`` role.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from wakelog.server.auth import User, authenticate
from wakelog.server.body import read_json_object
from wakelog.server.http import entity_name, json_response, not_found, project_path, refuse_nul
from wakelog.server.permissions import Viewer, readable_entities
from wakelog.server.query import runs as q
from wakelog.store.schema import entities, workspaces
from wakelog.store.upsert import upsert

#: A layout is a small JSON object (panels removed, added, resized); anything bigger is a mistake.
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


class ProjectKeys(BaseModel):
    summary: list[str]
    config: list[str]


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
        return json_response(q.list_projects(conn, entity, name, readable_entities(user)))


@router.get("/projects/{entity}/{project}", response_model=ProjectDetail)
def project_detail(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """A project, with how many of its runs are in each state."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        detail = q.project_detail(conn, entity, project, q.context(conn, request.app.state.config))
    if detail is None:
        raise not_found(f"project {entity}/{project}")
    return json_response(detail)


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
    the project, so reading it (``viewer``) is enough."""
    entity, project = project_path(entity, project)
    layout = await read_json_object(request, MAX_LAYOUT_BYTES)
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
