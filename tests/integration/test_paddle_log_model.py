"""WakelogCallback(log_model=…): checkpoints as versions of the ``model-<run id>`` artifact, with
``best``/``epoch_N`` aliases and epoch/metric metadata; ``best`` loads back with ``paddle.load``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import wakelog
from tests.harness import InProcessServer, upload

paddle = pytest.importorskip("paddle")
pytestmark = pytest.mark.paddle

from tests.integration.paddle_helpers import Digits, hapi_model  # noqa: E402
from wakelog.integration.paddle import WakelogCallback  # noqa: E402

TRAIN, EVAL = Digits(0, 96), Digits(96, 136)


class Snapshots(paddle.callbacks.Callback):
    """The network's parameters after each eval pass, by epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 0
        self.by_epoch: dict[int, dict[str, Any]] = {}

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_eval_end(self, logs: dict | None = None) -> None:
        self.by_epoch[self.epoch] = {k: v.numpy().copy() for k, v in self.model.network.state_dict().items()}


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path / "data") as server:
        monkeypatch.setenv("WAKELOG_BASE_URL", server.url)
        monkeypatch.setenv("WAKELOG_API_KEY", server.key)
        monkeypatch.setenv("WAKELOG_CACHE_DIR", str(tmp_path / "cache"))
        yield server


@pytest.mark.parametrize("mode", ["best", "all"])
def test_log_model_versions_checkpoints_and_best_loads_back(served: InProcessServer, mode: str) -> None:
    callback = WakelogCallback(
        project="digits", entity="admin", mode="offline", log_model=mode, monitor="acc"
    )
    snapshots = Snapshots()
    hapi_model().fit(
        TRAIN, EVAL, batch_size=16, epochs=3, verbose=0, shuffle=False, callbacks=[callback, snapshots]
    )
    run = callback.run
    run.finish()
    assert upload(served, run.run_dir).complete
    with wakelog.Api() as api:
        versions = api.artifact_versions("model", f"admin/digits/model-{run.id}") if mode == "all" else None
        best = api.artifact(f"admin/digits/model-{run.id}:best")
        folder = Path(best.download())
    assert best.type == "model" and "best" in best.aliases
    epoch = best.metadata["epoch"]
    assert best.metadata["best_eval_acc"] == best.metadata["eval/acc"]
    loaded = paddle.load(str(folder / "model.pdparams"))
    assert set(loaded) == set(snapshots.by_epoch[epoch])
    for key, value in loaded.items():
        np.testing.assert_array_equal(
            value.numpy() if hasattr(value, "numpy") else value, snapshots.by_epoch[epoch][key]
        )
    assert (folder / "model.pdopt").exists()
    if versions is not None:
        assert len(list(versions)) == 3, "one version per eval pass"


@pytest.fixture
def wandb_alias() -> Iterator[Any]:
    from wakelog.integration.paddle import install_wandb_alias, uninstall_wandb_alias

    yield install_wandb_alias()
    uninstall_wandb_alias()


def model_versions(api: wakelog.Api, run_id: str) -> list[tuple[int, list[str], list[str]]]:
    """``(epoch, aliases, files)`` of each checkpoint version of ``model-<run id>`` (those with an
    epoch in their metadata), oldest first."""
    found = [
        a for a in api.artifact_versions("model", f"admin/digits/model-{run_id}") if "epoch" in a.metadata
    ]
    return [
        (a.metadata["epoch"], sorted(set(a.aliases) - {"latest", "final"}), sorted(a.manifest.entries))
        for a in reversed(found)
    ]


def test_paddles_own_wandbcallback_logs_the_same_model_artifacts(
    served: InProcessServer, wandb_alias: Any, tmp_path: Path
) -> None:
    """Paddle's ``WandbCallback`` never saves models itself; a wandb user adds it with wandb's
    calls (``wandb.Artifact``, ``add_dir``, ``run.log_artifact``, ``run.log_model``), as PaddleOCR's
    logger does. Through the alias those give what ``WakelogCallback(log_model="best")`` gives."""
    import wandb

    class WandbWithModels(paddle.callbacks.WandbCallback):
        best: float | None = None

        def on_eval_end(self, logs: dict | None = None) -> None:
            acc = float(logs["acc"])
            super().on_eval_end(logs)
            if self.best is not None and acc <= self.best:
                return
            self.best = acc
            folder = Path(self.run.dir) / f"epoch{self.epoch}"
            self.model.save(str(folder / "model"), training=True)
            metadata = {"epoch": self.epoch, "eval/acc": acc, "best_eval_acc": acc}
            artifact = wandb.Artifact(f"model-{self.run.id}", type="model", metadata=metadata)
            artifact.add_dir(str(folder))
            self.run.log_artifact(artifact, aliases=["best", f"epoch_{self.epoch}"])

        def on_train_end(self, logs: dict | None = None) -> None:
            folder = Path(self.run.dir) / "final"
            self.model.save(str(folder / "model"), training=True)
            self.run.log_model(str(folder), name=f"model-{self.run.id}", aliases=["final"])
            super().on_train_end(logs)  # Paddle's: run.finish()

    theirs = WandbWithModels(project="digits", entity="admin", mode="offline", dir=str(tmp_path / "a"))
    snapshots = Snapshots()
    hapi_model().fit(
        TRAIN, EVAL, batch_size=16, epochs=3, verbose=0, shuffle=False, callbacks=[theirs, snapshots]
    )
    assert theirs.run.finished
    ours = WakelogCallback(
        project="digits",
        entity="admin",
        mode="offline",
        dir=str(tmp_path / "b"),
        log_model="best",
        monitor="acc",
    )
    hapi_model().fit(TRAIN, EVAL, batch_size=16, epochs=3, verbose=0, shuffle=False, callbacks=[ours])
    ours.run.finish()
    for run in (theirs.run, ours.run):
        assert upload(served, run.run_dir).complete

    with wakelog.Api() as api:
        checkpoints = model_versions(api, theirs.run.id)
        assert checkpoints and checkpoints == model_versions(api, ours.run.id)
        assert ["best", f"epoch_{checkpoints[-1][0]}"] == checkpoints[-1][1]
        best = api.artifact(f"admin/digits/model-{theirs.run.id}:best")
        final = api.artifact(f"admin/digits/model-{theirs.run.id}:final")
        folder = Path(best.download())
        assert final.type == "model" and final.version >= best.version
    loaded = paddle.load(str(folder / "model.pdparams"))
    expected = snapshots.by_epoch[best.metadata["epoch"]]
    assert set(loaded) == set(expected)
    for key, value in loaded.items():
        np.testing.assert_array_equal(value.numpy() if hasattr(value, "numpy") else value, expected[key])
