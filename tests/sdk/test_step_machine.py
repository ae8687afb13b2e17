"""log()'s step machine, exactly as wandb's (reference/wandb.md §a)."""

from __future__ import annotations

import math
import threading

import pytest

import wakelog
from tests.conftest import history, user_keys


def rows(run: wakelog.Run) -> list[tuple[int, dict]]:
    run.finish()
    return [(row["_step"], user_keys(row)) for row in history(run.run_dir)]


def test_each_call_commits_one_row_and_advances_the_step() -> None:
    run = wakelog.init(mode="offline")
    for i in range(3):
        wakelog.log({"loss": 1.0 / (i + 1)})
    assert run.step == 3
    assert rows(run) == [(0, {"loss": 1.0}), (1, {"loss": 0.5}), (2, {"loss": 1 / 3})]


def test_commit_false_merges_into_the_pending_row() -> None:
    run = wakelog.init(mode="offline")
    wakelog.log({"a": 1}, commit=False)
    wakelog.log({"b": 2}, commit=False)
    assert run.step == 0
    wakelog.log({"c": 3})
    assert rows(run) == [(0, {"a": 1, "b": 2, "c": 3})]


def test_explicit_step_stays_pending_until_a_larger_step() -> None:
    run = wakelog.init(mode="offline")
    wakelog.log({"a": 1}, step=5)
    wakelog.log({"b": 2}, step=5)
    assert run.step == 5
    wakelog.log({"c": 3}, step=7)
    assert rows(run) == [(5, {"a": 1, "b": 2}), (7, {"c": 3})]


def test_smaller_step_is_dropped_with_a_warning() -> None:
    run = wakelog.init(mode="offline")
    wakelog.log({"a": 1}, step=10)
    wakelog.log({"a": 2}, step=11)
    with pytest.warns(UserWarning, match="less than the current step 11"):
        wakelog.log({"a": 3}, step=4)
    assert rows(run) == [(10, {"a": 1}), (11, {"a": 2})]


def test_explicit_step_with_commit_true_commits_at_once() -> None:
    run = wakelog.init(mode="offline")
    wakelog.log({"a": 1}, step=3, commit=True)
    assert run.step == 4
    wakelog.log({"b": 2})
    assert rows(run) == [(3, {"a": 1}), (4, {"b": 2})]


def test_call_without_step_after_explicit_step_commits_that_step() -> None:
    run = wakelog.init(mode="offline")
    wakelog.log({"a": 1}, step=2)
    wakelog.log({"b": 2})
    assert rows(run) == [(2, {"a": 1, "b": 2})]


def test_finish_commits_the_pending_row() -> None:
    run = wakelog.init(mode="offline")
    wakelog.log({"a": 1}, commit=False)
    assert rows(run) == [(0, {"a": 1})]


def test_rows_carry_runtime_and_timestamp() -> None:
    run = wakelog.init(mode="offline")
    wakelog.log({"a": 1})
    run.finish()
    (row,) = history(run.run_dir)
    assert row["_runtime"] >= 0 and row["_timestamp"] == pytest.approx(run.start_time + row["_runtime"])


def test_a_row_recorded_elsewhere_keeps_its_own_timestamp() -> None:
    run = wakelog.init(mode="offline")
    wakelog.log({"a": 1}, commit=False)
    run._log_at({"b": 2}, 1_700_000_000.25)  # what integrations mirroring another logger use
    wakelog.log({"c": 3})
    run.finish()
    first, second = history(run.run_dir)
    assert user_keys(first) == {"a": 1, "b": 2} and first["_timestamp"] == 1_700_000_000.25
    assert first["_runtime"] == 1_700_000_000.25 - run.start_time and first["_step"] == 0
    assert user_keys(second) == {"c": 3} and second["_timestamp"] > first["_timestamp"]


def test_values_are_kept_faithfully_including_nan_and_inf() -> None:
    import numpy as np

    run = wakelog.init(mode="offline")
    wakelog.log(
        {
            "nan": float("nan"),
            "inf": float("inf"),
            "ninf": -math.inf,
            "i": 3,
            "b": True,
            "s": "text",
            "none": None,
            "nested": {"x": {"y": 1.5}},
            "np32": np.float32(0.25),
            "np0d": np.array(7),
            "npint": np.int64(9),
            "npbool": np.bool_(True),
            "short": np.arange(3),
            "big": 2**70,
        }
    )
    ((_, row),) = rows(run)
    assert math.isnan(row.pop("nan"))
    assert row == {
        "inf": math.inf,
        "ninf": -math.inf,
        "i": 3,
        "b": True,
        "s": "text",
        "none": None,
        "nested": {"x": {"y": 1.5}},
        "np32": 0.25,
        "np0d": 7,
        "npint": 9,
        "npbool": True,
        "short": [0, 1, 2],
        "big": float(2**70),
    }
    assert type(row["np32"]) is float and type(row["npint"]) is int


def test_large_arrays_become_histograms() -> None:
    import numpy as np

    run = wakelog.init(mode="offline")
    wakelog.log({"weights": np.linspace(0, 1, 1000)})
    ((_, row),) = rows(run)
    assert row["weights"]["_type"] == "histogram"
    assert sum(row["weights"]["values"]) == 1000


def test_log_is_thread_safe() -> None:
    run = wakelog.init(mode="offline")

    def worker(n: int) -> None:
        for i in range(500):
            run.log({f"t{n}": i})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = rows(run)
    assert [step for step, _ in result] == list(range(2000))
    for n in range(4):
        assert [r[f"t{n}"] for _, r in result if f"t{n}" in r] == list(range(500))


def test_summary_holds_the_last_value_by_default() -> None:
    run = wakelog.init(mode="offline")
    for i in range(5):
        wakelog.log({"loss": 5 - i, "acc": i / 10})
    assert run.summary["loss"] == 1 and run.summary["acc"] == 0.4
    assert wakelog.summary is run.summary


def test_media_is_snapshotted_at_log_time() -> None:
    import json

    run = wakelog.init(mode="offline")
    table = wakelog.Table(columns=["a"], data=[[1]])
    run.log({"t": table})
    with pytest.warns(UserWarning, match="logged already"):  # wandb warns too (log_mode='IMMUTABLE')
        table.add_data(2)  # after log(): must not reach what was logged
    run.finish()
    stub = history(run.run_dir)[0]["t"]
    logged = json.loads((run.run_dir / "files" / stub["path"]).read_text())
    assert logged["data"] == [[1]]
