"""Parameter importance over a project's runs (``GET …/importance``, the ``importance`` panel):
over HTTP on SQLite and PostgreSQL, and in a report's bundle.

Project ``acme/imp`` holds 24 runs whose ``loss`` is 3 × ``lr`` (plus a little noise) and whose
``eval/acc`` (``define_metric(summary="max")``) falls with ``lr``; ``dropout``, ``model.depth``
and ``opt`` do not matter. ``_wandb`` is wandb's own key.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.server.query.project_importance import MAX_RUNS, rate

API = "/api/v1"
BASE = f"{API}/projects/acme/imp/importance"
N_RUNS = 24


def run_records(i: int, rng: random.Random) -> list[list[Any]]:
    lr = rng.uniform(0.001, 0.1)
    config = {
        "lr": lr,
        "dropout": rng.uniform(0.0, 0.5),
        "opt": "adam" if i % 2 else "sgd",
        "model": {"depth": rng.choice([18, 34, 50])},
        "_wandb": {"cli_version": "0.19.0"},
    }
    start = 1_700_000_000.0 + i
    return [
        [0, "run", start, {"id": f"r{i:02d}", "start_time": start}],
        [1, "config", start, {"update": config}],
        [2, "metric", start, {"name": "eval/acc", "summary": ["max"]}],
        [3, "history", start + 1, {"_step": 0, "loss": 3 * lr + rng.gauss(0, 0.001)}],
        [4, "summary", start + 2, {"update": {"eval/acc": {"max": 1 - 2 * lr}}, "remove": []}],
    ]


@pytest.fixture(scope="module")
def client(server: InProcessServer) -> Iterator[httpx.Client]:
    rng = random.Random(0)
    with server.client() as http:
        for i in range(N_RUNS):
            assert post_records(http, f"acme/imp/r{i:02d}", run_records(i, rng)).status_code == 200
        yield http


def rated(client: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = client.get(BASE, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_key_the_metric_depends_on_ranks_first_with_the_right_sign(client: httpx.Client) -> None:
    found = rated(client, metric="loss")
    assert found["metric"] == "loss" and found["runs"] == N_RUNS and found["capped"] is False
    by_param = {p["param"]: p for p in found["params"]}
    assert found["params"][0]["param"] == "lr", found
    assert by_param["lr"]["importance"] > 0.8 and by_param["lr"]["correlation"] > 0.99
    assert by_param["dropout"]["importance"] < 0.1 and abs(by_param["dropout"]["correlation"]) < 0.6
    assert set(by_param) == {"lr", "dropout", "opt", "model.depth"}, "flattened; _wandb left out"
    assert by_param["opt"]["correlation"] is None, "a category has no correlation"
    importances = [p["importance"] for p in found["params"]]
    assert importances == sorted(importances, reverse=True)


def test_define_metric_summaries_are_read_as_the_run_table_reads_them(client: httpx.Client) -> None:
    found = rated(client, metric="eval/acc.max")
    assert found["runs"] == N_RUNS and found["params"][0]["param"] == "lr"
    assert found["params"][0]["correlation"] < -0.99, "acc falls as lr grows"
    # the plain key of a define_metric entry is its last value, which these runs did not keep
    assert rated(client, metric="eval/acc") == {
        "metric": "eval/acc",
        "runs": 0,
        "capped": False,
        "params": [],
    }


def test_the_filter_picks_the_runs_and_trashed_runs_are_left_out(server: InProcessServer) -> None:
    rng = random.Random(1)
    with server.client() as http:
        for i in range(8):
            assert post_records(http, f"acme/imp2/r{i:02d}", run_records(i, rng)).status_code == 200
        base = f"{API}/projects/acme/imp2/importance"
        adam = http.get(base, params={"metric": "loss", "filter": "config.opt = 'adam'"}).json()
        assert adam["runs"] == 4 and "opt" not in {p["param"] for p in adam["params"]}, "one value"
        assert http.delete(f"{API}/runs/acme/imp2/r01").status_code == 204
        assert http.get(base, params={"metric": "loss", "filter": "config.opt = 'adam'"}).json()["runs"] == 3
        assert http.get(base, params={"metric": "loss"}).json()["runs"] == 7


def test_bad_input_is_refused_naming_what_was_wrong(client: httpx.Client) -> None:
    bad_filter = client.get(BASE, params={"metric": "loss", "filter": "config.lr <"})
    assert bad_filter.status_code == 400 and "bad filter" in bad_filter.json()["detail"]
    assert bad_filter.json()["code"] == "invalid_filter"
    for metric in ("", "   ", "x" * 257):
        answer = client.get(BASE, params={"metric": metric})
        assert answer.status_code == 400 and "metric" in answer.json()["detail"], answer.text
    missing = client.get(BASE)
    assert missing.status_code == 422 and "metric" in missing.text
    assert client.get(f"{API}/projects/acme/nope/importance", params={"metric": "loss"}).status_code == 404
    assert rated(client, metric="no such metric")["runs"] == 0


def test_a_viewer_reads_it(server: InProcessServer, client: httpx.Client) -> None:
    assert client.post(f"{API}/users", json={"username": "imp-viewer"}).status_code == 201
    key = client.post(f"{API}/keys", json={"user": "imp-viewer"}).json()["key"]
    assert client.put(f"{API}/entities/acme/members/imp-viewer", json={"role": "viewer"}).status_code == 200
    with server.client(key) as viewer:
        assert viewer.get(BASE, params={"metric": "loss"}).json()["params"][0]["param"] == "lr"


def test_a_report_panel_gets_its_rating_in_the_bundle(client: httpx.Client) -> None:
    runset = {"id": "all", "name": "All", "filter": "", "hidden": ["r00"]}
    panel = {"id": "imp", "kind": "importance", "title": "", "config": {"metric": "eval/acc.max"}}
    block = {"id": "b", "type": "panels", "runsets": [runset], "panels": [panel]}
    made = client.post(f"{API}/projects/acme/imp/reports", json={"title": "Imp", "spec": {"blocks": [block]}})
    assert made.status_code == 201, made.text
    bundle = client.get(f"{API}/reports/acme/imp/{made.json()['id']}/bundle").json()
    found = bundle["importance"]["imp"]
    assert found["runs"] == N_RUNS - 1, "the run set's hidden run is left out"
    assert found["params"][0]["param"] == "lr" and found["params"][0]["correlation"] < -0.99
    no_metric = {**panel, "config": {}}
    refused = client.post(
        f"{API}/projects/acme/imp/reports",
        json={"title": "Bad", "spec": {"blocks": [{**block, "panels": [no_metric]}]}},
    )
    assert refused.status_code == 400 and "panel 'imp' config: needs 'metric'" in refused.json()["detail"]


# -- the rating itself, on any input ------------------------------------------------------------------
def test_a_number_some_runs_lack_is_still_rated_as_a_number() -> None:
    """A key added to the config mid-project: the runs before it lack it."""
    rng = random.Random(2)
    rows = []
    for i in range(30):
        lr = rng.uniform(0.001, 0.1)
        config = {"lr": lr, "seed": rng.randint(0, 3)} if i >= 10 else {"seed": rng.randint(0, 3)}
        rows.append((config, {"loss": 3 * lr if i >= 10 else 0.5}))
    found = rate(rows, "loss")
    assert found["params"][0]["param"] == "lr" and found["params"][0]["correlation"] > 0.99, found


def test_a_metric_that_does_not_vary_or_squares_past_float_range_is_still_rated() -> None:
    """Found by the property test below: optuna's fANOVA raised when every run had the same
    metric, and overflowed squaring a metric's deviations past ±1e154."""
    same = rate([({"lr": lr}, {"loss": 2.0}) for lr in (0.1, 0.2, 0.3, 0.4)], "loss")
    assert [(p["param"], p["importance"], p["correlation"]) for p in same["params"]] == [("lr", 0.0, None)]
    huge = rate([({"lr": lr}, {"loss": lr * 1e300}) for lr in (0.1, 0.2, 0.3, 0.4)], "loss")
    assert huge["params"][0]["param"] == "lr" and huge["params"][0]["importance"] == 1.0
    assert huge["params"][0]["correlation"] > 0.99


def test_numbers_a_float32_cannot_tell_apart_are_still_rated() -> None:
    """Found by the property test below: scikit-learn's trees split in float32, where 16,777,216
    and 16,777,217 are one number; every tree had nothing to split and optuna raised."""
    rows = [
        ({"seed": seed}, {"loss": loss})
        for seed, loss in ((16_777_216, 0.0), (16_777_216, 0.0), (16_777_217, 1.0))
    ]
    (seed,) = rate(rows, "loss")["params"]
    assert seed["param"] == "seed" and seed["importance"] == 1.0 and seed["correlation"] > 0.99, seed


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.integers(0, 2), max_size=2),
)
configs = st.dictionaries(
    st.sampled_from(["a", "b", "_wandb", "c"]),
    st.one_of(values, st.dictionaries(st.sampled_from(["x", "y"]), values)),
)
summaries = st.dictionaries(
    st.sampled_from(["m", "n"]), st.one_of(values, st.fixed_dictionaries({"max": values}))
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(configs, summaries), max_size=12), st.sampled_from(["m", "m.max", "n"]))
@example([({}, {"m": 0}), ({}, {"m": 6.898174449262212e-253}), ({"c": False}, {"m": 0})], "m")  # no variance
@example([({"a": 1e200}, {"m": 1.0}), ({"a": -1e200}, {"m": 2.0}), ({"a": 3e200}, {"m": 0.5})], "m")
def test_any_runs_are_rated_without_error(rows: list[tuple[dict, dict]], metric: str) -> None:
    found = rate(rows, metric)
    assert found["runs"] <= min(len(rows), MAX_RUNS)
    assert all(not p["param"].startswith("_") for p in found["params"])
    importances = [p["importance"] for p in found["params"]]
    assert importances == sorted(importances, reverse=True)
    assert all(p["correlation"] is None or -1.0001 <= p["correlation"] <= 1.0001 for p in found["params"])
