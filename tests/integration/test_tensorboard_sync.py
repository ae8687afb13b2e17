"""init(sync_tensorboard=True): what TensorBoard writers write becomes the run's history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import wakelog
from tests.conftest import history, records
from wakelog.integration import tensorboard

tensorboardX = pytest.importorskip("tensorboardX")


@pytest.fixture(autouse=True)
def unpatched() -> Iterator[None]:
    yield
    tensorboard.unpatch()


def test_scalars_histograms_and_images_become_history_rows(tmp_path: Path) -> None:
    run = wakelog.init(mode="offline", sync_tensorboard=True)
    writer = tensorboardX.SummaryWriter(str(tmp_path / "tb"))
    for step in range(3):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalar("acc", step / 10, step)
    writer.add_histogram("weights", np.arange(100, dtype=np.float64), 2)
    writer.add_image("sample", np.zeros((3, 8, 8), dtype=np.uint8), 2)
    writer.close()
    run.finish()  # reads the files to their end and logs the last step's row
    rows = history(run.run_dir)
    assert [(r["global_step"], r["loss"], r["acc"]) for r in rows] == [
        (0, 1.0, 0.0),
        (1, 0.5, pytest.approx(0.1)),
        (2, pytest.approx(1 / 3), pytest.approx(0.2)),
    ]
    assert rows[2]["weights"]["_type"] == "histogram" and sum(rows[2]["weights"]["values"]) == 100
    assert rows[2]["sample"]["_type"] == "image-file"
    saved = [p.name for p in (run.run_dir / "files").rglob("*tfevents*")]
    assert len(saved) == 1 and (run.run_dir / "files" / "tb" / saved[0]).is_file()
    assert any(saved[0] in str(r.data) for r in records(run.run_dir, "files"))


def test_patch_root_logdir_prefixes_each_log_directory(tmp_path: Path) -> None:
    wakelog.tensorboard.patch(root_logdir=str(tmp_path / "logs"), save=False)
    run = wakelog.init(mode="offline")
    train = tensorboardX.SummaryWriter(str(tmp_path / "logs" / "train"))
    evaluate = tensorboardX.SummaryWriter(str(tmp_path / "logs" / "eval"))
    train.add_scalar("loss", 0.5, 1)
    evaluate.add_scalar("loss", 0.7, 1)
    train.close()
    evaluate.close()
    run.finish()
    rows = history(run.run_dir)
    assert sorted((k, v) for r in rows for k, v in r.items() if k.endswith("loss")) == [
        ("eval/loss", pytest.approx(0.7)),
        ("train/loss", 0.5),
    ]
    assert not list((run.run_dir / "files").rglob("*tfevents*"))


def test_patching_twice_is_refused_as_in_wandb() -> None:
    wakelog.tensorboard.patch()
    with pytest.raises(wakelog.UsageError, match="already patched"):
        wakelog.tensorboard.patch()
