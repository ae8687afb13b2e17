"""Storage quotas and usage (server/quotas.py).

``GET /api/v1/usage``: your own usage and limits, and those of the entities you administer (the
Settings page). ``GET …/quota`` of an entity (its admins) or a user (themselves); ``PUT`` sets the
limits (server admins; ``null`` is unlimited), ``DELETE`` goes back to the server's defaults.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from wakelog.server import quotas, teams
from wakelog.server.auth import User, authenticate
from wakelog.server.body import json_body_schema, read_json
from wakelog.server.errors import NotFound
from wakelog.server.http import entity_name, refuse_nul
from wakelog.server.permissions import EntityAdmin, require_server_admin

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
CurrentUser = Annotated[User, Depends(authenticate)]
_MAX = 2**63 - 1


class QuotaLimits(BaseModel):
    max_bytes: int | None = Field(None, ge=0, le=_MAX, description="bytes of file content; null: unlimited")
    max_rows: int | None = Field(
        None, ge=0, le=_MAX, description="metric points, console lines and media rows; null: unlimited"
    )


class QuotaOut(BaseModel):
    kind: str = Field(description="user or entity")
    name: str
    bytes: int = Field(description="file content stored (a user's: uploaded, unfinished uploads included)")
    rows: int = Field(description="metric points, console lines and media rows")
    max_bytes: int | None
    max_rows: int | None
    custom: bool = Field(description="set for this user or entity (else the server's defaults)")


class UsageOut(BaseModel):
    user: QuotaOut
    entities: list[QuotaOut] = Field(description="the entities you administer")


def _quota_json(quota: quotas.Quota) -> dict[str, Any]:
    return {
        "kind": quota.kind,
        "name": quota.name,
        "bytes": quota.usage.bytes,
        "rows": quota.usage.rows,
        "max_bytes": quota.limits.max_bytes,
        "max_rows": quota.limits.max_rows,
        "custom": quota.custom,
    }


def _quota(request: Request, kind: str, name: str) -> dict[str, Any]:
    state = request.app.state
    return _quota_json(quotas.quota_of(state.db, state.config, kind, name, state.blobs))


def _usage(request: Request, user: User) -> dict[str, Any]:
    administered = [m.entity for m in teams.memberships(request.app.state.db, user.id) if m.role == "admin"]
    return {
        "user": _quota(request, "user", user.username),
        "entities": [_quota(request, "entity", entity) for entity in administered],
    }


@router.get("/usage", response_model=UsageOut)
def my_usage(request: Request, user: CurrentUser) -> Any:
    """Your storage usage and quota, and those of the entities you administer."""
    return _usage(request, user)


async def _set(request: Request, kind: str, name: str) -> dict[str, Any]:
    body = await read_json(request, QuotaLimits)
    limits = quotas.Limits(body.max_bytes, body.max_rows)
    await run_in_threadpool(quotas.set_quota, request.app.state.db, kind, name, limits)
    request.app.state.quotas.forget()
    return await run_in_threadpool(_quota, request, kind, name)


def _reset(request: Request, kind: str, name: str) -> Response:
    quotas.set_quota(request.app.state.db, kind, name, None)
    request.app.state.quotas.forget()
    return Response(status_code=204)


# -- entities --------------------------------------------------------------------------------------
@router.get("/entities/{entity}/quota", response_model=QuotaOut)
def entity_quota(entity: str, request: Request, user: EntityAdmin) -> Any:
    """The entity's storage usage and quota (its admins)."""
    return _quota(request, "entity", entity_name(entity))


@router.put("/entities/{entity}/quota", response_model=QuotaOut, openapi_extra=json_body_schema(QuotaLimits))
async def set_entity_quota(entity: str, request: Request, user: EntityAdmin) -> Any:
    """Set the entity's quota (server admins)."""
    require_server_admin(user)
    return await _set(request, "entity", entity_name(entity))


@router.delete("/entities/{entity}/quota", status_code=204)
def reset_entity_quota(entity: str, request: Request, user: EntityAdmin) -> Response:
    """Give the entity the server's default quota again (server admins)."""
    require_server_admin(user)
    return _reset(request, "entity", entity_name(entity))


# -- users -----------------------------------------------------------------------------------------
@router.get("/users/{username}/quota", response_model=QuotaOut)
def user_quota(username: str, request: Request, user: CurrentUser) -> Any:
    """A user's storage usage and quota (the user themselves, or server admins)."""
    if username != user.username and not user.is_admin:
        raise NotFound(f"no user {username!r}")
    return _quota(request, "user", username)


@router.put("/users/{username}/quota", response_model=QuotaOut, openapi_extra=json_body_schema(QuotaLimits))
async def set_user_quota(username: str, request: Request, user: CurrentUser) -> Any:
    """Set a user's quota (server admins)."""
    require_server_admin(user)
    return await _set(request, "user", username)


@router.delete("/users/{username}/quota", status_code=204)
def reset_user_quota(username: str, request: Request, user: CurrentUser) -> Response:
    """Give the user the server's default quota again (server admins)."""
    require_server_admin(user)
    return _reset(request, "user", username)
