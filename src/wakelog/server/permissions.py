"""Who may do what under an entity: the one place the server decides it.

Roles are per entity, ``viewer`` < ``member`` < ``admin`` (the ``entity_members`` table); server
admins (``users.is_admin``) may do everything. Every route whose path names an entity takes one of
the dependencies below in place of plain authentication (a test walks the route table for this):

* ``Viewer``: reading anything under the entity, and saving your own workspace layout (it is your
  view). An entity you cannot read answers 404 exactly like one that does not exist. A project
  whose ``visibility`` is ``signed_in`` is read by every signed-in user (its routes only).
* ``Writer``: ingest (records, files, the ack the uploader resumes from); needs ``member``. A
  viewer gets 403 naming the role. An entity that does not exist yet may be created by writing to
  it, by a server admin or by the user it is named after (who becomes its admin); anyone else gets
  403, with the same answer for an entity they cannot read, so writes do not reveal names either.
* ``EntityAdmin``: managing an entity's members; needs its ``admin`` role (404 / 403 as above).

A check an API key passed is trusted for a few seconds (``keycache.py``); a refusal never is.
Listings keep what ``readable_entities`` lets through. Blobs are stored once per content, but a
user may attach only content they uploaded whole themselves (``usable_blobs``), and content is
downloaded only as a file of a run they can read: knowing a hash gives nothing away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from wakelog.server.auth import User, authenticate
from wakelog.server.errors import Forbidden, NotFound
from wakelog.server.http import entity_name, not_found, project_path, run_path
from wakelog.store.chunks import chunked
from wakelog.store.members import ROLES
from wakelog.store.schema import blob_holders, entities, entity_members, projects


@dataclass(frozen=True)
class EntityAccess:
    """What a user holds under one entity."""

    exists: bool
    role: str | None  # None: not a member

    def allows(self, user: User, needed: str) -> bool:
        return user.is_admin or (self.role is not None and ROLES.index(self.role) >= ROLES.index(needed))


def entity_access(conn: sa.Connection, user: User, entity: str) -> EntityAccess:
    membership = sa.and_(entity_members.c.entity_id == entities.c.id, entity_members.c.user_id == user.id)
    row = conn.execute(
        sa.select(entities.c.id, entity_members.c.role)
        .select_from(entities.outerjoin(entity_members, membership))
        .where(entities.c.name == entity)
    ).first()
    return EntityAccess(exists=row is not None, role=row.role if row is not None else None)


def may_create(user: User, entity: str) -> bool:
    """Server admins create any entity by writing to it; users only their personal one."""
    return user.is_admin or entity == user.username


def readable_projects(user: User) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``entities`` joined with ``projects`` that keeps the projects ``user``
    may read: those of readable entities, and those open to signed-in users."""
    return sa.or_(readable_entities(user), projects.c.visibility == "signed_in")


def readable_entities(user: User) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``entities`` that keeps the ones ``user`` may read."""
    if user.is_admin:
        return sa.true()
    mine = sa.select(entity_members.c.entity_id).where(entity_members.c.user_id == user.id)
    return entities.c.id.in_(mine)


def usable_blobs(conn: sa.Connection, user: User, hashes: Iterable[str]) -> set[str]:
    """Those of ``hashes`` that ``user`` may attach to runs (if stored): the content they uploaded
    whole, which proves they hold it; a server admin any."""
    wanted = set(hashes)
    if user.is_admin or not wanted:
        return wanted
    held: set[str] = set()
    for some in chunked(wanted):  # a file list may name more than a statement takes parameters
        query = sa.select(blob_holders.c.sha256).where(
            blob_holders.c.user_id == user.id, blob_holders.c.sha256.in_(some)
        )
        held.update(conn.execute(query).scalars())
    return held


def require_server_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("only a server admin can do that")


def open_to_signed_in(conn: sa.Connection, entity: str, project: str) -> bool:
    """Whether every signed-in user may read the project (its ``visibility`` is ``signed_in``)."""
    found = conn.execute(
        sa.select(projects.c.id)
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(
            entities.c.name == entity,
            projects.c.name == project,
            projects.c.visibility == "signed_in",
            projects.c.deleted_at.is_(None),
        )
    ).first()
    return found is not None


def require(
    conn: sa.Connection, user: User, entity: str, needed: str, *, missing: str, project: str | None = None
) -> EntityAccess | None:
    """Raise 404 (``"<missing> not found"``) if ``user`` cannot read the entity or it does not
    exist, 403 if they can read it but ``needed`` is more than their role. Server admins pass
    (the route answers for what does not exist, as it does for anything else missing). Reading
    (``needed`` viewer) a ``project`` open to signed-in users passes too. Returns what the user
    holds there (None: not looked up, for a server admin, or passed as a signed-in reader, which
    the key cache then remembers as allowing nothing)."""
    if user.is_admin:
        return None
    access = entity_access(conn, user, entity)
    if not access.exists or not access.allows(user, "viewer"):
        if needed == "viewer" and project is not None and open_to_signed_in(conn, entity, project):
            return None
        raise not_found(missing)
    if not access.allows(user, needed):
        raise Forbidden(
            f"this needs the {needed} role in entity {entity!r} and you are a {access.role}; "
            f"an admin of {entity} can change that with `wakelog team add {entity} {user.username} "
            f"--role {needed}`",
        )
    return access


def may_read(conn: sa.Connection, user: User, entity: str, project: str) -> bool:
    """Whether ``user`` may read the project: ``require``'s viewer check as a yes or no, for
    listings that leave out what the caller may not see (a run's used artifacts from elsewhere)."""
    try:
        require(conn, user, entity, "viewer", missing=f"{entity}/{project}", project=project)
    except NotFound:
        return False
    return True


def require_writer(conn: sa.Connection, user: User, entity: str) -> EntityAccess:
    """Raise 403 unless ``user`` may write under ``entity`` (or create it by writing); returns
    what the user holds there."""
    access = entity_access(conn, user, entity)
    if not access.exists and may_create(user, entity):
        return access
    if not access.exists or not access.allows(user, "viewer"):
        raise Forbidden(
            f"entity {entity!r} does not exist or you are not a member of it; a server admin creates "
            f"team entities with `wakelog team create {entity}` and adds members with "
            f"`wakelog team add {entity} USER --role member`",
        )
    if not access.allows(user, "member"):
        raise Forbidden(
            f"writing to entity {entity!r} needs the member role and you are a {access.role}; an admin "
            f"of {entity} can grant it with `wakelog team add {entity} {user.username} --role member`",
        )
    return access


def _entity_and_missing(request: Request) -> tuple[str, str, str | None]:
    """The checked entity of the request's path, what a 404 should say is missing (the most
    specific thing the path names, as the route itself would say it), and the project if named."""
    params = request.path_params
    if "run_id" in params:
        entity, project, run_id = run_path(params["entity"], params["project"], params["run_id"])
        return entity, f"run {entity}/{project}/{run_id}", project
    if "project" in params:
        entity, project = project_path(params["entity"], params["project"])
        return entity, f"project {entity}/{project}", project
    entity = entity_name(params["entity"])
    return entity, f"entity {entity!r}", None


def _passed_lately(request: Request, user: User, entity: str, needed: str) -> bool:
    """Whether the request's API key passed a check under ``entity`` lately, holding enough."""
    key_hash = getattr(request.state, "key_hash", None)
    if key_hash is None:
        return False  # a browser session: always checked
    known, role = request.app.state.key_cache.entity(key_hash, entity)
    return known and EntityAccess(exists=True, role=role).allows(user, needed)


def _passed(request: Request, entity: str, access: EntityAccess | None) -> None:
    key_hash = getattr(request.state, "key_hash", None)
    if key_hash is not None:
        request.app.state.key_cache.allow(key_hash, entity, access.role if access else None)


def check_viewer(request: Request, user: User) -> User:
    """``entity_viewer``'s check, for code in the thread pool (it may read the database)."""
    entity, missing, project = _entity_and_missing(request)
    if not _passed_lately(request, user, entity, "viewer"):
        with request.app.state.db.read() as conn:
            _passed(request, entity, require(conn, user, entity, "viewer", missing=missing, project=project))
    return user


def check_writer(request: Request, user: User) -> User:
    entity, _, _ = _entity_and_missing(request)
    if not _passed_lately(request, user, entity, "member"):
        with request.app.state.db.read() as conn:
            _passed(request, entity, require_writer(conn, user, entity))
    return user


def check_admin(request: Request, user: User) -> User:
    entity, missing, _ = _entity_and_missing(request)
    if not _passed_lately(request, user, entity, "admin"):
        with request.app.state.db.read() as conn:
            _passed(request, entity, require(conn, user, entity, "admin", missing=missing))
    return user


async def _checked(request: Request, user: User, needed: str, check: Callable[[Request, User], User]) -> User:
    """``check`` passed: answered on the event loop when the key passed it lately, else in the
    thread pool (the database decides)."""
    entity, _, _ = _entity_and_missing(request)
    if _passed_lately(request, user, entity, needed):
        return user
    return await run_in_threadpool(check, request, user)


async def entity_viewer(request: Request, user: Annotated[User, Depends(authenticate)]) -> User:
    return await _checked(request, user, "viewer", check_viewer)


async def entity_writer(request: Request, user: Annotated[User, Depends(authenticate)]) -> User:
    return await _checked(request, user, "member", check_writer)


async def entity_admin(request: Request, user: Annotated[User, Depends(authenticate)]) -> User:
    return await _checked(request, user, "admin", check_admin)


async def writer(request: Request) -> User:
    """``Writer`` called directly, for a route that takes no FastAPI parameters: ingest, where
    solving the dependency and its path parameters cost a sixth of a live batch's event-loop time."""
    return await entity_writer(request, await authenticate(request))


Viewer = Annotated[User, Depends(entity_viewer)]
Writer = Annotated[User, Depends(entity_writer)]
EntityAdmin = Annotated[User, Depends(entity_admin)]
