"""Teams: entities and their members, the library behind the members API and ``wakelog team``.

An entity is a namespace of projects: a user's personal one (named after them, made with the
user) or a team's (made by a server admin). Members hold one role each, ``viewer`` < ``member``
< ``admin`` (what they allow: ``permissions.py``). An entity never loses its last admin through
these functions. Errors are :class:`~wakelog.server.accounts.AccountError` with the HTTP status
the API answers; every change happens in one transaction, so a refused one changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from wakelog._names import check_path_part
from wakelog.server import audit
from wakelog.server.accounts import AccountError, Conflict, NotFound, find_user
from wakelog.server.auth import User
from wakelog.store.database import Database
from wakelog.store.members import ROLES, create_entity, name_taken, set_role
from wakelog.store.schema import entities, entity_members, users


@dataclass(frozen=True)
class Member:
    username: str
    role: str


@dataclass(frozen=True)
class Team:
    name: str
    created_at: float
    members: list[Member]


@dataclass(frozen=True)
class Membership:
    entity: str
    role: str


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role {role!r} is unknown: use {', '.join(ROLES)}")
    return role


def check_entity_name(name: str) -> str:
    try:
        return check_path_part("entity", name)
    except ValueError as exc:
        raise AccountError(str(exc)) from None


def _entity_row(conn: sa.Connection, name: str, *, lock: bool = False) -> sa.Row:
    """The entity's row; with ``lock``, held until the transaction ends (PostgreSQL), so two
    member changes of one entity cannot both remove "the other" admin."""
    query = sa.select(entities).where(entities.c.name == check_entity_name(name))
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound(f"no entity {name!r}")
    return row


def _members(conn: sa.Connection, entity_id: int) -> list[Member]:
    rows = conn.execute(
        sa.select(users.c.username, entity_members.c.role)
        .join(users, users.c.id == entity_members.c.user_id)
        .where(entity_members.c.entity_id == entity_id)
        .order_by(users.c.username)
    )
    return [Member(row.username, row.role) for row in rows]


def create_team(db: Database, name: str, *, actor: User | None = None) -> Team:
    """A new, empty entity (server admins only; add members next). A name a user or an entity
    holds already is refused. Audited as ``actor``'s change (None: the server's console)."""
    check_entity_name(name)
    with db.write() as conn:
        taken = name_taken(conn, name)
        entity_id, created = (None, False) if taken else create_entity(conn, name, admin_id=None)
        if not created:
            raise Conflict(f"the name {name!r} is taken by an existing {taken or 'entity'}")
        when = sa.select(entities.c.created_at).where(entities.c.id == entity_id)
        created_at = conn.execute(when).scalar_one()
        audit.record(conn, actor, "entity.create", name, entity=name)
    return Team(name, created_at, [])


def list_teams(db: Database) -> list[Team]:
    """Every entity with its members, by name."""
    with db.read() as conn:
        rows = conn.execute(sa.select(entities).order_by(entities.c.name)).all()
        return [Team(row.name, row.created_at, _members(conn, row.id)) for row in rows]


def list_members(db: Database, entity: str) -> list[Member]:
    with db.read() as conn:
        return _members(conn, _entity_row(conn, entity).id)


def memberships(db: Database, user_id: int) -> list[Membership]:
    """The entities ``user_id`` is a member of, with their role there, by entity name."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(entities.c.name, entity_members.c.role)
            .join(entities, entities.c.id == entity_members.c.entity_id)
            .where(entity_members.c.user_id == user_id)
            .order_by(entities.c.name)
        )
        return [Membership(row.name, row.role) for row in rows]


def _check_keeps_an_admin(conn: sa.Connection, entity: sa.Row, user_id: int, username: str) -> None:
    """Refuse to take the admin role from ``user_id`` if nobody else holds it."""
    others = conn.execute(
        sa.select(sa.func.count())
        .select_from(entity_members)
        .where(
            entity_members.c.entity_id == entity.id,
            entity_members.c.role == "admin",
            entity_members.c.user_id != user_id,
        )
    ).scalar_one()
    if not others:
        raise Conflict(
            f"{username!r} is the only admin of entity {entity.name!r}; make another member admin first"
        )


def _role_of(conn: sa.Connection, entity_id: int, user_id: int) -> str | None:
    return conn.execute(
        sa.select(entity_members.c.role).where(
            entity_members.c.entity_id == entity_id, entity_members.c.user_id == user_id
        )
    ).scalar()


def set_member(db: Database, entity: str, username: str, role: str, *, actor: User | None = None) -> Member:
    """Make ``username`` a member of ``entity`` with ``role``, or change the role they have;
    audited as ``actor``'s change (None: the server's console)."""
    check_role(role)
    with db.write() as conn:
        row = _entity_row(conn, entity, lock=True)
        user = find_user(conn, username)
        before = _role_of(conn, row.id, user.id)
        if before == "admin" and role != "admin":
            _check_keeps_an_admin(conn, row, user.id, username)
        set_role(conn, row.id, user.id, role)
        if before != role:
            after = {"role": role}
            audit.record(
                conn, actor, "member.set", username, entity=entity, before={"role": before}, after=after
            )
    return Member(username, role)


def remove_member(db: Database, entity: str, username: str, *, actor: User | None = None) -> None:
    """Take ``username`` out of ``entity`` (their runs there stay); audited as ``actor``'s
    change (None: the server's console)."""
    with db.write() as conn:
        row = _entity_row(conn, entity, lock=True)
        user = find_user(conn, username)
        current = _role_of(conn, row.id, user.id)
        if current is None:
            raise NotFound(f"{username!r} is not a member of entity {entity!r}")
        if current == "admin":
            _check_keeps_an_admin(conn, row, user.id, username)
        conn.execute(
            entity_members.delete().where(
                entity_members.c.entity_id == row.id, entity_members.c.user_id == user.id
            )
        )
        audit.record(
            conn, actor, "member.remove", username, entity=entity, before={"role": current}, after=None
        )
