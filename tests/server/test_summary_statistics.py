"""Per-key statistics (``store/ingest/_summaries.py``) against a plain reading of what was logged:
any batches, keys logged at different rates within a batch, NaN and ±Inf among the values, on both
backends (PostgreSQL's upsert takes the rows as arrays, ``store/upsert.py``)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.test_rewind_store import Log
from wakelog.store.database import Database
from wakelog.store.schema import runs, summaries

VALUES = st.one_of(
    st.floats(-1e6, 1e6), st.sampled_from([math.nan, math.inf, -math.inf]), st.integers(-5, 5).map(float)
)
#: A batch: rows, each (its value of "a", its value of "b" or None where the row does not log it).
BATCHES = st.lists(
    st.lists(st.tuples(VALUES, st.one_of(st.none(), VALUES)), min_size=1, max_size=12), min_size=1, max_size=6
)
_EXAMPLES = itertools.count()


def expected(values: list[float], last_step: int) -> dict[str, Any]:
    counted = [v for v in values if not math.isnan(v)]
    return {
        "count": len(values),
        "first": None if math.isnan(values[0]) else values[0],
        "last": None if math.isnan(values[-1]) else values[-1],
        "min": min(counted) if counted else None,
        "max": max(counted) if counted else None,
        "total": math.fsum(v for v in values if math.isfinite(v)),
        "last_step": last_step,
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=BATCHES)
def test_each_keys_statistics_are_those_of_every_value_it_logged(
    db: Database, batches: list[list[tuple[float, float | None]]]
) -> None:
    run_id = f"r{next(_EXAMPLES)}"  # a run per example: the store is the test's
    log, logged, step = Log(db, run_id), {"a": [], "b": []}, 0
    last: dict[str, int] = {}
    log.send(("run", {}))
    for batch in batches:
        rows = []
        for a, b in batch:
            row: dict[str, Any] = {"_step": step, "a": a}
            logged["a"].append(a)
            last["a"] = step
            if b is not None:
                row["b"] = b
                logged["b"].append(b)
                last["b"] = step
            rows.append(("history", row))
            step += 1
        log.send(*rows)
    with db.read() as conn:
        query = (
            sa.select(summaries).join(runs, runs.c.id == summaries.c.run_pk).where(runs.c.run_id == run_id)
        )
        stored = {row.key: row for row in conn.execute(query)}
    assert set(stored) == {key for key, values in logged.items() if values}
    for key, row in stored.items():
        want = expected(logged[key], last[key])
        got = {name: getattr(row, name) for name in want}
        assert math.isclose(got.pop("total"), want.pop("total"), rel_tol=1e-9, abs_tol=1e-6)
        assert got == want
