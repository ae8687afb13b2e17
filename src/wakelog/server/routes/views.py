"""Saved views: named workspace states of a project, opened by id (the web app puts it in the
address, so a link opens the same view), one of them the project's default.

Who may do what and what is audited: ``server/saved_views/store.py``; what a state may hold:
``server/saved_views/state.py`` (422 naming the field; nothing is stored then).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from pydantic import Field as PydanticField
from starlette.concurrency import run_in_threadpool

from wakelog.server.body import json_body_schema, read_json_object
from wakelog.server.errors import ValidationFailed
from wakelog.server.http import json_response, project_path, refuse_nul
from wakelog.server.permissions import Viewer, Writer
from wakelog.server.saved_views import store
from wakelog.server.saved_views.state import MAX_NAME, MAX_STATE_BYTES, check_name, check_state

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
VIEWS = "/projects/{entity}/{project}/views"
VIEW = VIEWS + "/{view_id}"
#: A body at most: the state and its name; a bigger state is refused by size (422) below this.
MAX_BODY = 2 * MAX_STATE_BYTES


# -- models (OpenAPI; bodies are read with read_json_object and checked by saved_views/state.py) ----
class ViewState(BaseModel):
    params: dict[str, str] = PydanticField(
        default_factory=dict, description="workspace URL parameters: filter, order, view, x, legend, …"
    )
    layout: dict[str, Any] | None = PydanticField(None, description="the panel layout")


class ViewListed(BaseModel):
    id: str
    name: str
    is_default: bool
    created_by: str
    created_at: float
    updated_at: float


class SavedView(ViewListed):
    entity: str
    project: str
    state: ViewState


class ViewNew(BaseModel):
    name: str = PydanticField(min_length=1, max_length=MAX_NAME)
    state: ViewState
    is_default: bool = False


class ViewChange(BaseModel):
    name: str | None = PydanticField(None, min_length=1, max_length=MAX_NAME)
    state: ViewState | None = None
    is_default: bool | None = PydanticField(
        None, description="true: the project's default (the one before stops being it)"
    )


# -- helpers ---------------------------------------------------------------------------------------
async def _changes(request: Request, required: tuple[str, ...]) -> dict[str, Any]:
    """The body's fields, each checked; 422 naming the first that is unknown, missing or wrong."""
    body = await read_json_object(request, MAX_BODY)
    allowed = ("name", "state", "is_default")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ValidationFailed(f"{unknown[0]} is not a field of a view (allowed: {', '.join(allowed)})")
    missing = [name for name in required if name not in body]
    if missing:
        raise ValidationFailed(f"the body needs {missing[0]}")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = check_name(body["name"])
    if "state" in body:
        changes["state"] = await run_in_threadpool(check_state, body["state"])
    if "is_default" in body:
        if not isinstance(body["is_default"], bool):
            raise ValidationFailed("is_default must be true or false")
        changes["is_default"] = body["is_default"]
    return changes


def _write(request: Request, call: Any, *args: Any) -> Any:
    with request.app.state.db.write() as conn:
        return call(conn, *args)


# -- routes ----------------------------------------------------------------------------------------
@router.get(VIEWS, response_model=list[ViewListed])
def list_views(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """The project's saved views by name (without their states)."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        return json_response(store.listing(conn, user, entity, project))


@router.post(VIEWS, response_model=SavedView, status_code=201, openapi_extra=json_body_schema(ViewNew))
async def create_view(entity: str, project: str, request: Request, user: Writer) -> Any:
    """Save a workspace state under a name unique in the project (409 if taken)."""
    entity, project = project_path(entity, project)
    made = await _changes(request, ("name", "state"))
    args = (user, entity, project, made["name"], made["state"], made.get("is_default", False))
    return json_response(await run_in_threadpool(_write, request, store.create, *args), status_code=201)


@router.get(VIEW, response_model=SavedView)
def get_view(entity: str, project: str, view_id: str, request: Request, user: Viewer) -> Any:
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        return json_response(store.get(conn, user, entity, project, store.check_view_id(view_id)))


@router.patch(VIEW, response_model=SavedView, openapi_extra=json_body_schema(ViewChange))
async def change_view(entity: str, project: str, view_id: str, request: Request, user: Writer) -> Any:
    """Rename, replace the state, make (or stop being) the project's default — all or nothing.
    Renaming or replacing someone else's view needs the admin role."""
    entity, project = project_path(entity, project)
    view_id = store.check_view_id(view_id)
    changes = await _changes(request, ())
    args = (user, entity, project, view_id, changes)
    return json_response(await run_in_threadpool(_write, request, store.change, *args))


@router.delete(VIEW, status_code=204)
def delete_view(entity: str, project: str, view_id: str, request: Request, user: Writer) -> Response:
    """Delete the view (its author, or an admin of the entity)."""
    entity, project = project_path(entity, project)
    _write(request, store.delete, user, entity, project, store.check_view_id(view_id))
    return Response(status_code=204)
