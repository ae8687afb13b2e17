"""Saved views in the database: list, get, create, change (rename, replace the state, make or
stop being the project's default) and delete. Each call runs in one transaction: a refused change
leaves nothing.

Who may do what follows reports (``server/reports/store.py``): readers of the project (viewers)
list and open views; members save new ones and change or delete their own; changing or deleting
someone else's view needs the entity's admin role. Making a view the project's default (or
clearing it) is open to every member, as pinning a report as the project's dashboard is: it
changes which view opens first, not anyone's view.

Audited: ``view.create``, ``view.update`` (name or state), ``view.delete``, ``view.default``
(before/after: the default view's id).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wakelog.server import audit
from wakelog.server.auth import User
from wakelog.server.errors import Conflict, Forbidden, InvalidRequest
from wakelog.server.http import not_found
from wakelog.server.permissions import entity_access
from wakelog.server.query.runs import project_id
from wakelog.store.schema import projects, saved_views

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_ID_LENGTH = 10


def check_view_id(view_id: str) -> str:
    if not (1 <= len(view_id) <= 16 and all(c in _ID_ALPHABET for c in view_id)):
        raise InvalidRequest(f"view id {view_id!r} is invalid: 1-16 characters of a-z 0-9")
    return view_id


@dataclass(frozen=True)
class _Place:
    """A project as addressed, and what the caller holds in its entity."""

    entity: str
    project: str
    project_pk: int
    admin: bool  # may change and delete anyone's view

    def path(self, view_id: str) -> str:
        return f"{self.entity}/{self.project}/views/{view_id}"


def _place(conn: sa.Connection, user: User, entity: str, project: str, *, lock: bool = False) -> _Place:
    pid = project_id(conn, entity, project)
    if pid is None:
        raise not_found(f"project {entity}/{project}")
    if lock:  # names and the default of one project change one call at a time
        conn.execute(sa.select(projects.c.id).where(projects.c.id == pid).with_for_update())
    return _Place(entity, project, pid, entity_access(conn, user, entity).allows(user, "admin"))


def _row(conn: sa.Connection, place: _Place, view_id: str) -> Any:
    v = saved_views.c
    row = conn.execute(
        sa.select(saved_views).where(v.project_id == place.project_pk, v.view_id == view_id)
    ).first()
    if row is None:
        raise not_found(f"view {place.entity}/{place.project}/{view_id}")
    return row


def _listed(row: Any) -> dict[str, Any]:
    return {
        "id": row.view_id,
        "name": row.name,
        "is_default": row.is_default,
        "created_by": row.created_by_name,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _view(place: _Place, row: Any) -> dict[str, Any]:
    return {**_listed(row), "entity": place.entity, "project": place.project, "state": row.state}


def _name_free(conn: sa.Connection, place: _Place, name: str, view_id: str | None = None) -> None:
    v = saved_views.c
    taken = conn.execute(
        sa.select(v.view_id).where(v.project_id == place.project_pk, v.name == name)
    ).scalar()
    if taken is not None and taken != view_id:
        raise Conflict(f"project {place.entity}/{place.project} already has a view named {name!r}")


def _set_default(conn: sa.Connection, user: User, place: _Place, view_id: str, make: bool) -> None:
    """Make ``view_id`` the project's only default, or stop it being the default; audited."""
    v = saved_views.c
    was = conn.execute(sa.select(v.view_id).where(v.project_id == place.project_pk, v.is_default)).scalar()
    now_default = view_id if make else (None if was == view_id else was)
    if now_default == was:
        return
    conn.execute(
        saved_views.update().where(v.project_id == place.project_pk, v.is_default).values(is_default=False)
    )
    if make:
        conn.execute(
            saved_views.update()
            .where(v.project_id == place.project_pk, v.view_id == view_id)
            .values(is_default=True)
        )
    target = f"{place.entity}/{place.project}/views"
    before, after = {"default": was}, {"default": now_default}
    audit.record(conn, user, "view.default", target, entity=place.entity, before=before, after=after)


# -- reading -------------------------------------------------------------------------------------
def listing(conn: sa.Connection, user: User, entity: str, project: str) -> list[dict[str, Any]]:
    """The project's views by name (without their states)."""
    place = _place(conn, user, entity, project)
    v = saved_views.c
    rows = conn.execute(sa.select(saved_views).where(v.project_id == place.project_pk).order_by(v.name, v.id))
    return [_listed(row) for row in rows]


def get(conn: sa.Connection, user: User, entity: str, project: str, view_id: str) -> dict[str, Any]:
    place = _place(conn, user, entity, project)
    return _view(place, _row(conn, place, view_id))


# -- writing -------------------------------------------------------------------------------------
def create(
    conn: sa.Connection,
    user: User,
    entity: str,
    project: str,
    name: str,
    state: dict[str, Any],
    is_default: bool,
) -> dict[str, Any]:
    """A new view (``name`` and ``state`` already checked); 409 if the name is taken."""
    place = _place(conn, user, entity, project, lock=True)
    _name_free(conn, place, name)
    now = time.time()
    view_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))
    conn.execute(
        saved_views.insert().values(
            view_id=view_id,
            project_id=place.project_pk,
            name=name,
            state=state,
            is_default=False,
            created_by=user.id,
            created_by_name=user.username,
            created_at=now,
            updated_at=now,
        )
    )
    audit.record(conn, user, "view.create", place.path(view_id), entity=entity, after={"name": name})
    if is_default:
        _set_default(conn, user, place, view_id, True)
    return _view(place, _row(conn, place, view_id))


def change(
    conn: sa.Connection, user: User, entity: str, project: str, view_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply ``changes`` (checked ``name``, ``state``, ``is_default``, each optional) together."""
    place = _place(conn, user, entity, project, lock=True)
    row = _row(conn, place, view_id)
    edits = {key: changes[key] for key in ("name", "state") if key in changes}
    if edits:
        if row.created_by != user.id and not place.admin:
            raise Forbidden(f"only its author or an admin of entity {entity!r} can change a view")
        if "name" in edits:
            _name_free(conn, place, edits["name"], view_id)
        v = saved_views.c
        conn.execute(saved_views.update().where(v.id == row.id).values(**edits, updated_at=time.time()))
        before, after = {"name": row.name}, {"name": edits.get("name", row.name)}
        if "state" in edits:
            after["state"] = "replaced"
        target = place.path(view_id)
        audit.record(conn, user, "view.update", target, entity=entity, before=before, after=after)
    if "is_default" in changes:
        _set_default(conn, user, place, view_id, changes["is_default"])
    return _view(place, _row(conn, place, view_id))


def delete(conn: sa.Connection, user: User, entity: str, project: str, view_id: str) -> None:
    """Delete the view (its author, or an admin); the project then has no default if it was it."""
    place = _place(conn, user, entity, project, lock=True)
    row = _row(conn, place, view_id)
    if row.created_by != user.id and not place.admin:
        raise Forbidden(f"only its author or an admin of entity {entity!r} can delete a view")
    conn.execute(saved_views.delete().where(saved_views.c.id == row.id))
    before = {"name": row.name, "is_default": row.is_default}
    audit.record(conn, user, "view.delete", place.path(view_id), entity=entity, before=before)
