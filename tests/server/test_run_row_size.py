"""A live run's summary changes at every batch by a few bytes. On SQLite its JSON is stored padded
to a size class (``schema.SteadyJSON``), so that the run's row keeps its size: SQLite then
overwrites it in place, writing only the pages whose bytes changed, where a row of another size is
written whole, with every overflow page of a large config. Both backends read the summary back as
it was, in Python and in SQL."""

from __future__ import annotations

import sqlalchemy as sa

from tests.server.test_rewind_store import Log
from wakelog.store.database import Database, json_dumps
from wakelog.store.schema import runs


def test_a_live_runs_row_keeps_its_size_while_its_summary_changes(db: Database) -> None:
    log = Log(db)
    config = {f"model.backbone.layer_{i}.param": {"value": i * 0.37} for i in range(300)}  # ≈ 20 KB
    log.send(("run", {}), ("config", {"update": config}))
    texts, stored = set(), set()
    for step in range(1, 40):
        summary = {"loss": 1 / (step + 2), "accuracy/top1": step / 7, "lr": 10.0**-step, "评估/准确率": 0.5}
        log.send(("history", {"_step": step, **summary}))
        with db.read() as conn:
            row = conn.execute(
                sa.select(runs.c.summary, runs.c.summary["loss"].as_float().label("loss"))
            ).one()
            if db.engine.dialect.name == "sqlite":
                size = sa.text("SELECT length(CAST(summary AS BLOB)) FROM runs")  # bytes, not characters
                stored.add(conn.execute(size).scalar_one())
        assert {k: row.summary[k] for k in summary} == summary and row.loss == summary["loss"]
        texts.add(len(json_dumps(row.summary).encode()))
    assert len(texts) > 5, "the summary's JSON changed its length from batch to batch"
    assert min(texts) > 64 and max(texts) <= 128, "within one size class: 65 to 128 bytes"
    if db.engine.dialect.name == "sqlite":
        assert len(stored) == 1 and stored.pop() % 64 == 0, "the row kept one size"
