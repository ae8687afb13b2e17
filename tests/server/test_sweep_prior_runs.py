"""``prior_runs``: a new sweep takes the project's existing runs in as trials (wandb's
``wandb.sweep(config, prior_runs=[…])``)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.harness import FakeClock, InProcessServer
from tests.server.conftest import post_records
from tests.server.test_sweeps_api import API, agent, base, next_trial
from wakelog.server.sweeps import space as sp
from wakelog.server.sweeps.config import normalise

CONFIG = {
    "method": "bayes",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "opt": {"parameters": {"name": {"values": ["adam", "sgd"]}}},
        "epochs": {"value": 3},
    },
}


@pytest.fixture
def client(server: InProcessServer) -> Iterator[httpx.Client]:
    server.app.state.clock = FakeClock()
    with server.client() as client:
        yield client
    server.app.state.clock = __import__("time").time


def made_run(
    client: httpx.Client, project: str, run_id: str, config: dict[str, Any], losses: list[float], state: str
) -> None:
    records: list[Any] = [[0, "run", 1.0, {"name": run_id}], [1, "config", 1.0, {"update": config}]]
    records += [[i + 2, "history", 2.0 + i, {"_step": i, "loss": v}] for i, v in enumerate(losses)]
    records.append([len(records), "exit", 99.0, {"state": state, "exit_code": 0}])
    assert post_records(client, f"admin/{project}/{run_id}", records).status_code == 200


def test_prior_runs_become_trials_with_their_values_and_metric(client: httpx.Client) -> None:
    made_run(
        client, "prior", "early001", {"lr": 0.01, "opt": {"name": "sgd"}, "seed": 1}, [0.9, 0.4], "finished"
    )
    made_run(client, "prior", "early002", {"lr": 0.001, "opt": {"name": "adam"}}, [0.8, 0.2], "finished")
    made_run(client, "prior", "broke003", {"lr": 0.05}, [], "failed")
    answer = client.post(
        f"{API}/projects/admin/prior/sweeps",
        json={"config": CONFIG, "prior_runs": ["early001", "early002", "broke003", "early001"]},
    )
    assert answer.status_code == 201, answer.text
    sweep = answer.json()
    trials = {t["run_id"]: t for t in sweep["trials"]}
    assert list(trials) == ["early001", "early002", "broke003"], "in the order given, each once"
    assert trials["early001"]["params"] == {"lr": 0.01, "opt": {"name": "sgd"}}, "only the sweep's parameters"
    assert (trials["early002"]["state"], trials["early002"]["metric"]) == ("finished", 0.2)
    assert (trials["broke003"]["state"], trials["broke003"]["agent"]) == ("failed", None)
    assert sweep["best"]["run_id"] == "early002" and sweep["counts"] == {"finished": 2, "failed": 1}
    work = next_trial(client, sweep, agent(client, sweep))
    assert work["action"] == "run" and work["run_id"] not in trials, "the sweep goes on with new trials"
    assert len(client.get(base(sweep)).json()["trials"]) == 4


def test_bayes_learns_from_prior_runs(client: httpx.Client, server: InProcessServer) -> None:
    """Ten prior runs end bayes's random start-up: the first suggestion is already TPE's."""
    import sqlalchemy as sa

    from wakelog.server.sweeps import search
    from wakelog.store.schema import sweeps

    ids = [f"old{i:05d}" for i in range(search.STARTUP_TRIALS)]
    for i, run_id in enumerate(ids):
        lr = 10 ** (-4 + 3 * i / len(ids))
        made_run(
            client,
            "prior3",
            run_id,
            {"lr": lr, "opt": {"name": "adam"}},
            [abs(math.log10(lr) + 2)],
            "finished",
        )
    answer = client.post(f"{API}/projects/admin/prior3/sweeps", json={"config": CONFIG, "prior_runs": ids})
    sweep = answer.json()
    with server.app.state.db.read() as conn:
        seed = conn.execute(sa.select(sweeps.c.seed).where(sweeps.c.sweep_id == sweep["id"])).scalar_one()
    first = next_trial(client, sweep, agent(client, sweep))
    assert first["params"] != search.random_point(sweep["config"], seed, 0).params


def test_a_missing_prior_run_is_named_and_nothing_is_created(client: httpx.Client) -> None:
    made_run(client, "prior2", "there001", {"lr": 0.01}, [0.5], "finished")
    refused = client.post(
        f"{API}/projects/admin/prior2/sweeps", json={"config": CONFIG, "prior_runs": ["there001", "ghost999"]}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_request"
    assert refused.json()["detail"] == "prior_runs: no run 'ghost999' in project admin/prior2"
    assert client.get(f"{API}/projects/admin/prior2/sweeps").json() == []
    bad = client.post(
        f"{API}/projects/admin/prior2/sweeps", json={"config": CONFIG, "prior_runs": "there001"}
    )
    assert bad.status_code == 400 and "prior_runs must be a list" in bad.json()["detail"]


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "uniform", "min": -1.0, "max": 3.0},
        {"distribution": "log_uniform", "min": -4.0, "max": 1.0},
        {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        {"distribution": "inv_log_uniform", "min": 0.0, "max": 4.0},
        {"distribution": "inv_log_uniform_values", "min": 0.01, "max": 1.0},
        {"distribution": "normal", "mu": 1.0, "sigma": 2.0},
        {"distribution": "log_normal", "mu": 0.0, "sigma": 0.5},
        {"distribution": "beta", "a": 2.0, "b": 5.0},
    ],
)
def test_locate_inverts_every_continuous_distribution(spec: dict[str, Any]) -> None:
    (param,) = sp.params(normalise({"method": "random", "parameters": {"x": spec}})["parameters"])
    for u in (0.05, 0.3, 0.5, 0.9):
        located = sp.locate(param, sp.decode(param, u))
        assert located is not None and math.isclose(located, u, rel_tol=1e-6), (u, located)


def test_locate_refuses_values_the_parameter_cannot_take() -> None:
    config = normalise(
        {
            "method": "random",
            "parameters": {
                "c": {"values": [1, "a", True]},
                "i": {"min": 1, "max": 4},
                "lr": {"distribution": "log_uniform_values", "min": 0.1, "max": 1.0},
            },
        }
    )
    c, i, lr = sp.params(config["parameters"])
    assert [sp.locate(c, v) for v in ("a", True, 1, 2)] == [1, 2, 0, None]
    assert [sp.locate(i, v) for v in (3, 3.5, 9, "3")] == [3, None, None, None]
    assert [sp.locate(lr, v) for v in (-1.0, 2.0, math.nan)] == [None, None, None]
