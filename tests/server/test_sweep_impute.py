"""``metric.impute`` and ``metric.impute_while_running``: what bayes search learns from trials
that broke, logged nothing, or still run (wandb's rules, checked by hand)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.harness import FakeClock, InProcessServer
from tests.server.test_sweeps_api import API, agent, base, log_run, next_trial
from wakelog.server.sweeps import search
from wakelog.server.sweeps.impute import observed
from wakelog.server.sweeps.store import Trial
from wakelog.store.schema import sweeps


def trial(
    n: int, state: str, last: float | None = None, low: float | None = None, high: float | None = None
) -> Trial:
    return Trial(
        seq=n,
        run_id=f"run{n}",
        params={"x": n},
        point={"x": n},
        state=state,
        agent=None,
        created_at=0.0,
        metric=last,
        stopped_reason=None,
        run_pk=n,
        extremes=(low, high),
    )


TRIALS = [
    trial(0, "finished", last=0.5, low=0.2, high=0.9),
    trial(1, "finished", last=None),  # logged nothing
    trial(2, "failed", last=3.0, low=1.0, high=4.0),
    trial(3, "crashed"),
    trial(4, "killed", last=2.0, low=2.0, high=7.0),
    trial(5, "running", last=1.5, low=1.5, high=6.0),
    trial(6, "pending"),
]


def values(metric: dict[str, Any]) -> dict[int, float]:
    return {o.point["x"]: o.value for o in observed(metric, TRIALS)}


def test_worst_is_the_default_and_the_worst_any_ended_trial_reached() -> None:
    # minimising: the largest value an ended trial logged (the killed one's 7; the running one's 6
    # does not count); running and pending trials are left out
    assert values({"name": "loss", "goal": "minimize"}) == {0: 0.5, 1: 7.0, 2: 7.0, 3: 7.0, 4: 7.0}
    # maximising: the smallest (the finished one's 0.2)
    assert values({"name": "acc", "goal": "maximize", "impute": "worst"}) == {
        0: 0.5,
        1: 0.2,
        2: 0.2,
        3: 0.2,
        4: 0.2,
    }


def test_best_and_latest_use_the_trial_s_own_values_else_zero() -> None:
    assert values({"name": "loss", "goal": "minimize", "impute": "best"}) == {
        0: 0.5,
        1: 0.0,
        2: 1.0,
        3: 0.0,
        4: 2.0,
    }
    assert values({"name": "acc", "goal": "maximize", "impute": "best"})[2] == 4.0
    assert values({"name": "loss", "goal": "minimize", "impute": "latest"}) == {
        0: 0.5,
        1: 0.0,
        2: 3.0,
        3: 0.0,
        4: 2.0,
    }


def test_impute_while_running_lets_running_trials_count() -> None:
    metric = {"name": "loss", "goal": "minimize", "impute_while_running": "worst"}
    assert values(metric)[5] == 1.5, "a running trial with a value counts with it"
    assert 5 not in values({**metric, "impute_while_running": "false"})
    nothing_yet = [trial(0, "finished", last=1.0, low=1.0, high=2.0), trial(1, "running")]
    assert [o.value for o in observed(metric, nothing_yet)] == [1.0, 2.0]


@pytest.fixture
def client(server: InProcessServer) -> Iterator[httpx.Client]:
    server.app.state.clock = FakeClock()
    with server.client() as client:
        yield client
    server.app.state.clock = __import__("time").time


def test_failed_trials_count_for_bayes(client: httpx.Client, server: InProcessServer) -> None:
    """Ten trials that failed without a value end bayes's random start-up: the next suggestion
    is TPE's, not the random draw it would be if they were ignored."""
    config = {
        "method": "bayes",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
    }
    made = client.post(f"{API}/projects/admin/impute/sweeps", json={"config": config})
    sweep = made.json()
    me = agent(client, sweep)
    for _ in range(search.STARTUP_TRIALS):
        log_run(client, "impute", next_trial(client, sweep, me)["run_id"], [], "failed")
    assert client.get(base(sweep)).json()["counts"] == {"failed": search.STARTUP_TRIALS}
    with server.app.state.db.read() as conn:
        seed = conn.execute(sa.select(sweeps.c.seed).where(sweeps.c.sweep_id == sweep["id"])).scalar_one()
    normalised = sweep["config"]
    random_draw = search.random_point(normalised, seed, search.STARTUP_TRIALS).params
    assert next_trial(client, sweep, me)["params"] != random_draw
