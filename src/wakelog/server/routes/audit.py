"""The audit trail, read-only: ``GET /api/v1/audit`` (server admins: every entry) and
``GET /api/v1/entities/{entity}/audit`` (the entity's admins: its entries), newest first, a page
at a time (``before`` = the previous page's ``next_before``), filtered by ``action``; ``…/export``
streams all of them as JSON Lines. There is no route that changes or removes an entry
(``server/audit.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from wakelog.server import audit
from wakelog.server.auth import User, authenticate
from wakelog.server.http import RowCursor, entity_name, json_response, refuse_nul
from wakelog.server.permissions import EntityAdmin, require_server_admin

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
CurrentUser = Annotated[User, Depends(authenticate)]
Action = Annotated[
    str | None, Query(max_length=64, description="only entries of this action, e.g. `run.edit`")
]
Limit = Annotated[int, Query(ge=1, le=audit.MAX_PAGE)]


class AuditEntry(BaseModel):
    id: int
    time: float
    actor: str
    entity: str | None
    action: str
    target: str
    before: Any
    after: Any


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_before: int | None


def _page(request: Request, entity: str | None, action: str | None, before: int | None, limit: int) -> Any:
    with request.app.state.db.read() as conn:
        return json_response(audit.page(conn, entity=entity, action=action, before_id=before, limit=limit))


def _jsonl(request: Request, entity: str | None, action: str | None, name: str) -> StreamingResponse:
    def lines() -> Iterator[bytes]:
        for entry in audit.export(request.app.state.db, entity=entity, action=action):
            yield msgspec.json.encode(entry) + b"\n"

    headers = {"Content-Disposition": f'attachment; filename="{name}.jsonl"'}
    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)


@router.get("/audit", response_model=AuditPage)
def server_audit(
    request: Request, user: CurrentUser, action: Action = None, before: RowCursor = None, limit: Limit = 100
) -> Any:
    """Every audit entry, newest first (server admins)."""
    require_server_admin(user)
    return _page(request, None, action, before, limit)


@router.get("/audit/export", response_class=StreamingResponse)
def server_audit_export(request: Request, user: CurrentUser, action: Action = None) -> StreamingResponse:
    """Every audit entry as JSON Lines, newest first (server admins)."""
    require_server_admin(user)
    return _jsonl(request, None, action, "wakelog-audit")


@router.get("/entities/{entity}/audit", response_model=AuditPage)
def entity_audit(
    entity: str,
    request: Request,
    user: EntityAdmin,
    action: Action = None,
    before: RowCursor = None,
    limit: Limit = 100,
) -> Any:
    """The entity's audit entries, newest first (its admins)."""
    return _page(request, entity_name(entity), action, before, limit)


@router.get("/entities/{entity}/audit/export", response_class=StreamingResponse)
def entity_audit_export(
    entity: str, request: Request, user: EntityAdmin, action: Action = None
) -> StreamingResponse:
    """The entity's audit entries as JSON Lines, newest first (its admins)."""
    entity = entity_name(entity)
    return _jsonl(request, entity, action, f"{entity}-audit")
