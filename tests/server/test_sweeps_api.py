"""The sweep routes against the real app on SQLite and PostgreSQL: creating, handing out trials,
heartbeats, control, dead agents, trials joined to their runs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.harness import FakeClock, InProcessServer
from tests.server.conftest import post_records

API = "/api/v1"
GRID = """
method: grid
metric: {name: loss, goal: minimize}
parameters:
  lr: {values: [0.1, 0.01, 0.001]}
  optimizer:
    parameters:
      name: {values: [adam, sgd]}
      momentum: {value: 0.9}
"""


@pytest.fixture
def client(server: InProcessServer) -> Iterator[httpx.Client]:
    clock = FakeClock()
    server.app.state.clock = clock
    with server.client() as client:
        client.clock = clock  # type: ignore[attr-defined]
        yield client
    server.app.state.clock = __import__("time").time


def create(client: httpx.Client, config: Any, project: str = "sweeps") -> dict[str, Any]:
    made = client.post(f"{API}/projects/admin/{project}/sweeps", json={"config": config})
    assert made.status_code == 201, made.text
    return made.json()


def agent(client: httpx.Client, sweep: dict[str, Any]) -> str:
    path = f"{API}/sweeps/{sweep['entity']}/{sweep['project']}/{sweep['id']}/agents"
    made = client.post(path, json={"host": "box", "pid": 42})
    assert made.status_code == 201, made.text
    return str(made.json()["agent_id"])


def base(sweep: dict[str, Any]) -> str:
    return f"{API}/sweeps/{sweep['entity']}/{sweep['project']}/{sweep['id']}"


def next_trial(client: httpx.Client, sweep: dict[str, Any], agent_id: str) -> dict[str, Any]:
    answer = client.post(f"{base(sweep)}/agents/{agent_id}/next")
    assert answer.status_code == 200, answer.text
    return answer.json()


def beat(client: httpx.Client, sweep: dict[str, Any], agent_id: str, running: list[str]) -> dict[str, Any]:
    answer = client.post(f"{base(sweep)}/agents/{agent_id}/heartbeat", json={"running": running})
    assert answer.status_code == 200, answer.text
    return answer.json()


def log_run(client: httpx.Client, project: str, run_id: str, losses: list[float], state: str | None) -> None:
    records: list[Any] = [[0, "run", 1.0, {"name": run_id}]]
    records += [[i + 1, "history", 2.0 + i, {"_step": i, "loss": v}] for i, v in enumerate(losses)]
    if state is not None:
        records.append([len(records), "exit", 99.0, {"state": state, "exit_code": 0}])
    assert post_records(client, f"admin/{project}/{run_id}", records).status_code == 200


def test_grid_hands_out_every_combination_once_then_finishes(client: httpx.Client) -> None:
    sweep = create(client, GRID, "grid")
    assert sweep["state"] == "running" and sweep["yaml"] == GRID
    assert sweep["config"]["parameters"]["lr"] == {
        "distribution": "categorical",
        "values": [0.1, 0.01, 0.001],
    }
    a, b = agent(client, sweep), agent(client, sweep)
    handed = []
    for who in itertools.islice(itertools.cycle([a, b]), 6):
        work = next_trial(client, sweep, who)
        assert work["action"] == "run"
        handed.append(work)
    combos = {(w["params"]["lr"], w["params"]["optimizer"]["name"]) for w in handed}
    assert combos == set(itertools.product([0.1, 0.01, 0.001], ["adam", "sgd"]))
    assert all(w["params"]["optimizer"]["momentum"] == 0.9 for w in handed)
    assert next_trial(client, sweep, a) == {"action": "done", "reason": "the grid is exhausted"}
    for i, work in enumerate(handed):
        log_run(client, "grid", work["run_id"], [1.0, 0.5 / (i + 1)], "finished")
    got = client.get(base(sweep)).json()
    assert got["state"] == "finished" and got["counts"] == {"finished": 6}
    assert got["best"]["run_id"] == handed[-1]["run_id"] and got["best"]["value"] == pytest.approx(0.5 / 6)
    assert {t["run_id"] for t in got["trials"]} == {w["run_id"] for w in handed}
    listed = client.get(f"{API}/projects/admin/grid/sweeps").json()
    assert [s["id"] for s in listed] == [sweep["id"]] and listed[0]["counts"] == {"finished": 6}


def test_a_trial_follows_its_run(client: httpx.Client) -> None:
    sweep = create(
        client,
        {"method": "random", "metric": {"name": "loss"}, "parameters": {"x": {"min": 0.0, "max": 1.0}}},
        "follow",
    )
    me = agent(client, sweep)
    work = next_trial(client, sweep, me)
    assert 0.0 <= work["params"]["x"] <= 1.0
    trial = client.get(base(sweep)).json()["trials"][0]
    assert (trial["state"], trial["agent"], trial["metric"]) == ("pending", me, None)
    log_run(client, "follow", work["run_id"], [3.0, 2.0], None)
    trial = client.get(base(sweep)).json()["trials"][0]
    assert (trial["state"], trial["metric"]) == ("running", 2.0)
    log_run(client, "follow", work["run_id"], [3.0, 2.0], "failed")
    assert client.get(base(sweep)).json()["trials"][0]["state"] == "failed"


def test_run_cap_ends_a_random_sweep(client: httpx.Client) -> None:
    sweep = create(
        client, {"method": "random", "run_cap": 2, "parameters": {"x": {"values": [1, 2, 3]}}}, "cap"
    )
    me = agent(client, sweep)
    assert [next_trial(client, sweep, me)["action"] for _ in range(3)] == ["run", "run", "done"]
    assert next_trial(client, sweep, me)["reason"] == "run_cap 2 reached"


def test_a_trashed_trial_counts_for_nothing_until_its_run_is_restored(client: httpx.Client) -> None:
    config = {
        "method": "random",
        "run_cap": 2,
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": [1, 2, 3]}},
    }
    sweep = create(client, config, "trashed")
    me = agent(client, sweep)
    first, second = (next_trial(client, sweep, me)["run_id"] for _ in range(2))
    log_run(client, "trashed", first, [1.0], "finished")
    log_run(client, "trashed", second, [5.0], None)  # still running: the sweep stays open
    assert next_trial(client, sweep, me)["reason"] == "run_cap 2 reached"
    assert client.get(base(sweep)).json()["best"]["run_id"] == first

    assert client.delete(f"{API}/runs/admin/trashed/{first}").status_code == 204
    shown = client.get(base(sweep)).json()
    assert [t["run_id"] for t in shown["trials"]] == [second], "the trashed trial is not listed"
    assert shown["best"]["run_id"] == second and shown["counts"] == {"running": 1}, "nor learned from"
    third = next_trial(client, sweep, me)
    assert third["action"] == "run", "nor counted toward run_cap"
    assert next_trial(client, sweep, me)["reason"] == "run_cap 2 reached"

    assert client.post(f"{API}/runs/admin/trashed/{first}/restore").status_code == 204
    shown = client.get(base(sweep)).json()
    assert [t["run_id"] for t in shown["trials"]] == [first, second, third["run_id"]]
    assert shown["best"]["run_id"] == first and shown["counts"] == {"finished": 1, "running": 1, "pending": 1}
    assert next_trial(client, sweep, me)["reason"] == "run_cap 2 reached"


def test_pause_resume_stop_and_cancel(client: httpx.Client) -> None:
    sweep = create(client, {"method": "random", "parameters": {"x": {"values": [1, 2]}}}, "control")
    me = agent(client, sweep)
    control = f"{base(sweep)}/control"
    assert client.post(control, json={"action": "pause"}).json()["state"] == "paused"
    assert next_trial(client, sweep, me)["action"] == "wait"
    assert client.post(control, json={"action": "resume"}).json()["state"] == "running"
    first = next_trial(client, sweep, me)
    assert first["action"] == "run"
    assert beat(client, sweep, me, [first["run_id"]]) == {"stop": [], "state": "running"}
    assert client.post(control, json={"action": "stop"}).json()["state"] == "stopping"
    assert next_trial(client, sweep, me)["action"] == "done"
    assert beat(client, sweep, me, [first["run_id"]])["stop"] == [], "stop lets running trials finish"
    assert client.post(control, json={"action": "cancel"}).json()["state"] == "canceled"
    assert beat(client, sweep, me, [first["run_id"]]) == {
        "stop": [{"run_id": first["run_id"], "reason": "sweep canceled"}],
        "state": "canceled",
    }
    refused = client.post(control, json={"action": "resume"})
    assert refused.status_code == 409 and "canceled" in refused.json()["detail"]
    unknown = client.post(control, json={"action": "explode"})
    assert unknown.status_code == 400 and "'explode'" in unknown.json()["detail"]


def test_a_silent_agent_is_dead_and_its_trials_crash(client: httpx.Client) -> None:
    clock = client.clock  # type: ignore[attr-defined]
    sweep = create(client, {"method": "random", "parameters": {"x": {"values": [1, 2]}}}, "dead")
    quiet, busy = agent(client, sweep), agent(client, sweep)
    lost = next_trial(client, sweep, quiet)["run_id"]
    kept = next_trial(client, sweep, busy)["run_id"]
    clock.sleep(40)
    beat(client, sweep, busy, [kept])
    clock.sleep(40)  # quiet: 80 s without a heartbeat; busy: 40 s
    trials = {t["run_id"]: t for t in client.get(base(sweep)).json()["trials"]}
    assert trials[lost]["state"] == "crashed" and "heartbeat" in trials[lost]["stopped_reason"]
    assert trials[kept]["state"] == "running"
    assert next_trial(client, sweep, busy)["action"] == "run", "the sweep goes on"


def test_reading_a_sweep_writes_nothing(client: httpx.Client, server: InProcessServer) -> None:
    """Viewers poll the sweep: a dead agent's trial and a finished sweep read as such, but only
    agent traffic writes them down."""
    import sqlalchemy as sa

    from wakelog.store.schema import sweep_agents, sweep_trials, sweeps

    clock = client.clock  # type: ignore[attr-defined]
    sweep = create(client, {"method": "grid", "parameters": {"x": {"values": [1]}}}, "readonly")
    quiet = agent(client, sweep)
    lost = next_trial(client, sweep, quiet)["run_id"]
    clock.sleep(61)

    def stored() -> tuple[Any, ...]:
        with server.app.state.db.read() as conn:
            return (
                conn.execute(
                    sa.select(sweeps.c.state, sweeps.c.updated_at).where(sweeps.c.sweep_id == sweep["id"])
                ).one(),
                conn.execute(
                    sa.select(sweep_trials.c.state, sweep_trials.c.updated_at).where(
                        sweep_trials.c.run_id == lost
                    )
                ).one(),
                conn.execute(
                    sa.select(sweep_agents.c.state, sweep_agents.c.heartbeat_at).where(
                        sweep_agents.c.agent_id == quiet
                    )
                ).one(),
            )

    before = stored()
    got = client.get(base(sweep)).json()
    listed = client.get(f"{API}/projects/admin/readonly/sweeps").json()
    assert got["trials"][0]["run_id"] == lost and got["trials"][0]["state"] == "crashed"
    assert got["state"] == listed[0]["state"] == "finished", "nothing runs and the grid is done"
    assert stored() == before, "a read wrote to the database"
    assert next_trial(client, sweep, agent(client, sweep))["action"] == "done"
    assert stored()[0][0] == "finished" and stored()[1][0] == "crashed", "agent traffic settles"


def test_bad_requests_name_what_is_wrong(client: httpx.Client) -> None:
    bad = client.post(
        f"{API}/projects/admin/bad/sweeps",
        json={"config": {"method": "random", "parameters": {"lr": {"distribution": "log_uniformm"}}}},
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_sweep_config"
    assert bad.json()["detail"] == "parameters.lr.distribution: unknown distribution 'log_uniformm'"
    assert bad.json()["details"] == [
        {"key": "parameters.lr.distribution", "message": "unknown distribution 'log_uniformm'"}
    ]
    yaml_error = client.post(f"{API}/projects/admin/bad/sweeps", json={"config": "method: [grid\n"})
    assert yaml_error.status_code == 400 and "not valid YAML" in yaml_error.json()["detail"]
    assert client.post(f"{API}/projects/admin/bad/sweeps", json={}).status_code == 400
    huge = {"method": "grid", "parameters": {"x": {"values": list(range(300_000))}}}
    assert client.post(f"{API}/projects/admin/bad/sweeps", json={"config": huge}).status_code == 413
    assert client.get(f"{API}/sweeps/admin/bad/nosuch12").status_code == 404
    sweep = create(client, {"method": "random", "parameters": {"x": {"values": [1]}}}, "bad")
    wrong = client.post(f"{base(sweep)}/agents/nobody00/next")
    assert wrong.status_code == 404 and "agent 'nobody00'" in wrong.json()["detail"]
    checked = client.post(
        f"{API}/sweeps/validate", json={"config": {"method": "bayes", "parameters": {"x": {"values": [1]}}}}
    )
    assert checked.status_code == 200
    assert checked.json() == {
        "ok": False,
        "errors": [{"key": "metric", "message": "bayes search needs a metric to optimise"}],
        "config": None,
    }
    fine = client.post(
        f"{API}/sweeps/validate", json={"config": "method: random\nparameters: {x: {min: 1, max: 3}}"}
    )
    assert fine.json()["ok"] and fine.json()["config"]["parameters"]["x"]["distribution"] == "int_uniform"


def test_hyperband_stops_a_lagging_run_through_the_heartbeat(client: httpx.Client) -> None:
    config = {
        "method": "random",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": [1, 2, 3, 4]}},
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 2},
    }
    sweep = create(client, config, "hb")
    me = agent(client, sweep)
    ids = [next_trial(client, sweep, me)["run_id"] for _ in range(4)]
    # as in test_sweep_hyperband: brackets 1, 2, 4; at 2 the threshold is 5; the last run is at 6
    histories = [[5.0, 4.0, 3.0, 2.0], [6.0, 5.0], [4.0, 3.0], [7.0, 6.0, 5.0]]
    for run_id, losses, state in zip(ids, histories, ["finished", None, None, None], strict=True):
        log_run(client, "hb", run_id, losses, state)
    answer = beat(client, sweep, me, ids[1:])
    reason = "hyperband: 6 at iteration 2 is worse than the bracket's threshold 5"
    assert answer == {"stop": [{"run_id": ids[3], "reason": reason}], "state": "running"}
    trial = {t["run_id"]: t for t in client.get(base(sweep)).json()["trials"]}[ids[3]]
    assert trial["stopped_reason"] == reason and trial["metric"] == 5.0
    assert beat(client, sweep, me, [ids[3]])["stop"] == [{"run_id": ids[3], "reason": reason}], "told again"


def test_importance_finds_the_parameter_that_matters(client: httpx.Client) -> None:
    config = {
        "method": "random",
        "metric": {"name": "loss"},
        "parameters": {
            "x": {"min": 0.0, "max": 1.0},
            "noise": {"min": 0.0, "max": 1.0},
            "opt": {"values": ["a", "b"]},
        },
    }
    sweep = create(client, config, "imp")
    me = agent(client, sweep)
    for _ in range(30):
        work = next_trial(client, sweep, me)
        p = work["params"]
        log_run(client, "imp", work["run_id"], [5 * p["x"] + 0.01 * p["noise"]], "finished")
    rated = client.get(f"{base(sweep)}/importance").json()
    assert rated[0]["param"] == "x" and rated[0]["importance"] > 0.8, rated
    assert rated[0]["correlation"] > 0.99
    assert {r["param"]: r["correlation"] for r in rated}["opt"] is None, "not a number"


def test_concurrent_agents_never_share_a_grid_point(client: httpx.Client, server: InProcessServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    config = {
        "method": "grid",
        "parameters": {"a": {"values": list(range(8))}, "b": {"values": list(range(5))}},
    }
    sweep = create(client, config, "race")
    agents = [agent(client, sweep) for _ in range(8)]

    def work(agent_id: str) -> list[tuple[int, int]]:
        got = []
        with server.client() as own:
            while (answer := next_trial(own, sweep, agent_id))["action"] == "run":
                got.append((answer["params"]["a"], answer["params"]["b"]))
        return got

    with ThreadPoolExecutor(8) as pool:
        handed = [point for points in pool.map(work, agents) for point in points]
    assert sorted(handed) == sorted(itertools.product(range(8), range(5)))
    assert len(client.get(base(sweep)).json()["trials"]) == 40
