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
