"""Real NVIDIA GPUs: NVML readings while a real training runs on the card, read back from the run log.

CI has no GPU, so these tests skip there (the reason says why); on a GPU host run
``pytest -m gpu``. The training uses PyTorch or CuPy, whichever the host has: wakelog's readings do
not depend on the framework, only on the driver, and PaddlePaddle's GPU wheels are not on every GPU host.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests._env import child_env
from wakelog.monitor import gpu
from wakelog.runlog import iter_records

pytestmark = pytest.mark.gpu


def _nvidia_gpus() -> int:
    gpu.shutdown()
    try:
        return int(gpu.gpu_inventory()["gpu_count"])
    finally:
        gpu.shutdown()


requires_gpu = pytest.mark.skipif(_nvidia_gpus() == 0, reason="no NVIDIA GPU with a working driver here")
FRAMEWORK = next((m for m in ("torch", "cupy") if importlib.util.find_spec(m)), None)

#: A training on GPU 0 that keeps the card busy for a few seconds and logs a device scalar every step.
TRAINING = {
    "torch": """
        import torch
        layers = torch.nn.Linear(4096, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 10)
        model = torch.nn.Sequential(*layers).cuda()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        x, y = torch.randn(4096, 4096, device="cuda"), torch.randint(0, 10, (4096,), device="cuda")
        def step():
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss  # a 0-d CUDA tensor: log() must turn it into a float
    """,
    "cupy": """
        import cupy
        a = cupy.random.random((8192, 8192), dtype=cupy.float32)
        def step():
            return float((a @ a).mean())
    """,
}


@requires_gpu
def test_inventory_names_the_cards_and_driver() -> None:
    gpu.shutdown()
    inv = gpu.gpu_inventory()
    assert inv["gpu_count"] >= 1
    first = inv["gpus"][0]
    assert first["name"] and first["memory_total_mb"] > 1024
    assert re.fullmatch(r"GPU-[0-9a-f-]+", first["uuid"])
    assert re.fullmatch(r"\d+\.\d+(\.\d+)*", inv["driver_version"])
    assert re.fullmatch(r"\d+\.\d", inv["cuda_driver_version"])


@requires_gpu
@pytest.mark.skipif(FRAMEWORK is None, reason="neither PyTorch nor CuPy is installed to load the GPU")
def test_a_gpu_training_is_seen_in_the_runs_system_metrics(tmp_path: Path) -> None:
    assert FRAMEWORK is not None
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(TRAINING[FRAMEWORK])
        + textwrap.dedent(
            """
            import time, wakelog
            settings = wakelog.Settings(stats_sampling_interval=0.5)
            run = wakelog.init(project="gpu", mode="offline", settings=settings)
            step()  # warm up (kernels, allocator) before the clock starts
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                run.log({"loss": step()})
            run.finish()
            """
        )
    )
    # Stats on (the tests turn them off), the console left alone.
    env = child_env(WAKELOG_DISABLE_STATS=None, WAKELOG_CONSOLE=None, WAKELOG_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, str(script)],
        check=False,
        cwd=tmp_path,
        env={**env, "WAKELOG_SILENT": "true"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    (log,) = {p.resolve() for p in tmp_path.glob("**/run-*.wakelog")}  # also reached via "latest-run"
    records = list(iter_records(log))

    losses = [r.data["loss"] for r in records if r.type == "history" and "loss" in r.data]
    assert len(losses) > 3 and all(isinstance(v, float) for v in losses)

    (meta,) = [r.data for r in records if r.type == "metadata"]
    assert meta["gpu_count"] >= 1 and meta["gpu"]["gpus"][0]["name"]

    stats = [r.data for r in records if r.type == "stats"]
    busy = [s for s in stats if s.get("system/gpu/0/utilization_percent", 0) > 50]
    assert busy, f"GPU 0 never looked busy: {[s.get('system/gpu/0/utilization_percent') for s in stats]}"
    top = max(busy, key=lambda s: s["system/gpu/0/utilization_percent"])
    assert top["system/gpu/0/memory_allocated_mb"] > 100
    assert 10 < top["system/gpu/0/temperature_c"] < 110
    assert top["system/gpu/0/power_w"] > 0 and 0 < top["system/gpu/0/power_percent"] <= 150
    assert top["system/gpu/0/sm_clock_mhz"] > 0
    # The card's memory held by this training itself, told apart from everything else on the card.
    own = [s["system/gpu/0/process_memory_mb"] for s in stats if "system/gpu/0/process_memory_mb" in s]
    assert own and 50 < max(own) <= top["system/gpu/0/memory_allocated_mb"] + 1
