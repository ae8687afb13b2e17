"""Runs edited by people: name, tags, notes, group and job type; the trash; moves; rewinds.

An edit stamps each field it sets in ``runs.edited_at`` with the server's time: the SDK's value
for that field (``run.tags = …`` during training) replaces it only if the run log recorded it
later (last writer wins, ``store/ingest/_apply.py``). Deleting puts runs in their project's trash
(``deleted_at``): hidden from every listing and lookup, refused by ingest, restored as they were,
purged with their rows after ``ServerConfig.run_trash_max_age`` (``server/expiry.py``). A move
takes finished runs (not running ones: their uploader still writes to the old path) to a project
the caller may write; a run id the target already holds is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wakelog.server import audit
from wakelog.server.auth import User
from wakelog.server.errors import Conflict, InTrash, InvalidRequest
from wakelog.server.http import not_found
from wakelog.server.query.filters import state_column
from wakelog.server.query.runs import crashed_before, project_id
from wakelog.store import key_registry
from wakelog.store.database import Database
from wakelog.store.ingest import ensure_project, json_safe
from wakelog.store.rewind import RewindRefused, truncate_history
from wakelog.store.schema import projects, runs

#: API field → column, for the fields people edit.
EDITABLE = {"name": "name", "tags": "tags", "notes": "notes", "group": "group_name", "job_type": "job_type"}
_FIELD = {column: name for name, column in EDITABLE.items()}
#: The states of a run that has not ended (one that may be stopped, or must not be moved).
LIVE_STATES = ("running", "preempting")


@dataclass(frozen=True)
class Outcome:
    """What a change did: the run ids changed, and those asked for that the project does not hold."""

    changed: list[str]
    missing: list[str]


def _rows(conn: sa.Connection, pid: int, run_ids: list[str], *, deleted: bool) -> list[Any]:
    trashed = runs.c.deleted_at.is_not(None) if deleted else runs.c.deleted_at.is_(None)
    query = (
        sa.select(runs, state_column(crashed_before()).label("shown_state"))
        .where(runs.c.project_id == pid, runs.c.run_id.in_(sorted(set(run_ids))), trashed)
        .order_by(runs.c.run_id)
        .with_for_update()
    )
    return list(conn.execute(query))


def _project(conn: sa.Connection, entity: str, project: str) -> int:
    pid = project_id(conn, entity, project)
    if pid is None:
        raise not_found(f"project {entity}/{project}")
    return pid


def _outcome(run_ids: list[str], rows: list[Any]) -> Outcome:
    found = {row.run_id for row in rows}
    return Outcome(sorted(found), [r for r in dict.fromkeys(run_ids) if r not in found])


def edit(db: Database, user: User, entity: str, project: str, run_id: str, changes: dict[str, Any]) -> None:
    """Set the given fields (API names) of one run."""
    with db.write() as conn:
        rows = _rows(conn, _project(conn, entity, project), [run_id], deleted=False)
        if not rows:
            raise not_found(f"run {entity}/{project}/{run_id}")
        _edit_row(conn, user, entity, project, rows[0], {EDITABLE[k]: v for k, v in changes.items()})


def _edit_row(
    conn: sa.Connection, user: User, entity: str, project: str, row: Any, values: dict[str, Any]
) -> bool:
    """Write the columns of ``values`` that differ, stamped and audited; True if any did."""
    changed = {column: json_safe(v) for column, v in values.items() if getattr(row, column) != v}
    if not changed:
        return False
    now = time.time()
    stamps = {**(row.edited_at or {}), **dict.fromkeys(changed, now)}
    conn.execute(runs.update().where(runs.c.id == row.id).values(**changed, edited_at=stamps, updated_at=now))
    audit.record(
        conn,
        user,
        "run.edit",
        f"{entity}/{project}/{row.run_id}",
        entity=entity,
        before={_FIELD[c]: getattr(row, c) for c in changed},
        after={_FIELD[c]: v for c, v in changed.items()},
    )
    return True


def stop(db: Database, user: User, entity: str, project: str, run_id: str) -> None:
    """Ask the running run to stop: its client learns it at its next poll (the stock wandb
    client's file stream answers ``stopped``) and ends the script. A run that has ended has
    nothing to stop (409); asking twice keeps the first time."""
    with db.write() as conn:
        rows = _rows(conn, _project(conn, entity, project), [run_id], deleted=False)
        if not rows:
            raise not_found(f"run {entity}/{project}/{run_id}")
        row = rows[0]
        if row.state not in LIVE_STATES:
            raise Conflict(
                f"run {entity}/{project}/{run_id} is {row.state}: only a running run can be stopped"
            )
        if row.stop_requested_at is not None:
            return
        now = time.time()
        conn.execute(runs.update().where(runs.c.id == row.id).values(stop_requested_at=now))
        target = f"{entity}/{project}/{run_id}"
        audit.record(
            conn,
            user,
            "run.stop",
            target,
            entity=entity,
            before={"stop_requested_at": None},
            after={"stop_requested_at": now},
        )


def retag(
    db: Database, user: User, entity: str, project: str, run_ids: list[str], add: list[str], remove: list[str]
) -> Outcome:
    """Add ``add`` to and take ``remove`` from the tags of each run (order kept, no duplicates)."""
    with db.write() as conn:
        rows = _rows(conn, _project(conn, entity, project), run_ids, deleted=False)
        gone = set(remove)
        for row in rows:
            tags = [t for t in dict.fromkeys([*(row.tags or []), *add]) if t not in gone]
            _edit_row(conn, user, entity, project, row, {"tags": tags})
    return _outcome(run_ids, rows)


def trash(db: Database, user: User, entity: str, project: str, run_ids: list[str]) -> Outcome:
    """Put the runs in the project's trash."""
    return _set_deleted(db, user, entity, project, run_ids, deleting=True)


def restore(db: Database, user: User, entity: str, project: str, run_ids: list[str]) -> Outcome:
    """Take the runs out of the trash, as they were."""
    return _set_deleted(db, user, entity, project, run_ids, deleting=False)


def _set_deleted(
    db: Database, user: User, entity: str, project: str, run_ids: list[str], *, deleting: bool
) -> Outcome:
    now = time.time()
    with db.write() as conn:
        rows = _rows(conn, _project(conn, entity, project), run_ids, deleted=not deleting)
        if rows:
            conn.execute(
                runs.update()
                .where(runs.c.id.in_([r.id for r in rows]))
                .values(deleted_at=now if deleting else None)
            )
        for row in rows:
            audit.record(
                conn,
                user,
                "run.delete" if deleting else "run.restore",
                f"{entity}/{project}/{row.run_id}",
                entity=entity,
                before={"deleted_at": row.deleted_at},
                after={"deleted_at": now if deleting else None},
            )
    return _outcome(run_ids, rows)


def move(
    db: Database, user: User, entity: str, project: str, run_ids: list[str], to_entity: str, to_project: str
) -> Outcome:
    """Move the runs to ``to_entity/to_project`` (made if new; the caller checked it may write
    there). Refused whole (409) if one is running or the target holds one of the ids."""
    with db.write() as conn:
        rows = _rows(conn, _project(conn, entity, project), run_ids, deleted=False)
        target = ensure_project(conn, to_entity, to_project, user.id)
        _check_movable(conn, rows, target, f"{to_entity}/{to_project}")
        if rows:
            conn.execute(
                runs.update()
                .where(runs.c.id.in_([r.id for r in rows]))
                .values(project_id=target, updated_at=time.time())
            )
            key_registry.register_runs(conn, target, [r.id for r in rows])
        for row in rows:
            audit.record(
                conn,
                user,
                "run.move",
                f"{entity}/{project}/{row.run_id}",
                entity=entity,
                before={"project": f"{entity}/{project}"},
                after={"project": f"{to_entity}/{to_project}"},
            )
            if to_entity != entity:  # the receiving entity's admins see it arrive too
                audit.record(
                    conn,
                    user,
                    "run.move",
                    f"{to_entity}/{to_project}/{row.run_id}",
                    entity=to_entity,
                    before={"project": f"{entity}/{project}"},
                    after={"project": f"{to_entity}/{to_project}"},
                )
    return _outcome(run_ids, rows)


def _check_movable(conn: sa.Connection, rows: list[Any], target: int, where: str) -> None:
    if conn.execute(sa.select(projects.c.deleted_at).where(projects.c.id == target)).scalar() is not None:
        raise InTrash(f"project {where} is in the trash; restore it before moving runs into it")
    running = [r.run_id for r in rows if r.shown_state in LIVE_STATES]
    if running:
        raise Conflict(
            f"runs still running cannot move (their uploader writes to this project): {', '.join(running)}"
        )
    if rows and rows[0].project_id == target:
        raise Conflict(f"the runs are already in {where}")
    taken = conn.execute(
        sa.select(runs.c.run_id).where(
            runs.c.project_id == target, runs.c.run_id.in_([r.run_id for r in rows])
        )
    ).scalars()
    clash = sorted(taken)
    if clash:
        raise Conflict(f"{where} already has runs with these ids (in it or its trash): {', '.join(clash)}")


def rewind(db: Database, user: User, entity: str, project: str, run_id: str, step: int) -> Rewound:
    """Rewind the run to ``step`` (``store/rewind.py``): its history after it is gone, it logs on
    from ``step + 1``; audited as ``run.rewind``. 400 for a step the run's history does not have,
    404 for no such run, 409 for a run in the trash. The stock client's ``rewindRun`` and the SDK's
    ``POST …/rewind`` both come here."""
    with db.write() as conn:
        rows = _rows(conn, _project(conn, entity, project), [run_id], deleted=False)
        if not rows:
            raise not_found(f"run {entity}/{project}/{run_id}")
        row = rows[0]
        try:
            done = truncate_history(conn, row, step)
        except RewindRefused as exc:
            raise InvalidRequest(str(exc)) from None
        audit.record(
            conn,
            user,
            "run.rewind",
            f"{entity}/{project}/{run_id}",
            entity=entity,
            before={"last_step": done.last_step_before},
            after={"last_step": step},
        )
        run = conn.execute(sa.select(runs).where(runs.c.id == row.id)).one()
    return Rewound(run=run, rows=done.rows, keys=done.keys, cut=done.cut)


@dataclass(frozen=True)
class Rewound:
    """A rewound run's row as it is now, how many history rows it kept, and the keys and number
    of points it cut (for ``LiveHub.publish_rewound``)."""

    run: Any
    rows: int
    keys: set[str]
    cut: int
