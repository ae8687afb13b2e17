"""Periodic system metrics (CPU, memory, disk, network, NVIDIA GPUs) for a run.

Why a plain thread: a sample costs about a millisecond of psutil/NVML calls every few seconds, far too
little to justify a process; the thread only holds the GIL while it formats numbers. Everything is guarded:
a reading that fails drops its key from that sample, a failing ``emit`` is logged once, and nothing is ever
raised into the training code. psutil is imported on first use (``start()`` or ``sample()``), not at import.

Rates and counters ("since start") are relative to a baseline taken by ``start()``, or by the first
``sample()`` when the monitor is used synchronously; CPU percentages therefore first appear in the second
synchronous sample. All keys and units are documented in docs/system-metrics.md.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from wakelog._cgroup import Cgroups, read_text
from wakelog._threads import start_background

__all__ = ["SystemMonitor", "disk_token", "effective_cpu_count"]

_log = logging.getLogger(__name__)

_MB = 1024.0 * 1024.0
_GB = 1024.0 * 1024.0 * 1024.0
_MIN_INTERVAL = 0.05
_FIRST_SAMPLE_MAX_DELAY = 2.0
_MIN_RATE_WINDOW = 0.05
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def disk_token(path: str) -> str:
    """Spell a mount path as one metric-key segment: ``/`` → ``root``, ``/mnt/data`` → ``mnt_data``."""
    stripped = path.strip("/")
    if not stripped:
        return "root"
    return _UNSAFE.sub("_", stripped).strip("_") or "root"


def effective_cpu_count() -> float:
    """CPUs this process may use: logical CPUs, narrowed by CPU affinity and by a cgroup CPU quota.

    ``system/proc_cpu_percent`` is normalised by this, so 100 means "every CPU I am allowed to use is busy".
    """
    n = float(os.cpu_count() or 1)
    try:
        n = min(n, float(len(os.sched_getaffinity(0))))
    except (AttributeError, OSError):
        pass
    try:
        quota = Cgroups().cpu_quota()
    except Exception:
        quota = None
    if quota is not None:
        n = min(n, quota.cores)
    return max(n, 0.01)


class _CgroupMemory:
    """Memory limit and usage of the tightest limited cgroup containing this process, when one exists.

    Why: in a container or a SLURM job the kernel kills the job at the cgroup limit, so percent-of-host is
    misleading. Usage excludes inactive page cache, as ``docker stats`` and the kernel's OOM logic do.
    """

    def __init__(self, host_total: float) -> None:
        self.limit: float | None = None
        self._dir: Path | None = None
        self._version = 0
        for version, d in Cgroups().dirs("memory"):
            raw = read_text(d / ("memory.max" if version == 2 else "memory.limit_in_bytes"))
            if not raw or raw == "max":
                continue
            try:
                limit = float(raw)
            except ValueError:
                continue
            if 0 < limit < host_total and (self.limit is None or limit < self.limit):
                self.limit, self._dir, self._version = limit, d, version

    def used(self) -> float | None:
        if self._dir is None:
            return None
        v2 = self._version == 2
        raw = read_text(self._dir / ("memory.current" if v2 else "memory.usage_in_bytes"))
        if raw is None:
            return None
        usage = float(raw)
        stat = read_text(self._dir / "memory.stat") or ""
        key = "inactive_file" if v2 else "total_inactive_file"
        for line in stat.splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                usage -= float(value)
                break
        return max(usage, 0.0)


def _cpu_busy_total(t: Any) -> tuple[float, float]:
    """(busy, total) seconds from psutil.cpu_times(); guest time is already inside user/nice on Linux."""
    total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
    busy = total - t.idle - getattr(t, "iowait", 0.0)
    return busy, total


class SystemMonitor:
    """Samples system metrics every ``interval`` seconds in a daemon thread and hands them to ``emit``.

    Timing: the first sample comes ``min(interval, 2 s)`` after ``start()`` (so even a short run gets one
    point), then every ``interval`` seconds on a fixed schedule; ticks missed (a suspended laptop, a slow
    sample) are skipped, not bunched. ``stop()`` wakes the thread at once and takes no final sample.

    ``pid`` selects the monitored process tree (default: this process). ``gpu=False`` skips NVML.
    """

    def __init__(
        self,
        emit: Callable[[dict[str, float]], None],
        *,
        interval: float = 10.0,
        pid: int | None = None,
        disk_paths: Sequence[str] = ("/",),
        gpu: bool = True,
    ) -> None:
        self._emit = emit
        try:
            interval = float(interval)
        except (TypeError, ValueError):
            interval = math.nan
        if not math.isfinite(interval) or interval <= 0:
            warnings.warn(f"wakelog: invalid system-metrics interval {interval!r}; using 10 s", stacklevel=2)
            interval = 10.0
        self.interval = max(interval, _MIN_INTERVAL)
        self.pid = os.getpid() if pid is None else int(pid)
        self.gpu = bool(gpu)
        self._disks: list[tuple[str, str]] = []
        seen: set[str] = set()
        for path in disk_paths:
            token = base = disk_token(str(path))
            n = 2
            while token in seen:  # "/" and "/root" both spell "root": keep both, distinctly
                token, n = f"{base}_{n}", n + 1
            seen.add(token)
            self._disks.append((str(path), token))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one sample at a time: baselines are shared state
        self._psutil: Any = None
        self._ready = False
        self._failed: set[str] = set()
        self._emit_failed = False
        # CPU seconds by (pid, create_time) of the monitored tree at the last reading.
        self._tree_prev: dict[tuple[int, float], float] = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Take the baselines and start the sampler thread; a second call is a no-op."""
        if self._thread is not None:
            return
        with self._lock:
            self._init_baseline()
        self._stop.clear()
        t = threading.Thread(target=self._run, name="wakelog-system-monitor", daemon=True)
        try:
            start_background(t)
        except RuntimeError as exc:  # "can't start new thread": resource limits
            warnings.warn(f"wakelog: system metrics disabled: {exc}", stacklevel=2)
            return
        self._thread = t

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the sampler promptly (it waits on an Event, not in sleep) and join it."""
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        t = self._thread
        return t is not None and t.is_alive()

    def _run(self) -> None:
        deadline = time.monotonic() + min(self.interval, _FIRST_SAMPLE_MAX_DELAY)
        while not self._stop.wait(max(0.0, deadline - time.monotonic())):
            try:
                values = self.sample()
            except Exception as exc:  # sample() guards each reading; this is belt and braces
                _log.debug("wakelog: system sample failed: %s", exc)
                values = {}
            if values and not self._stop.is_set():
                try:
                    self._emit(values)
                except Exception as exc:
                    if not self._emit_failed:
                        self._emit_failed = True
                        _log.warning(
                            "wakelog: system metrics callback failed (%s); further errors hidden", exc
                        )
            deadline += self.interval
            now = time.monotonic()
            if deadline <= now:
                deadline = now + self.interval

    # ------------------------------------------------------------------ sampling

    def _init_baseline(self) -> None:
        if self._ready:
            return
        self._ready = True
        try:
            import psutil
        except Exception as exc:
            warnings.warn(f"wakelog: psutil unavailable, only GPU metrics are recorded ({exc})", stacklevel=3)
            return
        self._psutil = psutil
        self._ncpu = effective_cpu_count()
        self._proc: Any = self._guard("process", lambda: psutil.Process(self.pid))
        self._cpu_prev = self._guard("cpu_times", lambda: _cpu_busy_total(psutil.cpu_times()))
        self._tree_mono: float | None = None
        if self._proc is not None:
            self._tree_prev = self._tree_cpu_times() or {}
            self._tree_mono = time.monotonic()
        self._io0 = self._guard("disk_io", psutil.disk_io_counters)
        self._net0 = self._guard("net_io", psutil.net_io_counters)
        vm_total = self._guard("memory_total", lambda: float(psutil.virtual_memory().total))
        self._cgmem = self._guard("cgroup_memory", lambda: _CgroupMemory(vm_total or math.inf))

    def _guard(self, key: str, fn: Callable[[], Any]) -> Any:
        """Run one reading; on failure log once per key at DEBUG and return None."""
        try:
            return fn()
        except Exception as exc:
            if key not in self._failed:
                self._failed.add(key)
                _log.debug("wakelog: cannot read %s: %s: %s", key, type(exc).__name__, exc)
            return None

    def _tree_cpu_times(self) -> dict[tuple[int, float], float] | None:
        """user+system CPU seconds of the monitored process and every live descendant."""
        psutil = self._psutil
        proc = self._proc
        try:
            procs = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            procs = [proc]
        out: dict[tuple[int, float], float] = {}
        for p in procs:
            try:
                t = p.cpu_times()
                out[(p.pid, p.create_time())] = t.user + t.system
            except psutil.Error:
                continue
        return out

    def sample(self) -> dict[str, float]:
        """Take one sample now (thread-safe); keys whose reading fails are absent."""
        out: dict[str, float] = {}
        with self._lock:
            try:
                self._init_baseline()
                if self._psutil is not None:
                    self._sample_host(out)
            except Exception as exc:
                _log.debug("wakelog: system sample failed: %s", exc)
        if self.gpu:
            try:
                from wakelog.monitor.gpu import gpu_metrics

                out.update(gpu_metrics(self._tree_pids()))
            except Exception as exc:
                _log.debug("wakelog: GPU sample failed: %s", exc)
        return out

    def _tree_pids(self) -> set[int]:
        """The monitored process and the descendants seen at the last CPU reading."""
        return {self.pid} | {pid for pid, _created in self._tree_prev}

    def _sample_host(self, out: dict[str, float]) -> None:
        self._sample_cpu(out)
        if self._proc is not None:
            self._sample_process(out)
        self._sample_memory(out)
        self._sample_disks(out)
        self._sample_network(out)

    def _sample_cpu(self, out: dict[str, float]) -> None:
        psutil = self._psutil
        g = self._guard
        # System-wide CPU, from our own cpu_times baseline (psutil.cpu_percent() keeps one global baseline
        # that the user's own calls would disturb).
        # Rates need a window long enough for the kernel's 10 ms accounting ticks; a sample taken right
        # after the baseline leaves them out and keeps the baseline.
        rate_ok = self._tree_mono is None or time.monotonic() - self._tree_mono >= _MIN_RATE_WINDOW
        now_cpu = g("cpu_times", lambda: _cpu_busy_total(psutil.cpu_times())) if rate_ok else None
        if now_cpu is not None and self._cpu_prev is not None:
            d_busy, d_total = now_cpu[0] - self._cpu_prev[0], now_cpu[1] - self._cpu_prev[1]
            if d_total > 0:
                out["system/cpu_percent"] = min(100.0, max(0.0, 100.0 * d_busy / d_total))
        if now_cpu is not None:
            self._cpu_prev = now_cpu

    def _sample_memory(self, out: dict[str, float]) -> None:
        """Memory in use, of the cgroup's limit when the process runs under one (see _CgroupMemory)."""
        g = self._guard
        vm = g("memory", self._psutil.virtual_memory)
        if vm is not None:
            percent, available = float(vm.percent), float(vm.available)
            cg = self._cgmem
            used = g("cgroup_memory_used", cg.used) if cg is not None and cg.limit else None
            if used is not None and cg is not None and cg.limit:
                percent = 100.0 * used / cg.limit
                available = min(available, max(cg.limit - used, 0.0))
            out["system/memory_percent"] = percent
            out["system/memory_available_mb"] = available / _MB

    def _sample_disks(self, out: dict[str, float]) -> None:
        """Usage of each watched mount, and bytes read and written since start (all disks)."""
        psutil = self._psutil
        g = self._guard
        for path, token in self._disks:
            du = g(f"disk_usage:{path}", lambda p=path: psutil.disk_usage(p))
            if du is not None:
                out[f"system/disk/{token}/usage_percent"] = float(du.percent)
                out[f"system/disk/{token}/usage_gb"] = du.used / _GB

        if self._io0 is not None:
            io = g("disk_io", psutil.disk_io_counters)
            if io is not None:
                out["system/disk_read_mb"] = max(0, io.read_bytes - self._io0.read_bytes) / _MB
                out["system/disk_write_mb"] = max(0, io.write_bytes - self._io0.write_bytes) / _MB

    def _sample_network(self, out: dict[str, float]) -> None:
        """Bytes sent and received since start (all interfaces)."""
        if self._net0 is not None:
            net = self._guard("net_io", self._psutil.net_io_counters)
            if net is not None:
                out["system/network_sent_mb"] = max(0, net.bytes_sent - self._net0.bytes_sent) / _MB
                out["system/network_recv_mb"] = max(0, net.bytes_recv - self._net0.bytes_recv) / _MB

    def _sample_process(self, out: dict[str, float]) -> None:
        g = self._guard
        proc = self._proc
        mem = g("proc_memory", proc.memory_info)
        if mem is not None:
            out["system/proc_rss_mb"] = mem.rss / _MB
        threads = g("proc_threads", proc.num_threads)
        if threads is not None:
            out["system/proc_threads"] = float(threads)

        # Process-tree CPU: per-process deltas of user+system time, keyed by (pid, create_time) so that a
        # recycled pid is a new process. Time a child spent after our last sample and before it exited is
        # not seen (the kernel only adds it to the parent's children_* fields once reaped).
        if self._tree_mono is not None and time.monotonic() - self._tree_mono < _MIN_RATE_WINDOW:
            return
        tree = g("proc_cpu", self._tree_cpu_times)
        mono = time.monotonic()
        if tree is None:
            return
        if self._tree_mono is not None:
            busy = 0.0
            for key, secs in tree.items():
                # A process we did not see last time was (almost always) started by us since then, so all
                # its CPU time falls inside this window. (psutil's create_time is too coarse to check.)
                busy += max(0.0, secs - self._tree_prev.get(key, 0.0))
            out["system/proc_cpu_percent"] = 100.0 * busy / (mono - self._tree_mono) / self._ncpu
        self._tree_prev, self._tree_mono = tree, mono
