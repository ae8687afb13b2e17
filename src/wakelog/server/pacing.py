"""Live pacing: how often a busy server asks each live run's uploader to send.

Much of a live request's cost to the server is per key, not per row (a summary, a staged row, a
tail lookup for each key): a batch of more rows costs less per row, and a busy server holds more
live runs by asking each for fewer, larger batches (rows per server core went 2.7× from 1 s to 5 s
apart: docs/benchmarks.md). An uploader sends a live run's batches at most once per ``SEND_INTERVAL`` (1 s);
an ingest answer with ``"interval"`` asks for that many seconds instead, until an answer without
it (``transport/uploader.py``). A run's exit record still goes at once.

The interval follows the load: the CPU this process used over the last ``window`` seconds (a
process serves at most about one core: its Python holds the GIL), the share of the machine's
CPU that was busy (PostgreSQL's backends, other workers), or, on SQLite, the share of the window
this process's writes waited for or held the write lock (several ``--workers`` queue on it while
their CPU stays low), whichever is highest. The machine is what
the process may run on: its container's CPU quota, read from its cgroup (the host's ``/proc/stat``
counts cores the container may not use), else the CPUs its affinity allows. Below ``target``
the uploaders keep their own interval; above it the interval grows in proportion, as the requests
a run sends fall with it (by at most a quarter a window; doubled while the load is at saturation,
where it cannot tell how far over it is), up to ``max_interval``: the operator's
bound on how old a live chart's newest point may be (the default, 1.5 s, keeps a point's way to
the server within 2 s). Each uploader waits a random 80-100 % of what it is asked, so that runs
told at once do not go on sending at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import psutil

from wakelog._cgroup import Cgroups

#: The uploader's own interval (``transport.uploader.SEND_INTERVAL``): never asked for less.
BASE_INTERVAL = 1.0
#: The load above which runs are asked to send less often: a process's share of a core, or the
#: machine's busy share (docs/deploy.md: add replicas or workers above ~70 %).
TARGET_LOAD = 0.7
#: Seconds the load is measured over; the interval changes at most this often.
WINDOW = 2.0
#: The most the interval changes in one window, up or down: every run hears the new interval
#: within a second or so, and a larger step swung the load from idle to saturated and back.
MAX_STEP = 1.25
#: A load at or above this is a saturated process (its Python at a whole core), machine or write
#: lock: how far beyond it the runs' demand goes cannot be read there, so the interval grows by
#: ``SATURATED_STEP`` a window until the load is below, and shortens again by ``MAX_STEP`` at most.
#: A server restarted under 1,000 live runs of 50 keys, asked for 1,000 requests/s by uploaders
#: back at their own 1 s, reaches a 5 s bound in three windows instead of eight.
SATURATED = 0.95
SATURATED_STEP = 2.0


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy, summed over its cores."""
    return _busy(psutil.cpu_times())


def _busy(times: Any) -> float:
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def shared_cpu(cgroups: Cgroups | None = None) -> tuple[Callable[[], float], float]:
    """The CPU this process shares with the rest of its machine, as (a reader of its busy CPU
    seconds so far, its cores): its cgroup's when that has a CPU quota (a container's limit), else
    the CPUs this process's affinity allows (all of the machine's unless pinned)."""
    cgroups = cgroups or Cgroups()
    quota = cgroups.cpu_quota()
    if quota is not None and cgroups.cpu_used(quota) is not None:
        return lambda: cgroups.cpu_used(quota) or 0.0, quota.cores
    every = psutil.cpu_count() or 1
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not allowed or len(allowed) >= every:
        return machine_busy, every

    def allowed_busy() -> float:
        per_cpu = psutil.cpu_times(percpu=True)
        return sum(_busy(per_cpu[cpu]) for cpu in allowed if cpu < len(per_cpu))

    return allowed_busy, len(allowed)


class Pacing:
    """The send interval to ask live runs for, from this process's and the machine's load. Asked
    on the event loop only (the ingest route), so it keeps no lock."""

    def __init__(
        self,
        max_interval: float,
        *,
        target: float = TARGET_LOAD,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
        process_cpu: Callable[[], float] = time.process_time,
        machine_cpu: Callable[[], float] | None = None,
        cores: float | None = None,
        writer_busy: Callable[[], float] | None = None,
    ) -> None:
        if max_interval < BASE_INTERVAL:
            raise ValueError(f"the longest send interval is {BASE_INTERVAL:g} s or more: {max_interval:g}")
        self.max_interval, self.target, self.window = max_interval, target, window
        if machine_cpu is None:
            machine_cpu, shared = shared_cpu()
            cores = cores or shared
        self._clock, self._process_cpu, self._machine_cpu = clock, process_cpu, machine_cpu
        self._writer_busy = writer_busy or (lambda: 0.0)  # seconds the store's one writer was busy
        self._cores = cores or psutil.cpu_count() or 1
        self._process_cores = min(1.0, self._cores)  # under a quota below a core, all it may use
        self._interval = BASE_INTERVAL
        self._since = self._readings()  # (clock, process CPU, machine CPU, writer) when the window began

    def interval(self) -> float | None:
        """The seconds to ask a live run to wait between batches; None: the uploader's own."""
        if self.max_interval > BASE_INTERVAL and self._clock() - self._since[0] >= self.window:
            self._measure()
        return self._interval if self._interval > BASE_INTERVAL else None

    def _readings(self) -> tuple[float, float, float, float]:
        return self._clock(), self._process_cpu(), self._machine_cpu(), self._writer_busy()

    def _measure(self) -> None:
        then, process_then, machine_then, writer_then = self._since
        now, process, machine, writer = self._since = self._readings()
        shares = (
            (process - process_then) / self._process_cores,
            (machine - machine_then) / self._cores,
            writer - writer_then,
        )
        load = max(shares) / (now - then)
        # A run's requests fall as its interval grows: towards the interval that brings the load
        # to target, a step at a time.
        step = SATURATED_STEP if load >= SATURATED else min(MAX_STEP, max(1 / MAX_STEP, load / self.target))
        self._interval = min(self.max_interval, max(BASE_INTERVAL, self._interval * step))
