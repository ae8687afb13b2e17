"""A run's summary follows the order of what it logged, as in wandb: a summary edit after a key's
last history row wins (``run.log({"acc": 0.5}); run.summary["acc"] = 0.9`` leaves 0.9), one
before it loses, also when both arrive in one batch (the coalescing uploader sends a second of a
run at once)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.store.ingest import validate
from wakelog.store.ingest._gather import gather

#: One key's fate in a batch: a history row logging it, a summary record setting it, or one removing it.
Op = tuple[str, float]
ops = st.lists(
    st.tuples(st.sampled_from(["log", "set", "remove", "other"]), st.floats(-10, 10, allow_nan=False)),
    max_size=12,
)


def records(sequence: list[Op], key: str = "acc") -> list[list[Any]]:
    out: list[list[Any]] = []
    step = 0
    for seq, (op, value) in enumerate(sequence, start=1):
        if op == "log":
            out.append([seq, "history", 1.0, {"_step": step, key: value}])
            step += 1
        elif op == "other":  # a row that does not log the key
            out.append([seq, "history", 1.0, {"_step": step, "loss": value}])
            step += 1
        elif op == "set":
            out.append([seq, "summary", 1.0, {"update": {key: value}, "remove": []}])
        else:
            out.append([seq, "summary", 1.0, {"update": {}, "remove": [key]}])
    return out


@given(ops)
def test_the_last_of_a_batchs_edits_of_a_key_is_its_summary(sequence: list[Op]) -> None:
    batch = gather(validate(records(sequence)))
    edits = [(op, value) for op, value in sequence if op != "other"]
    if not edits:
        assert "acc" not in batch.summary_update and "acc" not in batch.summary_remove
    elif edits[-1][0] == "remove":
        assert "acc" not in batch.summary_update and "acc" in batch.summary_remove
    else:
        assert batch.summary_update["acc"] == edits[-1][1] and "acc" not in batch.summary_remove


def test_a_nested_row_after_an_edit_of_its_dotted_key_wins() -> None:
    batch = gather(
        validate(
            [
                [1, "history", 1.0, {"_step": 0, "eval": {"acc": 0.1}}],
                [2, "summary", 1.0, {"update": {"eval.acc": 0.9}, "remove": []}],
                [3, "history", 1.0, {"_step": 1, "eval": {"acc": 0.5}}],
            ]
        )
    )
    assert batch.summary_update["eval.acc"] == 0.5


def test_the_servers_summary_keeps_an_edit_made_after_the_last_log(server: InProcessServer) -> None:
    start = 1_700_000_000.0
    batch = [
        [0, "run", start, {"id": "order", "start_time": start}],
        [1, "history", start, {"_step": 0, "acc": 0.5, "loss": 2.0}],
        [2, "summary", start, {"update": {"acc": 0.9, "loss": 9.0}, "remove": []}],
        [3, "history", start, {"_step": 1, "loss": 1.0}],
    ]
    with server.client() as http:
        assert post_records(http, "admin/order/order", batch).status_code == 200
        summary = http.get("/api/v1/runs/admin/order/order").json()["summary"]
    assert summary["acc"] == 0.9  # set after its last row
    assert summary["loss"] == 1.0  # logged again after the edit
