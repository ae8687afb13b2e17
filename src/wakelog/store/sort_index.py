"""The run table's sort index: the ``last`` of the summaries of the keys each project's run table
was sorted by (``sorted_summaries``, migration 0020), walked for a sorted page
(server/query/summary_sort.py).

A key is indexed for a project the first time its run table is sorted by it (``add``): a "sorted"
entry in the key registry, and its runs' rows copied in. From then on triggers on ``summaries``
keep its rows in whatever transaction writes them; an ingest batch writes index entries for those
keys only, not for every key it logged. A key stays indexed, as registry entries stay listed.
"""

from __future__ import annotations

import sqlalchemy as sa

from wakelog.store.schema import project_keys, runs, sorted_summaries, summaries

#: The key registry's kind of an indexed key.
KIND = "sorted"
#: PostgreSQL's advisory lock class of a project's sort index; the triggers of migration 0020 take
#: the shared lock of (class, project id) before they write, ``add`` the exclusive one.
LOCK_CLASS = 0x57414B45


def add(conn: sa.Connection, project_id: int, key: str) -> bool:
    """Index ``key`` for the project's run table, in this (write) transaction; whether it was not
    indexed before. On PostgreSQL the exclusive lock first waits out the batches writing the
    project's summaries, so the copy sees them, and holds back new ones until commit, when they see
    the registry entry."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_CLASS, project_id)))
    c = project_keys.c
    registered = sa.select(c.key).where(c.project_id == project_id, c.kind == KIND, c.key == key)
    if conn.execute(registered).first() is not None:
        return False
    conn.execute(project_keys.insert().values(project_id=project_id, kind=KIND, key=key))
    s = summaries.c
    rows = (
        sa.select(s.run_pk, s.key, runs.c.project_id, s.last)
        .select_from(runs)
        .join(summaries, sa.and_(s.run_pk == runs.c.id, s.key == key))
        .where(runs.c.project_id == project_id)
    )
    conn.execute(sorted_summaries.insert().from_select(["run_pk", "key", "project_id", "last"], rows))
    return True
