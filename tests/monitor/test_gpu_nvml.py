"""GPU readings: the real no-NVML path of this machine, and value conversion against a fake ``pynvml``.

``pynvml`` is a third-party library, so a small stand-in module injected through ``sys.modules`` is the
honest way to exercise our conversion code on a machine without an NVIDIA driver.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import types
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from wakelog.monitor import gpu
from wakelog.monitor.system import SystemMonitor

GIB = 1024**3


@pytest.fixture(autouse=True)
def fresh_nvml() -> Iterator[None]:
    gpu.shutdown()
    yield
    gpu.shutdown()


class NVMLError(Exception):
    pass


def make_fake_pynvml(
    *, count: int = 2, str_names: bool = False, processes: dict[int, list[Any]] | None = None
) -> types.ModuleType:
    """A stand-in NVML; ``processes`` maps a device handle to its compute processes (pid, usedGpuMemory)."""
    processes = processes or {}
    nv = types.ModuleType("pynvml")
    state: dict[str, Any] = {"init": 0, "shutdown": 0}
    nv.state = state  # type: ignore[attr-defined]
    nv.NVMLError = NVMLError  # type: ignore[attr-defined]
    nv.NVML_TEMPERATURE_GPU = 0  # type: ignore[attr-defined]
    nv.NVML_CLOCK_SM = 1  # type: ignore[attr-defined]
    nv.NVML_CLOCK_MEM = 2  # type: ignore[attr-defined]

    def init() -> None:
        state["init"] += 1

    def shutdown() -> None:
        state["shutdown"] += 1

    def power(h: int) -> int:
        if h == 1:
            raise NVMLError("Not Supported")
        return 150_000  # mW

    def name(h: int) -> Any:
        text = f"Fake GPU {h}"
        return text if str_names else text.encode()

    ns = types.SimpleNamespace
    nv.__dict__.update(
        nvmlInit=init,
        nvmlShutdown=shutdown,
        nvmlDeviceGetCount=lambda: count,
        nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetUtilizationRates=lambda h: ns(gpu=50 + h, memory=20),
        nvmlDeviceGetMemoryInfo=lambda h: ns(total=16 * GIB, used=4 * GIB, free=12 * GIB),
        nvmlDeviceGetTemperature=lambda h, sensor: 60 + h,
        nvmlDeviceGetPowerUsage=power,
        nvmlDeviceGetEnforcedPowerLimit=lambda h: 300_000,
        nvmlDeviceGetClockInfo=lambda h, clock: {1: 1410, 2: 1215}[clock],
        nvmlDeviceGetName=name,
        nvmlDeviceGetUUID=lambda h: f"GPU-0000-{h}".encode(),
        nvmlDeviceGetComputeRunningProcesses=lambda h: processes.get(h, []),
        nvmlSystemGetDriverVersion=lambda: b"550.54.15",
        nvmlSystemGetCudaDriverVersion=lambda: 12040,
    )
    return nv


def _real_nvml_works() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
    except Exception:
        return False
    return True


def test_no_nvml_on_this_machine_is_clean_and_quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wakelog.monitor.gpu")
    if _real_nvml_works():
        pytest.skip("this machine has a working NVIDIA driver")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gpu.gpu_metrics() == {}
        assert gpu.gpu_metrics() == {}
        assert gpu.gpu_inventory() == {"gpu_count": 0, "gpus": []}
        assert gpu.nvml_available() is False
    debug = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(debug) == 1 and debug[0].levelno == logging.DEBUG


def test_pynvml_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError
    assert gpu.gpu_metrics() == {}
    assert gpu.gpu_inventory()["gpu_count"] == 0


def test_metric_conversion_with_fake_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = make_fake_pynvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    m = gpu.gpu_metrics()
    p0, p1 = "system/gpu/0/", "system/gpu/1/"
    assert m[p0 + "utilization_percent"] == 50.0
    assert m[p1 + "utilization_percent"] == 51.0
    assert m[p0 + "memory_utilization_percent"] == 20.0
    assert m[p0 + "memory_allocated_percent"] == pytest.approx(25.0)
    assert m[p0 + "memory_allocated_mb"] == pytest.approx(4096.0)
    assert m[p0 + "temperature_c"] == 60.0
    assert m[p0 + "power_w"] == pytest.approx(150.0)
    assert m[p0 + "power_limit_w"] == pytest.approx(300.0)
    assert m[p0 + "power_percent"] == pytest.approx(50.0)
    assert m[p0 + "sm_clock_mhz"] == 1410.0
    assert m[p0 + "memory_clock_mhz"] == 1215.0
    # GPU 1 cannot report power: only those keys are missing.
    assert p1 + "power_w" not in m and p1 + "power_percent" not in m
    assert m[p1 + "power_limit_w"] == pytest.approx(300.0)
    assert m[p1 + "temperature_c"] == 61.0
    assert all(isinstance(v, float) for v in m.values())
    assert len(m) == 10 + 8
    assert fake.state["init"] == 1
    gpu.gpu_metrics()
    assert fake.state["init"] == 1  # initialised once, reused
    gpu.shutdown()
    assert fake.state["shutdown"] == 1


@pytest.mark.parametrize("str_names", [False, True])
def test_inventory_with_fake_nvml(monkeypatch: pytest.MonkeyPatch, str_names: bool) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(str_names=str_names))
    inv = gpu.gpu_inventory()
    assert inv["gpu_count"] == 2
    assert inv["driver_version"] == "550.54.15"
    assert inv["cuda_driver_version"] == "12.4"
    assert inv["gpus"][0] == {
        "index": 0,
        "name": "Fake GPU 0",
        "memory_total_mb": 16384.0,
        "uuid": "GPU-0000-0",
    }
    assert inv["gpus"][1]["name"] == "Fake GPU 1"


def test_init_failure_from_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = make_fake_pynvml()

    def broken() -> None:
        raise NVMLError("Driver Not Loaded")

    fake.nvmlInit = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert gpu.gpu_metrics() == {}
    assert gpu.gpu_inventory() == {"gpu_count": 0, "gpus": []}


def test_process_memory_counts_only_the_given_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    ns = types.SimpleNamespace
    fake = make_fake_pynvml(
        count=3,
        processes={
            0: [
                ns(pid=10, usedGpuMemory=GIB),
                ns(pid=11, usedGpuMemory=GIB // 2),
                ns(pid=99, usedGpuMemory=GIB),
            ],
            1: [ns(pid=99, usedGpuMemory=2 * GIB)],  # someone else's job
            2: [ns(pid=10, usedGpuMemory=None)],  # the driver cannot tell
        },
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    m = gpu.gpu_metrics(pids={10, 11})
    assert m["system/gpu/0/process_memory_mb"] == pytest.approx(1536.0)
    assert "system/gpu/1/process_memory_mb" not in m
    assert "system/gpu/2/process_memory_mb" not in m
    assert not any(k.endswith("process_memory_mb") for k in gpu.gpu_metrics())


def test_system_monitor_reports_its_own_process_gpu_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    me = types.SimpleNamespace(pid=os.getpid(), usedGpuMemory=3 * 1024 * 1024)
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(count=1, processes={0: [me]}))
    s = SystemMonitor(lambda s: None, gpu=True).sample()
    assert s["system/gpu/0/process_memory_mb"] == pytest.approx(3.0)
    # A process outside this one's tree (a sibling) does not own that memory; the parent's tree does.
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as sibling:
        try:
            other = SystemMonitor(lambda s: None, gpu=True, pid=sibling.pid).sample()
        finally:
            sibling.kill()
    assert "system/gpu/0/process_memory_mb" not in other
    parent = SystemMonitor(lambda s: None, gpu=True, pid=os.getppid()).sample()
    assert parent["system/gpu/0/process_memory_mb"] == pytest.approx(3.0)


def test_system_monitor_includes_gpu_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(count=1))
    s = SystemMonitor(lambda s: None, gpu=True).sample()
    assert s["system/gpu/0/power_percent"] == pytest.approx(50.0)
    assert "system/memory_percent" in s
    s = SystemMonitor(lambda s: None, gpu=False).sample()
    assert not any(k.startswith("system/gpu/") for k in s)
