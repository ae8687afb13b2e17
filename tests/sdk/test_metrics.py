"""define_metric: globs, summaries, step metrics, overrides."""

from __future__ import annotations

import pytest

import wakelog
from tests.conftest import history, records
from wakelog.errors import UsageError


def test_summary_ops_replace_the_last_value() -> None:
    run = wakelog.init(mode="offline")
    run.define_metric("loss", summary="min,max,mean,first,last")
    run.define_metric("acc", summary="max")
    for loss, acc in [(3.0, 0.1), (1.0, 0.7), (2.0, 0.5)]:
        run.log({"loss": loss, "acc": acc, "lr": 0.1})
    assert run.summary["loss"] == {"min": 1.0, "max": 3.0, "mean": 2.0, "first": 3.0, "last": 2.0}
    assert run.summary["acc"] == {"max": 0.7}
    assert run.summary["lr"] == 0.1


def test_none_hides_a_metric_from_the_summary() -> None:
    run = wakelog.init(mode="offline")
    run.define_metric("debug/*", summary="none")
    run.log({"debug/x": 1, "y": 2})
    assert "debug/x" not in run.summary and run.summary["y"] == 2


def test_trailing_glob_matches_by_prefix_and_exact_wins() -> None:
    run = wakelog.init(mode="offline")
    run.define_metric("train/*", summary="min")
    run.define_metric("train/acc", summary="max")
    run.log({"train/loss": 2.0, "train/acc": 0.2, "training": 5})
    run.log({"train/loss": 1.0, "train/acc": 0.9, "training": 6})
    assert run.summary["train/loss"] == {"min": 1.0}
    assert run.summary["train/acc"] == {"max": 0.9}
    assert run.summary["training"] == 6


def test_step_metric_is_synced_into_rows_that_lack_it() -> None:
    """Paddle's WandbCallback relies on this: eval/* against epoch."""
    run = wakelog.init(mode="offline")
    run.define_metric("epoch")
    run.define_metric("eval/*", step_metric="epoch")
    run.log({"epoch": 0})
    run.log({"eval/acc": 0.5})
    run.log({"epoch": 1, "eval/acc": 0.7})
    run.log({"other": 1})
    run.finish()
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in history(run.run_dir)]
    assert rows == [{"epoch": 0}, {"eval/acc": 0.5, "epoch": 0}, {"epoch": 1, "eval/acc": 0.7}, {"other": 1}]


def test_definitions_are_recorded_and_overwrite_false_merges() -> None:
    run = wakelog.init(mode="offline")
    run.define_metric("val/*", step_metric="epoch", hidden=True)
    merged = run.define_metric("val/*", summary="max", overwrite=False)
    assert merged.step_metric == "epoch" and merged.hidden and merged.summary == ("max",)
    replaced = run.define_metric("val/*", summary="min")
    assert replaced.step_metric is None
    run.finish()
    assert [r.data["summary"] for r in records(run.run_dir, "metric")] == [[], ["max"], ["min"]]


def test_user_summary_overrides_until_logged_again() -> None:
    run = wakelog.init(mode="offline")
    run.log({"acc": 0.5})
    run.summary["acc"] = 0.99
    run.summary["best_epoch"] = 3
    assert run.summary["acc"] == 0.99
    run.log({"acc": 0.6})
    assert run.summary["acc"] == 0.6 and run.summary["best_epoch"] == 3
    del run.summary["best_epoch"]
    assert "best_epoch" not in run.summary
    run.finish()
    final = records(run.run_dir, "exit")[0].data["summary"]
    assert final["acc"] == 0.6 and "best_epoch" not in final


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "a*b"}, "trailing"),
        ({"name": ""}, "non-empty"),
        ({"name": "x", "summary": "median"}, "median"),
        ({"name": "x", "goal": "up"}, "goal"),
        ({"name": "x", "step_metric": "s/*"}, "step_metric"),
    ],
)
def test_bad_definitions_are_refused(kwargs: dict, message: str) -> None:
    run = wakelog.init(mode="offline")
    with pytest.raises(UsageError, match=message):
        run.define_metric(**kwargs)


def test_underscore_keys_are_never_matched_by_globs() -> None:
    run = wakelog.init(mode="offline")
    run.define_metric("*", summary="max")
    run.log({"a": 1})
    run.log({"a": 3})
    assert run.summary["a"] == {"max": 3} and isinstance(run.summary["_step"], int)
