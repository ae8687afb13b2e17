"""What users and attackers pass to log(): never an exception into the loop, one warning per key."""

from __future__ import annotations

import warnings

import pytest

import wakelog
from tests.conftest import history, user_keys
from wakelog.errors import UsageError
from wakelog.sdk._values import MAX_DEPTH, MAX_STRING, BadValue


def only_row(run: wakelog.Run) -> dict:
    run.finish()
    (row,) = history(run.run_dir)
    return user_keys(row)


def test_bad_values_warn_once_per_key_and_keep_the_rest_of_the_row() -> None:
    run = wakelog.init(mode="offline")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            run.log({"good": 1.0, "bad": object(), 7: "int key", ("t",): 1}, commit=False)
    assert len(caught) == 3, [str(w.message) for w in caught]  # bad, 7, ('t',): once each
    assert "'bad'" in str(caught[0].message) and "builtins.object" in str(caught[0].message)
    assert only_row(run) == {"good": 1.0}


def test_warning_points_at_the_users_line() -> None:
    run = wakelog.init(mode="offline")
    with pytest.warns(UserWarning) as caught:
        run.log({"bad": object()})
    assert caught[0].filename == __file__


def test_ten_thousand_keys_in_one_call() -> None:
    run = wakelog.init(mode="offline")
    run.log({f"k{i}": float(i) for i in range(10_000)})
    row = only_row(run)
    assert len(row) == 10_000 and row["k9999"] == 9999.0


def test_twenty_deep_nesting_is_kept_and_too_deep_is_refused() -> None:
    deep: dict = {"leaf": 1}
    for _ in range(20):
        deep = {"d": deep}
    too_deep: dict = {"leaf": 1}
    for _ in range(MAX_DEPTH + 1):
        too_deep = {"d": too_deep}
    run = wakelog.init(mode="offline")
    with pytest.warns(UserWarning, match="nested deeper"):
        run.log({"deep": deep, "too_deep": too_deep})
    assert only_row(run) == {"deep": deep}


def test_huge_strings_are_refused_not_truncated() -> None:
    run = wakelog.init(mode="offline")
    big = "x" * (MAX_STRING + 1)
    fine = "y" * 100_000
    with pytest.warns(UserWarning, match="longer than"):
        run.log({"big": big, "fine": fine})
    assert only_row(run) == {"fine": fine}


def test_non_dict_data_and_bad_steps() -> None:
    run = wakelog.init(mode="offline")
    with pytest.warns(UserWarning, match="takes a dict"):
        run.log([1, 2])  # type: ignore[arg-type]
    with pytest.warns(UserWarning, match="step must be an int"):
        run.log({"a": 1}, step="3")  # type: ignore[arg-type]
    with pytest.warns(UserWarning, match="less than the current step"):
        run.log({"a": 1}, step=-1)
    run.log({"a": 2}, step=4.0)  # type: ignore[arg-type]  # an integral float is a step
    assert run.step == 4


def test_log_after_finish_warns_and_records_nothing() -> None:
    run = wakelog.init(mode="offline")
    run.log({"a": 1})
    run.finish()
    with pytest.warns(UserWarning, match="after run .* finished"):
        run.log({"a": 2})
    assert [user_keys(r) for r in history(run.run_dir)] == [{"a": 1}]


def test_objects_that_fail_to_convert_are_dropped() -> None:
    class Liar:
        def item(self) -> float:
            raise RuntimeError("cannot")

        size = 1

    run = wakelog.init(mode="offline")
    with pytest.warns(UserWarning, match="item\\(\\) failed"):
        run.log({"liar": Liar(), "ok": 2})
    assert only_row(run) == {"ok": 2}


def test_strict_mode_raises_instead() -> None:
    run = wakelog.init(mode="offline", settings={"strict": True})
    with pytest.raises(BadValue, match="builtins.object"):
        run.log({"bad": object()})
    with pytest.raises(UsageError, match="less than the current step"):
        run.log({"a": 1}, step=5)
        run.log({"a": 1}, step=6)
        run.log({"a": 1}, step=2)


def test_media_that_fails_in_the_writer_is_one_warning_and_the_row_survives() -> None:
    from wakelog.sdk.media import Media

    class Broken(Media):
        def to_stub(self, run_dir, key, step):
            raise OSError("disk on fire")

    run = wakelog.init(mode="offline")
    run.log({"broken": Broken(), "loss": 0.5})
    with pytest.warns(RuntimeWarning, match="could not write media for 'broken'"):
        run.finish()
    assert [user_keys(r) for r in history(run.run_dir)] == [{"loss": 0.5}]
