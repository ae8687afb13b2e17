"""``wakelog.Api`` end to end: real SDK runs, their run logs sent to a real server, read back."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import math
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import wakelog
from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.api._filters import mongo_to_filter, order_text
from wakelog.errors import CommError, UsageError
from wakelog.runlog import find_runlog, read_runlog

STEPS = 3000


def record_run(root: Path, index: int) -> tuple[str, Path]:
    """An offline run logged with the real SDK; returns its id and folder."""
    run = wakelog.init(
        project="zoo",
        mode="offline",
        dir=str(root),
        name=f"run-{index}",
        config={"lr": 0.01 * (index + 1), "opt": {"name": "adam" if index else "sgd"}},
        tags=["base"] if index == 0 else ["tuned"],
        group="g",
    )
    wakelog.define_metric("val/top1", summary="max")  # kept in the summary as {"max": …}
    for step in range(STEPS):
        row = {"loss": 1.0 / (step + 1) + index, "acc": step / STEPS * (index + 1) / 3}
        if step % 100 == 0:
            row["eval/acc"] = step / STEPS
            row["val/top1"] = (index + 1) / 10 * (1 - step / STEPS)
        if step == 1234:
            row["loss"] = math.nan
        wakelog.log(row)
    run.summary["best"] = 0.5 + index
    Path(run.dir, "notes.txt").write_text(f"notes of run {index}\n")
    run.save(str(Path(run.dir, "notes.txt")), base_path=run.dir, policy="now")
    run_id, run_dir = run.id, run.run_dir
    wakelog.finish()
    return run_id, run_dir


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path_factory.mktemp("api-server") / "data") as server:
        yield server


@pytest.fixture
def seeded(api_server: InProcessServer, tmp_path: Path) -> Iterator[tuple[InProcessServer, list[str]]]:
    ids = []
    with api_server.client() as http:
        for index in range(3):
            run_id, run_dir = record_run(tmp_path / f"w{index}", index)
            records = read_runlog(find_runlog(run_dir)).records
            batch = [[r.seq, r.type, r.time, r.data] for r in records]
            for start in range(0, len(batch), 1000):
                assert post_records(http, f"lab/zoo/{run_id}", batch[start : start + 1000]).status_code == 200
            content = (run_dir / "files" / "notes.txt").read_bytes()
            sha = hashlib.sha256(content).hexdigest()
            http.put(
                f"/api/v1/runs/lab/zoo/{run_id}/blobs/{sha}",
                params={"offset": 0, "total": len(content)},
                content=content,
            )
            listing = {"files": [{"name": "notes.txt", "sha256": sha, "size": len(content)}]}
            assert http.post(f"/api/v1/runs/lab/zoo/{run_id}/files", json=listing).status_code == 200
            ids.append(run_id)
    yield api_server, ids


def test_api_end_to_end(seeded: tuple[InProcessServer, list[str]], tmp_path: Path) -> None:
    server, ids = seeded
    with wakelog.Api(overrides={"base_url": server.url, "api_key": server.key}) as api:
        runs = api.runs("lab/zoo", filters={"config.lr": {"$lt": 0.025}}, order="+created_at")
        assert [r.id for r in runs] == ids[:2] and len(runs) == 2
        best = api.runs("lab/zoo", order="-summary_metrics.acc", per_page=1)
        assert len(best) == 3 and best[0].id == ids[2] and [r.id for r in best] == ids[::-1]
        tuned = api.runs("zoo", filters={"$and": [{"tags": {"$in": ["tuned"]}}, {"config.opt.name": "adam"}]})
        assert sorted(r.id for r in tuned) == sorted(ids[1:])
        assert len(api.runs("lab/zoo", filters={"$or": [{"state": "finished"}, {"group": "nope"}]})) == 3
        assert len(api.runs("lab/zoo", filters="summary.best >= 1.5")) == 2
        # define_metric(summary="max") keeps {"val/top1": {"max": …}}: wandb names that value val/top1.max
        top1 = api.runs(
            "lab/zoo",
            filters={"summary_metrics.val/top1.max": {"$gt": 0.15}},
            order="-summary_metrics.val/top1.max",
        )
        assert [r.id for r in top1] == ids[:0:-1]

        run = api.run(f"lab/zoo/{ids[0]}")
        assert run.state == "finished" and run.name == "run-0" and run.tags == ["base"] and run.group == "g"
        assert run.config == {"lr": 0.01, "opt": {"name": "sgd"}}
        assert run.summary["val/top1"] == {"max": pytest.approx(0.1)}
        assert run.summary["best"] == 0.5 and run.summary_metrics["acc"] == pytest.approx(
            (STEPS - 1) / STEPS / 3
        )
        assert run.path == ["lab", "zoo", ids[0]] and run.lastHistoryStep == STEPS - 1
        assert dt.datetime.fromisoformat(run.created_at).year >= 2024
        assert api.run(f"{server.url}/lab/zoo/runs/{ids[0]}").id == ids[0]

        frame = run.history(keys=["loss", "acc"])
        assert list(frame.columns[:1]) == ["_step"] and {"loss", "acc"} <= set(frame.columns)
        assert 100 < len(frame) <= 500
        rows = run.history(samples=5000, keys=["eval/acc"], pandas=False)
        assert rows == [{"_step": s, "eval/acc": s / STEPS} for s in range(0, STEPS, 100)]
        env = run.history(samples=50, keys=["loss"], pandas=False, envelope=True)
        assert all(r["loss_min"] <= r["loss"] <= r["loss_max"] for r in env if not math.isnan(r["loss"]))
        by_time = run.history(keys=["loss"], x_axis="_runtime", pandas=False, samples=100)
        assert all("_runtime" in r for r in by_time)

        scanned = list(run.scan_history(keys=["loss"], page_size=700))
        assert [r["_step"] for r in scanned] == list(range(STEPS))
        assert math.isnan(scanned[1234]["loss"]) and scanned[5]["loss"] == pytest.approx(1 / 6)
        assert set(scanned[0]) == {"_step", "loss"}
        sparse = list(run.scan_history(keys=["eval/acc", "loss"], min_step=250, max_step=600))
        assert [r["_step"] for r in sparse] == [300, 400, 500]
        assert len(list(run.scan_history())) == STEPS

        files = run.files()
        assert "notes.txt" in [f.name for f in files]
        with run.file("notes.txt").download(root=str(tmp_path / "dl")) as handle:
            assert handle.read() == "notes of run 0\n"
        with pytest.raises(ValueError):
            run.file("notes.txt").download(root=str(tmp_path / "dl"))
        run.file("notes.txt").download(root=str(tmp_path / "dl"), replace=True).close()
        with pytest.raises(CommError):
            run.file("absent.txt")

        with pytest.raises(UsageError, match="position"):
            list(api.runs("lab/zoo", filters="config.lr <"))
        with pytest.raises(CommError, match="404"):
            api.run("lab/zoo/nope")
        assert [p.name for p in api.projects("lab")] == ["zoo"]


def test_an_api_closed_by_its_with_block_leaves_no_socket_open(
    seeded: tuple[InProcessServer, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sockets left open are only reported when the garbage collector frees them, through
    ``sys.unraisablehook``; an ``Api`` that is never closed fails here, a closed one does not."""
    server, ids = seeded
    reported: list[str] = []
    gc.collect()  # what earlier tests left for the collector is freed before the hook listens
    monkeypatch.setattr(sys, "unraisablehook", lambda raised: reported.append(repr(raised.exc_value)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with wakelog.Api(overrides={"base_url": server.url, "api_key": server.key}) as api:
            assert api.run(f"lab/zoo/{ids[0]}").name == "run-0"
            assert [p.name for p in api.projects("lab")] == ["zoo"]
        del api
        gc.collect()
    assert reported == []


def test_api_is_lazy_on_import() -> None:
    assert "Api" in wakelog.__all__
    assert wakelog.Api.__module__ == "wakelog.api._api"


@pytest.mark.parametrize(
    ("filters", "text"),
    [
        ({"config.lr": {"$lt": 0.01}}, "config.lr < 0.01"),
        ({"config.lr.value": 0.1}, "config.lr = 0.1"),
        ({"state": "finished"}, 'state = "finished"'),
        (
            {"summary_metrics.eval/acc": {"$gte": 0.9, "$lt": 1}},
            "(summary.eval/acc >= 0.9) and (summary.eval/acc < 1)",
        ),
        ({"$or": [{"tags": {"$in": ["a", "b"]}}, {"name": "abc"}]}, '(tags in ("a", "b")) or (id = "abc")'),
        (
            {"$and": [{"displayName": {"$regex": "bert"}}, {"config.x": {"$exists": True}}]},
            '(name contains "bert") and (config.x != null)',
        ),
        ({"group": {"$nin": ["x"]}, "jobType": {"$ne": None}}, '(group not in ("x")) and (job_type != null)'),
        ({"createdAt": {"$gt": dt.datetime(2026, 1, 1)}}, 'created_at > "2026-01-01T00:00:00+00:00"'),
        ({"config.odd key": {"$lte": float("inf")}}, "config.`odd key` <= inf"),
        ({"$nor": [{"state": "running"}]}, 'not ((state = "running"))'),
    ],
)
def test_mongo_filters_translate(filters: dict, text: str) -> None:
    assert mongo_to_filter(filters) == text


def test_orders_and_refusals() -> None:
    assert order_text("-summary_metrics.acc") == "-summary.acc"
    assert order_text("+created_at") == "created_at"
    assert order_text("createdAt,-config.lr.value") == "created_at,-config.lr"
    for bad in ({"x": 1}, {"config.lr": {"$regex": "^a.*"}}, {"$where": "1"}, {"config.lr": {"$near": 1}}):
        with pytest.raises(UsageError):
            mongo_to_filter(bad)
    with pytest.raises(UsageError):
        wakelog.Api(overrides={"base_url": "ftp://x"})
