"""kill -9 at random points of a live stream, of the server and of the uploader: every point once.

The kill points are random sequence numbers the server must have acknowledged first (so each kill
lands at a different place in the stream) plus a random few milliseconds (so it lands inside a
request as often as between two). The restarted side picks up from the server's ack; nothing is
lost, nothing is stored twice (``assert_exactly_once``).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.conftest import (
    ENTITY,
    PROJECT,
    assert_exactly_once,
    end,
    end_uploaders,
    online_env,
    start_training,
)
from tests.harness import InProcessServer, wait_until
from tests.server.conftest import ServerProcess, db_upgrade, fresh_database, start_server
from wakelog.runlog import find_runlog, read_runlog
from wakelog.runlog.syncstate import SyncState
from wakelog.sdk._local_runs import run_dirs

#: Each test's hard bound (its waits have deadlines well inside it): the chaos suite stays bounded in CI.
pytestmark = pytest.mark.timeout(180)


#: How long a kill may wait for its point in the stream, and a restarted side for the rest.
DEADLINE = 90.0


def jitter(chaos: random.Random) -> None:
    """A random pause of up to 30 ms before a kill: where in a request it lands (not a wait)."""
    time.sleep(chaos.uniform(0, 0.03))


def kill_points(chaos: random.Random, count: int, first: int, last: int) -> list[int]:
    """``count`` distinct sequence numbers in [first, last], in stream order."""
    return sorted(chaos.sample(range(first, last), count))


def the_run_dir(root: Path) -> Path:
    return wait_until(lambda: run_dirs(root) and run_dirs(root)[0], 60, what="the run folder")


def acked(run_dir: Path) -> int:
    return SyncState.load(run_dir).acked_seq


@pytest.fixture(params=["sqlite", "postgres"])
def killable_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A ``wakelog server`` process on each backend, stopped at the end whatever happened."""
    if request.param == "postgres":
        url = fresh_database(request.getfixturevalue("postgres_url"))
        db_upgrade(url)
        server = start_server(tmp_path, backend="postgres", database_url=url)
    else:
        server = start_server(tmp_path)
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


STREAM = """
import time
run = wakelog.init()
for i in range({steps}):
    run.log({{"x": float(i), "y": -2.0 * i}})
    if i % 100 == 99:
        time.sleep(0.05)  # about 2,000 steps a second: a live stream of small batches
run.finish()
print(run.id, flush=True)
"""
VALUES = {"x": float, "y": lambda step: -2.0 * step}


@pytest.mark.process
def test_server_killed_at_random_points_of_a_live_stream_gets_every_point_once(
    tmp_path: Path, killable_server: ServerProcess, chaos: random.Random
) -> None:
    steps = 4000
    work = tmp_path / "train"
    work.mkdir()
    env = online_env(killable_server, WAKELOG_FINISH_TIMEOUT=str(DEADLINE))
    proc = start_training(work, STREAM.format(steps=steps), env)
    try:
        run_dir = the_run_dir(work)
        for point in kill_points(chaos, 2, 1, steps - 500):  # each restart costs seconds: two
            wait_until(lambda p=point: acked(run_dir) >= p, DEADLINE, what=f"the server to ack seq {point}")
            jitter(chaos)
            killable_server.stop(signal.SIGKILL)
            killable_server.start()
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        end(proc)
        end_uploaders(work)
    assert proc.returncode == 0, err
    state = SyncState.load(run_dir)
    last = read_runlog(find_runlog(run_dir)).records[-1].seq
    assert state.complete and state.acked_seq == last, (state.error, err, killable_server.log.read_text())
    assert_exactly_once(killable_server, out.split()[-1], VALUES, steps)


def sync_command(run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "wakelog", "sync", str(run_dir)]


@pytest.mark.process
def test_uploader_killed_at_random_points_then_sync_killed_too_gets_every_point_once(
    tmp_path: Path, chaos: random.Random
) -> None:
    steps = 50_000  # three of the uploader's largest batches: a sync has points to be killed at
    work = tmp_path / "train"
    work.mkdir()
    with InProcessServer(tmp_path / "server") as server:
        env = online_env(server, WAKELOG_FINISH_TIMEOUT="5")
        proc = start_training(work, BURSTS.format(steps=steps), env)
        try:
            run_dir = the_run_dir(work)
            point = kill_points(chaos, 1, 1, steps // 3)[0]
            wait_until(lambda: acked(run_dir) >= point, DEADLINE, what=f"the uploader to reach seq {point}")
            jitter(chaos)
            uploader = SyncState.load(run_dir).pid
            assert uploader and uploader != proc.pid
            os.kill(uploader, signal.SIGKILL)
            out, err = proc.communicate(timeout=DEADLINE)
            assert proc.returncode == 0, err
            assert "wakelog sync" in err, "finish() says how to upload the rest"
            for point in kill_points(chaos, 2, acked(run_dir) + 1, steps):
                kill_sync_at(run_dir, point, env, chaos)
            done = subprocess.run(
                sync_command(run_dir), env=env, capture_output=True, text=True, timeout=DEADLINE, check=False
            )
            assert done.returncode == 0, done.stdout + done.stderr
        finally:
            end(proc)
            end_uploaders(work)
        run_id = out.split()[-1]
        assert SyncState.load(run_dir).complete
        assert_exactly_once(server, run_id, VALUES, steps)
        with server.client() as http:
            assert http.get(f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}").json()["state"] == "finished"


BURSTS = """
import time
run = wakelog.init()
for i in range({steps}):
    run.log({{"x": float(i), "y": -2.0 * i}})
    if i % 5000 == 4999:
        time.sleep(0.2)  # bursts: the live uploader sends while the training goes on
run.finish()
print(run.id, flush=True)
"""


def kill_sync_at(run_dir: Path, point: int, env: dict[str, str], chaos: random.Random) -> None:
    """Start ``wakelog sync``, kill -9 it once the server acked ``point`` (or let it end first)."""
    sync = subprocess.Popen(
        sync_command(run_dir), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(
            lambda: acked(run_dir) >= point or sync.poll() is not None,
            DEADLINE,
            what=f"sync to reach {point}",
        )
        jitter(chaos)
        sync.kill()
    finally:
        end(sync)
