"""Reading sweeps back: ``wakelog.Api().sweep()`` as wandb's public API has it, a run's sweep
(``run.sweep_url``, ``ApiRun.sweep``), and ``prior_runs`` from Python and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import wakelog
from tests.server.conftest import post_records
from tests.sweeps.conftest import SweepServer
from wakelog.cli import main

CONFIG = {
    "method": "random",
    "name": "lr-search",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"lr": {"values": [0.1, 0.01, 0.001]}},
}


def made_run(server: SweepServer, run_id: str, lr: float, losses: list[float], project: str = "tune") -> None:
    records: list[Any] = [[0, "run", 1.0, {"name": run_id}], [1, "config", 1.0, {"update": {"lr": lr}}]]
    records += [[i + 2, "history", 2.0 + i, {"_step": i, "loss": v}] for i, v in enumerate(losses)]
    records.append([len(records), "exit", 99.0, {"state": "finished", "exit_code": 0}])
    answer = post_records(server.http, f"{server.entity}/{project}/{run_id}", records)
    assert answer.status_code == 200, answer.text


def test_api_sweep_reads_a_sweep_with_its_runs_and_best_run(
    sweep_server: SweepServer, request: pytest.FixtureRequest
) -> None:
    for run_id, lr, losses in [
        ("aaa00001", 0.1, [0.9, 0.5]),
        ("aaa00002", 0.01, [0.8, 0.1]),
        ("aaa00003", 0.001, []),
    ]:
        made_run(sweep_server, run_id, lr, losses)
    sweep_id = wakelog.sweep(CONFIG, project="tune", prior_runs=["aaa00001", "aaa00002", "aaa00003"])
    api = wakelog.Api()
    sweep = api.sweep(f"{sweep_server.entity}/tune/{sweep_id}")
    request.addfinalizer(api.close)
    assert (sweep.id, sweep.name, sweep.entity, sweep.project) == (
        sweep_id,
        "lr-search",
        sweep_server.entity,
        "tune",
    )
    assert sweep.state == "RUNNING" and sweep.config["parameters"]["lr"]["distribution"] == "categorical"
    assert sweep.url == f"{sweep_server.server.url}/{sweep_server.entity}/tune/sweeps/{sweep_id}"
    assert sorted(run.id for run in sweep.runs) == ["aaa00001", "aaa00002", "aaa00003"]
    assert sweep.order == "+summary_metrics.loss"
    assert sweep.best_run().id == "aaa00002", "lowest loss; the run without one is not best"
    assert sweep.best_run(order="-summary_metrics.loss").id == "aaa00001"
    assert api.sweep(f"tune/{sweep_id}").id == sweep_id
    assert api.sweep(sweep.url).id == sweep_id
    assert [t["params"] for t in sweep.trials][:1] == [{"lr": 0.1}]


def test_sweep_ids_split_into_chunks_still_find_the_best(
    sweep_server: SweepServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wakelog.api._api import Sweep

    for i, loss in enumerate([0.5, 0.4, 0.05, 0.3, 0.2]):
        made_run(sweep_server, f"chunk{i:03d}", 0.1, [loss])
    sweep_id = wakelog.sweep(CONFIG, project="tune", prior_runs=[f"chunk{i:03d}" for i in range(5)])
    monkeypatch.setattr(Sweep, "ID_CHUNK", 2)
    with wakelog.Api() as api:
        sweep = api.sweep(f"{sweep_server.entity}/tune/{sweep_id}")
        assert len(sweep.runs) == 5
        assert sweep.best_run().id == "chunk002"


def test_a_trial_run_knows_its_sweep(sweep_server: SweepServer, tmp_path: Path) -> None:
    sweep_id = wakelog.sweep(CONFIG, project="tune")
    seen: dict[str, Any] = {}

    def train() -> None:
        run = wakelog.init()
        seen.update(id=run.id, url=run.sweep_url, old=run.get_sweep_url())
        run.log({"loss": 0.3})

    wakelog.agent(sweep_id, function=train, count=1)
    expected = f"{sweep_server.server.url}/{sweep_server.entity}/tune/sweeps/{sweep_id}"
    assert seen["url"] == seen["old"] == expected
    sweep_server.run_ends(seen["id"])
    with wakelog.Api() as api:
        run = api.run(f"{sweep_server.entity}/tune/{seen['id']}")
        assert run.sweep_name == sweep_id and run.sweep is not None and run.sweep.id == sweep_id


def test_a_run_outside_sweeps_has_none(sweep_server: SweepServer) -> None:
    run = wakelog.init(mode="offline")
    try:
        assert run.sweep_url is None and run.get_sweep_url() is None
    finally:
        run.finish()
    made_run(sweep_server, "plain001", 0.1, [1.0])
    with wakelog.Api() as api:
        api_run = api.run(f"{sweep_server.entity}/tune/plain001")
        assert api_run.sweep_name is None and api_run.sweep is None


def test_prior_runs_from_the_cli_and_a_missing_one_named(sweep_server: SweepServer, tmp_path: Path) -> None:
    made_run(sweep_server, "clirun01", 0.01, [0.2])
    made_run(sweep_server, "clirun02", 0.1, [0.4])
    config = tmp_path / "sweep.yaml"
    config.write_text("method: random\nmetric: {name: loss}\nparameters:\n  lr: {values: [0.1, 0.01]}\n")
    made = CliRunner().invoke(
        main, ["sweep", str(config), "--project", "tune", "-R", "clirun01", "--prior_run", "clirun02"]
    )
    assert made.exit_code == 0, made.output
    sweep_id = made.output.split()[1]
    assert [t["run_id"] for t in sweep_server.sweep(sweep_id)["trials"]] == ["clirun01", "clirun02"]
    missing = CliRunner().invoke(main, ["sweep", str(config), "--project", "tune", "--prior-run", "ghost123"])
    assert missing.exit_code == 1 and "prior_runs: no run 'ghost123'" in missing.output
    with pytest.raises(wakelog.UsageError, match="ghost123"):
        wakelog.sweep(CONFIG, project="tune", prior_runs=["ghost123"])
