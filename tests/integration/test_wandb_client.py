"""The stock wandb client, pointed at a real ``wakelog server`` on loopback with ``WANDB_BASE_URL``
and ``WANDB_API_KEY`` and nothing else: what it logs reads back through ``wakelog.Api`` value by
value like the same script run with ``import wakelog as wandb``.

The client comes from the ``wandb-client`` extra, installed apart from the venv
(``scripts/test.sh``: ``.venv/wandb-client``; ``WAKELOG_TEST_WANDB_CLIENT`` names another folder),
because the ``import wandb`` alias tests need no real wandb importable in the venv itself.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests._env import child_env
from tests._env import pythonpath as child_pythonpath
from tests.harness import wait_until
from tests.server.conftest import (  # noqa: F401  (postgres_url: a fixture)
    ServerProcess,
    db_upgrade,
    fresh_database,
    postgres_url,
    query,
    start_server,
)

pytestmark = pytest.mark.process
REPO = Path(__file__).resolve().parents[2]
CLIENT = Path(os.environ.get("WAKELOG_TEST_WANDB_CLIENT") or Path(sys.prefix) / "wandb-client")

#: One script for both clients: init with every run field, the step machine (commit=False, an
#: explicit step), nested dicts, define_metric's summary, an image, a histogram, the summary,
#: console output on both streams, and an exception when asked.
SCRIPT = """
import sys
import numpy as np
import MODULE as wandb

config = {"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.99]}}
run = wandb.init(project="PROJECT", name="same-script", config=config, tags=["a", "b"], notes="the notes",
                 group="grp", job_type="train")
run.define_metric("loss", summary="min")
for i in range(5):
    run.log({"loss": 1.0 / (i + 1), "nested": {"a": i, "b": {"c": i * 2}}})
run.log({"acc": 0.5}, commit=False)
run.log({"acc2": 0.7})
image = wandb.Image(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
run.log({"img": image, "h": wandb.Histogram([1, 2, 3, 3])}, step=10)
run.log({"late": 1}, step=12)
run.config.update({"epochs": 3})
run.summary["best"] = 42
print("hello stdout")
print("hello stderr", file=sys.stderr)
if FAIL:
    raise RuntimeError("boom")
run.finish()
"""
#: Keys whose values differ between any two runs (times), left out of the comparison.
TIMES = {"_runtime", "_timestamp"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if not (CLIENT / "wandb" / "__init__.py").exists():
        pytest.skip(f"the wandb client is not installed in {CLIENT} (scripts/test.sh installs it)")
    server = start_server(tmp_path_factory.mktemp("wandb-server"), "--min-free", "0")
    yield server
    server.stop()


def wandb_env(server: ServerProcess, tmp: Path, key: str | None = None, **more: str) -> dict[str, str]:
    """The real wandb's environment: its own folders under ``tmp``, the server, nothing else."""
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = child_env(
        HOME=str(home),
        PYTHONPATH=str(CLIENT),  # the real wandb, never wakelog's alias
        WANDB_BASE_URL=server.url,
        WANDB_API_KEY=key or "local-" + server.key,
        WANDB_DIR=str(tmp),
        WANDB_CONFIG_DIR=str(home / "config"),
        WANDB_CACHE_DIR=str(home / "cache"),
        WANDB_DATA_DIR=str(home / "data"),
        WANDB_X_STATS_SAMPLING_INTERVAL="0.1",
        **more,
    )
    return env


def run_wandb(
    server: ServerProcess, tmp: Path, code: str, key: str | None = None
) -> subprocess.CompletedProcess:
    return python("-c", code, cwd=tmp, env=wandb_env(server, tmp, key))


def run_wakelog(server: ServerProcess, tmp: Path, code: str) -> subprocess.CompletedProcess:
    tmp.mkdir(parents=True, exist_ok=True)
    env = child_env(
        WAKELOG_BASE_URL=server.url,
        WAKELOG_API_KEY=server.key,
        WAKELOG_DIR=str(tmp),
        WAKELOG_CONSOLE=None,  # captured, as wandb's is (the suite turns it off)
        PYTHONPATH=child_pythonpath(REPO),
    )
    return python("-c", code, cwd=tmp, env=env)


def python(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A Python of its own (``-c code``, ``-m wandb …``), its output kept for the test to show."""
    command = [sys.executable, *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False)


def _api(server: ServerProcess) -> Any:
    import wakelog

    return wakelog.Api(overrides={"base_url": server.url, "api_key": server.key})


def _only_run(api: Any, project: str) -> Any:
    runs = list(api.runs(f"admin/{project}"))
    assert len(runs) == 1, runs
    return runs[0]


def _comparable(value: Any) -> Any:
    """A value without what differs between two runs of one script: times, and the media file's
    name (wandb numbers media per run, wakelog by step); the content's hash stays."""
    if isinstance(value, dict):
        out = {k: _comparable(v) for k, v in value.items() if k not in TIMES}
        if "path" in out and out.get("_type") == "image-file":
            out["path"] = out["path"].rsplit("/", 1)[0]
        return out
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _read(server: ServerProcess, run: Any) -> dict[str, Any]:
    """Everything the comparison looks at, as the web app and the Api see it."""
    with server.client() as client:
        base = f"/api/v1/runs/{run.entity}/{run.project}/{run.id}"
        console = client.get(f"{base}/console").json()["lines"]
        files = {f.name for f in run.files()}
        image = run.summary["img"]
        assert image["path"] in files, (image["path"], files)
        content = client.get(f"{base}/files/{image['path']}")
        assert content.status_code == 200 and content.content[:4] == b"\x89PNG"
    return {
        "fields": (run.name, run.state, run.tags, run.notes, run.group, run.job_type, run.exit_code),
        "config": run.config,
        "summary": _comparable(dict(run.summary)),
        "history": _comparable(list(run.scan_history())),
        "console": sorted((line["stream"], line["text"]) for line in console if "hello" in line["text"]),
    }


@pytest.mark.parametrize("fail", [False, True], ids=["finished", "exception"])
def test_a_wandb_run_reads_back_like_the_same_script_through_wakelog(
    server: ServerProcess, tmp_path: Path, fail: bool
) -> None:
    _compare(server, tmp_path, fail)


def test_a_wandb_run_streams_into_a_server_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The comparison on the other backend: a server on PostgreSQL (its file-stream ingest, its
    upserts, its reads) gives back the wandb run value by value like the SDK's."""
    if not (CLIENT / "wandb" / "__init__.py").exists():
        pytest.skip(f"the wandb client is not installed in {CLIENT}")
    database = fresh_database(request.getfixturevalue("postgres_url"))
    db_upgrade(database)
    server = start_server(tmp_path, "--min-free", "0", backend="postgres", database_url=database)
    try:
        _compare(server, tmp_path, fail=False)
    finally:
        server.stop()


def _compare(server: ServerProcess, tmp_path: Path, fail: bool) -> None:
    """SCRIPT through the stock client and through ``import wakelog as wandb``: the same run."""
    project = f"compare-{'failed' if fail else 'ok'}"
    code = SCRIPT.replace("FAIL", str(fail))
    by_wandb = run_wandb(
        server, tmp_path / "wandb", code.replace("MODULE", "wandb").replace("PROJECT", project)
    )
    assert (by_wandb.returncode != 0) == fail, by_wandb.stderr
    assert "encountered" not in by_wandb.stderr, by_wandb.stderr  # no request was refused
    wakelog_code = code.replace("MODULE", "wakelog").replace("PROJECT", project + "-wk")
    by_wakelog = run_wakelog(server, tmp_path / "wakelog", wakelog_code)
    assert (by_wakelog.returncode != 0) == fail, by_wakelog.stderr

    api = _api(server)
    try:
        theirs, ours = _only_run(api, project), _only_run(api, project + "-wk")
        expected = _read(server, ours)
        got = _read(server, theirs)
    finally:
        api.close()
    assert got == expected
    # What the comparison stands on, spelled out.
    assert got["fields"] == (
        "same-script",
        "failed" if fail else "finished",
        ["a", "b"],
        "the notes",
        "grp",
        "train",
        1 if fail else 0,
    )
    assert got["config"] == {"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.99]}, "epochs": 3}
    assert got["summary"]["loss"] == {"min": 0.2} and got["summary"]["best"] == 42
    assert [row["_step"] for row in got["history"]] == [0, 1, 2, 3, 4, 5, 10, 12]
    assert got["history"][5] == {"_step": 5, "acc": 0.5, "acc2": 0.7}
    assert got["history"][2]["nested.b.c"] == 4
    assert got["console"] == [("stderr", "hello stderr"), ("stdout", "hello stdout")]


def test_wandb_system_metrics_and_metadata_arrive_under_wakelog_names(
    server: ServerProcess, tmp_path: Path
) -> None:
    code = textwrap.dedent(
        """
        import time, wandb
        run = wandb.init(project="system")
        started = time.monotonic()
        while time.monotonic() - started < 1.5:  # a workload the 0.1 s sampler sees several times
            run.log({"x": 1})
        run.finish()
        """
    )
    done = run_wandb(server, tmp_path, code)
    assert done.returncode == 0, done.stderr
    api = _api(server)
    try:
        run = _only_run(api, "system")
        with server.client() as client:
            keys = client.get(f"/api/v1/runs/admin/system/{run.id}/keys").json()["system"]
        assert {"system/memory_percent", "system/proc_rss_mb"} <= {k["key"] for k in keys}
        assert run.metadata["host"] and run.metadata["started_at"] and run.metadata["python"]
    finally:
        api.close()


def test_a_wrong_key_is_refused_and_the_client_says_so(server: ServerProcess, tmp_path: Path) -> None:
    code = "import wandb\nwandb.init(project='nope')\n"
    done = run_wandb(server, tmp_path, code, key="local-wk_" + "x" * 40)
    assert done.returncode != 0
    assert "wakelog did not accept the API key (401)" in done.stderr, done.stderr[-2000:]
    with server.client() as client:
        assert client.get("/api/v1/projects/admin/nope").status_code == 404, "nothing was created"


def _steps(server: ServerProcess, project: str) -> list[tuple[int, float]]:
    with server.client() as client:
        listing = client.get(f"/api/v1/projects/admin/{project}/runs")
        if listing.status_code == 404 or not listing.json()["runs"]:
            return []  # not there yet
        run_id = listing.json()["runs"][0]["id"]
        rows = client.get(f"/api/v1/runs/admin/{project}/{run_id}/history/rows", params={"page_size": 10_000})
        rows = rows.json()["rows"]
    return [(row["_step"], row["i"]) for row in rows if "i" in row]


RESTART_SCRIPT = """
import os, sys, time, wandb
run = wandb.init(project="restart")
for i in range(200):
    run.log({"i": float(i)})
while not os.path.exists(sys.argv[1]):  # the test says when: the server is down by then
    time.sleep(0.05)  # (a sleep, not a spin: wandb's sender thread needs the GIL)
for i in range(200, 400):
    run.log({"i": float(i)})
run.finish()
"""


def test_every_row_arrives_once_across_a_server_restart(tmp_path: Path) -> None:
    """The server killed (-9) while a wandb run streams, and started again: the client resends
    what it got no answer for, and each row is there once."""
    if not (CLIENT / "wandb" / "__init__.py").exists():
        pytest.skip(f"the wandb client is not installed in {CLIENT}")
    server = start_server(tmp_path, "--min-free", "0")
    marker = tmp_path / "server-is-down"
    env = wandb_env(
        server,
        tmp_path / "wandb",
        # whole seconds: wandb-core truncates these to them (0.5 would be 0, its default)
        WANDB_X_FILE_STREAM_TRANSMIT_INTERVAL="1",
        WANDB_X_FILE_STREAM_RETRY_WAIT_MIN_SECONDS="1",
        WANDB_X_FILE_STREAM_RETRY_WAIT_MAX_SECONDS="2",
    )
    script = subprocess.Popen(
        [sys.executable, "-c", RESTART_SCRIPT, str(marker)],
        cwd=tmp_path / "wandb",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def first_rows() -> bool:
            if script.poll() is not None:
                raise AssertionError(f"the script ended early: {script.communicate()[1][-3000:]}")
            return len(_steps(server, "restart")) >= 200

        wait_until(first_rows, 120, interval=0.1, what="the first 200 rows")
        server.stop(signal.SIGKILL)
        marker.touch()
        server.start()
        _out, err = script.communicate(timeout=240)
        assert script.returncode == 0, err[-3000:]
        assert _steps(server, "restart") == [(i, float(i)) for i in range(400)]
        with server.client() as client:
            runs = client.get("/api/v1/projects/admin/restart/runs").json()["runs"]
        assert [r["state"] for r in runs] == ["finished"]
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
        server.stop()


def test_wandb_sync_uploads_an_offline_run(server: ServerProcess, tmp_path: Path) -> None:
    code = SCRIPT.replace("MODULE", "wandb").replace("PROJECT", "offline").replace("FAIL", "False")
    offline = run_wandb(server, tmp_path, "import os; os.environ['WANDB_MODE'] = 'offline'\n" + code)
    assert offline.returncode == 0, offline.stderr
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    env = wandb_env(server, tmp_path)
    synced = python("-m", "wandb", "sync", str(run_dir), cwd=tmp_path, env=env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    api = _api(server)
    try:
        got = _read(server, _only_run(api, "offline"))
    finally:
        api.close()
    assert got["fields"][:2] == ("same-script", "finished")
    assert [row["_step"] for row in got["history"]] == [0, 1, 2, 3, 4, 5, 10, 12]
    assert got["summary"]["loss"] == {"min": 0.2}
    assert got["config"] == {"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.99]}, "epochs": 3}


def test_a_resumed_run_goes_on_where_it_ended_and_its_alert_arrives(
    server: ServerProcess, tmp_path: Path
) -> None:
    code = textwrap.dedent(
        """
        import datetime, wandb
        run = wandb.init(project="resume", id="resume1", resume="allow")
        for i in range(3):
            run.log({"x": i})
        run.alert(title="halfway", text="three steps", wait_duration=datetime.timedelta(minutes=5))
        run.finish()
        run = wandb.init(project="resume", id="resume1", resume="allow")
        for i in range(2):
            run.log({"x": 10 + i})
        raise RuntimeError("after the resume")
        """
    )
    done = run_wandb(server, tmp_path, code)
    assert done.returncode == 1, done.stderr
    with server.client() as client:
        rows = client.get("/api/v1/runs/admin/resume/resume1/history/rows").json()["rows"]
        assert [(row["_step"], row["x"]) for row in rows] == [(0, 0), (1, 1), (2, 2), (3, 10), (4, 11)]
        run = client.get("/api/v1/runs/admin/resume/resume1").json()
        assert (run["state"], run["exit_code"]) == ("failed", 1), "the resumed run's own end"
        inbox = client.get("/api/v1/notifications").json()["notifications"]
        mine = [(n["event"], n["title"]) for n in inbox if n["run"]["run_id"] == "resume1"]
        assert sorted(mine) == [
            ("alert", "halfway"),
            ("failed", "Run resume1 failed"),
            ("finished", "Run resume1 finished"),
        ]
    # the client sends wait_duration in milliseconds: stored as the seconds it was given
    sql = "SELECT a.title, a.wait_duration FROM alerts a JOIN runs r ON r.id = a.run_pk WHERE r.run_id = :run"
    assert [tuple(row) for row in query(server, sql, run="resume1")] == [("halfway", 300.0)]


def test_a_wandb_table_arrives_as_a_table_file(server: ServerProcess, tmp_path: Path) -> None:
    """The table and its stub arrive (the web app shows them as it shows wakelog's), and the
    ``run_table`` artifact the client also makes of it, logged by the run."""
    code = textwrap.dedent(
        """
        import wandb
        run = wandb.init(project="table", id="table1")
        run.log({"t": wandb.Table(columns=["a", "b"], data=[[1, 2], [3, 4]])})
        run.finish()
        """
    )
    done = run_wandb(server, tmp_path, code)
    assert done.returncode == 0, done.stderr
    with server.client() as client:
        (row,) = client.get("/api/v1/runs/admin/table/table1/history/rows").json()["rows"]
        assert row["t"]["_type"] == "table-file" and (row["t"]["nrows"], row["t"]["ncols"]) == (2, 2)
        table = client.get(f"/api/v1/runs/admin/table/table1/files/{row['t']['path']}").json()
        assert (table["columns"], table["data"]) == (["a", "b"], [[1, 2], [3, 4]])
        (logged,) = client.get("/api/v1/runs/admin/table/table1/artifacts").json()["logged"]
        assert (logged["name"], logged["type"], logged["file_count"]) == ("run-table1-t", "run_table", 1)
        entries = client.get("/api/v1/artifacts/admin/table/run-table1-t:v0/manifest").json()["entries"]
        (entry,) = entries.values()
        stored = client.get(f"/api/v1/artifacts/admin/table/run-table1-t:v0/files/{next(iter(entries))}")
        assert (stored.json()["columns"], stored.json()["data"]) == (["a", "b"], [[1, 2], [3, 4]])
        assert entry["sha256"] == hashlib.sha256(stored.content).hexdigest()


#: Rich media from files (no encoder needed: the stock client needs moviepy to encode a video
#: from an array, and refuses without it) and from arrays, logged by each client.
MEDIA_SCRIPT = """
import numpy as np
import MODULE as wandb
run = wandb.init(project="PROJECT", id="media1")
media = {
    "video": wandb.Video("clip.gif", caption="a clip"),
    "audio": wandb.Audio("tone.wav", caption="a tone"),
    # over 64 KiB: uploads of that size were once refused
    "audio_array": wandb.Audio(np.sin(np.linspace(0, 3000, 80_000)), sample_rate=8000),
    "mesh": wandb.Object3D("mesh.obj"),
    "points": wandb.Object3D(np.array([[0, 0, 0], [1, 1, 1.0], [2, 0, 1]])),
    "page": wandb.Html("<b>hi</b>"),
    "molecule": wandb.Molecule("mol.pdb"),
}
run.log(media)
run.log({"video": wandb.Video("clip.gif")})
run.finish()
"""


def _media_files(tmp: Path) -> None:
    """A gif, a wav, an obj mesh and a pdb molecule, written with what the suite has."""
    import wave

    import numpy as np
    from PIL import Image

    tmp.mkdir(parents=True, exist_ok=True)
    frames = [Image.fromarray(np.full((8, 8, 3), 40 * i, dtype=np.uint8)) for i in range(3)]
    frames[0].save(tmp / "clip.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with wave.open(str(tmp / "tone.wav"), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes((np.sin(np.linspace(0, 100, 800)) * 3000).astype("<i2").tobytes())
    (tmp / "mesh.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    atom = "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\n"
    (tmp / "mol.pdb").write_text(atom + "END\n")


def _media_read(server: ServerProcess, run: Any) -> dict[str, Any]:
    """History, summary and every media file's bytes, as the web app and the Api see them."""
    rows = [{k: v for k, v in row.items() if k not in TIMES} for row in run.scan_history()]
    files = {}
    with server.client() as client:
        for row in rows:
            for value in row.values():
                if isinstance(value, dict) and "path" in value:
                    answer = client.get(
                        f"/api/v1/runs/{run.entity}/{run.project}/{run.id}/files/{value['path']}"
                    )
                    assert answer.status_code == 200, (value, answer.text)
                    files[value["path"]] = answer.content
    summary = {k: v for k, v in dict(run.summary).items() if not k.startswith("_")}
    return {"history": rows, "summary": summary, "files": files}


def test_rich_media_read_back_like_wakelogs(server: ServerProcess, tmp_path: Path) -> None:
    """Video (from a gif), audio (a file, an array), Object3D (a mesh, a point cloud), Html and
    Molecule logged by the stock client: the same history stubs (type, path, sha256, size,
    caption), summary and file bytes as the same script through wakelog's SDK, so the web app
    shows them alike. Html is the one difference, made by the client: wandb injects a link to
    its own stylesheet where wakelog inlines one (the file's CSP keeps the browser from
    fetching it)."""
    got = {}
    for client, runner in (("wandb", run_wandb), ("wakelog", run_wakelog)):
        _media_files(tmp_path / client)
        code = MEDIA_SCRIPT.replace("MODULE", client).replace("PROJECT", f"media-{client}")
        done = runner(server, tmp_path / client, code)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "encountered" not in done.stderr, done.stderr[-3000:]
        api = _api(server)
        try:
            got[client] = _media_read(server, _only_run(api, f"media-{client}"))
        finally:
            api.close()
    theirs, ours = got["wandb"], got["wakelog"]
    page, our_page = theirs["history"][0].pop("page"), ours["history"][0].pop("page")
    assert theirs["history"] == ours["history"]
    # The client merges a logged dict into the summary's one key by key (its summary of nested
    # values): the caption of step 0's video stays beside step 1's file, as on W&B.
    assert theirs["summary"].pop("video") == {**ours["summary"].pop("video"), "caption": "a clip"}
    assert {k: v for k, v in theirs["summary"].items() if k != "page"} == {
        k: v for k, v in ours["summary"].items() if k != "page"
    }
    assert {k: v for k, v in theirs["files"].items() if k != page["path"]} == {
        k: v for k, v in ours["files"].items() if k != our_page["path"]
    }
    stub = theirs["history"][0]
    assert sorted((k, v["_type"]) for k, v in stub.items() if k != "_step") == [
        ("audio", "audio-file"),
        ("audio_array", "audio-file"),
        ("mesh", "object3D-file"),
        ("molecule", "molecule-file"),
        ("points", "object3D-file"),
        ("video", "video-file"),
    ]
    assert stub["video"]["caption"] == "a clip" and stub["audio"]["caption"] == "a tone"
    assert theirs["files"][stub["video"]["path"]][:6] == b"GIF89a"
    assert stub["audio_array"]["size"] > 64 * 1024
    assert theirs["history"][1]["video"]["path"] != stub["video"]["path"], "a file per step"
    assert page["_type"] == our_page["_type"] == "html-file"
    assert theirs["files"][page["path"]].endswith(b"<b>hi</b>")
    assert hashlib.sha256(theirs["files"][page["path"]]).hexdigest() == page["sha256"]


#: Video from frame arrays (T, C, H, W): the stock client encodes them with moviepy (the
#: ``wandb-client`` extra installs it), wakelog's SDK with Pillow (GIF) and imageio-ffmpeg (MP4).
VIDEO_SCRIPT = """
import numpy as np
import MODULE as wandb
run = wandb.init(project="PROJECT", id="frames1")
frames = np.zeros((4, 3, 8, 12), dtype=np.uint8)
for t in range(4):
    frames[t, t % 3] = 60 * (t + 1)
run.log({"clip": wandb.Video(frames, fps=4, format="gif", caption="frames")})
run.log({"clip": wandb.Video(frames, fps=4, format="mp4")})
run.finish()
"""


def _frames(data: bytes, suffix: str, tmp: Path) -> list[Any]:
    """The decoded frames (8 × 12) of a GIF (Pillow) or an MP4 (imageio-ffmpeg's ffmpeg), as RGB arrays."""
    import io

    import numpy as np
    from PIL import Image, ImageSequence

    if suffix == ".gif":
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(Image.open(io.BytesIO(data)))]
    import imageio_ffmpeg

    path = tmp / f"decode{len(list(tmp.iterdir()))}.mp4"
    path.write_bytes(data)
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo",
               "-pix_fmt", "rgb24", "-"]  # fmt: skip
    raw = subprocess.run(command, capture_output=True, check=True, timeout=60).stdout
    return list(np.frombuffer(raw, dtype=np.uint8).reshape(-1, 8, 12, 3))


def test_video_from_an_array_reads_back_like_wakelogs(server: ServerProcess, tmp_path: Path) -> None:
    """``wandb.Video(frames, fps=4, format=…)`` from a numpy array through the stock client (its
    moviepy): the same stubs (type, size in pixels, caption) as wakelog's SDK stores for the same
    calls, the GIF byte for byte (same sha256 and path), the MP4 the same frames (its bytes
    differ: the two encoders' settings)."""
    if not (CLIENT / "moviepy" / "__init__.py").exists():
        pytest.skip(f"moviepy is not installed in {CLIENT} (the wandb-client extra installs it)")
    got = {}
    for client, runner in (("wandb", run_wandb), ("wakelog", run_wakelog)):
        (tmp_path / client).mkdir(parents=True, exist_ok=True)
        code = VIDEO_SCRIPT.replace("MODULE", client).replace("PROJECT", f"frames-{client}")
        done = runner(server, tmp_path / client, code)
        assert done.returncode == 0, done.stderr[-3000:]
        api = _api(server)
        try:
            got[client] = _media_read(server, _only_run(api, f"frames-{client}"))
        finally:
            api.close()
    theirs, ours = got["wandb"], got["wakelog"]
    (gif, mp4), (our_gif, our_mp4) = ([row["clip"] for row in g["history"]] for g in (theirs, ours))
    assert gif == our_gif, "the GIF: the same stub, path and bytes"
    assert gif["_type"] == "video-file" and (gif["width"], gif["height"], gif["caption"]) == (12, 8, "frames")
    assert theirs["files"][gif["path"]] == ours["files"][our_gif["path"]]
    assert theirs["files"][gif["path"]][:6] == b"GIF89a"
    different = ("path", "sha256", "size")
    assert {k: v for k, v in mp4.items() if k not in different} == {
        k: v for k, v in our_mp4.items() if k not in different
    }
    assert mp4["path"].endswith(".mp4") and mp4["width"] == 12 and mp4["height"] == 8
    decoded = {
        name: [_frames(files["files"][stub["path"]], suffix, tmp_path / name) for stub, suffix in pairs]
        for name, files, pairs in (
            ("wandb", theirs, ((gif, ".gif"), (mp4, ".mp4"))),
            ("wakelog", ours, ((our_gif, ".gif"), (our_mp4, ".mp4"))),
        )
    }
    for their_frames, our_frames in zip(decoded["wandb"], decoded["wakelog"], strict=True):
        assert len(their_frames) == len(our_frames) == 4
        for a, b in zip(their_frames, our_frames, strict=True):
            assert a.shape == b.shape
            assert abs(a.astype(int) - b.astype(int)).max() <= 8, "the same picture (MP4 is lossy)"
    first = decoded["wandb"][0]
    assert [tuple(f[0, 0]) for f in first] == [(60, 0, 0), (0, 120, 0), (0, 0, 180), (240, 0, 0)]


def test_wandb_login_host_then_no_environment_at_all(server: ServerProcess, tmp_path: Path) -> None:
    env = wandb_env(server, tmp_path)
    key, url = env.pop("WANDB_API_KEY"), env.pop("WANDB_BASE_URL")
    login = python("-m", "wandb", "login", "--host", url, key, cwd=tmp_path, env=env)
    assert login.returncode == 0 and "logged in as: admin" in login.stderr, login.stderr
    code = "import wandb\nrun = wandb.init(project='login', id='login1')\nrun.log({'a': 1})\nrun.finish()\n"
    done = python("-c", code, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    with server.client() as client:
        assert client.get("/api/v1/runs/admin/login/login1").json()["state"] == "finished"


#: wandb.Api in the real client: every run read the common ways, printed as JSON.
API_SCRIPT = """
import json, os, sys
import wandb
api = wandb.Api(overrides={"base_url": os.environ["WANDB_BASE_URL"]})
out = {}
cases = [
    ("all", None), ("config", {"config.lr": 0.1}), ("summary", {"summary_metrics.best": {"$gte": 42}}),
    ("state", {"state": "finished"}), ("tags", {"tags": {"$in": ["b"]}}), ("none", {"config.lr": 7}),
]
for name, filters in cases:
    runs = api.runs(sys.argv[1], filters=filters)
    out[name] = sorted(r.id for r in runs)
for r in api.runs(sys.argv[1], per_page=1):
    out[r.id] = {
        "fields": [r.name, r.state, r.tags, r.notes, r.group, r.job_type],
        "config": r.config, "summary": json.loads(json.dumps(dict(r.summary), default=dict)),
        "history": r.history(pandas=False), "loss": r.history(keys=["loss"], pandas=False),
        "scan": list(r.scan_history()), "scan_loss": list(r.scan_history(keys=["loss"], page_size=2)),
        "frame": list(r.history().columns),
        "system": r.history(stream="system", pandas=False),
        "user": r.user.username, "created": r.created_at,
    }
out["len"] = len(api.runs(sys.argv[1]))
out["one"] = api.run(sys.argv[1] + "/" + r.id).config
try:
    list(api.runs(sys.argv[1], filters={"config.lr": {"$regex": "x"}}))
except Exception as exc:
    out["refused"] = str(exc)
print("RESULT" + json.dumps(out))
"""


def test_wandb_api_reads_runs_like_wakelog_api(server: ServerProcess, tmp_path: Path) -> None:
    """The real client's ``wandb.Api`` lists, filters and reads runs logged by wakelog's own SDK
    and sees what ``wakelog.Api`` sees, value by value."""
    project = "api-reads"
    for fail in (False, True):
        code = SCRIPT.replace("FAIL", str(fail)).replace("MODULE", "wakelog").replace("PROJECT", project)
        run_wakelog(server, tmp_path / f"wk-{fail}", code)
    done = run_wandb(server, tmp_path / "api", API_SCRIPT.replace("sys.argv[1]", f"'admin/{project}'"))
    assert done.returncode == 0, done.stderr
    import json

    got = json.loads(done.stdout.split("RESULT", 1)[1])
    api = _api(server)
    try:
        ours = {r.id: r for r in api.runs(f"admin/{project}")}
        ids = sorted(ours)
        finished = [i for i in ids if ours[i].state == "finished"]
        assert got["all"] == ids and len(ids) == 2
        assert got["config"] == ids and got["summary"] == ids and got["tags"] == ids
        assert got["state"] == finished and len(finished) == 1 and got["none"] == []
        assert "'$regex'" in got["refused"]
        assert got["len"] == 2 and got["one"] == ours[ids[0]].config  # one script: the same config
        for run_id, run in ours.items():
            theirs = got[run_id]
            assert theirs["fields"] == [run.name, run.state, run.tags, run.notes, run.group, run.job_type]
            assert theirs["config"] == run.config
            assert theirs["summary"] == json.loads(json.dumps(dict(run.summary)))
            rows = json.loads(json.dumps(list(run.scan_history())))
            assert theirs["scan"] == rows and theirs["history"] == rows  # fewer rows than samples
            loss = [{"_step": r["_step"], "loss": r["loss"]} for r in rows if "loss" in r]
            assert theirs["loss"] == loss and theirs["scan_loss"] == loss
            assert set(theirs["frame"]) == {k for r in rows for k in r}
            assert isinstance(theirs["system"], list) and theirs["user"] == "admin" and theirs["created"]
    finally:
        api.close()


#: define_metric beyond summary: a hidden step metric, a metric charted against it (step_sync,
#: summary), a glob with a step metric; the same calls through both clients.
METRICS_SCRIPT = """
import MODULE as wandb
run = wandb.init(project="PROJECT", id="metrics1")
run.define_metric("epoch", hidden=True)
run.define_metric("loss", step_metric="epoch", summary="min,max")
run.define_metric("train/*", step_metric="epoch")
for epoch in range(3):
    run.log({"epoch": epoch, "loss": 1.0 / (epoch + 1), "train/acc": epoch / 2})
run.finish()
"""


def test_define_metric_options_are_stored_like_wakelogs(server: ServerProcess, tmp_path: Path) -> None:
    """step_metric, step_sync, hidden and summary land in the run's metric definitions exactly as
    wakelog's SDK stores them, so the web app charts ``loss`` and ``train/*`` against ``epoch``."""
    by_wandb = run_wandb(
        server, tmp_path / "wandb", METRICS_SCRIPT.replace("MODULE", "wandb").replace("PROJECT", "metrics")
    )
    assert by_wandb.returncode == 0, by_wandb.stderr
    wakelog_code = METRICS_SCRIPT.replace("MODULE", "wakelog").replace("PROJECT", "metrics-wk")
    by_wakelog = run_wakelog(server, tmp_path / "wakelog", wakelog_code)
    assert by_wakelog.returncode == 0, by_wakelog.stderr
    with server.client() as client:
        theirs = client.get("/api/v1/runs/admin/metrics/metrics1").json()["metric_defs"]
        ours = client.get("/api/v1/runs/admin/metrics-wk/metrics1").json()["metric_defs"]
        keys = client.get("/api/v1/projects/admin/metrics/keys").json()
    assert theirs == ours
    assert theirs["epoch"]["hidden"] is True
    assert theirs["loss"] == {
        "name": "loss",
        "step_metric": "epoch",
        "step_sync": True,
        "hidden": False,
        "summary": ["min", "max"],
        "goal": None,
    }
    assert keys["step_metrics"] == {"loss": "epoch", "train/*": "epoch"}


def _wandb_ok(server: ServerProcess, tmp: Path, code: str, **env: str) -> subprocess.CompletedProcess:
    done = python("-c", textwrap.dedent(code), cwd=tmp, env=wandb_env(server, tmp, **env))
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.parametrize(
    ("mode", "exists", "says"),
    [
        ("must", False, "does not exist or has not been initialized"),
        ("never", True, "already exists, but your `resume` setting does not allow"),
    ],
)
def test_resume_must_and_never_fail_as_the_client_says(
    server: ServerProcess, tmp_path: Path, mode: str, exists: bool, says: str
) -> None:
    """The client decides from what the server answers about the run (``RunResumeStatus``):
    ``must`` of a run that is not there, ``never`` of one that is, stop with its own error and
    leave the server as it was."""
    run_id = f"resume-{mode}"
    if exists:
        _wandb_ok(
            server,
            tmp_path,
            f"import wandb\nrun = wandb.init(project='modes', id='{run_id}')\n"
            "run.log({'x': 1})\nrun.finish()\n",
        )
    code = f"import wandb\nwandb.init(project='modes', id='{run_id}', resume='{mode}')\n"
    done = run_wandb(server, tmp_path, code)
    assert done.returncode != 0 and says in done.stderr, done.stderr[-3000:]
    with server.client() as client:
        found = client.get(f"/api/v1/runs/admin/modes/{run_id}")
        if exists:
            rows = client.get(f"/api/v1/runs/admin/modes/{run_id}/history/rows").json()["rows"]
            assert found.json()["state"] == "finished" and [r["x"] for r in rows] == [1]
        else:
            assert found.status_code == 404, "nothing was created"


#: One script, run twice in one folder: the second time ``resume="auto"`` finds the run id in the
#: client's resume file (the first run failed) and goes on after its last step. wakelog's SDK
#: resumes only a run that did not end with "auto", so its side names the run (``"allow"``).
AUTO_SCRIPT = """
import sys
import MODULE as wandb
run = wandb.init(project="PROJECT", id=ID, resume=RESUME, config={"lr": 0.1, "phase": "one"})
if run.resumed:
    run.config.update({"phase": "two", "extra": 1}, allow_val_change=True)
for i in range(3):
    run.log({"x": 10 * run.resumed + i, "loss": 1.0 / (i + 1)})
run.summary["best"] = run.summary.get("best", 0) + 1
if not run.resumed:
    run.summary["first_only"] = "kept"
    sys.exit(3)  # the run ends badly: auto resumes it
run.finish()
"""


def test_resume_auto_goes_on_at_the_next_step_with_config_and_summary_merged(
    server: ServerProcess, tmp_path: Path
) -> None:
    got = {}
    sides = (("wandb", run_wandb, "None", "'auto'"), ("wakelog", run_wakelog, "'a1'", "'allow'"))
    for client, runner, run_id, resume in sides:
        project = f"auto-{client}"
        code = AUTO_SCRIPT.replace("MODULE", client).replace("PROJECT", project)
        code = code.replace("ID", run_id).replace("RESUME", resume)
        first = runner(server, tmp_path / client, code)
        assert first.returncode == 3, first.stderr[-3000:]
        second = runner(server, tmp_path / client, code)
        assert second.returncode == 0, second.stderr[-3000:]
        api = _api(server)
        try:
            run = _only_run(api, project)  # one run: the second start resumed it
            got[client] = {
                "state": (run.state, run.exit_code),
                "config": run.config,
                "summary": {k: v for k, v in dict(run.summary).items() if not k.startswith("_")},
                "history": [(r["_step"], r["x"]) for r in run.scan_history()],
            }
        finally:
            api.close()
    assert got["wandb"] == got["wakelog"]
    assert got["wandb"] == {
        "state": ("finished", 0),
        "config": {"lr": 0.1, "phase": "two", "extra": 1},
        "summary": {"x": 12, "loss": 1.0 / 3, "best": 2, "first_only": "kept"},
        "history": [(0, 0), (1, 1), (2, 2), (3, 10), (4, 11), (5, 12)],
    }


STOP_SCRIPT = """
import time, wandb
run = wandb.init(project="stop", id="stop1")
i = 0
try:
    while True:  # a training loop with no end: only the stop button ends it
        run.log({"i": i})
        i += 1
        time.sleep(0.1)  # (a sleep, not a spin: wandb's threads need the GIL)
except KeyboardInterrupt:
    print("STOPPED AT", i)
    raise
"""


def test_the_stop_button_stops_a_wandb_script(server: ServerProcess, tmp_path: Path) -> None:
    """``POST …/stop`` (the web app's stop button): the client sees ``stopped`` in its next
    file-stream answer, its stop checker (every 15 s, wandb's own) interrupts the script's main
    thread as W&B documents, and the run ends with what was logged up to then."""
    env = wandb_env(server, tmp_path, WANDB_X_FILE_STREAM_TRANSMIT_INTERVAL="1")
    script = subprocess.Popen(
        [sys.executable, "-c", STOP_SCRIPT],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: len(_steps_of(server)) >= 3, 120, interval=0.1, what="the first rows")
        with server.client() as client:
            assert client.post("/api/v1/runs/admin/stop/stop1/stop").status_code == 204
        out, err = script.communicate(timeout=120)
    finally:
        if script.poll() is None:
            script.kill()
            script.wait()
    assert script.returncode != 0 and "STOPPED AT" in out, err[-3000:]
    logged = int(out.split("STOPPED AT", 1)[1].split()[0])
    with server.client() as client:
        run = client.get("/api/v1/runs/admin/stop/stop1").json()
        rows = client.get("/api/v1/runs/admin/stop/stop1/history/rows", params={"page_size": 10_000}).json()
    assert (run["state"], run["exit_code"]) == ("failed", 255), run  # what the client reports
    # The interrupt may land after the row's log() and before the script counts it: one more row.
    seen = [row["i"] for row in rows["rows"]]
    assert seen == list(range(len(seen))) and len(seen) - logged in (0, 1), "every row up to the stop, once"


def _steps_of(server: ServerProcess) -> list[Any]:
    with server.client() as client:
        answer = client.get("/api/v1/runs/admin/stop/stop1/history/rows")
    return answer.json()["rows"] if answer.status_code == 200 else []


FORK_SCRIPT = """
import wandb
run = wandb.init(project="fork", id="parent1", config={"lr": 0.1})
for i in range(5):
    run.log({"x": i, "sq": i * i})
run.finish()
run = wandb.init(project="fork", id="child1", fork_from="parent1?_step=2", config={"lr": 0.2})
for i in range(2):
    run.log({"x": 100 + i})
run.finish()
"""


def test_fork_from_starts_with_the_parents_history(server: ServerProcess, tmp_path: Path) -> None:
    """``fork_from="<run>?_step=N"``: a new run holding the parent's rows up to N, then its own
    from N+1 on (the client's steps), its own config, its metadata naming the parent; the parent
    is unchanged."""
    done = run_wandb(server, tmp_path, FORK_SCRIPT)
    assert done.returncode == 0, done.stderr[-3000:]
    api = _api(server)
    try:
        runs = {r.id: r for r in api.runs("admin/fork")}
        parent, child = runs["parent1"], runs["child1"]
        parent_rows = [(r["_step"], r["x"], r.get("sq")) for r in parent.scan_history()]
        child_rows = [(r["_step"], r["x"], r.get("sq")) for r in child.scan_history()]
        assert parent_rows == [(i, i, i * i) for i in range(5)]
        assert child_rows == [*parent_rows[:3], (3, 100, None), (4, 101, None)]
        assert (child.config, child.state, parent.config, parent.state) == (
            {"lr": 0.2},
            "finished",
            {"lr": 0.1},
            "finished",
        )
    finally:
        api.close()
    with server.client() as client:
        metadata = client.get("/api/v1/runs/admin/fork/child1").json()["metadata"]
        assert metadata["forked_from"] == {"run": "parent1", "step": 2}  # the fork names its parent


#: Rewinding (``resume_from``) through either client: 10 rows, back to step 4, 3 new rows; the run
#: resumed, at the step after the rewound run's last; then the refusals the client reports (a step
#: the run has not logged, a run that is not there).
REWIND_SCRIPT = """
import MODULE as wandb
run = wandb.init(project="PROJECT", id="rw1", config={"lr": 0.1})
for i in range(10):
    run.log({"loss": 10.0 - i, "acc": i / 10, "seen": i})
run.finish()
run = wandb.init(project="PROJECT", resume_from="rw1?_step=4", config={"lr": 0.2})
print("STARTS AT", run.step)
for i in range(3):
    run.log({"loss": 100.0 + i, "acc": 0.9})
run.finish()
run = wandb.init(project="PROJECT", id="rw1", resume="allow")
run.log({"loss": 0.5})
run.finish()
for moment in ("rw1?_step=99", "missing?_step=0"):
    try:
        wandb.init(project="PROJECT", resume_from=moment)
    except Exception as exc:
        print("REFUSED", moment, exc)
"""


def test_resume_from_rewinds_a_run_like_wakelogs(server: ServerProcess, tmp_path: Path) -> None:
    """``resume_from="<run>?_step=N"`` through the stock client (``rewindRun``) and through
    ``import wakelog as wandb`` (``POST …/rewind``): the same run, value by value — rows 0..4 then
    the new ones at 5..7, nothing twice, the summary what the new rows set, the second config merged over
    the first; a step past the run's end and a missing run are refused by both."""
    results = {}
    for module, runner in (("wandb", run_wandb), ("wakelog", run_wakelog)):
        code = REWIND_SCRIPT.replace("MODULE", module).replace("PROJECT", f"rewind-{module}")
        done = runner(server, tmp_path / module, code)
        assert done.returncode == 0, done.stderr[-3000:]
        refused = [line for line in done.stdout.splitlines() if line.startswith("REFUSED")]
        assert len(refused) == 2 and "last step is 8" in refused[0], done.stdout[-3000:]
        results[module] = done.stdout
    api = _api(server)
    try:
        read = {}
        for module in results:
            run = _only_run(api, f"rewind-{module}")
            read[module] = {
                "history": _comparable(list(run.scan_history())),
                "summary": {k: v for k, v in run.summary.items() if k in ("loss", "acc", "seen")},
                "config": run.config,
                "state": run.state,
                "rewinds": [r["step"] for r in run.metadata["rewinds"]],
            }
    finally:
        api.close()
    assert read["wandb"] == read["wakelog"]
    history = read["wandb"]["history"]
    assert [(r["_step"], r["loss"], r.get("acc")) for r in history] == [
        *((i, 10.0 - i, i / 10) for i in range(5)),
        *((5 + i, 100.0 + i, 0.9) for i in range(3)),
        (8, 0.5, None),  # resumed: after the rewound run's last step (wakelog's SDK: from its run logs)
    ]
    assert [r.get("seen") for r in history] == [0, 1, 2, 3, 4, None, None, None, None]
    # as on W&B: the summary is what the run logged since the rewind ("seen" was logged before)
    assert read["wandb"]["summary"] == {"loss": 0.5, "acc": 0.9}
    assert (read["wandb"]["config"], read["wandb"]["state"], read["wandb"]["rewinds"]) == (
        {"lr": 0.2},
        "finished",
        [4],
    )
    assert "STARTS AT 5" in results["wakelog"]


#: Files of an artifact (``a.txt`` and the folder ``d``), logged as ``ds`` by each client.
ARTIFACT_FILES = {"a.txt": b"hello a\n", "d/x.txt": b"x\n", "d/sub/y.bin": bytes(range(256))}
LOG_ARTIFACT = """
import MODULE as wandb
run = wandb.init(project="PROJECT", id="RUN")
art = wandb.Artifact("NAME", type="dataset", description="the data", metadata={"rows": 3})
art.add_file("a.txt")
art.add_dir("d", name="dir")
run.log_artifact(art, aliases=ALIASES)
run.finish()
"""
USE_ARTIFACTS = """
import json, os
import wandb
run = wandb.init(project="PROJECT", id="user")
for name in ("ds:v0", "wk:latest"):
    artifact = run.use_artifact(name)
    root = artifact.download(root=os.path.join("dl", name.replace(":", "_")))
    print(name, artifact.version, json.dumps(sorted(artifact.aliases)), json.dumps(artifact.metadata))
run.finish()
"""


def _write_files(tmp: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(content)


def _log_artifact(module: str, run_id: str, name: str, aliases: list[str]) -> str:
    replaced = {"MODULE": module, "RUN": run_id, "NAME": name, "ALIASES": repr(aliases)}
    code = LOG_ARTIFACT
    for old, new in replaced.items():
        code = code.replace(old, new)
    return code


def _entries(client: Any, version: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/artifacts/{version}/manifest")
    assert answer.status_code == 200, answer.text
    return {path: (e["digest"], e["sha256"], e["size"]) for path, e in answer.json()["entries"].items()}


def test_artifacts_logged_and_used_through_the_wandb_client(server: ServerProcess, tmp_path: Path) -> None:
    """log_artifact (a file, a folder, aliases; the same content again deduplicated, new content a
    new version) and use_artifact + download() of a version it logged and of one wakelog's SDK
    logged: stored in wakelog's own artifact store like the SDK's, byte for byte, with lineage."""
    project = "artifacts"
    _write_files(tmp_path, ARTIFACT_FILES)
    for run_id, name in (("wk-logger", "wk"), ("wk-same", "ds-wk")):  # wakelog's SDK, same files
        code = _log_artifact("wakelog", run_id, name, ["best"]).replace("PROJECT", project)
        done = run_wakelog(server, tmp_path, code)
        assert done.returncode == 0, done.stderr
    steps = [("logger", ["best"]), ("again", ["again"])]
    for run_id, aliases in steps:  # the second: the same content, deduplicated
        done = run_wandb(
            server, tmp_path, _log_artifact("wandb", run_id, "ds", aliases).replace("PROJECT", project)
        )
        assert done.returncode == 0, done.stderr
    (tmp_path / "a.txt").write_bytes(b"changed\n")
    done = run_wandb(
        server, tmp_path, _log_artifact("wandb", "changer", "ds", []).replace("PROJECT", project)
    )
    assert done.returncode == 0, done.stderr
    used = run_wandb(server, tmp_path, USE_ARTIFACTS.replace("PROJECT", project))
    assert used.returncode == 0, used.stderr

    base = f"admin/{project}"
    with server.client() as client:
        versions = client.get(f"/api/v1/artifacts/{base}/ds/versions").json()
        assert [(v["version"], v["aliases"], v["run"]) for v in versions] == [
            ("v1", ["latest"], "changer"),
            ("v0", ["again", "best"], "logger"),
        ]
        v0, theirs = versions[1], client.get(f"/api/v1/artifacts/{base}/ds-wk:v0").json()
        same = ("digest", "size", "file_count", "description", "metadata", "type")
        assert {k: v0[k] for k in same} == {k: theirs[k] for k in same}, "indistinguishable from the SDK's"
        entries = _entries(client, f"{base}/ds:v0")
        assert entries == _entries(client, f"{base}/ds-wk:v0")
        for name, content in ARTIFACT_FILES.items():
            path = name.replace("d/", "dir/", 1)
            md5 = base64.b64encode(hashlib.md5(content).digest()).decode()
            assert entries[path] == (md5, hashlib.sha256(content).hexdigest(), len(content)), path
            stored = client.get(f"/api/v1/artifacts/{base}/ds:v0/files/{path}")
            assert stored.content == content
        changed = _entries(client, f"{base}/ds:v1")["a.txt"]
        assert changed[1] == hashlib.sha256(b"changed\n").hexdigest()
        lineage = {
            run: client.get(f"/api/v1/runs/{base}/{run}/artifacts").json()
            for run in ("logger", "again", "changer", "user")
        }
        named = {run: {k: [f"{v['name']}:{v['version']}" for v in vs] for k, vs in found.items()}
                 for run, found in lineage.items()}  # fmt: skip
        assert named["logger"] == {"logged": ["ds:v0"], "used": []}
        assert named["again"] == {"logged": ["ds:v0"], "used": []}
        assert named["changer"] == {"logged": ["ds:v1"], "used": []}
        assert named["user"] == {"logged": [], "used": ["ds:v0", "wk:v0"]}
        files = {f["name"] for f in client.get(f"/api/v1/runs/{base}/logger/files").json()["files"]}
        assert not [n for n in files if n.startswith("artifacts/")], "the staged uploads are gone"
    for version in ("ds_v0", "wk_latest"):  # downloaded by the wandb client, byte for byte
        for name, content in ARTIFACT_FILES.items():
            assert (tmp_path / "dl" / version / name.replace("d/", "dir/", 1)).read_bytes() == content
    assert 'ds:v0 v0 ["again", "best"] {"rows": 3}' in used.stdout, used.stdout
    assert 'wk:latest v0 ["best", "latest"] {"rows": 3}' in used.stdout, used.stdout


EDIT_ARTIFACT = """
import wandb
run = wandb.init(project="edits", id="editor")
art = wandb.Artifact("ds", type="dataset")
art.add_file("a.txt")
logged = run.log_artifact(art, aliases=["one"])
logged.wait()
logged.aliases.append("two")
logged.description = "described later"
logged.metadata = {"rows": 3}
logged.save()
logged.aliases.remove("one")
logged.save()
print("ALIASES", sorted(logged.aliases))
linked = run.link_artifact(logged, "models", aliases=["prod"])
print("LINKED", linked.name, linked.aliases)
linked.aliases.append("staging")
linked.save()
print("LINK SAVED", sorted(linked.aliases))
try:
    run.link_artifact(logged, "wandb-registry-model/reg")
except Exception as exc:
    print("REGISTRY REFUSED", exc)
run.finish()
"""


def test_artifact_aliases_edits_and_links_through_the_wandb_client(
    server: ServerProcess, tmp_path: Path
) -> None:
    """``aliases.append/remove`` + ``save()`` after logging (with ``description``/``metadata``),
    then ``run.link_artifact`` into a collection and an alias added to the link: the version's
    aliases, description and metadata, and wakelog's registry collection, as the client left them."""
    _write_files(tmp_path, {"a.txt": b"edited\n"})
    done = run_wandb(server, tmp_path, EDIT_ARTIFACT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ALIASES ['latest', 'two']" in done.stdout, done.stdout[-2000:]
    assert "LINKED models:v0 ['prod']" in done.stdout, done.stdout[-2000:]
    assert "LINK SAVED ['prod', 'staging']" in done.stdout, done.stdout[-2000:]
    # wakelog has no organizations: the client's own message for a wandb-registry-* path
    assert "REGISTRY REFUSED Unable to find organization" in done.stdout, done.stdout[-2000:]
    with server.client() as client:
        version = client.get("/api/v1/artifacts/admin/edits/ds:v0").json()
        assert (version["aliases"], version["description"], version["metadata"]) == (
            ["latest", "two"],
            "described later",
            {"rows": 3},
        )
        linked = client.get("/api/v1/registry/admin/models").json()
        assert [(v["name"], v["version"], v["registry_aliases"]) for v in linked] == [
            ("ds", "v0", ["prod", "staging"])
        ]


#: Logged by wakelog's SDK: ``ds`` v0-v2 (``best`` on v0) and ``net`` (a model) by run ``maker``;
#: run ``user`` uses ``ds:v0``.
LIST_LOG = """
import wakelog
for i in range(3):
    run = wakelog.init(project="listings", id=f"maker-{i}" if i else "maker")
    with open("l.txt", "w") as f:
        f.write(f"version {i}\\n")
    art = wakelog.Artifact("ds", type="dataset", metadata={"i": i})
    art.add_file("l.txt")
    run.log_artifact(art, aliases=["best"] if i == 0 else [])
    if i == 0:
        net = wakelog.Artifact("net", type="model")
        net.add_file("l.txt")
        run.log_artifact(net)
    run.finish()
run = wakelog.init(project="listings", id="user")
run.use_artifact("ds:v0")
run.finish()
"""
LIST_READ = """
import json, os
import wandb
api = wandb.Api(overrides={"base_url": os.environ["WANDB_BASE_URL"]})
P = "admin/listings"
def versions(found):
    return [{"version": a.version, "aliases": sorted(a.aliases), "metadata": a.metadata, "digest": a.digest,
             "size": a.size} for a in found]
out = {"types": [t.name for t in api.artifact_types(P)]}
kind = api.artifact_type("dataset", P)
out["type"] = [kind.name, [c.name for c in kind.collections()]]
out["collections"] = [(c.name, c.type) for c in api.artifact_collections(P, "dataset")]
collection = api.artifact_collection("dataset", P + "/ds")
out["collection"] = [collection.name, collection.type, collection.description, sorted(collection.aliases),
                     [a.version for a in collection.artifacts()]]
listed = api.artifacts("dataset", P + "/ds", per_page=1)
out["versions"] = versions(listed)
out["len"] = len(listed)
out["deprecated"] = [a.version for a in api.artifact_versions("dataset", P + "/ds")]
root = api.artifacts("dataset", P + "/ds")[0].download(root="dl")
out["downloaded"] = open(os.path.join(root, "l.txt")).read()
out["logged"] = [a.name for a in api.run(P + "/maker").logged_artifacts()]
out["used"] = versions(api.run(P + "/user").used_artifacts())
print("RESULT" + json.dumps(out))
"""


def test_wandb_api_lists_artifacts_like_wakelog_api(server: ServerProcess, tmp_path: Path) -> None:
    """The real client's ``wandb.Api`` lists artifact types, collections, a collection's versions
    (paged, newest first, a trashed one left out; the newest downloaded) and a run's logged and
    used artifacts, as ``wakelog.Api`` and the REST API see them."""
    logged = run_wakelog(server, tmp_path, LIST_LOG)
    assert logged.returncode == 0, logged.stderr[-3000:]
    with server.client() as client:  # v1 to the trash: listed nowhere
        assert client.delete("/api/v1/artifacts/admin/listings/ds:v1").status_code == 204
    done = run_wandb(server, tmp_path / "read", LIST_READ)
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    got = json.loads(done.stdout.split("RESULT", 1)[1])
    api = _api(server)
    try:
        ours = api.artifact_versions("dataset", "admin/listings/ds")
        expected = [
            {"version": a.version, "aliases": sorted(a.aliases), "metadata": a.metadata, "digest": a.digest,
             "size": a.size}
            for a in ours
        ]  # fmt: skip
        assert [v["version"] for v in expected] == ["v2", "v0"]
        assert got["versions"] == expected and got["len"] == 2
        assert got["deprecated"] == ["v2", "v0"] and got["collection"][4] == ["v2", "v0"]
        assert got["downloaded"] == "version 2\n"
        assert got["types"] == ["dataset", "model"] and got["type"] == ["dataset", ["ds"]]
        assert got["collections"] == [["ds", "dataset"]]
        assert got["collection"][:4] == ["ds", "dataset", None, ["best", "latest"]]
        assert got["logged"] == [a.name for a in api.run("admin/listings/maker").logged_artifacts()]
        assert got["logged"] == ["ds:v0", "net:v0"]
        used = api.run("admin/listings/user").used_artifacts()
        assert got["used"] == [
            {"version": a.version, "aliases": sorted(a.aliases), "metadata": a.metadata, "digest": a.digest,
             "size": a.size}
            for a in used
        ] and len(used) == 1  # fmt: skip
    finally:
        api.close()


#: Just over the server's default body limit (64 MiB): it comes in one PUT, streamed to disk.
BIG_FILE = 64 * 2**20 + 1
BIG_ARTIFACT = """
import hashlib, sys
import wandb
run = wandb.init(project="big", id=sys.argv[1])
if sys.argv[1] == "logger":
    art = wandb.Artifact("weights", type="model")
    art.add_file("big.bin")
    run.log_artifact(art).wait()
else:
    path = run.use_artifact("weights:latest").download(root="dl")
    print("SHA256", hashlib.sha256(open(path + "/big.bin", "rb").read()).hexdigest())
run.finish()
"""


def test_an_artifact_file_over_64_mib_through_the_wandb_client(server: ServerProcess, tmp_path: Path) -> None:
    """The client sends each artifact file in one PUT (wandb-core asks for multipart URLs only
    from 2 GiB on, and the server hands out none): one past the old 64 MiB body limit is stored,
    its entry the SDK's, and downloaded back byte for byte."""
    block = hashlib.sha256(b"seed").digest() * (2**20 // 32)  # 1 MiB, not all zeros
    content = block * 64 + b"!"
    assert len(content) == BIG_FILE
    (tmp_path / "big.bin").write_bytes(content)
    for run_id in ("logger", "reader"):
        done = python("-c", BIG_ARTIFACT, run_id, cwd=tmp_path, env=wandb_env(server, tmp_path))
        assert done.returncode == 0, done.stderr[-3000:]
    sha256 = hashlib.sha256(content).hexdigest()
    assert f"SHA256 {sha256}" in done.stdout, done.stdout[-2000:]
    with server.client() as client:
        entries = _entries(client, "admin/big/weights:v0")
    md5 = base64.b64encode(hashlib.md5(content).digest()).decode()
    assert entries == {"big.bin": (md5, sha256, BIG_FILE)}


#: wandb-core's multipart threshold (a constant in the client: files from 2 GiB on).
MULTIPART_THRESHOLD = 2 << 30
HUGE_ARTIFACT = """
import wandb
run = wandb.init(project="huge", id="huge1")
art = wandb.Artifact("huge", type="model")
art.add_file("huge.bin")
run.log_artifact(art).wait()
run.finish()
"""


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("WAKELOG_TEST_HUGE") != "1",
    reason="writes 2 GiB twice and takes about two minutes; WAKELOG_TEST_HUGE=1 runs it",
)
def test_an_artifact_file_past_the_clients_multipart_threshold(server: ServerProcess, tmp_path: Path) -> None:
    """From 2 GiB on the client asks for multipart upload URLs; the server hands out none and
    the client sends the file in one PUT, streamed to the blob store (a sparse file: zeros).
    About two minutes on the test machine: the client hashes, caches and uploads 2 GiB, the server
    hashes and stores it."""
    size = MULTIPART_THRESHOLD + 1
    with open(tmp_path / "huge.bin", "wb") as f:
        f.truncate(size)
    done = python("-c", HUGE_ARTIFACT, cwd=tmp_path, env=wandb_env(server, tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    digest = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    with open(tmp_path / "huge.bin", "rb") as f:
        while block := f.read(2**24):
            digest.update(block)
            sha256.update(block)
    with server.client() as client:
        entries = _entries(client, "admin/huge/huge:v0")
    md5 = base64.b64encode(digest.digest()).decode()
    assert entries == {"huge.bin": (md5, sha256.hexdigest(), size)}


#: Tags and a TTL at log time, a link taken back, then tags and TTL changed outside the run
#: (``wandb.Api().artifact(…)``), as wandb's docs show them.
LIFECYCLE_LOG = """
import datetime, json, wandb
run = wandb.init(project="lifecycle", id="life")
art = wandb.Artifact("ds", type="dataset")
art.add_file("a.txt")
art.ttl = datetime.timedelta(days=3)
logged = run.log_artifact(art, aliases=["best"], tags=["raw", "from camera"])
logged.wait()
print("LOGGED", json.dumps([sorted(logged.tags), logged.ttl.total_seconds()]))
again = wandb.Artifact("ds", type="dataset")
again.add_file("b.txt")
second = run.log_artifact(again, tags=["second"])
second.wait()
linked = run.link_artifact(second, "lifecycle-models", aliases=["prod"])
print("LINKED", linked.is_link, linked.aliases)
linked.unlink()
run.finish()
run = wandb.init(entity="TEAM", project="lifecycle", id="team-run")
held = wandb.Artifact("held", type="dataset")
held.add_file("a.txt")
run.log_artifact(held).wait()
run.finish()
api = wandb.Api()
v0 = api.artifact("admin/lifecycle/ds:v0")
v0.tags = ["clean", "from camera"]
v0.ttl = datetime.timedelta(hours=5)
v0.save()
read = api.artifact("admin/lifecycle/ds:v0")
print("SAVED", json.dumps([sorted(read.tags), read.ttl.total_seconds()]))
v1 = api.artifact("admin/lifecycle/ds:v1")
v1.ttl = datetime.timedelta(hours=1)
v1.save()
v1.ttl = None
v1.save()
print("NO TTL", api.artifact("admin/lifecycle/ds:v1").ttl)
"""
#: Deleting: refused while the version holds aliases, then with delete_aliases=True; a viewer of
#: the team may do neither.
LIFECYCLE_DELETE = """
import sys, wandb
api = wandb.Api()
if sys.argv[1] == "viewer":
    held = api.artifact("TEAM/lifecycle/held:v0")
    for name, change in (("DELETE", lambda: held.delete(delete_aliases=True)),
                         ("TAGS", lambda: (setattr(held, "tags", ["mine"]), held.save()))):
        try:
            change()
            print(name, "DONE")
        except Exception as exc:
            print(name, "REFUSED", type(exc).__name__, exc)
    sys.exit(0)
try:
    api.artifact("admin/lifecycle/ds:v0").delete()
    print("PLAIN DONE")
except Exception as exc:
    print("PLAIN REFUSED", type(exc).__name__, exc)
api.artifact("admin/lifecycle/ds:v0").delete(delete_aliases=True)
print("DELETED")
try:
    api.artifact("admin/lifecycle/ds:v0")
    print("STILL THERE")
except Exception as exc:
    print("UNKNOWN", type(exc).__name__, exc)
"""


def _viewer_of(server: ServerProcess, team: str, name: str) -> str:
    """A user with the viewer role in ``team`` (made here); returns their key, as the client writes it."""
    with server.client() as admin:
        assert admin.post("/api/v1/entities", json={"name": team}).status_code in (200, 201)
        assert admin.post("/api/v1/users", json={"username": name}).status_code == 201
        key = admin.post("/api/v1/keys", json={"user": name}).json()["key"]
        role = admin.put(f"/api/v1/entities/{team}/members/{name}", json={"role": "viewer"})
        assert role.status_code == 200, role.text
    return "local-" + str(key)


def _artifact_lifecycle(server: ServerProcess, tmp: Path, team: str) -> None:
    _write_files(tmp, {"a.txt": b"lifecycle a\n", "b.txt": b"lifecycle b\n"})
    viewer = _viewer_of(server, team, f"{team}-viewer")
    done = run_wandb(server, tmp, LIFECYCLE_LOG.replace("TEAM", team))
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'LOGGED [["from camera", "raw"], 259200.0]' in done.stdout, done.stdout[-2000:]
    assert "LINKED True ['prod']" in done.stdout, done.stdout[-2000:]
    assert 'SAVED [["clean", "from camera"], 18000.0]' in done.stdout, done.stdout[-2000:]
    assert "NO TTL None" in done.stdout, done.stdout[-2000:]
    # the same tags and TTL at log time through wakelog's SDK: the same version fields
    same = LIFECYCLE_LOG.split("again = ", maxsplit=1)[0].replace(
        "import datetime, json, wandb", "import datetime, json"
    )
    same = "import wakelog as wandb\n" + same.replace(
        'project="lifecycle", id="life"', 'project="lifecycle-wk"'
    )
    _write_files(tmp / "wk", {"a.txt": b"lifecycle a\n"})
    done = run_wakelog(server, tmp / "wk", same + "run.finish()\n")
    assert done.returncode == 0, done.stderr[-3000:]
    assert 'LOGGED [["from camera", "raw"], 259200.0]' in done.stdout, done.stdout[-2000:]
    with server.client() as client:
        theirs, ours = (
            client.get(f"/api/v1/artifacts/admin/{p}/ds:v0").json() for p in ("lifecycle", "lifecycle-wk")
        )
        fields = ("digest", "size", "file_count")
        assert {k: theirs[k] for k in fields} == {k: ours[k] for k in fields}
        # what the client logged (its v0 was edited since: its log-time values are in LOGGED above)
        assert (sorted(ours["tags"]), ours["ttl"], ours["aliases"]) == (
            ["from camera", "raw"], 3 * 86400, ["best", "latest"],
        )  # fmt: skip
    api = _api(server)
    try:  # what the client set, read back through wakelog's own Api and REST API
        v0, v1 = (api.artifact(f"admin/lifecycle/ds:v{i}") for i in (0, 1))
        assert (v0.tags, v0.ttl, sorted(v0.aliases)) == (
            ["from camera", "clean"],
            timedelta(hours=5),
            ["best"],
        )
        assert (v1.tags, v1.ttl, v1.aliases) == (["second"], None, ["latest"])
    finally:
        api.close()
    with server.client() as client:
        assert client.get("/api/v1/registry/admin/lifecycle-models").json() == [], "unlinked"
        assert client.get("/api/v1/artifacts/admin/lifecycle/ds:v0").json()["ttl"] == 5 * 3600

    deleting = python(
        "-c", LIFECYCLE_DELETE.replace("TEAM", team), "admin", cwd=tmp, env=wandb_env(server, tmp)
    )
    assert deleting.returncode == 0, deleting.stderr[-3000:]
    out = deleting.stdout
    assert "PLAIN REFUSED CommError cannot delete admin/lifecycle/ds:v0: it has aliases (best)" in out, out
    assert "DELETED" in out and "UNKNOWN CommError" in out and "not found" in out, out
    as_viewer = python(
        "-c", LIFECYCLE_DELETE.replace("TEAM", team), "viewer", cwd=tmp, env=wandb_env(server, tmp, viewer)
    )
    assert as_viewer.returncode == 0, as_viewer.stderr[-3000:]
    assert "DELETE REFUSED CommError" in as_viewer.stdout and "member" in as_viewer.stdout, as_viewer.stdout
    assert "TAGS REFUSED CommError" in as_viewer.stdout, as_viewer.stdout
    with server.client() as client:
        assert client.get("/api/v1/artifacts/admin/lifecycle/ds:v0").status_code == 404
        assert client.get("/api/v1/artifacts/admin/lifecycle/ds:best").status_code == 404
        assert client.get("/api/v1/artifacts/admin/lifecycle/ds:v1").json()["aliases"] == ["latest"]
        held = client.get(f"/api/v1/artifacts/{team}/lifecycle/held:v0").json()
        assert (held["aliases"], held["tags"]) == (["latest"], []), "the viewer changed nothing"


def test_artifact_tags_ttl_unlink_and_delete_through_the_wandb_client(
    server: ServerProcess, tmp_path: Path
) -> None:
    """Tags and a TTL at log time and with ``artifact.save()`` outside the run, ``unlink()`` of a
    linked version, ``delete()`` refused while the version holds an alias and done with
    ``delete_aliases=True``, an unknown artifact, and a viewer refused: as wakelog's Api and
    REST API read them back."""
    _artifact_lifecycle(server, tmp_path, "lifeteam")


def test_artifact_tags_ttl_unlink_and_delete_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The same on a server on PostgreSQL."""
    if not (CLIENT / "wandb" / "__init__.py").exists():
        pytest.skip(f"the wandb client is not installed in {CLIENT}")
    database = fresh_database(request.getfixturevalue("postgres_url"))
    db_upgrade(database)
    server = start_server(tmp_path, "--min-free", "0", backend="postgres", database_url=database)
    try:
        _artifact_lifecycle(server, tmp_path, "lifeteam")
    finally:
        server.stop()


def test_a_web_edit_during_a_stock_wandb_run_survives_its_later_updates(
    server: ServerProcess, tmp_path: Path
) -> None:
    """A web edit of a live run's name and tags stays while the stock client goes on (config
    changes, logs, the end): the client sends them only when the script sets them."""
    code = (
        textwrap.dedent(
            """
        import json, time, urllib.request, wandb
        run = wandb.init(project="edits", id="edit1", name="from-init", tags=["sdk"], notes="n")
        run.log({"x": 1})
        url = "URL/api/v1/runs/admin/edits/edit1"
        headers = {"Authorization": "Bearer KEY", "Content-Type": "application/json"}
        deadline = time.time() + 60
        while True:  # the run reaches the server through the client's own thread
            try:
                urllib.request.urlopen(urllib.request.Request(url, headers=headers))
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        body = json.dumps({"name": "edited", "tags": ["ui"]}).encode()
        urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="PATCH"))
        run.config.update({"later": 1})
        run.summary["best"] = 3
        for i in range(3):
            run.log({"x": 2 + i})
        run.finish()
        """
        )
        .replace("URL", server.url)
        .replace("KEY", server.key)
    )
    done = run_wandb(server, tmp_path, code)
    assert done.returncode == 0, done.stderr
    with server.client() as client:
        run = client.get("/api/v1/runs/admin/edits/edit1").json()
    assert (run["name"], run["tags"], run["notes"], run["state"]) == ("edited", ["ui"], "n", "finished")
