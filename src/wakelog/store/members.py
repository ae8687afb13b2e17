"""Entity membership rows: who holds which role under an entity.

The SQL only; what the roles allow is decided in ``server/permissions.py``. Roles rank
``viewer`` < ``member`` < ``admin``.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from wakelog.store.schema import entities, entity_members, users
from wakelog.store.upsert import insert_missing, upsert

#: The roles, weakest first: each one allows what the ones before it allow.
ROLES = ("viewer", "member", "admin")


def set_role(conn: sa.Connection, entity_id: int, user_id: int, role: str) -> None:
    """Give ``user_id`` ``role`` (one of ``ROLES``) under the entity, replacing the one they had."""
    row = {"entity_id": entity_id, "user_id": user_id, "role": role, "created_at": time.time()}
    upsert(conn, entity_members, [row], ["entity_id", "user_id"], update=["role"])


def create_entity(conn: sa.Connection, name: str, admin_id: int | None) -> tuple[int, bool]:
    """The entity's id, creating it if missing; its creator (``admin_id``) becomes its admin, and
    its owner when it is named after them (their personal entity).

    Returns ``(id, created)``. Two transactions creating the same entity at once both succeed;
    only the one that inserted it makes its user admin.
    """
    query = sa.select(entities.c.id).where(entities.c.name == name)
    found = conn.execute(query).scalar()
    if found is not None:
        return found, False
    owner = None
    if admin_id is not None:
        named_after = sa.select(users.c.id).where(users.c.id == admin_id, users.c.username == name)
        owner = conn.execute(named_after).scalar()
    row = {"name": name, "created_at": time.time(), "owner_id": owner}
    created = insert_missing(conn, entities, row, ["name"])
    entity_id = conn.execute(query).scalar_one()
    if created and admin_id is not None:
        set_role(conn, entity_id, admin_id, "admin")
    return entity_id, created


def name_taken(conn: sa.Connection, name: str) -> str | None:
    """What already holds ``name`` (``"user"`` or ``"entity"``, ignoring case), or None: a user and
    an entity never share a name, so a name never hands one's rights to the other."""
    lowered = name.lower()
    if conn.execute(sa.select(users.c.id).where(sa.func.lower(users.c.username) == lowered)).first():
        return "user"
    if conn.execute(sa.select(entities.c.id).where(sa.func.lower(entities.c.name) == lowered)).first():
        return "entity"
    return None


def ensure_personal_entity(conn: sa.Connection, user_id: int, username: str) -> bool:
    """Make the user's personal entity (named after them, administered and owned by them).

    False when another entity holds the name already (created at the same moment): it is not
    theirs, and the caller must refuse the user.
    """
    _, created = create_entity(conn, username, user_id)
    return created
