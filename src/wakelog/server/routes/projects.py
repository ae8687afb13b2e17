"""Query API: entities and projects.

``GET /api/v1/entities``, ``GET /api/v1/entities/{entity}/projects``, ``GET /api/v1/projects``
(every project, optionally by ``entity`` and ``name``), ``GET /api/v1/projects/{entity}/{project}``
(with run counts by state) and ``GET /api/v1/projects/{entity}/{project}/keys`` (the metric and
config keys its runs use, for column pickers).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from wakelog.server.auth import User, authenticate
from wakelog.server.query import runs as q
from wakelog.server.query.web import entity_name, json_response, not_found, project_path, refuse_nul

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
    """Every entity (user or team namespace) with its number of projects."""
    with request.app.state.db.read() as conn:
        return json_response(q.list_entities(conn))


@router.get("/entities/{entity}/projects", response_model=list[ProjectOut])
def entity_projects(entity: str, request: Request, user: CurrentUser) -> Any:
    """An entity's projects, most recently updated first."""
    entity = entity_name(entity)
    with request.app.state.db.read() as conn:
        found = q.list_projects(conn, entity)
        if not found and not any(e["name"] == entity for e in q.list_entities(conn)):
            raise not_found(f"entity {entity!r}")
    return json_response(found)


@router.get("/projects", response_model=list[ProjectOut])
def all_projects(
    request: Request,
    user: CurrentUser,
    entity: Annotated[str | None, Query(description="only this entity's projects")] = None,
    name: Annotated[str | None, Query(description="only projects with this name")] = None,
) -> Any:
    """Every project, most recently updated first."""
    with request.app.state.db.read() as conn:
        return json_response(q.list_projects(conn, entity, name))


@router.get("/projects/{entity}/{project}", response_model=ProjectDetail)
def project_detail(entity: str, project: str, request: Request, user: CurrentUser) -> Any:
    """A project, with how many of its runs are in each state."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        detail = q.project_detail(conn, entity, project, q.context(conn, request.app.state.config))
    if detail is None:
        raise not_found(f"project {entity}/{project}")
    return json_response(detail)


@router.get("/projects/{entity}/{project}/keys", response_model=ProjectKeys)
def project_keys(entity: str, project: str, request: Request, user: CurrentUser) -> Any:
    """The metric keys (as in the summaries table) and config key paths the project's runs use."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        if q.project_id(conn, entity, project) is None:
            raise not_found(f"project {entity}/{project}")
        return json_response(q.project_keys(conn, entity, project))
