"""The PaddlePaddle examples run end to end, offline, on tiny settings."""

from __future__ import annotations

import importlib
import json
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tests._env import child_env
from tests.conftest import history, records

paddle = pytest.importorskip("paddle")
pytestmark = [pytest.mark.paddle, pytest.mark.slow]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "paddle"
TINY = ["--epochs", "1", "--limit", "32", "--batch-size", "16", "--stem", "imagenet", "--log-freq", "1"]


@pytest.fixture
def examples(monkeypatch: pytest.MonkeyPatch):
    """Import an example module by name (they import their sibling ``image_data``)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setenv("WAKELOG_MODE", "offline")
    return importlib.import_module


def only_run(root: Path) -> Path:
    (run_dir,) = [p for p in (root / "wakelog").iterdir() if p.is_dir() and "run-" in p.name]
    return run_dir


def fake_cifar(folder: Path, per_batch: int = 8) -> Path:
    """The python version of CIFAR-10's layout, with ``per_batch`` random images per file."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        entry = {
            b"data": rng.integers(0, 256, (per_batch, 3 * 32 * 32), dtype=np.uint8),
            b"labels": rng.integers(0, 10, per_batch).tolist(),
        }
        (folder / name).write_bytes(pickle.dumps(entry))
    return folder


def test_train_digits_script(tmp_path: Path) -> None:
    env = child_env(WAKELOG_MODE="offline")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "train_digits.py"), "--epochs", "1"],
        cwd=tmp_path,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "epoch 0: eval accuracy" in done.stdout
    run_dir = only_run(tmp_path)
    rows = history(run_dir)
    assert any("eval/accuracy" in row for row in rows) and any("train/loss" in row for row in rows)
    assert (run_dir / "files" / "final_model.pdparams").is_file()


def test_manual_resnet_loop_on_digits(examples, tmp_path: Path) -> None:
    module = examples("train_resnet_cifar")
    # ResNet18 here to keep the suite fast; the fit example below runs the default ResNet50.
    assert module.main(["--dataset", "digits", "--arch", "resnet18", *TINY]) == 0
    run_dir = only_run(tmp_path)
    rows = history(run_dir)
    assert [row["train/step"] for row in rows if "train/step" in row] == [1, 2]
    assert [row["epoch"] for row in rows if "eval/acc" in row] == [0]
    assert not any("gradients/fc.weight" in row for row in rows)  # watch log_freq=100: too few steps
    assert "model/summary" in rows[0]
    assert (run_dir / "files" / "resnet18-digits.pdparams").is_file()
    config = {k: v for r in records(run_dir, "config") for k, v in r.data["update"].items()}
    assert config["arch"] == "resnet18" and config["dataset"] == "digits"


def test_fit_example_on_a_cifar_folder(examples, tmp_path: Path) -> None:
    data_dir = fake_cifar(tmp_path / "data" / "cifar-10-batches-py").parent
    module = examples("fit_resnet_cifar")
    assert module.main(["--data-dir", str(data_dir), *TINY]) == 0
    run_dir = only_run(tmp_path)
    rows = history(run_dir)
    assert [row["train/step"] for row in rows if "train/step" in row] == [1, 2]  # --limit 32, 16 a batch
    last = rows[-1]
    assert last["eval/confusion_matrix"]["_type"] == "custom-chart"
    images = last["eval/misclassified"]
    assert images and all(i["_type"] == "image-file" and i["width"] == 32 for i in images)
    assert all((run_dir / "files" / i["path"]).is_file() for i in images)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["predict/samples"] == 8 and 0 <= summary["test/accuracy"] <= 1
    assert (run_dir / "files" / "checkpoints" / "best.pdparams").is_file()
    config = {k: v for r in records(run_dir, "config") for k, v in r.data["update"].items()}
    assert (
        config["optimizer"]["name"] == "Momentum" and config["lr_scheduler"]["name"] == "CosineAnnealingDecay"
    )
    assert config["model"]["name"] == "ResNet" and config["batch_size"] == 16


def test_missing_cifar_fails_with_a_clear_message(examples, tmp_path: Path, capsys) -> None:
    for name in ("train_resnet_cifar", "fit_resnet_cifar"):
        assert examples(name).main(["--data-dir", str(tmp_path / "nowhere")]) == 2
        message = capsys.readouterr().err
        assert "CIFAR-10 not found" in message and "cifar-10-python.tar.gz" in message
        assert "--dataset digits" in message
    assert not (tmp_path / "wakelog").exists()


def test_cifar_loader_reads_the_folder_and_the_archive(examples, tmp_path: Path) -> None:
    image_data = examples("image_data")
    folder = fake_cifar(tmp_path / "extracted" / "cifar-10-batches-py", per_batch=4)
    x_train, y_train, x_test, y_test = image_data.load_cifar10(folder.parent)
    assert x_train.shape == (20, 3, 32, 32) and x_train.dtype == np.uint8
    assert y_train.shape == (20,) and x_test.shape == (4, 3, 32, 32) and y_test.dtype == np.int64
    (tmp_path / "archive").mkdir()
    with tarfile.open(tmp_path / "archive" / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    from_archive = image_data.load_cifar10(tmp_path / "archive")
    for a, b in zip(from_archive, (x_train, y_train, x_test, y_test), strict=True):
        np.testing.assert_array_equal(a, b)
    (tmp_path / "broken").mkdir()
    with tarfile.open(tmp_path / "broken" / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder / "test_batch", arcname="cifar-10-batches-py/test_batch")
    with pytest.raises(image_data.DatasetMissingError, match="lacks data_batch_1"):
        image_data.load_cifar10(tmp_path / "broken")
