"""Live pacing: a busy server asks live runs for fewer, larger batches, and stops asking when idle.

The load is simulated: a server whose live runs would need ``demand`` cores at the uploaders' own
1 s interval uses ``demand / interval`` cores at a longer one (a live request costs about the same
whatever rows it carries), all in the ``FakeClock``'s time.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.harness import FakeClock, InProcessServer
from tests.server.conftest import post_records
from wakelog._cgroup import Cgroups
from wakelog.server.pacing import BASE_INTERVAL, TARGET_LOAD, WINDOW, Pacing, shared_cpu


class Load:
    """CPU seconds used so far by a process serving live runs that need ``demand`` cores at 1 s,
    whose uploaders send at ``interval`` (what the last answer asked for)."""

    def __init__(self, clock: FakeClock, demand: float, cores: int = 2) -> None:
        self.clock, self.demand, self.cores = clock, demand, cores
        self.used, self.machine_used, self._at = 0.0, 0.0, clock()
        self.interval = BASE_INTERVAL
        self.machine_demand = 0.0  # cores the rest of the machine keeps busy
        self.reads = 0

    def process(self) -> float:
        self._advance()
        self.reads += 1
        return self.used

    def machine(self) -> float:
        self._advance()
        return self.machine_used

    def _advance(self) -> None:
        elapsed, self._at = self.clock() - self._at, self.clock()
        cores = min(1.0, self.demand / self.interval)  # one process: its Python holds the GIL
        self.used += cores * elapsed
        self.machine_used += (cores + self.machine_demand) * elapsed


def paced(clock: FakeClock, load: Load, max_interval: float = 3.0) -> Pacing:
    return Pacing(
        max_interval, clock=clock, process_cpu=load.process, machine_cpu=load.machine, cores=load.cores
    )


def asked_over(clock: FakeClock, pacing: Pacing, load: Load, seconds: float) -> list[float | None]:
    """What the server asks for at each 0.1 s of ``seconds`` (each live request's answer); the
    runs' uploaders do as asked."""
    asked = []
    for _ in range(round(seconds * 10)):
        clock.sleep(0.1)
        asked.append(pacing.interval())
        load.interval = asked[-1] or BASE_INTERVAL
    return asked


def test_an_idle_server_asks_for_nothing() -> None:
    clock = FakeClock()
    load = Load(clock, demand=0.3)
    assert set(asked_over(clock, paced(clock, load), load, 60)) == {None}


def test_a_busy_server_asks_for_the_interval_that_brings_its_load_to_the_target() -> None:
    clock = FakeClock()
    load = Load(clock, demand=1.4)  # 1.4 cores of work at 1 s: more than the process has
    pacing = paced(clock, load)
    asked = asked_over(clock, pacing, load, 60)
    assert asked[0] is None  # nothing measured yet
    settled = asked[-100:]  # the last 10 s
    wanted = 1.4 / TARGET_LOAD  # 2 s: the process then at 0.7 of a core
    assert all(value is not None and abs(value - wanted) < 0.05 * wanted for value in settled), settled
    assert load.reads <= 60 / WINDOW + 2, "the load is measured once a window, not per request"


def test_a_saturated_server_doubles_the_interval_each_window_then_settles_without_swinging() -> None:
    """A server restarted under many live runs: their uploaders, back at their own 1 s, ask it for
    several times what it can do, and a saturated load cannot say how many times."""
    clock = FakeClock()
    load = Load(clock, demand=5.0)  # five processes' worth of work at 1 s
    asked = asked_over(clock, paced(clock, load, max_interval=5.0), load, 30)
    assert asked.index(5.0) / 10 <= 3 * WINDOW + 0.1  # 2, 4, 5 s (a quarter a window: 8 windows)
    clock = FakeClock()
    load = Load(clock, demand=2.3)
    asked = asked_over(clock, paced(clock, load, max_interval=5.0), load, 60)
    wanted = 2.3 / TARGET_LOAD
    assert all(value is not None and abs(value - wanted) < 0.05 * wanted for value in asked[-100:])
    assert max(value or 0 for value in asked) < 1.25 * wanted  # overshot by a step, not swinging


def test_the_interval_stays_within_the_operators_bound() -> None:
    clock = FakeClock()
    load = Load(clock, demand=5.0)
    asked = asked_over(clock, paced(clock, load, max_interval=3.0), load, 60)
    assert max(value or 0 for value in asked) == 3.0
    assert asked[-1] == 3.0


def test_the_machine_being_busy_paces_too() -> None:
    """PostgreSQL's backends on the same two cores: this process idle, the machine not."""
    clock = FakeClock()
    load = Load(clock, demand=0.2, cores=2)
    load.machine_demand = 1.6  # the machine at 0.9 of its two cores
    asked = asked_over(clock, paced(clock, load), load, 20)
    assert asked[-1] is not None and asked[-1] > BASE_INTERVAL


def test_a_writer_that_is_never_free_paces_whatever_the_cpu_says() -> None:
    """Two ``--workers`` on SQLite: each process at half a core, the machine half idle, and yet
    their writes queue on SQLite's one write lock the whole time (and then less once paced)."""
    clock = FakeClock()
    load = Load(clock, demand=0.5, cores=2)
    busy = {"seconds": 0.0, "at": clock()}

    def writer() -> float:  # the lock busy all the time at 1 s, less as the runs send less often
        busy["seconds"] += min(1.0, 1.2 / load.interval) * (clock() - busy["at"])
        busy["at"] = clock()
        return busy["seconds"]

    pacing = Pacing(
        3.0, clock=clock, process_cpu=load.process, machine_cpu=load.machine, cores=2, writer_busy=writer
    )
    asked = asked_over(clock, pacing, load, 40)
    assert asked[-1] is not None and asked[-1] > BASE_INTERVAL
    assert set(asked_over(clock, paced(clock, load), load, 40)) == {None}  # the CPU alone: never


def test_a_database_counts_the_time_its_writes_wait_for_or_hold_the_lock(tmp_path: Path) -> None:
    """Overlapping writes count once (the lock was busy, not twice as busy)."""
    from wakelog.store.database import Database, Occupancy

    clock = FakeClock()
    occupancy = Occupancy(clock)
    with occupancy:
        clock.sleep(1.0)
        with occupancy:  # a second thread waiting meanwhile
            clock.sleep(0.5)
        assert occupancy.seconds() == 1.5
    clock.sleep(5.0)  # free
    assert occupancy.seconds() == 1.5
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        assert db.writing is not None
        before = db.writing.seconds()
        with db.write() as conn:
            conn.exec_driver_sql("SELECT 1")
        assert db.writing.seconds() > before
    finally:
        db.dispose()


def test_when_the_load_goes_the_runs_are_asked_for_nothing_again() -> None:
    clock = FakeClock()
    load = Load(clock, demand=5.0)
    pacing = paced(clock, load)
    assert asked_over(clock, pacing, load, 30)[-1] == 3.0
    load.demand = 0.2  # the runs ended
    assert asked_over(clock, pacing, load, 30)[-50:] == [None] * 50


def test_pacing_off_never_asks_and_a_bound_below_the_uploaders_own_is_refused() -> None:
    clock = FakeClock()
    load = Load(clock, demand=5.0)
    assert set(asked_over(clock, paced(clock, load, max_interval=1.0), load, 30)) == {None}
    with pytest.raises(ValueError, match="1 s or more: 0.5"):
        Pacing(0.5)


def test_the_ingest_answer_carries_the_interval_while_the_server_is_busy(tmp_path: Path) -> None:
    clock = FakeClock()
    load = Load(clock, demand=0.2)
    with InProcessServer(tmp_path / "data") as server, server.client() as client:
        server.app.state.pacing = paced(clock, load)
        run = "admin/paced/r1"
        rows = [[seq, "history", 0.0, {"loss": 1.0, "_step": seq}] for seq in range(20)]
        assert "interval" not in post_records(client, run, rows[:5]).json()
        load.demand = 1.4
        clock.sleep(2 * WINDOW)  # the busy window measured at the next answer
        clock.sleep(2 * WINDOW)
        answer = post_records(client, run, rows[5:10]).json()
        assert answer["ack"] == 9 and 1.0 < answer["interval"] <= 3.0, answer
        load.demand = 0.1
        for _ in range(5):
            clock.sleep(WINDOW)
            post_records(client, run, []).json()
        assert "interval" not in post_records(client, run, rows[10:]).json()


def test_a_container_is_paced_by_its_cpu_quota_not_the_hosts_cores(tmp_path: Path) -> None:
    """A container limited to half a core on a many-core host: its cgroup's CPU, not the host's."""
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cpu.max").write_text("50000 100000\n")
    (tmp_path / "membership").write_text("0::/system.slice/docker-abc.scope\n")
    cgroups = Cgroups(root=root, membership=tmp_path / "membership")
    used = {"usec": 0}

    def spend(seconds: float) -> None:  # the container's processes at 0.4 of a core
        used["usec"] += round(seconds * 0.4e6)
        (root / "cpu.stat").write_text(f"usage_usec {used['usec']}\nuser_usec 0\n")

    spend(0)
    busy, cores = shared_cpu(cgroups)
    assert cores == 0.5
    clock = FakeClock()
    pacing = Pacing(3.0, clock=clock, process_cpu=lambda: 0.0, machine_cpu=busy, cores=cores)
    for _ in range(10):
        clock.sleep(WINDOW)
        spend(WINDOW)
        asked = pacing.interval()
    assert asked is not None and asked > BASE_INTERVAL  # 0.8 of its quota: above the target


def test_a_process_under_a_quota_below_a_core_counts_its_share_of_the_quota() -> None:
    clock = FakeClock()
    used = {"cpu": 0.0}
    pacing = Pacing(3.0, clock=clock, process_cpu=lambda: used["cpu"], machine_cpu=lambda: 0.0, cores=0.5)
    for _ in range(10):
        clock.sleep(WINDOW)
        used["cpu"] += 0.4 * WINDOW  # 0.4 of a core: 0.8 of all it may use
        asked = pacing.interval()
    assert asked is not None and asked > BASE_INTERVAL


def test_without_a_quota_the_machine_is_the_cpus_this_process_may_run_on() -> None:
    busy, cores = shared_cpu(Cgroups(membership=Path("/nonexistent")))
    assert cores == len(os.sched_getaffinity(0))
    first = busy()
    assert 0 < first <= busy()
