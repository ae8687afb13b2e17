"""Each project's maintained run counts (``projects.run_count``, ``live_run_count``) equal a count
of its runs after any sequence of what changes them: ingest creating runs, trashing, restoring,
moving, purging the trash, deleting a project with its runs — on both backends, through the API and
the expiry the server runs.

The counts are kept by triggers on ``runs`` (migration 0017); the project list and the run table's
unfiltered total read them instead of counting runs.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.server.expiry import collect
from wakelog.store.schema import projects, runs

API = "/api/v1"
DAY = 24 * 3600.0
RUNS = [f"r{i}" for i in range(4)]
PROJECTS = ["a", "b", "c"]

run_ids = st.sampled_from(RUNS)
names = st.sampled_from(PROJECTS)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), names, run_ids, st.booleans()),
        st.tuples(st.just("delete"), names, st.lists(run_ids, min_size=1, max_size=3)),
        st.tuples(st.just("restore"), names, st.lists(run_ids, min_size=1, max_size=3)),
        st.tuples(st.just("move"), names, run_ids, names),
        st.tuples(st.just("purge")),
        st.tuples(st.just("drop project"), names),
    ),
    max_size=12,
)


def recounted(server: InProcessServer) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """Every project's maintained counts, and the same counted from its runs."""
    live = sa.func.sum(sa.case((runs.c.deleted_at.is_(None), 1), else_=0))
    with server.app.state.db.read() as conn:
        kept = {row.id: (row.run_count, row.live_run_count) for row in conn.execute(sa.select(projects))}
        counted = dict.fromkeys(kept, (0, 0))
        query = sa.select(runs.c.project_id, sa.func.count(), live).group_by(runs.c.project_id)
        counted.update({pid: (int(n), int(m)) for pid, n, m in conn.execute(query)})
    return kept, counted


def apply(server: InProcessServer, client: Any, prefix: str, op: tuple[Any, ...]) -> None:
    """One operation as users and the server make it; refusals (a run in the trash, a clash) are
    part of the sequence too."""
    kind = op[0]
    if kind == "create":
        records: list[Any] = [[0, "run", 1.0, {}]]
        if op[3]:
            records.append([1, "exit", 2.0, {"exit_code": 0}])
        post_records(client, f"admin/{prefix}{op[1]}/{op[2]}", records)
    elif kind in ("delete", "restore"):
        client.post(f"{API}/projects/admin/{prefix}{op[1]}/runs/bulk", json={"action": kind, "runs": op[2]})
    elif kind == "move":
        client.post(
            f"{API}/projects/admin/{prefix}{op[1]}/runs/bulk",
            json={"action": "move", "runs": [op[2]], "to": f"admin/{prefix}{op[3]}"},
        )
    elif kind == "purge":
        state = server.app.state
        collect(state.db, state.blobs, state.config, now=time.time() + 400 * DAY)
    else:  # the project is purged at once (as expiry does from its trash), its runs by cascade
        with server.app.state.db.write() as conn:
            conn.execute(projects.delete().where(projects.c.name == f"{prefix}{op[1]}"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_maintained_counts_equal_a_recount_after_any_operations(
    server: InProcessServer, ops: list[tuple[Any, ...]]
) -> None:
    prefix = f"n{uuid.uuid4().hex[:6]}"
    with server.client() as client:
        for op in ops:
            apply(server, client, prefix, op)
            kept, counted = recounted(server)
            assert kept == counted, op
        for name in PROJECTS:
            listed = client.get(f"{API}/projects/admin/{prefix}{name}")
            if listed.status_code == 404:
                continue
            page = client.get(f"{API}/projects/admin/{prefix}{name}/runs", params={"limit": 1})
            expected = sum(1 for r in client.get(f"{API}/projects/admin/{prefix}{name}/runs").json()["runs"])
            assert listed.json()["runs"] == page.json()["total"] == expected
