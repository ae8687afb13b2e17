"""The column picker's keys come from each project's key registry (store/key_registry.py), kept at
ingest: after any runs' configs, metrics and metric definitions it lists every key the runs ever
had (what a read of every run finds, and keys since replaced), the step metric declared last; a
moved run's keys follow it; a batch that rolls back hides no key from a later one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.store.ingest import apply_batch
from wakelog.store.key_registry import entries, flat_config
from wakelog.store.schema import projects, runs, summaries

API = "/api/v1"

names = st.sampled_from(["lr", "opt", "layers", "a.b", "eval/acc", "x"])
leaves = st.one_of(st.integers(-3, 3), st.floats(0, 1), st.text(max_size=3), st.just({}))
configs = st.recursive(leaves, lambda inner: st.dictionaries(names, inner, max_size=3), max_leaves=6)
batches = st.lists(
    st.tuples(
        st.sampled_from(["r1", "r2", "r3"]),
        st.dictionaries(names, configs, max_size=3),
        st.lists(names, max_size=3, unique=True),
        st.dictionaries(names, st.sampled_from(["epoch", "step", "_step"]), max_size=2),
    ),
    min_size=1,
    max_size=6,
)


def read_everything(server: InProcessServer, project: str) -> dict[str, Any]:
    """The keys as the picker found them before the registry: from every run of the project (the
    step metrics apart: the registry keeps the last declared, not the first run's)."""
    with server.app.state.db.read() as conn:
        pid = conn.execute(sa.select(projects.c.id).where(projects.c.name == project)).scalar_one()
        found: dict[tuple[str, str], str | None] = {}
        for config, defs in conn.execute(
            sa.select(runs.c.config, runs.c.metric_defs).where(runs.c.project_id == pid).order_by(runs.c.id)
        ):
            for entry, step in entries(config, defs, ()).items():
                found.setdefault(entry, step)
        metric = sa.select(summaries.c.key).join(runs, runs.c.id == summaries.c.run_pk)
        keys = conn.execute(metric.where(runs.c.project_id == pid).distinct().order_by(summaries.c.key))
    return {"summary": list(keys.scalars()), "config": sorted(key for kind, key in found if kind == "config")}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches)
def test_the_registry_lists_what_reading_every_run_finds(
    server: InProcessServer, batches: list[tuple[str, dict[str, Any], list[str], dict[str, str]]]
) -> None:
    project = f"k{uuid.uuid4().hex[:8]}"
    seqs: dict[str, int] = {}
    declared: dict[str, str] = {}
    ever: dict[str, set[str]] = {"config": set(), "summary": set()}
    with server.client() as client:
        for run_id, config, metrics, defs in batches:
            seq = seqs.get(run_id, 0)
            records: list[Any] = [[seq, "config", 1.0, {"update": config}]]
            records += [[seq + 1, "history", 2.0, {"_step": seq, **dict.fromkeys(metrics, 1.0)}]]
            records += [
                [seq + 2 + i, "metric", 3.0, {"name": name, "step_metric": step}]
                for i, (name, step) in enumerate(defs.items())
            ]
            seqs[run_id] = seq + 2 + len(defs)
            declared.update(defs)
            ever["config"].update(flat_config(config))
            ever["summary"].update(metrics)
            assert post_records(client, f"admin/{project}/{run_id}", records).status_code == 200
        listed = client.get(f"{API}/projects/admin/{project}/keys").json()
    now = read_everything(server, project)
    assert set(now["config"]) <= ever["config"] and set(now["summary"]) == ever["summary"]
    assert listed == {"summary": now["summary"], "config": sorted(ever["config"]), "step_metrics": declared}


def test_a_step_metric_declared_again_by_a_run_is_the_projects_again(server: InProcessServer) -> None:
    """The step metric declared last is the project's, also when a run declares again what it
    declared before and another run changed since (hypothesis found this one)."""
    project = f"k{uuid.uuid4().hex[:8]}"
    sends = [("r1", "step", 0), ("r2", "epoch", 0), ("r1", "step", 1)]
    with server.client() as client:
        for run_id, step, seq in sends:
            record = [seq, "metric", 1.0, {"name": "eval/acc", "step_metric": step}]
            assert post_records(client, f"admin/{project}/{run_id}", [record]).status_code == 200
        listed = client.get(f"{API}/projects/admin/{project}/keys").json()
    assert listed["step_metrics"] == {"eval/acc": "step"}


def test_a_moved_run_brings_its_keys_and_a_trashed_ones_stay(server: InProcessServer) -> None:
    with server.client() as client:
        records = [
            [0, "config", 1.0, {"update": {"opt": {"lr": 0.1}}}],
            [1, "history", 2.0, {"_step": 0, "loss": 1.0}],
            [2, "exit", 3.0, {"exit_code": 0}],
        ]
        assert post_records(client, "admin/from/r", records).status_code == 200
        assert post_records(client, "admin/to/other", [[0, "run", 1.0, {}]]).status_code == 200
        moved = client.post(
            f"{API}/projects/admin/from/runs/bulk", json={"action": "move", "runs": ["r"], "to": "admin/to"}
        )
        assert moved.status_code == 200, moved.text
        keys = client.get(f"{API}/projects/admin/to/keys").json()
        assert (keys["summary"], keys["config"]) == (["loss"], ["opt.lr"])
        assert client.get(f"{API}/projects/admin/from/keys").json()["config"] == ["opt.lr"]  # kept


def test_a_batch_that_rolls_back_hides_no_key_from_a_later_one(server: InProcessServer) -> None:
    db = server.app.state.db

    def fail(*_: Any) -> None:
        raise RuntimeError("the batch's hook failed")

    long = {"x" * 600: {"y" * 600: 1}}  # a path past the registry's column: left out, not an error
    batch = [[0, "config", 1.0, {"update": {"seen": 1, **long}}], [1, "history", 2.0, {"_step": 0, "m": 1.0}]]
    assert post_records(server.client(), "admin/rolled/r", [[0, "run", 1.0, {}]]).status_code == 200
    records = [[seq + 1, kind, when, data] for seq, kind, when, data in batch]
    with pytest.raises(RuntimeError):
        apply_batch(db, "admin", "rolled", "r", records, on_applied=fail)
    apply_batch(db, "admin", "rolled", "r", records)
    with server.client() as client:
        keys = client.get(f"{API}/projects/admin/rolled/keys").json()
    assert (keys["summary"], keys["config"]) == (["m"], ["seen"])
