"""WakelogCallback with real paddle.Model.fit / evaluate / predict on a tiny MLP."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import wakelog
from tests.conftest import history, records, user_keys

paddle = pytest.importorskip("paddle")
pytestmark = pytest.mark.paddle

from tests.integration.paddle_helpers import (  # noqa: E402
    MLP_PARAMETERS,
    Digits,
    eval_loss_and_accuracy,
    hapi_model,
    mlp,
)
from wakelog.integration.paddle import WakelogCallback  # noqa: E402
from wakelog.integration.paddle._callback import _metric_values  # noqa: E402

TRAIN, EVAL = Digits(0, 96), Digits(96, 136)  # 6 batches of 16; 40 eval samples (16, 16, 8)


def fit(callback: WakelogCallback, model: paddle.Model | None = None, **kwargs) -> paddle.Model:
    model = model or hapi_model()
    options = {"batch_size": 16, "epochs": 2, "verbose": 0, "shuffle": False, **kwargs}
    model.fit(TRAIN, EVAL, callbacks=[callback], **options)
    return model


def metric_definitions(run_dir: Path) -> dict[str, dict]:
    return {r.data["name"]: r.data for r in records(run_dir, "metric")}


def recorded_config(run_dir: Path) -> dict:
    return {k: v for r in records(run_dir, "config") for k, v in r.data["update"].items()}


def test_fit_evaluate_predict_record_metrics_axes_and_config() -> None:
    callback = WakelogCallback(project="digits", log_freq=4, mode="offline", name="mlp")
    model = fit(callback)
    result = model.evaluate(EVAL, batch_size=16, verbose=0, callbacks=[callback])
    outputs = model.predict(EVAL, batch_size=16, verbose=0, callbacks=[callback])
    run = callback.run
    assert not run.finished, "the run stays open after fit/evaluate/predict unless finish=True"
    expected_loss, expected_acc = eval_loss_and_accuracy(model.network, EVAL)
    run.finish()
    assert run.project == "digits" and run.name == "mlp"

    definitions = metric_definitions(run.run_dir)
    assert definitions["train/*"]["step_metric"] == "train/step"
    assert definitions["eval/*"]["step_metric"] == "epoch"

    rows = [user_keys(row) for row in history(run.run_dir)]
    train = [row for row in rows if "train/step" in row]
    evals = [row for row in rows if "eval/acc" in row]
    # Every 4th global batch, plus each epoch's last batch (6 batches per epoch).
    assert [row["train/step"] for row in train] == [4, 6, 8, 12]
    assert [row["train/epoch"] for row in train] == pytest.approx([4 / 6, 1.0, 1 + 2 / 6, 2.0])
    for row in train:
        assert set(row) == {
            "train/step",
            "train/loss",
            "train/acc",
            "train/lr",
            "train/epoch",
            "train/samples_per_sec",
        }
        assert np.isfinite(row["train/loss"]) and 0 <= row["train/acc"] <= 1
        assert row["train/lr"] == pytest.approx(0.01) and row["train/samples_per_sec"] > 0
    # Two eval passes during fit (epoch 0 and 1), then the standalone evaluate.
    assert [row.get("epoch") for row in evals] == [0, 1, 1]
    assert set(evals[0]) == {"epoch", "eval/loss", "eval/acc", "eval/samples_per_sec"}
    # eval/loss is the mean over the eval set (hapi itself reports the last batch's loss).
    assert evals[-1]["eval/loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert evals[-1]["eval/acc"] == pytest.approx(expected_acc) == pytest.approx(result["acc"])
    assert result["loss"][0] != pytest.approx(expected_loss, rel=1e-5)

    config = recorded_config(run.run_dir)
    assert config["epochs"] == 2 and config["batch_size"] == 16 and config["steps_per_epoch"] == 6
    assert config["optimizer"] == {
        "name": "Adam",
        "learning_rate": 0.01,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-08,
        "amsgrad": False,
        "lazy_mode": False,
        "multi_precision": False,
    }
    assert config["loss"] == "CrossEntropyLoss" and config["metrics"] == ["loss", "acc"]
    assert config["model"] == {
        "name": "Sequential",
        "parameters": MLP_PARAMETERS,
        "trainable_parameters": MLP_PARAMETERS,
    }

    summary = json.loads((run.run_dir / "summary.json").read_text())
    assert summary["predict/samples"] == 40 == sum(len(batch) for batch in outputs[0])
    assert summary["predict/samples_per_sec"] > 0
    assert summary["train/step"] == 12 and summary["epoch"] == 1


def test_evaluate_alone_works_and_can_finish_its_run() -> None:
    model = hapi_model()
    callback = WakelogCallback(mode="offline", finish=True)
    result = model.evaluate(EVAL, batch_size=16, verbose=0, callbacks=[callback])
    run = callback._run
    assert run is not None
    assert run.finished and wakelog.run is None
    (row,) = [user_keys(row) for row in history(run.run_dir)]
    assert "epoch" not in row  # no training happened: no epoch to plot against
    assert row["eval/acc"] == pytest.approx(result["acc"])
    expected_loss, _ = eval_loss_and_accuracy(model.network, EVAL)
    assert row["eval/loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert metric_definitions(run.run_dir)["eval/*"]["step_metric"] == "epoch"
    assert records(run.run_dir, "exit")[0].data["state"] == "finished"


def test_predict_alone_records_throughput() -> None:
    callback = WakelogCallback(mode="offline")
    hapi_model().predict(EVAL, batch_size=8, verbose=0, callbacks=[callback])
    run = callback.run
    run.finish()
    summary = json.loads((run.run_dir / "summary.json").read_text())
    assert summary["predict/samples"] == 40 and summary["predict/runtime"] > 0
    assert history(run.run_dir) == []


def test_learning_rate_from_a_scheduler_and_its_config() -> None:
    network = mlp()
    schedule = paddle.optimizer.lr.StepDecay(learning_rate=0.1, step_size=4, gamma=0.5)
    optimizer = paddle.optimizer.Momentum(
        learning_rate=schedule, momentum=0.9, weight_decay=1e-4, parameters=network.parameters()
    )
    callback = WakelogCallback(log_freq=1, mode="offline")
    fit(callback, hapi_model(network, optimizer), epochs=1)
    run = callback.run
    run.finish()
    lrs = [row["train/lr"] for row in history(run.run_dir) if "train/lr" in row]
    # hapi's LRScheduler callback steps the schedule after each batch; the logged rate is the
    # one the batch trained with.
    assert lrs == pytest.approx([0.1] * 4 + [0.05] * 2)
    config = recorded_config(run.run_dir)
    assert config["optimizer"]["name"] == "Momentum" and config["optimizer"]["momentum"] == 0.9
    assert config["optimizer"]["weight_decay"] == pytest.approx(1e-4)
    assert config["lr_scheduler"] == {"name": "StepDecay", "step_size": 4, "gamma": 0.5, "base_lr": 0.1}


@pytest.mark.parametrize("when", ["end", "best"])
def test_checkpoints_are_saved_as_run_files(when: str) -> None:
    callback = WakelogCallback(log_checkpoints=when, monitor="acc", mode="offline")
    model = fit(callback)
    run = callback.run
    run.finish()
    name = "final" if when == "end" else "best"
    folder = run.run_dir / "files" / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}.pdopt", f"{name}.pdparams"]
    saved = {f["name"] for r in records(run.run_dir, "files") for f in r.data["files"]}
    assert {f"checkpoints/{name}.pdparams", f"checkpoints/{name}.pdopt"} <= saved
    state = paddle.load(str(folder / f"{name}.pdparams"))
    assert set(state) == set(model.network.state_dict())
    if when == "end":
        for key, value in model.network.state_dict().items():
            np.testing.assert_array_equal(state[key].numpy(), value.numpy())
    else:
        summary = json.loads((run.run_dir / "summary.json").read_text())
        accuracies = [row["eval/acc"] for row in history(run.run_dir) if "eval/acc" in row]
        assert summary["checkpoint/best_eval_acc"] == max(accuracies)
        assert summary["checkpoint/best_epoch"] == accuracies.index(max(accuracies))


def test_an_active_run_is_used_and_left_open() -> None:
    run = wakelog.init(mode="offline", config={"epochs": 2, "note": "mine"})
    callback = WakelogCallback(finish=True, log_freq=6)
    model = fit(callback)
    assert callback.run is run and not run.finished
    fit(callback, model, epochs=1)  # a second fit into the same run: train/step goes on
    run.log({"after": 1})
    run.finish()
    assert run.config["note"] == "mine" and run.config["epochs"] == 1  # the last fit's value
    rows = history(run.run_dir)
    assert [row["train/step"] for row in rows if "train/step" in row] == [6, 12, 18]
    assert rows[-1]["after"] == 1


def test_other_ranks_record_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Rank 1 of 2 for wakelog; PADDLE_TRAINERS_NUM would make hapi start a real parallel env
    # (the real two-process launch is in test_paddle_distributed.py).
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    callback = WakelogCallback(mode="offline", log_checkpoints="end", watch="all", watch_freq=1)
    fit(callback, epochs=1)
    assert callback.run.disabled
    assert not (tmp_path / "wakelog").exists()


def test_watch_through_the_callback_sees_real_gradients() -> None:
    # hapi clears gradients before callbacks run; watch() hooks catch them during backward.
    callback = WakelogCallback(log_freq=6, watch="gradients", watch_freq=6, mode="offline")
    fit(callback, epochs=1)
    run = callback.run
    run.finish()
    rows = [row for row in history(run.run_dir) if "gradients/0.weight" in row]
    assert len(rows) == 1 and rows[0]["train/step"] == 6
    stub = rows[0]["gradients/0.weight"]
    assert sum(stub["values"]) == 64 * 32 and stub["bins"][0] < 0 < stub["bins"][-1]


def test_loss_lists_and_metric_values() -> None:
    assert _metric_values("loss", [0.5]) == {"loss": 0.5}
    assert _metric_values("loss", [0.5, 0.25]) == {"loss_0": 0.5, "loss_1": 0.25, "loss": 0.75}
    assert _metric_values("acc", np.float64(0.5)) == {"acc": 0.5}
    assert _metric_values("acc", paddle.to_tensor([0.5])) == {"acc": 0.5}
    assert _metric_values("name", "text") == {}


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(wakelog.UsageError):
        WakelogCallback(log_freq=0)
    with pytest.raises(wakelog.UsageError):
        WakelogCallback(log_checkpoints="sometimes")
    with pytest.raises(wakelog.UsageError):
        WakelogCallback(watch="weights")
