"""Sign-in, browser sessions, API keys and users.

``POST /api/v1/auth/login`` takes ``{"username", "password"}`` or ``{"api_key"}`` and sets the
``wakelog_session`` cookie (HttpOnly, SameSite=Strict, Secure over https); its answer carries the
CSRF token that every cookie-authenticated write must send back as ``X-CSRF-Token``. Repeated
failures are slowed down per (client address, username) and per client address, in memory (per
process; see ``limits.py``).
``/api/v1/keys`` lists, creates and revokes the caller's API keys; ``/api/v1/users`` is for admins.

Request bodies are read only after the caller is known (a small cap, JSON only), so an anonymous
client cannot make the server read a large body, and a cross-site form cannot post here.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from wakelog.server import accounts, teams
from wakelog.server.accounts import KeyInfo, UserInfo
from wakelog.server.auth import SESSION_COOKIE, User, authenticate
from wakelog.server.body import json_body_schema, read_json
from wakelog.server.errors import BadCredentials, Conflict, Forbidden, ValidationFailed
from wakelog.server.limits import Limits, client_address, too_many
from wakelog.server.permissions import require_server_admin

router = APIRouter(prefix="/api/v1")
CurrentUser = Annotated[User, Depends(authenticate)]


# -- bodies ------------------------------------------------------------------------------------
class LoginBody(BaseModel):
    username: str | None = Field(None, max_length=64)
    password: str | None = Field(None, max_length=accounts.MAX_PASSWORD)
    api_key: str | None = Field(None, max_length=256)


class NewKey(BaseModel):
    name: str = Field("", max_length=accounts.MAX_KEY_NAME)
    user: str | None = Field(None, description="whose key (admins only; default: yours)")


class NewUser(BaseModel):
    username: str = Field(max_length=64)
    password: str | None = Field(None, description="default: a random one, in the answer")
    is_admin: bool = False


class NewPassword(BaseModel):
    password: str
    current_password: str | None = Field(None, description="needed to change your own password")


def _user_json(info: UserInfo) -> dict[str, Any]:
    return {"username": info.username, "is_admin": info.is_admin, "created_at": info.created_at}


def _key_json(info: KeyInfo) -> dict[str, Any]:
    return {
        "prefix": info.prefix,
        "name": info.name,
        "user": info.user,
        "created_at": info.created_at,
        "last_used_at": info.last_used_at,
        "revoked_at": info.revoked_at,
        "revoked": info.revoked,
    }


# -- sign-in -----------------------------------------------------------------------------------
def _limits(request: Request) -> Limits:
    return request.app.state.limits


def _signing_in_as(request: Request, username: str) -> str:
    """The throttle key of signing in as ``username`` from this address: failures from elsewhere
    never lock the owner out."""
    return f"{client_address(request)}|{username.lower()}"


def _access_changed(request: Request, username: str) -> None:
    """Let ``username``'s open event streams check at once whether they may go on, and this
    replica's cached key checks be made again (server/keycache.py)."""
    request.app.state.key_cache.clear()
    request.app.state.live.publish_access_change(username)


@router.post("/auth/login", openapi_extra=json_body_schema(LoginBody))
async def login(request: Request) -> Any:
    """Sign in with a username and password, or an API key; sets the session cookie.

    Answers ``{"user": {"username", "is_admin"}, "csrf_token"}``. Wrong credentials: 401 (the same
    answer for an unknown user, a wrong password or a bad key). Too many failures: 429.
    """
    body = await read_json(request, LoginBody)
    limits = _limits(request)
    by_user, by_address = limits.sign_in_by_user, limits.sign_in_by_address
    address = client_address(request)
    if body.api_key is not None and body.username is None and body.password is None:
        user_key = None
    elif body.api_key is None and body.username is not None and body.password is not None:
        user_key = _signing_in_as(request, body.username)
    else:
        raise ValidationFailed('send {"username", "password"} or {"api_key"}')
    wait = max(by_address.retry_after(address), by_user.retry_after(user_key) if user_key else 0.0)
    if wait > 0:
        raise too_many(wait, "too many failed sign-ins")
    db = request.app.state.db
    key_id = None
    if user_key is None:
        found = await run_in_threadpool(accounts.verify_key, db, body.api_key)
        user, key_id = found if found is not None else (None, None)
    else:
        user = await run_in_threadpool(accounts.verify_password, db, body.username, body.password)
    if user is None:
        by_address.failure(address)
        if user_key:
            by_user.failure(user_key)
        raise BadCredentials("wrong username or password, or wrong API key")
    if user_key:
        by_user.success(user_key)
    config = request.app.state.config
    token, csrf = await run_in_threadpool(
        accounts.start_session, db, user, config.session_seconds, key_id=key_id
    )
    response = JSONResponse(
        {"user": {"username": user.username, "is_admin": user.is_admin}, "csrf_token": csrf}
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(config.session_seconds),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, user: CurrentUser) -> Response:
    """End this browser session (the cookie stops working at once) and clear the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(accounts.end_session, request.app.state.db, token)
        _access_changed(request, user.username)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )
    return response


@router.get("/auth/me")
async def me(request: Request, user: CurrentUser) -> dict[str, Any]:
    """Who the caller is and the entities they are a member of (``memberships``: entity and role);
    for a browser session also its CSRF token (the cookie is HttpOnly)."""
    found = await run_in_threadpool(teams.memberships, request.app.state.db, user.id)
    answer: dict[str, Any] = {
        "username": user.username,
        "is_admin": user.is_admin,
        "memberships": [{"entity": m.entity, "role": m.role} for m in found],
    }
    csrf = getattr(request.state, "csrf_token", None)
    if csrf:
        answer["csrf_token"] = csrf
    return answer


# -- API keys ----------------------------------------------------------------------------------
@router.get("/keys")
async def list_keys(request: Request, user: CurrentUser, username: str | None = None) -> Any:
    """Your API keys (an admin may ask for another user's with ``?username=``): prefix, name,
    created, last used, revoked. Never the key or its hash."""
    if username is not None and username != user.username:
        require_server_admin(user)
    keys = await run_in_threadpool(accounts.list_api_keys, request.app.state.db, username or user.username)
    return {"keys": [_key_json(k) for k in keys]}


@router.post("/keys", status_code=201, openapi_extra=json_body_schema(NewKey))
async def create_key(request: Request, user: CurrentUser) -> Any:
    """A new API key; the answer's ``key`` is the only time it is shown."""
    body = await read_json(request, NewKey)
    owner = body.user or user.username
    if owner != user.username:
        require_server_admin(user)
    create = partial(accounts.create_api_key, actor=user)
    info, key = await run_in_threadpool(create, request.app.state.db, owner, body.name)
    return {**_key_json(info), "key": key}


@router.delete("/keys/{prefix}", status_code=204)
async def revoke_key(prefix: str, request: Request, user: CurrentUser) -> Response:
    """Revoke one of your keys by its prefix (an admin may revoke anyone's); the browser sessions
    opened by signing in with it end too."""
    owner = None if user.is_admin else user.username
    revoke = partial(accounts.revoke_api_key, owner=owner, actor=user)
    info = await run_in_threadpool(revoke, request.app.state.db, prefix)
    _access_changed(request, info.user)
    return Response(status_code=204)


# -- users -------------------------------------------------------------------------------------
@router.get("/users")
async def list_users(request: Request, user: CurrentUser) -> Any:
    """Every user (admins only)."""
    require_server_admin(user)
    found = await run_in_threadpool(accounts.list_users, request.app.state.db)
    return {"users": [_user_json(u) for u in found]}


@router.post("/users", status_code=201, openapi_extra=json_body_schema(NewUser))
async def create_user(request: Request, user: CurrentUser) -> Any:
    """Create a user (admins only). Without a password a random one is made and answered, once."""
    require_server_admin(user)
    body = await read_json(request, NewUser)
    info, generated = await run_in_threadpool(
        partial(accounts.add_user, is_admin=body.is_admin, actor=user),
        request.app.state.db,
        body.username,
        body.password,
    )
    answer = _user_json(info)
    if generated:
        answer["password"] = generated
    return answer


@router.delete("/users/{username}", status_code=204)
async def delete_user(
    username: str,
    request: Request,
    user: CurrentUser,
    reassign_to: Annotated[str | None, Query(max_length=64)] = None,
    delete_runs: bool = False,
) -> Response:
    """Delete a user with their keys and sessions (admins only; not yourself).

    Their personal entity goes with them if empty; if it holds runs, the request says what becomes
    of it: ``?reassign_to=USER`` (USER becomes its admin, it keeps its name) or
    ``?delete_runs=true`` (deleted with its runs); without either it is 409 ``conflict``. Runs they
    made in other entities stay.
    """
    require_server_admin(user)
    if username == user.username:
        raise Conflict("you cannot delete yourself")
    await run_in_threadpool(
        partial(accounts.delete_user, reassign_to=reassign_to, delete_runs=delete_runs, actor=user),
        request.app.state.db,
        username,
    )
    _access_changed(request, username)
    return Response(status_code=204)


@router.post("/users/{username}/password", status_code=204, openapi_extra=json_body_schema(NewPassword))
async def change_password(username: str, request: Request, user: CurrentUser) -> Response:
    """Set a password: your own (with ``current_password``), or anyone's as an admin.

    Ends that user's other browser sessions.
    """
    if username != user.username:
        require_server_admin(user)
    body = await read_json(request, NewPassword)
    db = request.app.state.db
    if username == user.username:
        info = await run_in_threadpool(accounts.get_user, db, username)
        if info.has_password:
            # Guessing the current password through a stolen session is throttled like sign-in.
            by_user = _limits(request).sign_in_by_user
            user_key = _signing_in_as(request, username)
            wait = by_user.retry_after(user_key)
            if wait > 0:
                raise too_many(wait, "too many failed sign-ins")
            current = body.current_password
            verified = current is not None and await run_in_threadpool(
                accounts.verify_password, db, username, current
            )
            if not verified:
                by_user.failure(user_key)
                raise Forbidden("current_password is missing or wrong")
    await run_in_threadpool(
        partial(accounts.set_password, keep_session=request.cookies.get(SESSION_COOKIE), actor=user),
        db,
        username,
        body.password,
    )
    _access_changed(request, username)
    return Response(status_code=204)
