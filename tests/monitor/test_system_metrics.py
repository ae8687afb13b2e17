"""SystemMonitor: real samples of this machine, real CPU load, real thread timing."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import warnings

import pytest

from tests._env import child_env
from wakelog.monitor.system import SystemMonitor, disk_token, effective_cpu_count

HOST_KEYS = {
    "system/cpu_percent",
    "system/proc_cpu_percent",
    "system/proc_rss_mb",
    "system/proc_threads",
    "system/memory_percent",
    "system/memory_available_mb",
    "system/disk/root/usage_percent",
    "system/disk/root/usage_gb",
    "system/disk_read_mb",
    "system/disk_write_mb",
    "system/network_sent_mb",
    "system/network_recv_mb",
}


def _burn(seconds: float) -> None:
    """Spend ``seconds`` of this thread's CPU time (more wall time on a busy machine)."""
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        x += 1


def test_background_samples_have_documented_keys_and_plausible_values() -> None:
    got: list[dict[str, float]] = []
    arrived = threading.Event()

    def emit(sample: dict[str, float]) -> None:
        got.append(sample)
        arrived.set()

    mon = SystemMonitor(emit, interval=0.2, gpu=False)
    mon.start()
    try:
        assert arrived.wait(5), "no sample within 5 s"
    finally:
        mon.stop()
    s = got[0]
    assert set(s) >= HOST_KEYS, HOST_KEYS - set(s)
    assert all(isinstance(v, float) for v in s.values())
    assert s["system/proc_rss_mb"] > 1
    assert s["system/proc_threads"] >= 2  # main + sampler
    assert 0 <= s["system/memory_percent"] <= 100
    assert s["system/memory_available_mb"] > 0
    assert 0 <= s["system/cpu_percent"] <= 100
    assert s["system/proc_cpu_percent"] >= 0
    assert 0 < s["system/disk/root/usage_percent"] <= 100
    assert s["system/disk/root/usage_gb"] > 0
    for key in ("disk_read_mb", "disk_write_mb", "network_sent_mb", "network_recv_mb"):
        assert s[f"system/{key}"] >= 0
    assert not any(k.startswith("system/gpu/") for k in s)
    json.dumps(s)


def test_synchronous_sample_rates_appear_from_second_sample() -> None:
    mon = SystemMonitor(lambda s: None, gpu=False)
    first = mon.sample()
    assert "system/proc_rss_mb" in first and "system/memory_percent" in first
    assert "system/proc_cpu_percent" not in first  # no baseline yet
    time.sleep(0.05)
    second = mon.sample()
    assert set(second) >= HOST_KEYS


def test_cpu_burning_thread_raises_proc_cpu_percent() -> None:
    mon = SystemMonitor(lambda s: None, gpu=False)
    mon.sample()
    time.sleep(0.3)
    idle = mon.sample()["system/proc_cpu_percent"]
    started = time.perf_counter()
    t = threading.Thread(target=_burn, args=(0.5,))
    t.start()
    t.join()
    busy = mon.sample()["system/proc_cpu_percent"]
    # 0.5 s of CPU over the wall time it took: one core's worth on an idle machine, less when other
    # processes share the cores (the test suite's other worker)
    share = 0.5 / (time.perf_counter() - started)
    one_core = 100.0 / effective_cpu_count()
    assert busy > idle + 0.5 * share * one_core, (idle, busy, share)
    assert busy <= 100.0 + 5


def test_child_process_cpu_counts_towards_process_tree() -> None:
    """A child's CPU is the tree's: its 0.5 s of CPU (by its own clock, however loaded the machine
    is) shows in the sample taken while it still lives, as a share of the time the sample spans."""
    started = time.monotonic()
    mon = SystemMonitor(lambda s: None, gpu=False)
    mon.sample()
    burn = "import time\nwhile time.process_time() < 0.5: pass\nprint('burned', flush=True)\ntime.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", burn], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "burned"
        busy = mon.sample()["system/proc_cpu_percent"]
        spanned = time.monotonic() - started  # at least the time between the two samples
    finally:
        child.kill()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    one_core = 100.0 / effective_cpu_count()
    assert busy >= 0.9 * one_core * 0.5 / spanned, (busy, spanned)


def test_monitoring_another_pid() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)"])
    try:
        mon = SystemMonitor(lambda s: None, pid=child.pid, gpu=False)
        s = mon.sample()
        assert s["system/proc_threads"] == 1
        assert s["system/proc_rss_mb"] > 1
    finally:
        child.kill()
        child.wait()
    # The process is gone: its keys disappear, the rest of the sample stays.
    s = mon.sample()
    assert "system/proc_rss_mb" not in s
    assert "system/memory_percent" in s


def test_stop_is_prompt_even_with_long_interval() -> None:
    mon = SystemMonitor(lambda s: None, interval=60.0, gpu=False)
    mon.start()
    assert mon.running
    t0 = time.perf_counter()
    mon.stop()
    assert time.perf_counter() - t0 < 0.5
    assert not mon.running
    mon.stop()  # idempotent


def test_emit_errors_do_not_stop_sampling() -> None:
    calls: list[int] = []

    def emit(sample: dict[str, float]) -> None:
        calls.append(1)
        raise RuntimeError("callback broke")

    mon = SystemMonitor(emit, interval=0.05, gpu=False)
    mon.start()
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    mon.stop()
    assert len(calls) >= 3


def test_bad_disk_path_drops_only_its_keys() -> None:
    mon = SystemMonitor(lambda s: None, disk_paths=("/", "/definitely/not/here"), gpu=False)
    s = mon.sample()
    assert "system/disk/root/usage_percent" in s
    assert not any("definitely" in k for k in s)


def test_disk_tokens() -> None:
    assert disk_token("/") == "root"
    assert disk_token("/mnt/data") == "mnt_data"
    assert disk_token("/mnt/my disk/") == "mnt_my_disk"
    assert disk_token("relative/x") == "relative_x"
    mon = SystemMonitor(lambda s: None, disk_paths=("/", "/root"), gpu=False)
    assert [t for _, t in mon._disks] == ["root", "root_2"]


def test_invalid_interval_warns_and_falls_back() -> None:
    with pytest.warns(UserWarning, match="interval"):
        mon = SystemMonitor(lambda s: None, interval=float("nan"))
    assert mon.interval == 10.0


def test_gpu_absent_is_silent() -> None:
    mon = SystemMonitor(lambda s: None, gpu=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = mon.sample()
    if not any(k.startswith("system/gpu/") for k in s):
        assert "system/memory_percent" in s


def test_module_imports_stay_light() -> None:
    code = (
        "import sys, wakelog\n"
        "before = set(sys.modules)\n"
        "import wakelog.monitor, wakelog.monitor.console, wakelog.monitor.system, wakelog.monitor.gpu\n"
        "import wakelog.monitor.environment\n"
        "new = set(sys.modules) - before\n"
        "heavy = {m for m in new if m.split('.')[0] in ('psutil', 'pynvml', 'numpy', 'ctypes')}\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=child_env()
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
