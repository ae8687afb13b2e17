"""A live run's small batch costs a handful of statements, each one a trip to the database: the
alert rules are looked up only in a project that has some (the run's row says so). Each statement is
built once, not per batch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.harness import InProcessServer
from tests.server.conftest import post_records

API = "/api/v1"
RULES_LOOKUP = "SELECT alert_rules.id"  # rules.list_rules, as SQLAlchemy writes it on both backends


@contextmanager
def statements(server: InProcessServer) -> Iterator[list[str]]:
    """The SQL the server's database connections execute meanwhile."""
    seen: list[str] = []
    db = server.app.state.db
    engines = {db.engine, db._writer}  # one engine on PostgreSQL, a reader and the writer on SQLite

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)


def test_a_small_batch_looks_up_alert_rules_only_in_a_project_that_has_some(server: InProcessServer) -> None:
    project = f"p{uuid.uuid4().hex[:8]}"
    run = f"admin/{project}/r"
    with server.client() as admin, statements(server) as seen:
        assert (
            post_records(
                admin, run, [[0, "run", 1.0, {}], [1, "history", 1.0, {"_step": 0, "loss": 1.0}]]
            ).status_code
            == 200
        )
        seen.clear()  # from here on, batches of known keys: what a live run sends each second
        assert post_records(admin, run, [[2, "history", 2.0, {"_step": 1, "loss": 1.0}]]).status_code == 200
        without = list(seen)
        assert not [s for s in without if s.startswith(RULES_LOOKUP)]
        made = admin.post(
            f"{API}/projects/admin/{project}/alert-rules", json={"key": "loss", "op": ">", "value": 9}
        )
        assert made.status_code == 201, made.text
        seen.clear()
        assert post_records(admin, run, [[3, "history", 3.0, {"_step": 2, "loss": 1.0}]]).status_code == 200
        assert len([s for s in seen if s.startswith(RULES_LOOKUP)]) == 1
        assert len(seen) == len(without) + 1, "the rules lookup is the one statement more"


def test_a_summary_sent_whole_with_every_batch_looks_up_its_loose_keys_once(server: InProcessServer) -> None:
    """The wandb client sends its whole summary (``_runtime`` and all) with every batch: the numbers
    without a summary row are looked up once per run, not at each batch (store/key_registry.py)."""
    run = f"admin/p{uuid.uuid4().hex[:8]}/r"

    def batch(seq: int) -> list[Any]:
        row = {"_step": seq, "_runtime": float(seq), "loss": 1.0}
        summary = {"whole": True, "update": {"_runtime": float(seq), "loss": 1.0}}
        return [[2 * seq, "history", 1.0, row], [2 * seq + 1, "summary", 1.0, summary]]

    lookup = ('SELECT summaries."key"', "SELECT summaries.key")  # quoted as each backend does
    with server.client() as admin, statements(server) as seen:
        assert post_records(admin, run, batch(0)).status_code == 200
        assert len([s for s in seen if s.startswith(lookup)]) == 1  # _runtime: no row, so loose
        seen.clear()
        for seq in (1, 2):
            assert post_records(admin, run, batch(seq)).status_code == 200
        assert not [s for s in seen if s.startswith(lookup)]


def test_a_live_batch_executes_only_statements_built_before(
    server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLAlchemy finds a statement's compiled form by a cache key it makes once per statement
    object: a statement built anew for each batch costs a new key each time. A live run's batches
    (the same keys, a second apart) execute the very statement objects the one before did."""
    run = f"admin/p{uuid.uuid4().hex[:8]}/r"
    executed: list[list[Any]] = []
    execute = sa.Connection.execute

    def noting(conn: sa.Connection, statement: Any, *args: Any, **kwargs: Any) -> Any:
        executed[-1].append(statement)  # held: a freed object's id could be reused
        return execute(conn, statement, *args, **kwargs)

    monkeypatch.setattr(sa.Connection, "execute", noting)
    with server.client() as admin:
        for seq in range(4):
            executed.append([])
            row = {"_step": seq, "loss": 1.0 / (seq + 1), "acc": 0.5}
            assert post_records(admin, run, [[seq, "history", 1.0, row]]).status_code == 200
    before, last = executed[-2], executed[-1]
    assert last, "the batch executed statements"
    built_anew = [str(s).split("\n")[0] for s in last if not any(s is seen for seen in before)]
    assert not built_anew


def test_a_live_batch_reads_no_config_metadata_or_metric_definitions(server: InProcessServer) -> None:
    """A run's config, metadata and metric definitions (large JSON: a detection model's flattened
    config runs to tens of KB) are read only by a batch that changes them, once, and merged with
    what the run held; a live batch of history reads none of them."""
    run = f"admin/p{uuid.uuid4().hex[:8]}/r"
    config = {f"model.layer_{i}.width": i for i in range(500)}
    first = [
        [0, "run", 1.0, {}],
        [1, "config", 1.0, {"update": config}],
        [2, "metadata", 1.0, {"host": "trainer-1"}],
        [3, "metric", 1.0, {"name": "loss", "summary": "min"}],
    ]
    on_demand = ("runs.config", "runs.run_metadata", "runs.metric_defs")

    def reads(statements: list[str]) -> list[str]:
        return [s for s in statements if s.startswith("SELECT") and any(c in s for c in on_demand)]

    with server.client() as admin, statements(server) as seen:
        assert post_records(admin, run, first).status_code == 200
        seen.clear()
        for seq in (4, 5):
            row = {"_step": seq, "loss": 1.0 / seq}
            assert post_records(admin, run, [[seq, "history", 1.0, row]]).status_code == 200
        assert not reads(seen)
        assert post_records(admin, run, [[6, "lost", 1.0, {"first": 6, "last": 6}]]).status_code == 200
        assert len(reads(seen)) == 1, "a declared gap is noted in the metadata, read once"
        seen.clear()
        more = [
            [7, "config", 1.0, {"update": {"lr": 0.1}}],
            [8, "metric", 1.0, {"name": "acc", "summary": "max"}],
        ]
        assert post_records(admin, run, more).status_code == 200
        assert len(reads(seen)) == 1, "read once for both records"
        found = admin.get(f"{API}/runs/{run}").json()
    assert found["config"] == {**config, "lr": 0.1}
    assert found["metadata"]["host"] == "trainer-1"
    assert found["metadata"]["lost_records"]
    assert {d["name"] for d in found["metric_defs"].values()} >= {"loss", "acc"}
