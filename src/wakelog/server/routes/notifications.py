"""Notifications: your bell, your subscriptions, a project's team channels and metric rules.

Your own (signed in; no entity role):

* ``GET /api/v1/notifications`` (``?unread=true``, ``before=<id>``, ``limit``) — newest first, with
  the ``unread`` count; ``GET …/notifications/unread`` the count alone; ``POST
  …/notifications/read`` ``{"ids": [...]}`` or ``{"all": true}`` marks them read;
  ``GET …/notifications/events`` pushes new ones live (routes/events.py).
* ``GET``/``PUT /api/v1/notifications/settings`` — where events of your own runs go
  (server/notify/settings.py; default: in-app, every event).

Under a project:

* ``GET``/``PUT …/projects/{entity}/{project}/subscription`` — your subscription to every run of
  the project (``viewer``: you read them anyway).
* ``GET``/``PUT …/projects/{entity}/{project}/notification-settings`` — the project's team
  channels, e-mail and webhooks (``admin``: webhook URLs carry their platform's token).
* ``GET …/projects/{entity}/{project}/alert-rules`` (``viewer``), ``POST`` (``member``) and
  ``DELETE …/alert-rules/{rule_id}`` (``member``) — metric threshold rules.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from wakelog.server.auth import User, authenticate
from wakelog.server.body import json_body_schema, read_json
from wakelog.server.errors import InvalidRequest
from wakelog.server.http import RowCursor, RowId, not_found, project_path, refuse_nul
from wakelog.server.notify import inbox, rules
from wakelog.server.notify import settings as settings_
from wakelog.server.permissions import EntityAdmin, Viewer, Writer
from wakelog.server.query.runs import project_id

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
CurrentUser = Annotated[User, Depends(authenticate)]


class ReadRequest(BaseModel):
    ids: list[int] | None = Field(default=None, max_length=1000)
    all: bool = False


# -- the bell --------------------------------------------------------------------------------------
@router.get("/notifications")
def list_notifications(
    request: Request,
    user: CurrentUser,
    unread: bool = False,
    before: RowCursor = None,
    limit: Annotated[int, Query(ge=1, le=inbox.MAX_PAGE)] = 50,
) -> Any:
    """Your notifications, newest first (``before``: an id, to page back), and the unread count."""
    with request.app.state.db.read() as conn:
        return inbox.listing(conn, user.id, only_unread=unread, before=before, limit=limit)


@router.get("/notifications/unread")
def unread_count(request: Request, user: CurrentUser) -> Any:
    """How many of your notifications are unread."""
    with request.app.state.db.read() as conn:
        return {"unread": inbox.unread(conn, user.id)}


@router.post("/notifications/read", openapi_extra=json_body_schema(ReadRequest))
async def mark_read(request: Request, user: CurrentUser) -> Any:
    """Mark notifications read: ``{"ids": [...]}`` or ``{"all": true}``; answers the unread count."""
    body = await read_json(request, ReadRequest)
    if body.ids is None and not body.all:
        raise InvalidRequest('say which: {"ids": [...]} or {"all": true}')
    ids = None if body.all else body.ids

    def mark() -> int:
        with request.app.state.db.write() as conn:
            return inbox.mark_read(conn, user.id, ids)

    return {"unread": await run_in_threadpool(mark)}


# -- settings --------------------------------------------------------------------------------------
def _check_email(request: Request, targets: list[dict[str, Any]]) -> None:
    if any(t["channel"] == "email" for t in targets) and not request.app.state.config.smtp_host:
        raise InvalidRequest(
            "this server sends no e-mail: its admin sets one with `wakelog server --smtp-host`"
        )


async def _put_settings(
    request: Request, scope_of: Any, owner: int | None, where: tuple[str, str] | None, personal: bool
) -> Any:
    body = await read_json(request, settings_.Settings)
    targets = settings_.check_targets(body, personal=personal)
    _check_email(request, targets)

    def save() -> Any:
        with request.app.state.db.write() as conn:
            project = _project(conn, where) if where is not None else None
            return settings_.write(conn, scope_of(project), targets, owner, project)

    return await run_in_threadpool(save)


def _project(conn: sa.Connection, where: tuple[str, str]) -> int:
    found = project_id(conn, *where)
    if found is None:
        raise not_found(f"project {where[0]}/{where[1]}")
    return found


def _get_settings(request: Request, scope_of: Any, where: tuple[str, str] | None, default: Any = None) -> Any:
    with request.app.state.db.read() as conn:
        project = _project(conn, where) if where is not None else None
        return settings_.read(conn, scope_of(project), default)


@router.get("/notifications/settings")
def get_my_settings(request: Request, user: CurrentUser) -> Any:
    """Where events of your own runs go (the default until you save: in-app, every event)."""
    return _get_settings(request, lambda _: settings_.user_scope(user.id), None, settings_.DEFAULT_TARGETS)


@router.put("/notifications/settings", openapi_extra=json_body_schema(settings_.Settings))
async def put_my_settings(request: Request, user: CurrentUser) -> Any:
    """Replace where events of your own runs go."""
    return await _put_settings(request, lambda _: settings_.user_scope(user.id), user.id, None, True)


@router.get("/projects/{entity}/{project}/subscription")
def get_subscription(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """Your subscription to every run of the project (none until you save one)."""
    where = project_path(entity, project)
    return _get_settings(request, lambda pid: settings_.user_scope(user.id, pid), where)


@router.put("/projects/{entity}/{project}/subscription", openapi_extra=json_body_schema(settings_.Settings))
async def put_subscription(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """Subscribe to the project's runs (``{"targets": []}`` unsubscribes)."""
    where = project_path(entity, project)
    return await _put_settings(request, lambda pid: settings_.user_scope(user.id, pid), user.id, where, True)


@router.get("/projects/{entity}/{project}/notification-settings")
def get_project_settings(entity: str, project: str, request: Request, user: EntityAdmin) -> Any:
    """The project's team channels (e-mail addresses and webhooks)."""
    return _get_settings(request, settings_.project_scope, project_path(entity, project))


@router.put(
    "/projects/{entity}/{project}/notification-settings", openapi_extra=json_body_schema(settings_.Settings)
)
async def put_project_settings(entity: str, project: str, request: Request, user: EntityAdmin) -> Any:
    """Replace the project's team channels."""
    return await _put_settings(request, settings_.project_scope, None, project_path(entity, project), False)


# -- metric rules ----------------------------------------------------------------------------------
@router.get("/projects/{entity}/{project}/alert-rules")
def list_alert_rules(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """The project's metric threshold rules."""
    with request.app.state.db.read() as conn:
        found = _project(conn, project_path(entity, project))
        return {"rules": [rules.rule_json(rule) for rule in rules.list_rules(conn, found)]}


@router.post(
    "/projects/{entity}/{project}/alert-rules", status_code=201, openapi_extra=json_body_schema(rules.NewRule)
)
async def create_alert_rule(entity: str, project: str, request: Request, user: Writer) -> Any:
    """Add a rule: ``{"key": "eval/acc", "op": "<", "value": 0.5, "after_step": 1000}`` fires a
    ``threshold`` event once per run, at the first such point."""
    body = await read_json(request, rules.NewRule)
    where = project_path(entity, project)

    def create() -> Any:
        with request.app.state.db.write() as conn:
            return rules.rule_json(rules.create_rule(conn, _project(conn, where), body, user.id))

    return await run_in_threadpool(create)


@router.delete("/projects/{entity}/{project}/alert-rules/{rule_id}", status_code=204)
def delete_alert_rule(entity: str, project: str, rule_id: RowId, request: Request, user: Writer) -> Response:
    """Delete a rule (runs it fired for keep their notifications)."""
    where = project_path(entity, project)
    with request.app.state.db.write() as conn:
        if not rules.delete_rule(conn, _project(conn, where), rule_id):
            raise not_found(f"alert rule {rule_id} of {where[0]}/{where[1]}")
    return Response(status_code=204)
