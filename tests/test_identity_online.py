"""Identity and paths against a real server: an online run's ``entity``/``path``/``url`` (from the
key's user remembered at ``wakelog login``, else from the uploader), ``Api().run(run.path)``, an
offline run's entity filled by ``wakelog sync``, ``restore`` of saved and ``log_code`` files,
``status()``, ``mark_preempting`` on the server, ``Api().viewer`` and ``Runs.histories``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

import wakelog
from tests._env import child_env
from tests.harness import InProcessServer, record_offline_run, upload, wait_until
from tests.server.conftest import post_records
from wakelog.cli import main
from wakelog.runlog.syncstate import SyncState
from wakelog.sdk._local_runs import run_dirs
from wakelog.sdk._login import entities_file


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path_factory.mktemp("identity") / "data") as server:
        server.url  # noqa: B018  (the uploader processes dial it)
        yield server


@pytest.fixture
def online(live: InProcessServer, monkeypatch: pytest.MonkeyPatch) -> InProcessServer:
    monkeypatch.setenv("WAKELOG_BASE_URL", live.url)
    monkeypatch.setenv("WAKELOG_MODE", "online")
    return live


@pytest.mark.process  # an online run starts its uploader process
def test_login_remembers_the_key_user_so_init_fills_entity_path_and_urls(online: InProcessServer) -> None:
    assert wakelog.login(key=online.key, host=online.url, verify=True)
    run = wakelog.init(project="paths")
    # Right after init, with no network call in between: the entity was remembered at login.
    assert run.entity == "admin"
    assert run.path == f"admin/paths/{run.id}"
    assert run.url == run.get_url() == f"{online.url}/admin/paths/runs/{run.id}"
    assert run.project_url == run.get_project_url() == f"{online.url}/admin/paths"
    assert run.sweep_id is None
    (Path(run.dir) / "model.txt").write_text("weights v1")
    run.save(str(Path(run.dir) / "model.txt"), base_path=run.dir, policy="now")
    (Path.cwd() / "train.py").write_text("print('train')\n")
    assert run.log_code() == ["code/train.py"]
    run.log({"loss": 0.5})
    status = wait_until(
        lambda: (s := run.status()).sync_items_total > 0 and s.sync_items_pending == 0 and s,
        what="the upload to catch up",
    )
    assert status.sync_time is not None
    path = run.path
    run.finish()
    with wakelog.Api() as api:
        remote = api.run(path)
        files = {f.name for f in remote.files()}
    assert (remote.entity, remote.project, remote.id, remote.state) == ("admin", "paths", run.id, "finished")
    assert {"model.txt", "code/train.py"} <= files, "the Files tab lists them"

    # restore: into run.dir of a new run by default, not fetched again unless replace=True.
    second = wakelog.init(project="paths")
    with second.restore("model.txt", run_path=path) as restored:  # type: ignore[union-attr]
        assert restored.read() == "weights v1" and restored.name == str(Path(second.dir) / "model.txt")
    Path(second.dir, "model.txt").write_text("edited")
    with wakelog.restore("model.txt", run_path=path) as kept:  # type: ignore[union-attr]
        assert kept.read() == "edited"
    with wakelog.restore("model.txt", run_path=path, replace=True, root="out") as fresh:  # type: ignore[union-attr]
        assert fresh.read() == "weights v1" and Path("out/model.txt").exists()
    assert wakelog.restore("no-such-file.txt", run_path=path) is None
    second.finish()


@pytest.mark.process  # an online run starts its uploader process
def test_without_a_remembered_entity_the_uploader_names_it(
    online: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAKELOG_API_KEY", online.key)
    assert not entities_file().exists()
    first = wakelog.init(project="paths")
    assert wait_until(lambda: first.entity, what="the uploader's answer") == "admin"
    assert first.path == f"admin/paths/{first.id}"
    first.finish()
    second = wakelog.init(project="paths")
    assert second.entity == "admin", "the next run knows it at once"
    second.finish()


@pytest.mark.process  # a training process whose uploader gives up once it is gone
def test_an_unreachable_server_leaves_the_entity_empty(live: InProcessServer, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    body = """
    import warnings
    warnings.simplefilter("ignore")
    run = wakelog.init(project="paths", mode="online")
    print(repr(run.entity), run.path == "paths/" + run.id, run.url)
    run.finish()
    """
    env = child_env(
        WAKELOG_BASE_URL=f"http://127.0.0.1:{port}",
        WAKELOG_API_KEY=live.key,
        WAKELOG_FINISH_TIMEOUT="1",
        WAKELOG_UPLOADER_LINGER="0",
    )
    script = tmp_path / "train.py"
    script.write_text("import wakelog\n" + textwrap.dedent(body))
    done = subprocess.run(
        [sys.executable, str(script)],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["''", "True", "None"]
    (run_dir,) = run_dirs(tmp_path)
    pid = wait_until(lambda: SyncState.load(run_dir).pid, what="the uploader to report")
    wait_until(lambda: not _running(pid), timeout=120, what="the uploader to give up")


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_wakelog_sync_gives_an_offline_run_the_key_user_as_entity(
    live: InProcessServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = record_offline_run(tmp_path, steps=3, project="offline-p")
    run_id = run_dir.name.rsplit("-", 1)[1]
    monkeypatch.setenv("WAKELOG_BASE_URL", live.url)
    monkeypatch.setenv("WAKELOG_API_KEY", live.key)
    synced = CliRunner().invoke(main, ["sync", str(tmp_path)])
    assert synced.exit_code == 0, synced.output
    assert f"admin/offline-p/{run_id}" in synced.output
    with wakelog.Api() as api:
        assert api.run(f"admin/offline-p/{run_id}").lastHistoryStep == 2


def test_a_preempting_run_is_running_then_preempted_when_it_goes_quiet(tmp_path: Path) -> None:
    quiet_at_once = {"WAKELOG_SERVER_CRASHED_AFTER_MINUTES": "0"}
    with InProcessServer(tmp_path / "data", env=quiet_at_once) as server, server.client() as http:
        now = time.time()
        for run_id, extra in (("pre", [[1, "run", now, {"id": "pre", "preempting": True, "update": True}]]),
                              ("plain", [])):  # fmt: skip
            batch = [[0, "run", now, {"id": run_id, "project": "q", "start_time": now}], *extra]
            assert post_records(http, f"admin/q/{run_id}", batch).status_code == 200
        states = {r["id"]: r["state"] for r in http.get("/api/v1/projects/admin/q/runs").json()["runs"]}
        assert states == {"pre": "preempted", "plain": "crashed"}


def test_viewer_and_histories(live: InProcessServer, tmp_path: Path) -> None:
    with live.client() as admin:
        admin.post("/api/v1/entities", json={"name": "vision"})
        admin.put("/api/v1/entities/vision/members/admin", json={"role": "member"})
    ids = []
    for index in range(2):
        run_dir = record_offline_run(tmp_path / f"r{index}", steps=5, project="hist")
        upload(live, run_dir, entity="admin")
        ids.append(run_dir.name.rsplit("-", 1)[1])
    api = wakelog.Api(overrides={"base_url": live.url, "api_key": live.key})
    viewer = api.viewer
    assert (viewer.username, viewer.entity, viewer.admin) == ("admin", "admin", True)
    assert "vision" in viewer.teams and repr(viewer) == "<User admin>"
    rows = api.runs("admin/hist").histories(samples=100, keys=["loss"])
    assert sorted({row["run_id"] for row in rows}) == sorted(ids)
    assert len(rows) == 10 and all(set(row) == {"_step", "loss", "run_id"} for row in rows)
    frame = api.runs("admin/hist").histories(keys=["loss"], format="pandas")
    assert list(frame.columns) == ["_step", "loss", "run_id"] and len(frame) == 10
    upload(live, record_offline_run(tmp_path / "empty", steps=0, project="hist-empty"), entity="admin")
    assert api.runs("admin/hist-empty").histories() == [], "runs without history add nothing"
    assert api.runs("admin/hist-empty").histories(format="pandas").empty
    with pytest.raises(ValueError, match="Invalid format"):
        api.runs("admin/hist").histories(format="arrow")
    api.close()


@pytest.mark.process
def test_finish_collects_the_uploader_that_sent_everything(online: InProcessServer) -> None:
    """An uploader exits once the run is on the server: finish() waits for that exit, so no zombie
    (and no Popen that Python warns was never waited for) is left behind per run."""
    assert wakelog.login(key=online.key, host=online.url, verify=True)
    run = wakelog.init(project="reaped")
    run.log({"loss": 0.5})
    uploader = run._uploader
    assert uploader is not None
    run.finish()
    with pytest.raises(ChildProcessError):  # already waited for: no child of ours by that pid
        os.waitpid(uploader.proc.pid, os.WNOHANG)


@pytest.mark.process  # an online run starts its uploader process
def test_what_the_training_sets_wins_over_a_web_edit_only_when_set_after_it(online: InProcessServer) -> None:
    """docs/collaboration.md "the last writer wins", end to end through the uploader: a web edit
    stays while the training sets other fields, and gives way when the training sets its field
    again."""
    assert wakelog.login(key=online.key, host=online.url, verify=True)
    run = wakelog.init(project="lww", name="from-init", tags=["init"])
    run.notes = "sdk notes"
    path = f"/api/v1/runs/{run.path}"
    with online.client() as admin:

        def shown(field: str, value: object) -> dict | None:  # type: ignore[type-arg]
            got = admin.get(path)
            return got.json() if got.is_success and got.json()[field] == value else None  # type: ignore[no-any-return]

        wait_until(lambda: shown("notes", "sdk notes"), what="the training's notes")
        assert admin.patch(path, json={"name": "edited", "tags": ["ui"]}).is_success
        run.notes = "later notes"  # another field: the edit stays
        run.log({"x": 1.0})
        now = wait_until(lambda: shown("notes", "later notes"), what="the later notes")
        assert (now["name"], now["tags"]) == ("edited", ["ui"])
        run.tags = ["after-the-edit"]  # set after the edit: it wins
        run.finish()
        done = wait_until(lambda: shown("state", "finished"), what="the run's end")
    assert (done["name"], done["tags"], done["notes"]) == ("edited", ["after-the-edit"], "later notes")
