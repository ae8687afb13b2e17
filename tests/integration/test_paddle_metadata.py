"""The Paddle section of run metadata, seed_everything, and that wakelog never imports paddle."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wakelog
from tests.conftest import records

paddle = pytest.importorskip("paddle")
pytestmark = pytest.mark.paddle

from wakelog.integration.paddle import paddle_metadata, seed_everything  # noqa: E402
from wakelog.integration.paddle._env import _version_string  # noqa: E402


def metadata(run_dir: Path) -> dict:
    return json.loads((run_dir / "metadata.json").read_text())


def test_metadata_has_a_paddle_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGS_check_nan_inf", "1")
    monkeypatch.setenv("FLAGS_NOT_A_SECRET_BUT_NOT_OURS", "x")
    seed_everything(7)
    run = wakelog.init(mode="offline")
    run.finish()
    section = metadata(run.run_dir)["paddle"]
    assert section["version"] == paddle.__version__
    assert section["commit"] == paddle.version.commit
    assert section["flags"]["FLAGS_check_nan_inf"] == "1"
    assert all(name.startswith("FLAGS_") for name in section["flags"])
    assert section["seed"] == 7
    assert section["world_size"] == 1 and section["rank"] == 0
    assert section["device"] == paddle.device.get_device()
    if not paddle.is_compiled_with_cuda():
        # paddle.version.cuda() answers the string 'False' on CPU builds.
        assert paddle.version.cuda() == "False"
        assert section["cuda"] == section["cudnn"] == "none"
        assert section["gpu_count"] == 0 and section["compiled_with_cuda"] is False
    # The run log carries the same section.
    assert records(run.run_dir, "metadata")[-1].data["paddle"] == section


def test_a_seed_set_after_init_is_recorded_again() -> None:
    run = wakelog.init(mode="offline")
    run._parts.metadata.stop()  # let the first capture finish, so the seed arrives afterwards
    seed_everything(11)
    run.finish()
    assert metadata(run.run_dir)["paddle"]["seed"] == 11
    sections = [r.data.get("paddle", {}).get("seed") for r in records(run.run_dir, "metadata")]
    assert sections[-1] == 11
    assert "git" in metadata(run.run_dir) or "python" in metadata(run.run_dir)  # the rest is kept


def test_seed_everything_makes_paddle_numpy_random_and_dataloader_repeat() -> None:
    dataset = paddle.io.TensorDataset([paddle.arange(32).reshape([32, 1])])

    def draw() -> tuple:
        loader = paddle.io.DataLoader(dataset, batch_size=8, shuffle=True)
        order = [int(v) for (batch,) in loader for v in batch.numpy().ravel()]
        return (paddle.rand([1]).item(), float(np.random.rand()), random.random(), order)

    seed_everything(3)
    first = draw()
    seed_everything(3)
    assert draw() == first
    with pytest.raises(TypeError):
        seed_everything("3")


def test_cpu_build_answers_become_none() -> None:
    assert _version_string("False") == _version_string(False) == _version_string("") == "none"
    assert _version_string("12.6") == "12.6" and _version_string(None) == "none"
    assert paddle_metadata()["version"] == paddle.__version__


def test_wakelog_never_imports_paddle_itself(tmp_path: Path) -> None:
    code = (
        "import sys, wakelog, wakelog.integration.paddle as p\n"
        "wakelog.watch, wakelog.unwatch, p.install_wandb_alias, p.alias_path, p.paddle_metadata\n"
        "run = wakelog.init(mode='offline')\n"
        "run.finish()\n"
        "import json\n"
        "meta = json.load(open(run.run_dir / 'metadata.json'))\n"
        "print('paddle' in sys.modules, 'paddle' in meta, p.paddle_metadata())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    assert out.split() == ["False", "False", "None"]
