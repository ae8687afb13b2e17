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


def test_statistics_of_awkward_keys_values_and_steps(db: Database) -> None:
    """What a batch's arrays must carry whole (PostgreSQL takes them in binary, ``store/driver.py``):
    keys with quotes, backslashes, braces, commas and CJK, a key whose every value is NaN (a column
    of NULLs), ±Inf, and steps past 32 bits."""
    keys = ['a"b', "c\\d", "{e,f}", "损失 loss", "NULL", "only_nan"]
    step = 2**40
    log = Log(db, f"r{next(_EXAMPLES)}")
    log.send(("run", {}))
    values = [math.inf, -1.5, 0.0, 1e300, -math.inf, math.nan]
    log.send(
        *[
            ("history", {"_step": step + i, **dict.fromkeys(keys[:-1], v), "only_nan": math.nan})
            for i, v in enumerate(values)
        ]
    )
    with db.read() as conn:
        query = (
            sa.select(summaries)
            .join(runs, runs.c.id == summaries.c.run_pk)
            .where(runs.c.run_id == log.run_id)
        )
        stored = {row.key: row for row in conn.execute(query)}
    assert set(stored) == set(keys)
    for key in keys[:-1]:
        want = expected(values, step + len(values) - 1)
        got = {name: getattr(stored[key], name) for name in want}
        assert got == want, key
    assert {
        name: getattr(stored["only_nan"], name) for name in ("min", "max", "first", "last", "total", "count")
    } == {"min": None, "max": None, "first": None, "last": None, "total": 0.0, "count": len(values)}
