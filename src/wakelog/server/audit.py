"""The audit trail: every change of state a person or key makes, appended, never changed.

``record`` is called inside the transaction that makes the change, so the entry and the change
are written together or not at all. An entry says who (``actor``, the username as it was), what
(``action``, ``target``), when, and ``before`` → ``after`` (the fields that changed). No route
updates or deletes entries; server admins read every entry, an entity's admins that entity's
(``routes/audit.py``), newest first, a page at a time, or all of them as JSON Lines.

Actions: ``run.edit``, ``run.delete``, ``run.restore``, ``run.move``, ``run.stop``, ``run.rewind``,
``project.edit``, ``project.delete``, ``project.restore``, ``member.set``, ``member.remove``, ``key.create``,
``key.revoke``, ``comment.create``, ``comment.edit``, ``comment.delete``, ``thread.resolve``,
``thread.reopen``, ``user.create``, ``user.password``, ``user.delete``, ``entity.create``,
``report.create``, ``report.publish``, ``report.unpublish``, ``report.delete``, ``report.revert``,
``report.share``, ``report.unshare``, ``report.pin``, ``artifact.edit``, ``artifact.delete``,
``artifact.link``, ``artifact.unlink`` (``server/artifacts/audited.py``).

A change made at the server's console (the ``wakelog`` command on its machine) has no signed-in
actor: its entry names the operating-system login that ran the command (``console:<login>``).
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from wakelog.server.auth import User
from wakelog.store.ingest import json_safe
from wakelog.store.schema import audit_log

#: Entries per page at most.
MAX_PAGE = 1000
#: Entries read per query while exporting.
EXPORT_BATCH = 1000


def console_actor() -> str:
    """Who made a change at the server's console: its operating-system login."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's anonymous uid)
        login = "unknown"
    return f"console:{login}"[:64]


def record(
    conn: sa.Connection,
    actor: User | None,
    action: str,
    target: str,
    *,
    entity: str | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one entry (in the caller's transaction); ``actor`` None: the server's console."""
    conn.execute(
        audit_log.insert().values(
            time=time.time(),
            actor_id=actor.id if actor is not None else None,
            actor=actor.username if actor is not None else console_actor(),
            entity=entity,
            action=action,
            target=target[:1024],
            before=json_safe(before),
            after=json_safe(after),
        )
    )


def _entry(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "time": row.time,
        "actor": row.actor,
        "entity": row.entity,
        "action": row.action,
        "target": row.target,
        "before": row.before,
        "after": row.after,
    }


def _query(entity: str | None, action: str | None, before_id: int | None) -> sa.Select:
    c = audit_log.c
    query = sa.select(audit_log)
    if entity is not None:
        query = query.where(c.entity == entity)
    if action is not None:
        query = query.where(c.action == action)
    if before_id is not None:
        query = query.where(c.id < before_id)
    return query.order_by(c.id.desc())


def page(
    conn: sa.Connection,
    *,
    entity: str | None = None,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """Entries newest first; ``next_before`` continues the listing (None at the oldest)."""
    rows = conn.execute(_query(entity, action, before_id).limit(limit + 1)).all()
    entries = [_entry(r) for r in rows[:limit]]
    return {"entries": entries, "next_before": entries[-1]["id"] if len(rows) > limit else None}


def export(db: Any, *, entity: str | None = None, action: str | None = None) -> Iterator[dict[str, Any]]:
    """Every entry, newest first, read in batches (each its own short read)."""
    before_id: int | None = None
    while True:
        with db.read() as conn:
            rows = conn.execute(_query(entity, action, before_id).limit(EXPORT_BATCH)).all()
        yield from (_entry(r) for r in rows)
        if len(rows) < EXPORT_BATCH:
            return
        before_id = rows[-1].id
