"""Hyperband decisions against brackets and thresholds computed by hand (wandb's rule)."""

from __future__ import annotations

import pytest

from wakelog.server.sweeps.hyperband import brackets, decide

# minimised metric, one value per iteration
HISTORIES = {
    "a": [5.0, 4.0, 3.0, 2.0],  # finished
    "b": [6.0, 5.0],
    "c": [4.0, 3.0],
    "d": [7.0, 6.0, 5.0],
}


@pytest.mark.parametrize(
    ("early_terminate", "expected"),
    [
        ({"min_iter": 1, "eta": 2}, [1, 2, 4, 8, 16]),
        ({"min_iter": 3, "eta": 3}, [3, 9, 27, 81]),
        ({"max_iter": 27, "s": 2, "eta": 3}, [3, 9]),  # 27/3, 27/9
        ({"max_iter": 27, "s": 3, "eta": 3}, [1, 3, 9]),
        ({"max_iter": 10, "s": 5, "eta": 3}, [1, 3]),  # 3.33 → 3, 1.11 → 1, 0.37 < 1 stops
        ({"max_iter": 81, "s": 1, "eta": 2.5}, [32]),  # 32.4 → 32
    ],
)
def test_brackets(early_terminate: dict, expected: list[int]) -> None:
    assert brackets(early_terminate)[: len(expected)] == expected


def test_strict_stops_a_run_worse_than_the_threshold_at_its_last_bracket() -> None:
    # min_iter 1, eta 2: brackets 1, 2, 4. Values at 1: 4 5 6 7 → rank int(4/2)=2 → 6.
    # At 2: 3 4 5 6 → 5. At 4: only a's 2.0 → rank 0 → 2.
    # b (2 iterations): 5 at bracket 2, not above 5 → runs on. c: 3 → runs on.
    # d (3 iterations, last bracket 2): 6 > 5 → stopped.
    et = {"type": "hyperband", "min_iter": 1, "eta": 2, "strict": True}
    cuts = decide(et, "minimize", HISTORIES, ["b", "c", "d"])
    assert [(c.run_id, c.bracket, c.value, c.threshold) for c in cuts] == [("d", 2, 6.0, 5.0)]
    assert cuts[0].reason == "hyperband: 6 at iteration 2 is worse than the bracket's threshold 5"


def test_lenient_mode_judges_a_run_by_its_best_value() -> None:
    et = {"type": "hyperband", "min_iter": 1, "eta": 2, "strict": False}
    assert decide(et, "minimize", HISTORIES, ["b", "c", "d"]) == [], "d's best, 5, is not above 5"
    worse = {**HISTORIES, "d": [7.0, 6.0, 5.5]}
    assert [c.run_id for c in decide(et, "minimize", worse, ["d"])] == ["d"]


def test_max_iter_form_and_a_run_before_its_first_bracket() -> None:
    # max_iter 9, s 1, eta 3: one bracket, 3. Values at 3: a 3, d 5 → rank int(2/3)=0 → 3.
    et = {"type": "hyperband", "max_iter": 9, "s": 1, "eta": 3, "strict": True}
    assert [c.run_id for c in decide(et, "minimize", HISTORIES, ["b", "c", "d"])] == ["d"]
    assert decide(et, "minimize", HISTORIES, ["b", "c"]) == [], "b and c have not reached iteration 3"


def test_a_maximised_metric_is_negated() -> None:
    accuracy = {run: [-v for v in values] for run, values in HISTORIES.items()}
    et = {"type": "hyperband", "min_iter": 1, "eta": 2, "strict": True}
    cuts = decide(et, "maximize", accuracy, ["b", "c", "d"])
    assert [(c.run_id, c.value, c.threshold) for c in cuts] == [("d", -6.0, -5.0)]


def test_non_finite_values_are_not_iterations() -> None:
    # With NaN skipped, d's history is [7, 6, 5] as before and it is stopped at bracket 2.
    histories = {**HISTORIES, "d": [7.0, float("nan"), 6.0, float("inf"), 5.0]}
    et = {"type": "hyperband", "min_iter": 1, "eta": 2, "strict": True}
    assert [c.bracket for c in decide(et, "minimize", histories, ["d"])] == [2]
