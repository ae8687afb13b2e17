"""NVIDIA GPU readings through NVML (the ``pynvml`` module of the ``nvidia-ml-py`` package).

Why this shape: most machines that run the SDK have no NVIDIA driver (laptops, CPU CI, this repo's own CI),
so every entry point here degrades to "no GPU" without raising and without printing anything; the reason is
logged once at DEBUG level. ``pynvml`` is imported on first use, never at module import, so importing the
SDK does not pay for it. NVML is initialised once per process and shared by the sampler and the metadata
collector; :func:`shutdown` releases it (a later call initialises it again).

Indices are NVML's device indices (all GPUs the driver exposes, not only those in ``CUDA_VISIBLE_DEVICES``),
which matches what ``nvidia-smi`` prints and what wandb reports.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from typing import Any

__all__ = ["gpu_inventory", "gpu_metrics", "nvml_available", "shutdown"]

_log = logging.getLogger(__name__)

_MIB = 1024 * 1024

_lock = threading.Lock()
# None: not tried yet; False: tried and unavailable; otherwise the initialised pynvml module.
_nvml: Any = None
# Cached device handles, by index (handles stay valid until nvmlShutdown).
_handles: list[Any] = []
# (index, key) pairs whose reading failed once; logged at DEBUG the first time only.
_failed: set[tuple[int, str]] = set()


def _load() -> Any:
    """Return the initialised pynvml module, or None when there is no library, driver or GPU."""
    global _nvml
    nv = _nvml
    if nv is not None:
        return nv or None
    with _lock:
        if _nvml is not None:
            return _nvml or None
        try:
            import pynvml  # type: ignore[import-not-found]

            pynvml.nvmlInit()
            count = int(pynvml.nvmlDeviceGetCount())
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except Exception as exc:  # ImportError, NVMLError_LibraryNotFound, DriverNotLoaded, ...
            _log.debug("wakelog: NVIDIA GPU metrics unavailable (%s: %s)", type(exc).__name__, exc)
            _nvml = False
            return None
        _handles[:] = handles
        _nvml = pynvml
        return pynvml


def nvml_available() -> bool:
    """True when NVML initialised; it may still report zero devices."""
    return _load() is not None


def shutdown() -> None:
    """Release NVML; safe to call at any time, any number of times. The next reading re-initialises."""
    global _nvml
    with _lock:
        nv = _nvml
        _nvml = None
        _handles.clear()
        _failed.clear()
        if nv:
            try:
                nv.nvmlShutdown()
            except Exception as exc:
                _log.debug("wakelog: nvmlShutdown failed: %s", exc)


def _text(value: Any) -> str:
    """NVML strings are ``bytes`` in old pynvml releases and ``str`` in new ones."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _read(nv: Any, index: int, fname: str, *args: Any) -> Any:
    """Call one NVML function; on failure log once at DEBUG and return None, so only that value is lost."""
    try:
        return getattr(nv, fname)(*args)
    except Exception as exc:  # NotSupported on consumer cards, GPU fallen off the bus, old pynvml, ...
        if (index, fname) not in _failed:
            _failed.add((index, fname))
            _log.debug("wakelog: GPU %d: %s failed (%s: %s)", index, fname, type(exc).__name__, exc)
        return None


def gpu_metrics(pids: Collection[int] = ()) -> dict[str, float]:
    """One sample of every GPU as ``system/gpu/<i>/<metric>`` → float; empty without NVML.

    ``pids`` is the monitored process tree: a GPU on which one of them holds memory also reports
    ``process_memory_mb`` (their total), the figure that tells "my training" from "everything on the card".
    Units: percents 0..100, MB = 2**20 bytes, degrees Celsius, watts, MHz. See docs/system-metrics.md.
    """
    nv = _load()
    if nv is None:
        return {}
    try:
        handles = list(_handles)
        consts = (
            getattr(nv, "NVML_TEMPERATURE_GPU", 0),
            getattr(nv, "NVML_CLOCK_SM", 1),
            getattr(nv, "NVML_CLOCK_MEM", 2),
        )
    except Exception:
        return {}
    out: dict[str, float] = {}
    for i, h in enumerate(handles):
        try:
            _sample_one(nv, i, h, consts, out)
            if pids:
                _sample_processes(nv, i, h, pids, out)
        except Exception as exc:  # a value of an unexpected type: keep what this GPU already gave
            _log.debug("wakelog: GPU %d: unexpected NVML value (%s)", i, exc)
    return out


def _sample_one(nv: Any, i: int, h: Any, consts: tuple[int, int, int], out: dict[str, float]) -> None:
    temp_gpu, clock_sm, clock_mem = consts
    p = f"system/gpu/{i}/"
    util = _read(nv, i, "nvmlDeviceGetUtilizationRates", h)
    if util is not None:
        out[p + "utilization_percent"] = float(util.gpu)
        out[p + "memory_utilization_percent"] = float(util.memory)
    mem = _read(nv, i, "nvmlDeviceGetMemoryInfo", h)
    if mem is not None:
        used, total = float(mem.used), float(mem.total)
        out[p + "memory_allocated_mb"] = used / _MIB
        if total > 0:
            out[p + "memory_allocated_percent"] = 100.0 * used / total
    temp = _read(nv, i, "nvmlDeviceGetTemperature", h, temp_gpu)
    if temp is not None:
        out[p + "temperature_c"] = float(temp)
    power_mw = _read(nv, i, "nvmlDeviceGetPowerUsage", h)
    if power_mw is not None:
        out[p + "power_w"] = float(power_mw) / 1000.0
    limit_mw = _read(nv, i, "nvmlDeviceGetEnforcedPowerLimit", h)
    if limit_mw is not None:
        out[p + "power_limit_w"] = float(limit_mw) / 1000.0
        if power_mw is not None and float(limit_mw) > 0:
            out[p + "power_percent"] = 100.0 * float(power_mw) / float(limit_mw)
    sm = _read(nv, i, "nvmlDeviceGetClockInfo", h, clock_sm)
    if sm is not None:
        out[p + "sm_clock_mhz"] = float(sm)
    memclk = _read(nv, i, "nvmlDeviceGetClockInfo", h, clock_mem)
    if memclk is not None:
        out[p + "memory_clock_mhz"] = float(memclk)


def _sample_processes(nv: Any, i: int, h: Any, pids: Collection[int], out: dict[str, float]) -> None:
    """Device memory held by ``pids`` on one GPU; left out when none of them uses it.

    NVML reports host pids, so inside a container with its own pid namespace nothing matches and the key
    is simply absent. ``usedGpuMemory`` is None where the driver cannot tell (some Windows/MIG setups).
    """
    procs = _read(nv, i, "nvmlDeviceGetComputeRunningProcesses", h)
    if not procs:
        return
    used = [p.usedGpuMemory for p in procs if p.pid in pids and p.usedGpuMemory is not None]
    if used:
        out[f"system/gpu/{i}/process_memory_mb"] = float(sum(used)) / _MIB


def _cuda_version_text(v: int) -> str:
    """NVML encodes the CUDA version as ``1000 * major + 10 * minor`` (12040 → "12.4")."""
    return f"{v // 1000}.{(v % 1000) // 10}"


def gpu_inventory() -> dict[str, Any]:
    """Static GPU facts for run metadata; ``{"gpu_count": 0, "gpus": []}`` without NVML.

    Keys: ``gpu_count``, ``gpus`` (``[{index, name, memory_total_mb, uuid}]``, fields that cannot be read are
    left out), and when known ``driver_version`` and ``cuda_driver_version`` (the newest CUDA the driver
    supports, e.g. "12.4"; not the toolkit a framework was built with).
    """
    nv = _load()
    info: dict[str, Any] = {"gpu_count": 0, "gpus": []}
    if nv is None:
        return info
    handles = list(_handles)
    info["gpu_count"] = len(handles)
    driver = _read(nv, -1, "nvmlSystemGetDriverVersion")
    if driver is not None:
        info["driver_version"] = _text(driver)
    cuda = _read(nv, -1, "nvmlSystemGetCudaDriverVersion")
    if cuda is not None:
        try:
            info["cuda_driver_version"] = _cuda_version_text(int(cuda))
        except Exception:
            pass
    for i, h in enumerate(handles):
        gpu: dict[str, Any] = {"index": i}
        name = _read(nv, i, "nvmlDeviceGetName", h)
        if name is not None:
            gpu["name"] = _text(name)
        mem = _read(nv, i, "nvmlDeviceGetMemoryInfo", h)
        if mem is not None:
            try:
                gpu["memory_total_mb"] = round(float(mem.total) / _MIB, 1)
            except Exception:
                pass
        uuid = _read(nv, i, "nvmlDeviceGetUUID", h)
        if uuid is not None:
            gpu["uuid"] = _text(uuid)
        info["gpus"].append(gpu)
    return info
