"""Projects managed by people: description, pinned runs, rename, visibility, the trash, and the
overview (description, pinned and latest runs, the best run by a metric).

``visibility`` is ``members`` (the entity's members read it, the default) or ``signed_in`` (every
signed-in user reads it too; writing still needs the entity's roles, ``server/permissions.py``).
A project in the trash is hidden with all its runs, refuses ingest (``in_trash``) and keeps its
name until it is purged; restoring brings it back whole.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from wakelog.server import audit
from wakelog.server.auth import User
from wakelog.server.errors import Conflict, InTrash
from wakelog.server.http import not_found
from wakelog.server.query import runs as q
from wakelog.server.query.filters import Context, Field, FilterError, InList, parse_order
from wakelog.store.database import Database
from wakelog.store.schema import entities, projects

VISIBILITIES = ("members", "signed_in")
#: Settings any member changes; the others (``name``, ``visibility``) need the entity's admin.
MEMBER_SETTINGS = frozenset(("description", "pinned_runs"))


def _row(conn: sa.Connection, entity: str, project: str, *, deleted: bool = False) -> Any:
    trashed = projects.c.deleted_at.is_not(None) if deleted else projects.c.deleted_at.is_(None)
    row = conn.execute(
        sa.select(projects)
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(entities.c.name == entity, projects.c.name == project, trashed)
        .with_for_update()
    ).first()
    if row is None:
        raise not_found(f"project {entity}/{project}" + (" in the trash" if deleted else ""))
    return row


def edit(db: Database, user: User, entity: str, project: str, changes: dict[str, Any]) -> str:
    """Change the project's settings; returns its name (a rename's new one)."""
    with db.write() as conn:
        row = _row(conn, entity, project)
        changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
        if "name" in changed:
            _check_free(conn, row.entity_id, f"{entity}/{changed['name']}", changed["name"])
        if changed:
            conn.execute(
                projects.update().where(projects.c.id == row.id).values(**changed, updated_at=time.time())
            )
            before = {k: getattr(row, k) for k in changed}
            audit.record(
                conn, user, "project.edit", f"{entity}/{project}", entity=entity, before=before, after=changed
            )
    return str(changes.get("name", project))


def _check_free(conn: sa.Connection, entity_id: int, where: str, name: str) -> None:
    taken = conn.execute(
        sa.select(projects.c.deleted_at).where(projects.c.entity_id == entity_id, projects.c.name == name)
    ).first()
    if taken is not None and taken.deleted_at is not None:
        raise InTrash(f"project {where} is in the trash and keeps its name until it is purged")
    if taken is not None:
        raise Conflict(f"project {where} already exists")


def trash(db: Database, user: User, entity: str, project: str) -> None:
    """Put the project, with all its runs, in the trash."""
    _set_deleted(db, user, entity, project, deleting=True)


def restore(db: Database, user: User, entity: str, project: str) -> None:
    _set_deleted(db, user, entity, project, deleting=False)


def _set_deleted(db: Database, user: User, entity: str, project: str, *, deleting: bool) -> None:
    now = time.time() if deleting else None
    with db.write() as conn:
        row = _row(conn, entity, project, deleted=not deleting)
        conn.execute(projects.update().where(projects.c.id == row.id).values(deleted_at=now))
        action = "project.delete" if deleting else "project.restore"
        after = {"deleted_at": now}
        audit.record(
            conn,
            user,
            action,
            f"{entity}/{project}",
            entity=entity,
            before={"deleted_at": row.deleted_at},
            after=after,
        )


def trashed(conn: sa.Connection, entity: str, keep: float) -> list[dict[str, Any]]:
    """The entity's projects in the trash, most recently deleted first."""
    rows = conn.execute(
        sa.select(projects.c.name, projects.c.deleted_at)
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(entities.c.name == entity, projects.c.deleted_at.is_not(None))
        .order_by(projects.c.deleted_at.desc(), projects.c.name)
    ).all()
    return [{"name": r.name, "deleted_at": r.deleted_at, "purge_at": r.deleted_at + keep} for r in rows]


def settings(conn: sa.Connection, entity: str, project: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(projects.c.description, projects.c.visibility, projects.c.pinned_runs).where(
            projects.c.id == q.project_id_subquery(entity, project)
        )
    ).first()
    if row is None:
        raise not_found(f"project {entity}/{project}")
    return {
        "description": row.description,
        "visibility": row.visibility,
        "pinned_runs": list(row.pinned_runs or []),
    }


def overview(
    conn: sa.Connection,
    entity: str,
    project: str,
    ctx: Context,
    *,
    metric: str | None,
    goal: str,
    latest: int,
) -> dict[str, Any]:
    """The project's settings, its pinned runs (those still there, in pinned order), its latest
    runs, and the best run by the summary ``metric`` (``goal`` max or min; None without one)."""
    found = settings(conn, entity, project)
    ids = found["pinned_runs"]
    pinned = {r["id"]: r for r in _runs(conn, entity, project, ctx, "", len(ids), ids)} if ids else {}
    found["pinned"] = [pinned[r] for r in ids if r in pinned]
    found["latest"] = _runs(conn, entity, project, ctx, "-created_at", latest)
    found["best"] = None
    if metric:
        try:
            order = ("-" if goal == "max" else "+") + f"summary.{metric}"
            best = _runs(conn, entity, project, ctx, order, 1)
        except FilterError as exc:
            raise exc.about("metric") from None
        if best and q.summary_field(best[0]["summary"], metric) is not None:  # runs without it sort last
            found["best"] = best[0]
    return found


def _runs(
    conn: sa.Connection,
    entity: str,
    project: str,
    ctx: Context,
    order: str,
    limit: int,
    ids: list[str] | None = None,
) -> list[dict[str, Any]]:
    where = InList(Field("id"), tuple(ids)) if ids else None
    page = q.list_runs(conn, entity, project, where, parse_order(order), ctx=ctx, limit=limit)
    return page.runs if page is not None else []
