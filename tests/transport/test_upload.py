"""Runs reach the server: live, after outages, after kill -9 of either side, and by `wakelog sync`.

The uploader's logic (retries, backoff, heartbeats, linger, refusals) runs in this process against the
real app, in simulated time (``tests.harness``). The tests marked ``process`` keep what only processes
show — DESIGN.md §5's promises: kill -9 of the training, a server down or restarted mid-run, the
training never failing because of the server — with real training subprocesses; their server is the
in-process app on loopback except where it must die and come back.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import wakelog
from tests._env import child_env
from tests.harness import FakeClock, InProcessServer, record_offline_run, upload, wait_until
from tests.server.conftest import ServerProcess, free_port, start_server
from wakelog.cli import main
from wakelog.runlog import find_runlog, read_runlog
from wakelog.runlog.syncstate import SyncState
from wakelog.sdk._local_runs import run_dirs


def online_env(server: ServerProcess | InProcessServer, **extra: str) -> dict[str, str]:
    return child_env(
        **{
            "WAKELOG_MODE": "online",
            "WAKELOG_BASE_URL": server.url,
            "WAKELOG_API_KEY": server.key,
            "WAKELOG_ENTITY": "team",
            "WAKELOG_PROJECT": "upload",
            **extra,
        }
    )


def run_script(tmp_path: Path, body: str, env: dict[str, str], *, wait: bool = True) -> subprocess.Popen:
    script = tmp_path / "train.py"
    script.write_text("import wakelog\n" + textwrap.dedent(body))
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    return proc


def last_seq(run_dir: Path) -> int:
    return read_runlog(find_runlog(run_dir)).records[-1].seq


def server_points(server: ServerProcess | InProcessServer, run_id: str, key: str) -> tuple[int, int]:
    """(points stored, distinct steps) for one key of one run, read from the server's database."""
    engine = sa.create_engine(f"sqlite:///{server.data_dir / 'wakelog.db'}")
    with engine.connect() as conn:
        total, steps = conn.execute(
            sa.text(
                "select coalesce(sum(c.count), 0), coalesce(max(c.last_step), -1) from series_chunks c "
                "join runs r on r.id = c.run_pk where r.run_id = :run and c.key = :key and c.stream = 0"
            ),
            {"run": run_id, "key": key},
        ).one()
    engine.dispose()
    return int(total), int(steps)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path / "server") as server:
        yield server


@pytest.mark.process  # the whole online path: training process, uploader process, finish() waiting
def test_online_run_arrives_whole_with_files_and_media(tmp_path: Path, live_server: InProcessServer) -> None:
    body = """
    import numpy as np
    run = wakelog.init(config={"lr": 0.1})
    for i in range(2000):
        run.log({"loss": 1 / (i + 1), "acc": i / 2000})
    run.log({"sample": wakelog.Image(np.zeros((8, 8, 3), dtype="uint8"))})
    open("model.txt", "w").write("weights")
    run.save("model.txt", policy="now")
    run.finish()
    print(run.url)
    """
    proc = run_script(tmp_path, body, online_env(live_server), wait=False)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    (run_dir,) = run_dirs(tmp_path)
    state = SyncState.load(run_dir)
    assert state.complete and state.acked_seq == last_seq(run_dir)
    assert out.strip() == f"{live_server.url}/team/upload/runs/{run_dir.name.rsplit('-', 1)[1]}"
    run_id = run_dir.name.rsplit("-", 1)[1]
    with live_server.client() as http:
        assert http.get(f"/api/v1/runs/team/upload/{run_id}/ack").json()["ack"] == state.acked_seq
        for name, (_size, _mtime, sha256) in state.files.items():
            assert http.get(f"/api/v1/runs/team/upload/{run_id}/blobs/{sha256}").json()["complete"], name
    assert "model.txt" in state.files and any(n.startswith("media/images/") for n in state.files)
    assert server_points(live_server, run_id, "loss") == (2000, 1999)


@pytest.mark.process
def test_kill_9_of_the_training_still_delivers_everything_on_disk(
    tmp_path: Path, live_server: InProcessServer
) -> None:
    body = """
    import time
    run = wakelog.init()
    i = 0
    while True:
        run.log({"i": i})
        i += 1
        if i == 3000:
            print("going", flush=True)
        time.sleep(0.0005)
    """
    proc = run_script(tmp_path, body, online_env(live_server), wait=False)
    assert proc.stdout.readline().strip() == "going"
    (run_dir,) = run_dirs(tmp_path)
    wait_until(lambda: SyncState.load(run_dir).acked_seq > 0, what="the live upload to begin")
    proc.kill()
    proc.communicate()  # reaps it and closes its pipes
    on_disk = last_seq(run_dir)
    wait_until(lambda: SyncState.load(run_dir).complete)
    assert SyncState.load(run_dir).acked_seq == on_disk
    rows = [r for r in read_runlog(find_runlog(run_dir)).records if r.type == "history"]
    assert server_points(live_server, run_dir.name.rsplit("-", 1)[1], "i") == (len(rows), len(rows) - 1)


@pytest.mark.process
def test_server_killed_and_restarted_mid_run_gets_every_point_exactly_once(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    body = """
    import time
    run = wakelog.init()
    for i in range(6000):
        run.log({"x": float(i)})
        if i == 1000:
            print("started", flush=True)
        time.sleep(0.0005)
    run.finish()
    """
    proc = run_script(tmp_path, body, online_env(server, WAKELOG_FINISH_TIMEOUT="90"), wait=False)
    try:
        assert proc.stdout.readline().strip() == "started"
        server.stop(signal.SIGKILL)
        (run_dir,) = run_dirs(tmp_path)
        wait_until(lambda: SyncState.load(run_dir).error is not None, what="the uploader to notice")
        server.start()
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        wait_until(lambda: SyncState.load(run_dir).complete)
        assert server_points(server, run_dir.name.rsplit("-", 1)[1], "x") == (6000, 5999)
    finally:
        server.stop()


@pytest.mark.process
def test_server_down_for_the_whole_run_then_wakelog_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(tmp_path)  # first start creates the admin key
    server.stop()
    body = """
    run = wakelog.init()
    for i in range(500):
        run.log({"y": i})
    run.finish()
    """
    env = online_env(server, WAKELOG_FINISH_TIMEOUT="1", WAKELOG_UPLOADER_LINGER="0")
    proc = run_script(tmp_path, body, env, wait=False)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, "a missing server never fails the training"
    assert "wakelog sync" in err
    (run_dir,) = run_dirs(tmp_path)
    wait_until(lambda: not SyncState.load(run_dir).complete and SyncState.load(run_dir).error is not None)
    server.start()
    try:
        monkeypatch.setenv("WAKELOG_API_KEY", server.key)
        monkeypatch.setenv("WAKELOG_BASE_URL", server.url)
        first = CliRunner().invoke(main, ["sync", str(tmp_path)])
        assert first.exit_code == 0, first.output
        assert "synced to" in first.output
        run_id = run_dir.name.rsplit("-", 1)[1]
        assert server_points(server, run_id, "y") == (500, 499)
        again = CliRunner().invoke(main, ["sync", str(tmp_path)])
        assert "nothing to sync" in again.output
        forced = CliRunner().invoke(main, ["sync", "--all", str(tmp_path)])
        assert forced.exit_code == 0
        assert server_points(server, run_id, "y") == (500, 499), "a second sync creates nothing twice"
        view = CliRunner().invoke(main, ["sync", "--view", str(tmp_path)])
        assert "synced" in view.output
        cleaned = CliRunner().invoke(main, ["sync", "--clean", "--yes", str(tmp_path)])
        assert cleaned.exit_code == 0 and not run_dir.exists()
    finally:
        server.stop()


@pytest.mark.process
def test_server_that_appears_mid_run_is_picked_up(tmp_path: Path) -> None:
    port = free_port()
    bootstrap = start_server(tmp_path)
    bootstrap.stop()
    server = ServerProcess(f"http://127.0.0.1:{port}", bootstrap.data_dir, port, [])
    body = """
    import time
    run = wakelog.init()
    for i in range(300):
        run.log({"z": i})
        time.sleep(0.01)
    run.finish()
    """
    proc = run_script(tmp_path, body, online_env(server, WAKELOG_FINISH_TIMEOUT="60"), wait=False)
    try:
        wait_until(lambda: run_dirs(tmp_path) and SyncState.load(run_dirs(tmp_path)[0]).error, what="a retry")
        server.start()
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        (run_dir,) = run_dirs(tmp_path)
        assert SyncState.load(run_dir).complete
        assert server_points(server, run_dir.name.rsplit("-", 1)[1], "z") == (300, 299)
    finally:
        server.stop()


def test_offline_run_syncs_and_a_bad_key_is_reported(
    tmp_path: Path, live_server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_offline_run(tmp_path, steps=1, project=None)
    monkeypatch.setenv("WAKELOG_BASE_URL", live_server.url)
    monkeypatch.setenv("WAKELOG_API_KEY", "wk_" + "x" * 40)
    refused = CliRunner().invoke(main, ["sync", str(tmp_path)])
    assert refused.exit_code == 1 and "401" in refused.output
    monkeypatch.setenv("WAKELOG_API_KEY", live_server.key)
    monkeypatch.setenv("WAKELOG_ENTITY", "configured")  # the flag wins over the configured entity
    ok = CliRunner().invoke(main, ["sync", "--entity", "team", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "team/uncategorized/" in ok.output


@pytest.mark.process  # one warning from the training process, which goes on
def test_a_run_the_server_does_not_let_you_write_stays_local_with_one_warning(
    tmp_path: Path, live_server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with live_server.client() as admin:
        admin.post("/api/v1/users", json={"username": "vic"})
        key = admin.post("/api/v1/keys", json={"user": "vic"}).json()["key"]
        admin.post("/api/v1/entities", json={"name": "team"})
        assert admin.put("/api/v1/entities/team/members/vic", json={"role": "viewer"}).status_code == 200
    body = """
    run = wakelog.init()
    for i in range(100):
        run.log({"y": i})
    run.finish()
    print("training went on")
    """
    proc = run_script(tmp_path, body, online_env(live_server, WAKELOG_API_KEY=key), wait=False)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.strip() == "training went on", err
    (run_dir,) = run_dirs(tmp_path)
    warnings = [line for line in err.splitlines() if "stays local" in line]
    assert len(warnings) == 1, err
    assert "entity 'team' needs the member role" in warnings[0]
    assert f"wakelog sync --entity <yours> {run_dir}" in warnings[0]
    state = SyncState.load(run_dir)
    assert state.refused and not state.complete
    monkeypatch.setenv("WAKELOG_BASE_URL", live_server.url)
    monkeypatch.setenv("WAKELOG_API_KEY", key)
    assert "not synced" in CliRunner().invoke(main, ["sync", "--view", str(tmp_path)]).output
    synced = CliRunner().invoke(main, ["sync", "--entity", "vic", str(tmp_path)])
    assert synced.exit_code == 0 and "vic/upload/" in synced.output, synced.output
    assert server_points(live_server, run_dir.name.rsplit("-", 1)[1], "y") == (100, 99)


def test_sync_uploads_a_run_without_entity_to_the_configured_one(
    tmp_path: Path, live_server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_offline_run(tmp_path, steps=0, project="p")
    monkeypatch.setenv("WAKELOG_BASE_URL", live_server.url)
    monkeypatch.setenv("WAKELOG_API_KEY", live_server.key)
    monkeypatch.setenv("WAKELOG_ENTITY", "lab")
    ok = CliRunner().invoke(main, ["sync", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "lab/p/" in ok.output


@pytest.mark.process  # init(resume="must") of an online run starts its uploader
def test_resume_must_continues_a_run_only_the_server_has(
    tmp_path: Path, live_server: InProcessServer
) -> None:
    first_machine, second_machine = tmp_path / "a", tmp_path / "b"
    first_machine.mkdir()
    second_machine.mkdir()
    env = online_env(live_server)
    run_script(
        first_machine,
        "run = wakelog.init(id='resumeme', config={'lr': 0.1})\nfor i in range(10):\n    run.log({'m': i})\n",
        env,
    )
    body = """
    run = wakelog.init(id="resumeme", resume="must")
    assert run.resumed and run.step == 10 and run.config.lr == 0.1, (run.step, dict(run.config))
    for i in range(10, 15):
        run.log({"m": i})
    run.finish()
    """
    run_script(second_machine, body, env)
    assert server_points(live_server, "resumeme", "m") == (15, 14)
    missing = textwrap.dedent(
        """
        import wakelog
        try:
            wakelog.init(id="ghost", resume="must")
        except wakelog.UsageError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", missing], env=env, capture_output=True, text=True, check=True
    )
    assert "no run with id 'ghost'" in result.stdout and live_server.url in result.stdout


@pytest.mark.process  # an online fork: the training process checks its parent, its uploader sends
def test_an_online_fork_starts_with_its_parents_rows_and_a_missing_parent_fails_init(
    tmp_path: Path, live_server: InProcessServer
) -> None:
    """``init(fork_from="parent?_step=4")`` online: the server has the parent's rows up to 4, then
    the fork's own from 5 (its first ``log()``), and its metadata names the parent; the parent is
    unchanged. A parent the server does not have fails init, naming it (as wandb's does)."""
    env = online_env(live_server)
    run_script(tmp_path, "run = wakelog.init(id='parent')\nfor i in range(10):\n    run.log({'m': i})\n", env)
    body = """
    run = wakelog.init(id="child", fork_from="parent?_step=4")
    assert run.step == 5, run.step
    for i in range(3):
        run.log({"m": 100 + i})
    run.finish()
    """
    run_script(tmp_path, body, env)
    with live_server.client() as client:
        got = client.get("/api/v1/runs/team/upload/child/history/rows").json()["rows"]
        assert [(r["_step"], r["m"]) for r in got] == [
            *((i, i) for i in range(5)),
            (5, 100),
            (6, 101),
            (7, 102),
        ]
        child = client.get("/api/v1/runs/team/upload/child").json()
        assert child["metadata"]["forked_from"] == {"run": "parent", "step": 4}
        parent = client.get("/api/v1/runs/team/upload/parent/history/rows").json()["rows"]
        assert [(r["_step"], r["m"]) for r in parent] == [(i, i) for i in range(10)]
    missing = textwrap.dedent(
        """
        import wakelog
        try:
            wakelog.init(fork_from="ghost?_step=3")
        except wakelog.UsageError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", missing], env=env, capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert "fork_from='ghost?_step=3'" in result.stdout and "no run with id 'ghost'" in result.stdout


def test_large_files_upload_in_resumable_chunks_with_progress(
    tmp_path: Path, live_server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    payload = os.urandom(20 * 1024 * 1024)  # three 8 MiB chunks
    run = wakelog.init(mode="offline")
    (tmp_path / "weights.bin").write_bytes(payload)
    run.save("weights.bin", policy="now")
    run.finish()
    monkeypatch.setenv("WAKELOG_BASE_URL", live_server.url)
    monkeypatch.setenv("WAKELOG_API_KEY", live_server.key)
    result = CliRunner().invoke(main, ["sync", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "weights.bin" in result.output, "a large file gets a progress bar of its own"
    sha256 = hashlib.sha256(payload).hexdigest()
    (run_dir,) = run_dirs(tmp_path)
    blob = f"/api/v1/runs/{SyncState.load(run_dir).run_path}/blobs/{sha256}"
    with live_server.client() as http:
        assert http.get(blob).json() == {"complete": True, "received": len(payload)}


@pytest.mark.process
def test_the_uploader_never_imports_the_users_scripts(tmp_path: Path, live_server: InProcessServer) -> None:
    """A training script named like a library (rich.py, httpx.py) must not be imported by the
    uploader: it would shadow the library and, calling init(), start uploaders recursively."""
    body = """
    import pathlib
    if __name__ != "__main__":
        pathlib.Path("imported-as-a-module").write_text(__name__)
    else:
        import wakelog
        run = wakelog.init()
        run.log({"a": 1})
        run.finish()
    """
    for name in ("rich", "httpx"):
        workdir = tmp_path / name
        workdir.mkdir()
        script = workdir / f"{name}.py"
        script.write_text(textwrap.dedent(body))
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=workdir,
            env=online_env(live_server),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert not (workdir / "imported-as-a-module").exists()
        (run_dir,) = run_dirs(workdir)
        assert SyncState.load(run_dir).complete


# -- the uploader's logic, in this process and in simulated time ----------------------------------


def flaky(
    server: InProcessServer, failures: int, log: list[httpx.Request] | None = None
) -> httpx.MockTransport:
    """The app behind a network that refuses the first ``failures`` requests (-1: all of them)."""
    left = [failures]

    def handle(request: httpx.Request) -> httpx.Response:
        if log is not None:
            log.append(request)
        if left[0] != 0:
            left[0] -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return server.transport().handle_request(request)

    return httpx.MockTransport(handle)


def test_an_outage_is_ridden_out_with_capped_backoff_and_every_point_arrives_once(
    tmp_path: Path, live_server: InProcessServer
) -> None:
    run_dir = record_offline_run(tmp_path, steps=500, project="upload")
    clock = FakeClock()
    state = upload(
        live_server, run_dir, entity="team", linger=600, clock=clock, transport=flaky(live_server, 12)
    )
    assert state.complete and state.error is None
    assert server_points(live_server, run_dir.name.rsplit("-", 1)[1], "loss") == (500, 499)
    waited = sum(clock.slept)
    schedule = 0.5 + 1 + 2 + 4 + 8 + 16 + 6 * 30  # doubling, capped at 30 s
    assert schedule / 2 <= waited <= schedule + 1e-6  # each wait jittered: between half and all of its step
    assert max(clock.slept) <= 0.2, "backoff is slept in short slices, to notice the training ending"


def test_once_the_training_is_gone_an_unreachable_server_is_given_up_after_linger(
    tmp_path: Path, live_server: InProcessServer
) -> None:
    run_dir = record_offline_run(tmp_path, steps=5, project="upload")
    clock = FakeClock()
    start = clock()
    state = upload(
        live_server, run_dir, entity="team", linger=60, clock=clock, transport=flaky(live_server, -1)
    )
    assert not state.complete and "cannot reach" in state.error
    assert 60 < clock() - start <= 60 + 30 + 0.2
    assert SyncState.load(run_dir).error == state.error, "sync.json says why, for finish() and `wakelog sync`"


def test_an_idle_live_run_sends_heartbeats_then_finishes(
    tmp_path: Path, live_server: InProcessServer
) -> None:
    run = wakelog.init(mode="offline", project="upload")
    run.log({"a": 1})
    run_dir = Path(run.run_dir)
    wait_until(lambda: [r for r in read_runlog(find_runlog(run_dir)).records if r.type == "history"])
    requests: list[httpx.Request] = []

    def training(_: float) -> None:  # the training, idle for two heartbeat periods, then done
        if clock() - start > 65 and wakelog.run is not None:
            run.finish()

    clock = FakeClock(on_sleep=training)
    start = clock()
    state = upload(
        live_server,
        run_dir,
        entity="team",
        project="upload",
        run_id=run.id,
        parent_pid=os.getpid(),
        clock=clock,
        transport=flaky(live_server, 0, requests),
    )
    assert state.complete
    heartbeats = [
        r
        for r in requests
        if r.url.path.endswith("/records") and msgspec.msgpack.decode(gzip.decompress(r.content)) == []
    ]
    assert len(heartbeats) == 2  # one per 30 idle seconds
    with live_server.client() as http:
        detail = http.get(f"/api/v1/runs/team/upload/{run.id}").json()
        assert detail.get("state") == "finished", detail
