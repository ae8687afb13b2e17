"""The run table's sort index: the ``last`` of the summaries of the keys each project's run table
was sorted by (``sorted_summaries``, migration 0020), walked for a sorted page
(server/query/summary_sort.py).

A key is indexed for a project the first time its run table is sorted by it (``add``). Its entry
in the key registry comes first, as "filling": from its commit on, triggers on ``summaries`` keep
the key's rows in whatever transaction writes them (an ingest batch writes index rows for such keys
only, not for every key it logged). The rows of the runs from before are then copied in, a slice of
the project's runs per transaction, so no transaction holds the write lock for long (1M runs: 7 s
in one). The entry then becomes "sorted", and pages walk the index. A copy cut short (a restart)
leaves the key "filling", and the next sort by it copies again. A key stays indexed, as registry
entries stay listed.

On PostgreSQL each of these transactions first takes the project's exclusive advisory lock (the
triggers take the shared one, before a batch writes or deletes a summaries row). A batch in flight
when the entry is made is waited for, so it is either seen by the copy or sees the entry; and no
summaries row is deleted under a slice's copy, whose foreign key would then fail. Another process
(a replica) may copy the same key beside this one: each keeps what the other wrote.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wakelog.store.database import Database
from wakelog.store.schema import project_keys, runs, sorted_summaries, summaries
from wakelog.store.upsert import insert_selected_missing

#: The key registry's kind of an indexed key, which pages walk.
KIND = "sorted"
#: The kind of a key whose index the triggers keep while the runs from before are copied in.
FILLING = "filling"
#: PostgreSQL's advisory lock class of a project's sort index; the triggers of migration 0020 take
#: the shared lock of (class, project id) before they write.
LOCK_CLASS = 0x57414B45
#: Runs whose rows one transaction copies.
SLICE = 5_000


def add(db: Database, project_id: int, key: str) -> bool:
    """Index ``key`` for the project's run table; whether it was not indexed before."""
    with db.write() as conn:
        if not register(conn, project_id, key):
            return False
    fill(db, project_id, key)
    return True


def register(conn: sa.Connection, project_id: int, key: str) -> bool:
    """Make the key's "filling" entry, in this write transaction, unless it is indexed already
    (False). Whether "filling" was there (a copy cut short, or another under way) or is new, the
    key's rows are to be copied (``fill``)."""
    _lock(conn, project_id)
    c = project_keys.c
    kinds = sa.select(c.kind).where(c.project_id == project_id, c.kind.in_([KIND, FILLING]), c.key == key)
    found = set(conn.execute(kinds).scalars())
    if KIND in found:
        return False
    if not found:
        conn.execute(project_keys.insert().values(project_id=project_id, kind=FILLING, key=key))
    return True


def fill(db: Database, project_id: int, key: str) -> None:
    """Copy the rows of the project's runs for ``key`` into the index, a slice of runs per
    transaction (in their creation order), then mark the key "sorted"."""
    after: tuple[Any, ...] | None = None
    while True:
        with db.write() as conn:
            _lock(conn, project_id)
            after = _copy_slice(conn, project_id, key, after)
        if after is None:
            break
    with db.write() as conn:
        c = project_keys.c
        mark = project_keys.update().where(c.project_id == project_id, c.kind == FILLING, c.key == key)
        conn.execute(mark.values(kind=KIND))  # a copy beside it may have marked it first: no row


def _copy_slice(conn: sa.Connection, project_id: int, key: str, after: tuple[Any, ...] | None) -> Any:
    """Copy the rows of the ``SLICE`` runs after ``after`` (created_at, id), walking the project's
    runs by the index on (project_id, created_at); the last run's (created_at, id), or None when
    none were left. Rows the triggers wrote meanwhile are kept: they are as new as the summaries."""
    created, pk = runs.c.created_at, runs.c.id
    page = sa.select(created, pk).where(runs.c.project_id == project_id)
    if after is not None:  # a range of the index, then its ties (PostgreSQL's index holds no id)
        page = page.where(created >= after[0], sa.or_(created > after[0], pk > after[1]))
    window = page.order_by(created, pk).limit(SLICE).subquery()
    w = window.c
    last = conn.execute(
        sa.select(w.created_at, w.id).order_by(w.created_at.desc(), w.id.desc()).limit(1)
    ).first()
    if last is None:
        return None
    s = summaries.c
    rows = sa.select(s.run_pk, s.key, sa.literal(project_id), s.last).where(
        s.key == key, s.run_pk.in_(sa.select(w.id))
    )
    insert_selected_missing(
        conn, sorted_summaries, ["run_pk", "key", "project_id", "last"], rows, ["run_pk", "key"]
    )
    return tuple(last)


def _lock(conn: sa.Connection, project_id: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_CLASS, project_id)))
