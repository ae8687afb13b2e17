"""`wakelog import mlflow`: runs of an MLflow file store and SQLite store arrive with their params,
metric steps and timestamps, tags, artifacts, status and times; importing again adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.import_helpers import Target, target

pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

from wakelog.integration.importing import _mlflow

T0 = 1_700_000_000_000  # ms, as MLflow keeps times


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Target]:
    yield from target(tmp_path)


@pytest.fixture(params=["file", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return (tmp_path / "mlruns").as_uri()
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def _record(uri: str, tmp_path: Path) -> tuple[Any, str]:
    """One finished run and one failed run, written with MLflow's own client."""
    from mlflow.entities import Metric

    client = _mlflow.client_for(uri)
    experiment = client.create_experiment("baseline", artifact_location=(tmp_path / "artifacts").as_uri())
    run = client.create_run(experiment, start_time=T0, tags={"team": "vision", "mlflow.runName": "resnet"})
    run_id = run.info.run_id
    client.log_param(run_id, "lr", 0.01)
    client.log_param(run_id, "optimizer", "adam")
    metrics = [Metric("loss", 1.0 / (s + 1), T0 + s * 1000, s) for s in range(12)]
    metrics += [Metric("acc", s / 10, T0 + s * 1000 + 7, s) for s in range(0, 12, 3)]
    client.log_batch(run_id, metrics=metrics)
    report = tmp_path / "report.txt"
    report.write_text("all good\n")
    client.log_artifact(run_id, str(report), "eval")
    client.set_terminated(run_id, "FINISHED", end_time=T0 + 60_000)
    failed = client.create_run(experiment, start_time=T0 + 1)
    client.log_metric(failed.info.run_id, "loss", 3.0, timestamp=T0 + 5, step=0)
    client.set_terminated(failed.info.run_id, "FAILED", end_time=T0 + 9)
    return client, run_id


def test_runs_round_trip_from_file_and_sqlite_stores(tmp_path: Path, server: Target, store: str) -> None:
    client, run_id = _record(store, tmp_path)
    reports = server.run_import(_mlflow.sources(store, ["baseline"]))
    assert len(reports) == 2 and not any(r.damage or r.skipped for r in reports)
    main = next(r for r in reports if r.name == "resnet")
    run = server.api.run(main.run_path)
    assert run.project == "baseline"  # the experiment's name
    assert run.config == {"lr": "0.01", "optimizer": "adam"}  # MLflow keeps params as strings
    assert "team:vision" in run.tags
    assert run.state == "finished"
    rows = {row["_step"]: row for row in run.scan_history()}
    for key in ("loss", "acc"):
        for metric in client.get_metric_history(run_id, key):
            assert rows[metric.step][key] == metric.value
    for step, row in rows.items():
        assert row["_timestamp"] == (T0 + step * 1000) / 1000  # the step's first metric's time
    [artifact] = run.files(names=["eval/report.txt"])
    assert artifact.size == len("all good\n")
    failed = server.api.run(next(r for r in reports if r is not main).run_path)
    assert failed.state == "failed"

    again = server.run_import(_mlflow.sources(store, []))
    assert [r.records for r in again] == [0, 0]
    assert {r.run_path for r in again} == {r.run_path for r in reports}


def test_a_run_that_goes_on_adds_its_new_points(tmp_path: Path, server: Target, store: str) -> None:
    client = _mlflow.client_for(store)
    experiment = client.create_experiment("live")
    run_id = client.create_run(experiment, start_time=T0).info.run_id
    for step in range(5):
        client.log_metric(run_id, "loss", float(step), timestamp=T0 + step, step=step)
    [first] = server.run_import(_mlflow.sources(store, ["live"], project="p"))
    assert server.api.run(first.run_path).state == "running"
    for step in range(5, 8):
        client.log_metric(run_id, "loss", float(step), timestamp=T0 + step, step=step)
    client.set_terminated(run_id, "FINISHED", end_time=T0 + 100)
    [later] = server.run_import(_mlflow.sources(store, ["live"], project="p"))
    assert later.points == 3
    assert [row["loss"] for row in server.history(first)] == [float(s) for s in range(8)]
    assert server.api.run(first.run_path).state == "finished"
