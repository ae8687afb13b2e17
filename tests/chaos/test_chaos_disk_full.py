"""Disk full on both sides, on real small tmpfs mounts (skipped where mounting is not permitted).

The training's side: its run folder fills up mid-run; the training goes on, nothing is raised, the
uploader goes on from the spill log, so every point reaches the server once and the run is shown
finished without the user's help, and ``finish()`` says in one message what is where (ISSUE10 M4).
The server's side: its data folder fills up mid-stream; ingest answers 507 (never a 500), sign-in
and reads keep working, nothing it acknowledged is lost, and once space is freed the stream goes on
(M8, L2).
"""

from __future__ import annotations

import os
import random
import re
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests._disk import tmpfs
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
from tests.server.conftest import ServerProcess, free_port, pack, post_records
from wakelog.runlog import find_runlog, read_runlog
from wakelog.sdk._local_runs import run_dirs

#: Each test's hard bound (its waits have deadlines well inside it): the chaos suite stays bounded in CI.
pytestmark = pytest.mark.timeout(180)


STEPS = 60_000  # about 4 MB of run log: far more than the training's 1 MiB disk holds
VALUES = {"x": float, "y": lambda step: -2.0 * step}


TRAINING = """
run = wakelog.init(dir={disk!r})
for i in range({steps}):
    run.log({{"x": float(i), "y": -2.0 * i}})
run.finish()
print(run.id, flush=True)
"""


@pytest.mark.process
def test_a_training_whose_disk_fills_goes_on_and_every_point_reaches_the_server_without_help(
    tmp_path: Path,
) -> None:
    spill_root = tmp_path / "tmp"  # the training's temp folder: where the fallback folder goes
    spill_root.mkdir()
    work = tmp_path / "train"
    work.mkdir()
    with InProcessServer(tmp_path / "server") as server, tmpfs(tmp_path / "disk", "1m") as disk:
        env = online_env(
            server, TMPDIR=str(spill_root), WAKELOG_FINISH_TIMEOUT="90", WAKELOG_UPLOADER_LINGER="0"
        )
        proc = start_training(work, TRAINING.format(disk=str(disk), steps=STEPS), env)
        try:
            out, err = proc.communicate(timeout=150)
        finally:
            end(proc)
            end_uploaders(disk)
        assert proc.returncode == 0 and "Traceback" not in err, err
        (run_dir,) = run_dirs(disk)
        in_log = [r.seq for r in read_runlog(find_runlog(run_dir)).records]
        assert 0 < len(in_log) < STEPS, "the disk was full before the end of the run"
        (summary,) = [line for line in err.splitlines() if "is incomplete" in line]
        assert f"{len(in_log):,} records are in it" in summary, "finish() says how many the run log holds"
        assert re.search(r"\d+ \(seq \d+-\d+\) did not fit and are in \S+wakelog-fallback", summary)
        assert "the server has every record that was written; the run is finished there" in summary
        assert "not on the server" not in err and "wakelog sync" not in err, "one accurate message"
        run_id = out.split()[-1]
        # No `wakelog sync`: the uploader went on from the spill log by itself.
        assert_exactly_once(server, run_id, VALUES, STEPS)
        with server.client() as http:
            assert http.get(f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}").json()["state"] == "finished"


# -- the server's side ------------------------------------------------------------------------------

ROWS = 1000  # rows of 5 random floats per batch: about 50 kB that no compression saves


#: The free space the server keeps for sign-in and accepted data (``--min-free``): small here, so
#: the disk under test stays small too. With 8 MiB the writer checkpoints SQLite's log itself, as
#: SQLite does by default; with 64 MiB a thread does, and the log may hold 16 MB
#: (``store/checkpoints.py``).
RESERVES = [8 * 2**20, 64 * 2**20]


def fill(where: Path, leave: int) -> Path:
    """A file that takes all the free space on ``where``'s disk but ``leave`` bytes."""
    filler = where / "filler"
    stat = os.statvfs(where)
    size = max(stat.f_bavail * stat.f_frsize - leave, 0)
    with open(filler, "wb") as out:
        block = b"\xff" * 2**20
        while size > 0:
            size -= out.write(block[: min(size, len(block))])
    return filler


class Stream:
    """One run's records, posted batch by batch; remembers the values the server acknowledged."""

    def __init__(self, server: ServerProcess, chaos: random.Random) -> None:
        self.http = server.client()
        self.chaos = chaos
        self.path = f"{ENTITY}/{PROJECT}/full"
        self.steps = 0
        self.values: dict[int, dict[str, float]] = {}
        self.statuses: list[int] = []

    def batch(self) -> list[list[object]]:
        first = self.steps
        rows = {step: {k: self.chaos.random() for k in "abcde"} for step in range(first, first + ROWS)}
        self.values.update(rows)
        records = [[1 + step, "history", 1.0, {"_step": step, **rows[step]}] for step in rows]
        return ([[0, "run", 1.0, {"name": "full"}]] if first == 0 else []) + records

    def send(self) -> int:
        """Post the next batch (or resend the refused one); the answer's status."""
        try:
            response = post_records(self.http, self.path, pack(self.batch()))
            status = response.status_code
        except httpx.TransportError:  # a server that died or dropped the connection
            status = 0
        self.statuses.append(status)
        if status == 200:
            self.steps += ROWS
            assert response.json()["ack"] == self.steps, "a 200 acknowledges the whole batch"
        else:
            for step in range(self.steps, self.steps + ROWS):
                del self.values[step]
        return status

    def expected(self) -> dict[str, Callable[[int], float]]:
        """What ``assert_exactly_once`` checks: each key's value at each acknowledged step."""
        return {key: lambda step, key=key: self.values[step][key] for key in "abcde"}

    def close(self) -> None:
        self.http.close()


@pytest.mark.process
@pytest.mark.parametrize("reserve", RESERVES, ids=["writer-checkpoints", "thread-checkpoints"])
def test_a_server_whose_disk_fills_answers_507_keeps_what_it_acknowledged_and_goes_on_when_freed(
    tmp_path: Path, chaos: random.Random, reserve: int
) -> None:
    room = reserve + 48 * 2**20  # the reserve, and enough to take a few batches above it
    with tmpfs(tmp_path / "disk", f"{room // 2**20}m") as disk:
        port = free_port()
        server = ServerProcess(  # its log stays off the disk
            f"http://127.0.0.1:{port}", disk, port, ["--min-free", str(reserve)]
        )
        server.start()
        stream = Stream(server, chaos)
        try:
            password = re.search(r"password: (\S+)", (disk / "admin-credentials.txt").read_text())
            assert password
            assert [stream.send() for _ in range(3)] == [200] * 3
            filler = fill(disk, leave=2 * 2**20)
            first_refusal = next((n for n in range(300) if stream.send() != 200), None)
            assert first_refusal is not None, "the disk filled up, yet every batch was taken"
            refused = [stream.send() for _ in range(3)]
            assert set(stream.statuses) == {200, 507}, f"answers: {stream.statuses}"
            assert refused == [507] * 3, "a full disk stays refused, the same way"
            with httpx.Client(base_url=server.url, timeout=30) as browser:
                signed_in = browser.post(
                    "/api/v1/auth/login", json={"username": "admin", "password": password.group(1)}
                )
                assert signed_in.status_code == 200, signed_in.text
            assert_exactly_once(server, "full", stream.expected(), stream.steps)
            filler.unlink()
            wait_until(lambda: stream.send() == 200, 30, interval=0.5, what="ingest after space was freed")
            assert [stream.send() for _ in range(3)] == [200] * 3
            assert set(stream.statuses) == {200, 507}, f"answers: {stream.statuses}"
            assert_exactly_once(server, "full", stream.expected(), stream.steps)
        finally:
            stream.close()
            server.stop(signal.SIGKILL)
