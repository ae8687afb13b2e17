"""Entities and their members.

``POST /api/v1/entities`` creates a team entity (server admins). ``GET
/api/v1/entities/{entity}/members`` lists its members (``viewer``); ``PUT`` and ``DELETE
…/members/{username}`` add one or change their role, and take one out (the entity's ``admin``, or
a server admin). Writes follow the session rules of every other write (CSRF token for cookies).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from wakelog.server import teams
from wakelog.server.auth import User, authenticate
from wakelog.server.body import json_body_schema, read_json
from wakelog.server.http import refuse_nul
from wakelog.server.permissions import EntityAdmin, Viewer, require_server_admin

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
CurrentUser = Annotated[User, Depends(authenticate)]


class NewEntity(BaseModel):
    name: str = Field(max_length=128)


class MemberRole(BaseModel):
    role: str = Field(max_length=16, description="viewer, member or admin")


def _team_json(team: teams.Team) -> dict[str, Any]:
    members = [_member_json(m) for m in team.members]
    return {"name": team.name, "created_at": team.created_at, "members": members}


def _member_json(member: teams.Member) -> dict[str, str]:
    return {"username": member.username, "role": member.role}


@router.post("/entities", status_code=201, openapi_extra=json_body_schema(NewEntity))
async def create_entity(request: Request, user: CurrentUser) -> Any:
    """Create a team entity (server admins only); add its members next."""
    require_server_admin(user)
    body = await read_json(request, NewEntity)
    made = await run_in_threadpool(partial(teams.create_team, actor=user), request.app.state.db, body.name)
    return _team_json(made)


@router.get("/entities/{entity}/members")
async def list_members(entity: str, request: Request, user: Viewer) -> Any:
    """The entity's members and their roles, by username."""
    members = await run_in_threadpool(teams.list_members, request.app.state.db, entity)
    return {"members": [_member_json(m) for m in members]}


@router.put("/entities/{entity}/members/{username}", openapi_extra=json_body_schema(MemberRole))
async def set_member(entity: str, username: str, request: Request, user: EntityAdmin) -> Any:
    """Add a member with a role, or change their role. The last admin cannot step down."""
    body = await read_json(request, MemberRole)
    db = request.app.state.db
    member = await run_in_threadpool(partial(teams.set_member, actor=user), db, entity, username, body.role)
    request.app.state.key_cache.clear()  # a lower role counts at once here
    request.app.state.live.publish_access_change(username)
    return _member_json(member)


@router.delete("/entities/{entity}/members/{username}", status_code=204)
async def remove_member(entity: str, username: str, request: Request, user: EntityAdmin) -> Response:
    """Take a member out of the entity (their runs stay; their open event streams there end).
    The last admin cannot go."""
    await run_in_threadpool(partial(teams.remove_member, actor=user), request.app.state.db, entity, username)
    request.app.state.key_cache.clear()  # a lower role counts at once here
    request.app.state.live.publish_access_change(username)
    return Response(status_code=204)
