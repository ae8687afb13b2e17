"""Ingest finds a series' open tail chunk through the primary key, from its end, on both backends.

The database's own planner is asked (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL with
sequential scans priced out, so a plan that could use the index does): no scan of
``series_chunks``, however many chunks a run holds.
"""

from __future__ import annotations

import sqlalchemy as sa

from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.store.ingest._series import tails_query
from wakelog.store.series import MERGE_BELOW


def plan(server: InProcessServer, statement: sa.TextClause, params: dict) -> str:
    with server.app.state.db.read() as conn:
        if conn.dialect.name == "sqlite":
            sql = sa.text(f"EXPLAIN QUERY PLAN {statement.text}")
            return "\n".join(row.detail for row in conn.execute(sql, params))
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        return "\n".join(row[0] for row in conn.execute(sa.text(f"EXPLAIN {statement.text}"), params))


def test_the_tail_lookup_searches_the_primary_key_from_the_end(server: InProcessServer) -> None:
    rows = [[0, "run", 1.0, {"id": "plans"}]]
    rows += [
        [1 + step, "history", 1.0, {"a": 1.0, "b": 2.0, "_step": step}] for step in range(3 * MERGE_BELOW)
    ]
    with server.client() as client:
        assert post_records(client, "admin/plans/plans", rows).status_code == 200
    explained = plan(server, tails_query(2), {"run": 1, "s0": 0, "k0": "a", "s1": 0, "k1": "b"})
    if server.backend == "sqlite":
        assert "SCAN series_chunks" not in explained, explained
        assert explained.count("SEARCH series_chunks USING INDEX") == 2, explained
        assert "(run_pk=? AND stream=? AND key=?)" in explained, explained
    else:
        assert "Seq Scan" not in explained and "Sort" not in explained, explained
        assert explained.count("Index Scan Backward using pk_series_chunks") == 2, explained
