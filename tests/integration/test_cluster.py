"""The loopback cluster of ``scripts/cluster.sh`` driven by real trainings: nginx in front of three
``wakelog server`` replicas on PgBouncer (session mode) → PostgreSQL and moto's S3.

Every training is a real SDK process with its real uploader, sending through the proxy (or, for
the live-events test, to one replica). The checks are exact: every step of every run is read back
once through the API (``assert_exactly_once``) after a replica was SIGKILLed mid-stream or each
replica was restarted in turn. Which replica served a request is in nginx's access log.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psutil
import pytest

from tests._env import child_env
from tests.chaos.conftest import (
    ENTITY,
    PROJECT,
    assert_exactly_once,
    end,
    end_uploaders,
    online_env,
    start_training,
)
from tests.harness import wait_until
from tests.server.conftest import query
from tests.server.test_replicas import sse_events
from wakelog.runlog.syncstate import SyncState
from wakelog.sdk._local_runs import run_dirs

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "cluster.sh"

#: Each test's hard bound; its waits have deadlines well inside it.
pytestmark = [pytest.mark.process, pytest.mark.timeout(240)]

#: How long a wait for the stream to get somewhere may take on a busy 2-core machine.
DEADLINE = 60.0


@dataclass
class Cluster:
    """A running ``cluster.sh up``: what ``tests.chaos`` helpers read from a server (``url``,
    ``key``, ``database_url``, ``client()``), plus the replicas and the proxy's access log."""

    state: Path
    settings: dict[str, str]

    @property
    def url(self) -> str:
        return self.settings["PROXY_URL"]

    @property
    def key(self) -> str:
        return (self.state / "admin.key").read_text().strip()

    @property
    def database_url(self) -> str:  # straight to PostgreSQL: the tests' own reads
        return f"postgresql://postgres@127.0.0.1:{self.settings['PG_PORT']}/wakelog"

    @property
    def replica_ports(self) -> list[str]:
        return self.settings["REPLICA_PORTS"].split()

    def replica_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.replica_ports[n - 1]}"

    def client(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=("api", key or self.key), timeout=30)

    def script(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            ["bash", str(SCRIPT), *args, str(self.state)],
            env=script_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"cluster.sh {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def pid(self, name: str) -> int:
        return int((self.state / "pids" / f"{name}.pid").read_text())

    def groups(self) -> list[int]:
        """The process groups of everything the script started (one per service)."""
        return [int(p.read_text()) for p in (self.state / "pids").glob("*.pid")]

    def served(self, run_ids: list[str]) -> Counter[str]:
        """Record batches of these runs answered 200, per replica port (the last one nginx tried)."""
        pattern = re.compile(r'"POST /api/v1/runs/[^/]+/[^/]+/([^/]+)/records[^"]*" 200 (\S+(?:, \S+)*)')
        counts: Counter[str] = Counter()
        for line in (self.state / "logs" / "nginx-access.log").read_text().splitlines():
            match = pattern.search(line)
            if match and match.group(1) in run_ids:
                counts[match.group(2).split(", ")[-1].rsplit(":", 1)[1]] += 1
        return counts


def script_env() -> dict[str, str]:
    return child_env(WAKELOG_CLUSTER_PYTHON=sys.executable, WAKELOG_CLUSTER_SERVER_ARGS="--min-free 0")


def alive(pgid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # Under /tmp, not pytest's tmp (0700 parents): PostgreSQL runs as its own user when we are root.
    state = Path(tempfile.mkdtemp(prefix="wlcluster-"))
    cluster = Cluster(state, {})
    try:
        cluster.script("up")
        env = (state / "cluster.env").read_text()
        cluster.settings = {k: shlex.split(v)[0] if v else "" for k, v in re.findall(r"(\w+)=(.*)", env)}
        yield cluster
    finally:
        groups = cluster.groups() if (state / "pids").is_dir() else []
        try:
            cluster.script("down")
        finally:
            left = [proc for pgid in groups for proc in alive(pgid)]
            for proc in left:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
            shutil.rmtree(state, ignore_errors=True)
        assert not left, f"cluster.sh down left processes running: {left}"


# A training that logs live (about 1,000 steps a second, in small batches) until the test drops a
# `stop` file in its folder, then finishes and prints its run id and step count.
LIVE = """
import os, time
run = wakelog.init()
i = 0
while i < {min_steps} or not os.path.exists("stop"):
    run.log({{"x": float(i), "y": -2.0 * i}})
    i += 1
    if i % 20 == 0:
        time.sleep(0.02)
run.finish()
print(run.id, i, flush=True)
"""
VALUES = {"x": float, "y": lambda step: -2.0 * step}


@dataclass
class Training:
    proc: subprocess.Popen[str]
    work: Path

    def run_dir(self) -> Path:
        return wait_until(
            lambda: run_dirs(self.work) and run_dirs(self.work)[0], DEADLINE, what="a run folder"
        )

    def acked(self) -> int:
        return SyncState.load(self.run_dir()).acked_seq

    def run_id(self) -> str:
        return SyncState.load(self.run_dir()).run_path.rsplit("/", 1)[1]

    def finish(self) -> tuple[str, int]:
        (self.work / "stop").touch()
        out, err = self.proc.communicate(timeout=DEADLINE)
        assert self.proc.returncode == 0, err
        run_id, steps = out.split()[-2:]
        return run_id, int(steps)


@pytest.fixture
def trainings(tmp_path: Path) -> Iterator[list[Training]]:
    """Started with ``start``; whatever happens, none (nor its uploader) outlives the test."""
    started: list[Training] = []
    yield started
    for training in started:
        end(training.proc)
        end_uploaders(training.work)


def start(
    trainings: list[Training], root: Path, url: str, key: str, min_steps: int = 300, **env: str
) -> Training:
    work = root / f"train-{len(trainings)}"
    work.mkdir()
    target = SimpleNamespace(url=url, key=key)  # online_env reads a server's url and key
    environment = online_env(target, WAKELOG_FINISH_TIMEOUT=str(DEADLINE), **env)  # type: ignore[arg-type]
    training = Training(start_training(work, LIVE.format(min_steps=min_steps), environment), work)
    trainings.append(training)
    return training


def wait_acked_past(training: Training, seq: int, what: str) -> None:
    wait_until(lambda: training.acked() > seq, DEADLINE, interval=0.05, what=what)


def test_live_runs_through_the_proxy_are_spread_over_the_replicas(
    cluster: Cluster, trainings: list[Training], tmp_path: Path
) -> None:
    for _ in range(3):
        start(trainings, tmp_path, cluster.url, cluster.key, min_steps=600)
    for training in trainings:
        wait_acked_past(training, 300, "the stream to pass seq 300")
    # The runs stream on until their batches have reached every replica: each sends about one a
    # second, and nginx's two workers each keep their own round robin, so a handful of batches
    # may miss a replica by chance.
    run_ids = [training.run_id() for training in trainings]
    wait_until(
        lambda: set(cluster.served(run_ids)) == set(cluster.replica_ports),
        DEADLINE,
        interval=0.2,
        what="record batches on every replica",
    )
    done = [training.finish() for training in trainings]
    for run_id, steps in done:
        assert_exactly_once(cluster, run_id, VALUES, steps)
    served = cluster.served([run_id for run_id, _ in done])
    assert set(served) == set(cluster.replica_ports), f"batches per replica: {served}"


def test_a_replica_killed_mid_stream_loses_nothing(
    cluster: Cluster, trainings: list[Training], tmp_path: Path
) -> None:
    streams = [start(trainings, tmp_path, cluster.url, cluster.key) for _ in range(2)]
    for training in streams:
        wait_acked_past(training, 200, "the stream to pass seq 200")
    victim = cluster.pid("replica-2")
    os.killpg(victim, signal.SIGKILL)
    wait_until(lambda: not alive(victim), 10, what="replica 2 to be gone")
    # The uploaders go on through the proxy (a batch in flight at the kill is resent).
    for training in streams:
        wait_acked_past(training, training.acked() + 200, "the stream to go on without replica 2")
    cluster.script("restart-replica", "2")
    for training in streams:
        wait_acked_past(training, training.acked() + 100, "the stream to go on")
    for training in streams:
        run_id, steps = training.finish()
        assert_exactly_once(cluster, run_id, VALUES, steps)


def test_live_events_reach_a_client_of_another_replica(
    cluster: Cluster, trainings: list[Training], tmp_path: Path
) -> None:
    """A browserless client of replica 1 sees the run a training sends to replica 3; so does one
    connected through nginx (which must pass the stream on unbuffered)."""
    run_id = f"sse{uuid.uuid4().hex[:8]}"
    path = f"/api/v1/projects/{ENTITY}/{PROJECT}/events"
    with contextlib.ExitStack() as stack:
        streams = {}
        for where, url in (("replica 1", cluster.replica_url(1)), ("the proxy", cluster.url)):
            client = stack.enter_context(httpx.Client(base_url=url, auth=("api", cluster.key)))
            stream = stack.enter_context(client.stream("GET", path, timeout=httpx.Timeout(30, read=20)))
            assert stream.status_code == 200, where
            streams[where] = sse_events(stream)
            assert next(streams[where])[0] == "ready", where
        training = start(trainings, tmp_path, cluster.replica_url(3), cluster.key, WAKELOG_RUN_ID=run_id)
        deadline = time.monotonic() + DEADLINE
        for where, events in streams.items():
            seen: dict[str, dict[str, Any]] = {}
            for name, data in events:
                if data.get("run_id") == run_id:
                    seen.setdefault(name, data)
                if {"run_created", "points"} <= set(seen) or time.monotonic() > deadline:
                    break
            assert seen.get("run_created") == {"run_id": run_id}, f"{where}: {seen}"
            assert set(seen["points"]["keys"]) >= {"x", "y"} and seen["points"]["points"] > 0, where
    assert training.finish()[0] == run_id


def test_a_rolling_restart_loses_nothing(cluster: Cluster, trainings: list[Training], tmp_path: Path) -> None:
    streams = [start(trainings, tmp_path, cluster.url, cluster.key) for _ in range(3)]
    for training in streams:
        wait_acked_past(training, 100, "the stream to start")
    for n in (1, 2, 3):
        cluster.script("restart-replica", str(n))
        for training in streams:
            wait_acked_past(training, training.acked() + 50, f"the streams to go on after replica {n}")
    for training in streams:
        run_id, steps = training.finish()
        assert_exactly_once(cluster, run_id, VALUES, steps)


def test_the_init_script_run_again_changes_nothing(cluster: Cluster) -> None:
    """deploy/init-db.sh, which compose's `init` and the chart's Job run before every upgrade: the
    schema is current, the admin is there, so a second run keeps the admin and its password."""
    users = "SELECT username, is_admin FROM users ORDER BY id"
    before = [tuple(row) for row in query(cluster, users)]
    done = subprocess.run(
        ["sh", str(SCRIPT.parents[1] / "deploy" / "init-db.sh"), cluster.settings["DATABASE_URL"]],
        env=child_env(
            WAKELOG_COMMAND=f"{sys.executable} -m wakelog", WAKELOG_ADMIN_PASSWORD="not-this-one-9"
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [tuple(row) for row in query(cluster, users)] == before == [("admin", True)]
    password = re.search(r"password: (\S+)", (cluster.state / "admin-credentials.txt").read_text())
    assert password
    with httpx.Client(base_url=cluster.url) as browser:
        signed_in = browser.post("/api/v1/auth/login", json={"username": "admin", "password": password[1]})
    assert signed_in.status_code == 200, signed_in.text
