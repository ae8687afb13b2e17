"""The run table over HTTP: entities, projects, runs listed with paging, sorting and filters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import InProcessServer, wait_until
from tests.server.conftest import post_records

API = "/api/v1"
N_RUNS = 12


def run_records(i: int) -> list[list[Any]]:
    """Run ``r<i>``: lr = (i+1)/1000, acc rises to i/20, loss falls; tags and groups vary."""
    start = 1_700_000_000.0 + i * 60
    records: list[list[Any]] = [
        [
            0,
            "run",
            start,
            {
                "id": f"r{i:02d}",
                "project": "table",
                "name": f"run-{i:02d}" + ("-bert" if i % 4 == 0 else ""),
                "group": "even" if i % 2 == 0 else "odd",
                "job_type": "train",
                "tags": ["baseline"] if i % 3 == 0 else ["tuned", f"t{i}"],
                "start_time": start,
            },
        ],
        [
            1,
            "config",
            start,
            {"update": {"lr": (i + 1) / 1000, "optimizer": {"name": "adam" if i < 6 else "sgd"}}},
        ],
    ]
    seq = 2
    if i != 7:  # r07 logs nothing: missing summaries sort last
        for step in range(5):
            row = {
                "_step": step,
                "_runtime": step * 1.0,
                "acc": i / 20 * (step + 1) / 5,
                "loss": 10 - i - step,
            }
            records.append([seq, "history", start + step, row])
            seq += 1
    if i % 5 != 4:  # r04 and r09 are still running
        state = "failed" if i == 3 else "finished"
        records.append(
            [seq, "exit", start + 30, {"exit_code": 1 if i == 3 else 0, "state": state, "runtime": 30.0}]
        )
    return records


@pytest.fixture(scope="module")
def client(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        for i in range(N_RUNS):
            assert post_records(http, f"acme/table/r{i:02d}", run_records(i)).status_code == 200
        assert post_records(http, "other/misc/x1", [[0, "run", 1.0, {"id": "x1"}]]).status_code == 200
        yield http


def runs(client: httpx.Client, **params: Any) -> list[str]:
    response = client.get(f"{API}/projects/acme/table/runs", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return [run["id"] for run in response.json()["runs"]]


def test_entities_and_projects(client: httpx.Client) -> None:
    entities = {e["name"]: e for e in client.get(f"{API}/entities").json()}
    assert entities["acme"]["projects"] == 1 and "other" in entities
    projects = client.get(f"{API}/entities/acme/projects").json()
    assert [(p["entity"], p["name"], p["runs"]) for p in projects] == [("acme", "table", N_RUNS)]
    assert client.get(f"{API}/projects", params={"name": "misc"}).json()[0]["entity"] == "other"
    detail = client.get(f"{API}/projects/acme/table").json()
    assert detail["states"] == {"finished": 9, "failed": 1, "running": 2}
    keys = client.get(f"{API}/projects/acme/table/keys").json()
    assert keys == {"summary": ["acc", "loss"], "config": ["lr", "optimizer.name"], "step_metrics": {}}
    assert client.get(f"{API}/projects/acme/nope").status_code == 404
    assert client.get(f"{API}/entities/nobody/projects").status_code == 404
    assert client.get(f"{API}/projects/acme/bad%20name").status_code == 400


def test_projects_are_listed_by_their_last_activity(server: InProcessServer) -> None:
    with server.client() as http:
        for project in ("quiet", "busy"):
            assert post_records(http, f"act/{project}/a", [[0, "run", 1.0, {"id": "a"}]]).status_code == 200
        before = {p["name"]: p["updated_at"] for p in http.get(f"{API}/entities/act/projects").json()}
        assert list(before) == ["busy", "quiet"]  # the newest first
        wait_until(lambda: time.time() > max(before.values()), 5)  # a later write has a later time
        row = {"_step": 0, "_runtime": 0.0, "x": 1.0}
        assert post_records(http, "act/quiet/a", [[1, "history", 2.0, row]]).status_code == 200
        after = {p["name"]: p["updated_at"] for p in http.get(f"{API}/entities/act/projects").json()}
        assert list(after) == ["quiet", "busy"] and after["quiet"] > before["quiet"]
        assert after["busy"] == before["busy"]


def test_paging_is_stable_and_complete(client: httpx.Client) -> None:
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = client.get(f"{API}/projects/acme/table/runs", params={"limit": 5, "offset": offset}).json()
        assert page["total"] == N_RUNS and len(page["runs"]) <= 5
        seen += [r["id"] for r in page["runs"]]
        offset = page["next_offset"]
    assert seen == [f"r{i:02d}" for i in reversed(range(N_RUNS))]  # newest first by default
    past = client.get(f"{API}/projects/acme/table/runs", params={"offset": 100}).json()
    assert past["runs"] == [] and past["total"] == N_RUNS and past["next_offset"] is None


@pytest.mark.parametrize(
    "order",
    ["-summary.acc", "summary.acc", "config.optimizer.name,-created_at", "state,-summary.loss.min", ""],
)
def test_cursor_pages_follow_the_sort_through_ties_and_missing_values(
    client: httpx.Client, order: str
) -> None:
    """Pages after each page's cursor, of every size, give the sorted list whole and in order."""
    whole = runs(client, order=order)
    for size in (1, 2, 5):
        seen: list[str] = []
        params: dict[str, Any] = {"limit": size, "order": order}
        while True:
            page = client.get(f"{API}/projects/acme/table/runs", params=params).json()
            assert page["total"] == N_RUNS
            seen += [r["id"] for r in page["runs"]]
            if page["next_cursor"] is None:
                break
            params["after"] = page["next_cursor"]
        assert seen == whole, (order, size)
    filtered = {"filter": "summary.acc > 0.1", "order": order, "limit": 2}
    first = client.get(f"{API}/projects/acme/table/runs", params=filtered).json()
    after = client.get(f"{API}/projects/acme/table/runs", params={**filtered, "after": first["next_cursor"]})
    assert after.json()["total"] == first["total"] == len(runs(client, filter="summary.acc > 0.1"))
    assert [r["id"] for r in first["runs"] + after.json()["runs"]] == runs(
        client, filter=filtered["filter"], order=order
    )[:4]


def test_a_cursor_that_is_not_one_is_a_400(client: httpx.Client) -> None:
    url = f"{API}/projects/acme/table/runs"
    cursor = client.get(url, params={"limit": 2}).json()["next_cursor"]
    assert client.get(url, params={"after": cursor, "offset": 2}).status_code == 400
    assert client.get(url, params={"after": cursor, "order": "-summary.acc,name"}).status_code == 400
    text_for_a_number = "WyJ4IiwgMV0"  # ["x", 1] for -summary.acc
    assert client.get(url, params={"after": text_for_a_number, "order": "-summary.acc"}).status_code == 400
    for bad in ("", "!!", "bnVsbA", "W10"):  # not base64, JSON null, an empty list
        assert client.get(url, params={"after": bad}).status_code == 400, bad


def test_runs_name_the_user_whose_key_created_them(client: httpx.Client) -> None:
    page = client.get(f"{API}/projects/acme/table/runs", params={"limit": 3}).json()
    assert {r["user"] for r in page["runs"]} == {"admin"}
    assert client.get(f"{API}/runs/acme/table/r00").json()["user"] == "admin"


def test_sorting(client: httpx.Client) -> None:
    by_acc = runs(client, order="-summary.acc")
    assert by_acc[:3] == ["r11", "r10", "r09"] and by_acc[-1] == "r07"  # no summary: last
    assert runs(client, order="summary.acc")[-1] == "r07"  # missing values last either way
    assert runs(client, order="summary.loss.min")[0] == "r11"
    assert runs(client, order="-config.lr")[0] == "r11"
    assert runs(client, order="config.optimizer.name,-created_at")[:2] == ["r05", "r04"]
    assert runs(client, order="+created_at")[0] == "r00"
    assert runs(client, order="name")[0] == "r00"
    states = runs(client, order="state,id")
    assert states[0] == "r03" and states[-2:] == ["r04", "r09"]  # failed < finished < running


def test_filters(client: httpx.Client) -> None:
    assert runs(client, filter="config.lr < 0.0035", order="id") == ["r00", "r01", "r02"]
    assert runs(client, filter="config.lr <= 0.01 and summary.acc > 0.4", order="id") == ["r09"]
    assert runs(client, filter="summary.acc.max >= 0.5", order="id") == ["r10", "r11"]
    assert runs(client, filter="summary.loss.first = 10") == ["r00"]
    assert runs(client, filter="summary.acc = null") == ["r07"]
    assert runs(client, filter="tags contains 'baseline'", order="id") == ["r00", "r03", "r06", "r09"]
    assert runs(client, filter="tags in ('t1', 't2')", order="id") == ["r01", "r02"]
    assert runs(client, filter="group = 'odd' and state = 'running'") == ["r09"]
    assert runs(client, filter="state in ('failed', 'running')", order="id") == ["r03", "r04", "r09"]
    assert runs(client, filter="not (state = 'finished' or group = 'even')", order="id") == ["r03", "r09"]
    assert runs(client, filter="name contains 'BERT'", order="id") == ["r00", "r04", "r08"]
    assert runs(client, filter="config.optimizer.name = 'sgd' and id != 'r06'", order="id")[:2] == [
        "r07",
        "r08",
    ]
    assert runs(client, filter="created_at >= '2023-11-14T22:20:00Z'", order="id")[0] == "r07"
    assert runs(client, filter="runtime = 30 and exit_code = 1") == ["r03"]
    assert runs(client, filter="last_step = 4", order="id") == [f"r{i:02d}" for i in range(N_RUNS) if i != 7]
    # Shortcut parameters are and-ed with the filter.
    assert runs(client, state=["running"], order="id") == ["r04", "r09"]
    assert runs(client, tag=["tuned"], group="even", filter="config.lr > 0.005", order="id") == ["r08", "r10"]


def test_bad_filters_and_orders_say_where(client: httpx.Client) -> None:
    response = client.get(f"{API}/projects/acme/table/runs", params={"filter": "config.lr < 0.01 and"})
    assert response.status_code == 400
    body = response.json()
    assert body["position"] == 20 and "a field" in body["expected"] and "position 20" in body["detail"]
    response = client.get(f"{API}/projects/acme/table/runs", params={"filter": "nope > 1"})
    assert response.status_code == 400 and "unknown field 'nope'" in response.json()["detail"]
    response = client.get(
        f"{API}/projects/acme/table/runs", params={"order": "-summary.acc; DROP TABLE runs"}
    )
    assert response.status_code == 400 and response.json()["position"] == 14
    assert client.get(f"{API}/projects/acme/table/runs", params={"limit": 0}).status_code == 422
    assert client.get(f"{API}/projects/acme/table/runs", params={"offset": 2**70}).status_code == 422
    for nul in ('name = "\\u0000"', "name = 'a\x00'"):
        assert client.get(f"{API}/projects/acme/table/runs", params={"filter": nul}).status_code == 400
    assert client.get(f"{API}/projects/acme/table/runs", params={"group": "a\x00"}).status_code == 400


@pytest.mark.parametrize(
    "hostile",
    [
        'name = "x\'; DROP TABLE runs; --"',
        "summary.`acc'); DELETE FROM summaries; --` > 0",
        "config.`lr\"]') OR 1=1 --` = 1",
        'tags contains "\') OR 1=1 --"',
        "name contains '%'",
        "id in ('r01\\' OR \\'1\\'=\\'1')",
    ],
)
def test_sql_metacharacters_are_inert(client: httpx.Client, hostile: str) -> None:
    response = client.get(f"{API}/projects/acme/table/runs", params={"filter": hostile})
    if response.status_code == 400:  # refused by the parser is fine too: never a 500
        assert "position" in response.json()
    else:
        assert response.status_code == 200 and response.json()["runs"] == [], hostile
    assert len(runs(client)) == N_RUNS


def test_run_detail(client: httpx.Client) -> None:
    run = client.get(f"{API}/runs/acme/table/r03").json()
    assert run["state"] == "failed" and run["exit_code"] == 1
    assert run["config"] == {"lr": 0.004, "optimizer": {"name": "adam"}}
    assert run["summary"]["loss"] == 3 and run["tags"] == ["baseline"] and run["group"] == "odd"
    assert run["last_step"] == 4 and run["metadata"] == {} and run["runtime"] == 30.0
    assert client.get(f"{API}/runs/acme/table/nope").status_code == 404
    assert client.get(f"{API}/runs/acme/nope/r03").status_code == 404


TRACEBACK = (
    'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\nValueError: loss is nan\n'
)


def test_a_failed_runs_traceback_is_in_its_detail(client: httpx.Client) -> None:
    """The traceback the run's end recorded (the end of a long one), cleared when the run resumes."""
    path = "acme/tracebacks/tb1"
    start = [0, "run", 1.0, {"id": "tb1"}]
    end = {"exit_code": 1, "state": "failed", "runtime": 2.0, "traceback": TRACEBACK}
    assert post_records(client, path, [start, [1, "exit", 3.0, end]]).status_code == 200
    run = client.get(f"{API}/runs/{path}").json()
    assert (run["state"], run["exit_code"], run["traceback"]) == ("failed", 1, TRACEBACK)
    assert client.get(f"{API}/runs/acme/table/r00").json()["traceback"] is None  # finished cleanly

    assert post_records(client, path, [[2, "run", 4.0, {"id": "tb1"}]]).status_code == 200
    assert client.get(f"{API}/runs/{path}").json()["traceback"] is None
    long = "x" * 100_000 + "\nRuntimeError: the end\n"
    assert post_records(client, path, [[3, "exit", 5.0, {**end, "traceback": long}]]).status_code == 200
    kept = client.get(f"{API}/runs/{path}").json()["traceback"]
    assert len(kept) == 64 * 1024 and kept.endswith("RuntimeError: the end\n")


@pytest.mark.parametrize("bad", [3, ["a"], {"a": 1}])
def test_a_traceback_that_is_not_text_is_refused(client: httpx.Client, bad: Any) -> None:
    records = [[0, "run", 1.0, {"id": "tb2"}], [1, "exit", 2.0, {"exit_code": 1, "traceback": bad}]]
    response = post_records(client, "acme/tracebacks/tb2", records)
    assert response.status_code == 400 and "traceback must be a string" in response.text
    assert client.get(f"{API}/runs/acme/tracebacks/tb2").status_code == 404  # nothing half-applied


def test_stale_running_runs_are_reported_crashed(tmp_path: Path) -> None:
    crashy = InProcessServer(tmp_path / "crashy", env={"WAKELOG_SERVER_CRASHED_AFTER_MINUTES": "0.02"})
    with crashy, crashy.client() as http:
        post_records(http, "acme/c/alive", [[0, "run", 1.0, {"id": "alive"}]])
        post_records(
            http,
            "acme/c/done",
            [[0, "run", 1.0, {"id": "done"}], [1, "exit", 2.0, {"state": "finished"}]],
        )

        def states() -> dict[str, str]:
            return {r["id"]: r["state"] for r in http.get(f"{API}/projects/acme/c/runs").json()["runs"]}

        # 1.2 s without a heartbeat
        wait_until(lambda: states()["alive"] == "crashed", 30, interval=0.1)
        assert states() == {"alive": "crashed", "done": "finished"}
        only = http.get(f"{API}/projects/acme/c/runs", params={"filter": "state = 'crashed'"}).json()
        assert [r["id"] for r in only["runs"]] == ["alive"]
        assert http.get(f"{API}/runs/acme/c/alive").json()["state"] == "crashed"
        post_records(http, "acme/c/alive", [[1, "history", 3.0, {"_step": 0, "x": 1.0}]])  # a heartbeat
        assert http.get(f"{API}/runs/acme/c/alive").json()["state"] == "running"


def test_define_metric_summaries_filter_and_sort_by_their_wandb_name(server: InProcessServer) -> None:
    """``define_metric("eval/acc", summary="max")`` keeps ``{"eval/acc": {"max": …}}``; wandb (the
    web app's columns, ``Api.runs(filters={"summary_metrics.eval/acc.max": …})``) calls that value
    ``eval/acc.max``: filtering and sorting on it read the kept value, as on a plain summary."""
    from wakelog.api._filters import field_name

    with server.client() as http:
        for i, best in enumerate([0.7, 0.9, 0.5]):
            records: list[list[Any]] = [
                [0, "run", 1.0, {"id": f"d{i}", "project": "defined"}],
                [1, "metric", 1.0, {"name": "eval/acc", "summary": ["max"], "step_metric": "epoch"}],
                [2, "summary", 2.0, {"update": {"eval/acc": {"max": best}}, "remove": []}],
            ]
            assert post_records(http, f"acme/defined/d{i}", records).status_code == 200
        key = field_name("summary_metrics.eval/acc.max")
        assert key == "summary.`eval/acc.max`"

        def ids(**params: Any) -> list[str]:
            response = http.get(f"{API}/projects/acme/defined/runs", params=params)
            assert response.status_code == 200, response.text
            return [run["id"] for run in response.json()["runs"]]

        assert ids(order=f"-{key}") == ["d1", "d0", "d2"]
        assert ids(order=key) == ["d2", "d0", "d1"]
        assert ids(filter=f"{key} > 0.6", order="id") == ["d0", "d1"]
        assert ids(filter=f"{key} = null") == []
        assert ids(filter="summary.`eval/acc.min` = null", order="id") == ["d0", "d1", "d2"]
        overview = http.get(f"{API}/projects/acme/defined/overview", params={"metric": "eval/acc.max"})
        assert overview.status_code == 200, overview.text
        assert overview.json()["best"]["id"] == "d1"
        # the x axis the web app draws eval/acc against by default
        assert http.get(f"{API}/projects/acme/defined/keys").json()["step_metrics"] == {"eval/acc": "epoch"}
