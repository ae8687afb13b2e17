"""init(): modes, run folders, ids, reinit, resume, context manager, module state."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import wakelog
from tests.conftest import history, records, user_keys
from wakelog.errors import UsageError
from wakelog.runlog import RecordType, find_runlog, read_runlog


def test_offline_run_folder_layout(tmp_path: Path) -> None:
    run = wakelog.init(project="p", name="first", mode="offline", notes="n", group="g", job_type="train")
    assert run.run_dir.parent == tmp_path / "wakelog"
    assert run.run_dir.name.startswith("offline-run-") and run.run_dir.name.endswith(f"-{run.id}")
    assert (tmp_path / "wakelog" / "latest-run").resolve() == run.run_dir
    assert run.dir == str(run.run_dir / "files")
    run.finish()
    assert {p.name for p in run.run_dir.iterdir()} >= {
        f"run-{run.id}.wakelog",
        "files",
        "output.log",
        "summary.json",
    }
    (identity,) = [r.data for r in records(run.run_dir, "run")]
    assert identity["project"] == "p" and identity["name"] == "first" and identity["group"] == "g"
    assert records(run.run_dir, "exit")[0].data["state"] == "finished"


def test_online_mode_without_a_key_records_locally_and_says_how_to_sync() -> None:
    with pytest.warns(RuntimeWarning, match="no API key for http://127.0.0.1:8080.*wakelog sync"):
        run = wakelog.init(project="p", entity="team", mode="online")
    assert run.run_dir.name.startswith("run-") and run._uploader is None
    assert run.url == f"http://127.0.0.1:8080/team/p/runs/{run.id}"


def test_disabled_mode_has_the_full_api_and_writes_nothing(tmp_path: Path) -> None:
    run = wakelog.init(mode="disabled", config={"lr": 1})
    run.log({"a": 1})
    run.log({"b": 2}, step=10)
    run.define_metric("a", summary="max")
    run.summary["x"] = 1
    run.alert("t", "x")
    assert run.save("nothing") == []
    assert run.config.lr == 1 and run.summary["x"] == 1 and run.disabled
    run.finish()
    assert not (tmp_path / "wakelog").exists()


def test_context_manager_finishes_and_records_failures() -> None:
    with wakelog.init(mode="offline") as run:
        run.log({"a": 1})
    assert run.finished and wakelog.run is None
    with pytest.raises(ValueError), wakelog.init(mode="offline") as failing:
        raise ValueError("boom")
    exit_record = records(failing.run_dir, "exit")[0].data
    assert exit_record["state"] == "failed" and exit_record["exit_code"] == 1
    assert "ValueError: boom" in exit_record["traceback"]


def test_module_level_functions_follow_the_current_run() -> None:
    with pytest.raises(UsageError, match="init"):
        wakelog.log({"a": 1})
    run = wakelog.init(mode="offline")
    assert wakelog.run is run and wakelog.config is run.config and wakelog.summary is run.summary
    wakelog.define_metric("a", summary="max")
    wakelog.log({"a": 2})
    wakelog.alert("title", "text", level="WARN")
    wakelog.finish()
    assert wakelog.run is None and wakelog.config is None
    assert records(run.run_dir, "alert")[0].data == {
        "title": "title",
        "text": "text",
        "level": "WARN",
        "wait_duration": None,
    }


def test_reinit_default_returns_the_active_run() -> None:
    first = wakelog.init(mode="offline")
    assert wakelog.init(mode="offline") is first


def test_reinit_finish_previous_and_true() -> None:
    first = wakelog.init(mode="offline")
    second = wakelog.init(mode="offline", reinit="finish_previous")
    assert first.finished and not second.finished and wakelog.run is second
    third = wakelog.init(mode="offline", reinit=True)
    assert second.finished and wakelog.run is third


def test_reinit_create_new_keeps_two_runs_apart() -> None:
    first = wakelog.init(mode="offline", name="a")
    second = wakelog.init(mode="offline", name="b", reinit="create_new")
    first.log({"x": 1})
    second.log({"y": 2})
    assert wakelog.run is second
    second.finish()
    assert wakelog.run is first
    first.finish()
    assert [user_keys(r) for r in history(first.run_dir)] == [{"x": 1}]
    assert [user_keys(r) for r in history(second.run_dir)] == [{"y": 2}]


def test_bad_reinit_value() -> None:
    with pytest.raises(UsageError, match="reinit"):
        wakelog.init(mode="offline", reinit="sometimes")


@pytest.mark.parametrize("bad_id", ["a/b", "a b", "x:y", "", "q?", "#1", "a" * 129])
def test_invalid_run_ids_are_refused(bad_id: str) -> None:
    with pytest.raises(UsageError, match="run id"):
        wakelog.init(mode="offline", id=bad_id)


def test_resume_allow_continues_steps_config_and_summary() -> None:
    first = wakelog.init(mode="offline", id="myrun01", config={"lr": 0.1})
    for i in range(3):
        first.log({"loss": 3 - i})
    first.finish()
    second = wakelog.init(mode="offline", id="myrun01", resume="allow")
    assert second.resumed and second.step == 3 and second.starting_step == 3
    assert second.config.lr == 0.1 and second.summary["loss"] == 1
    second.log({"loss": 0.5})
    second.finish()
    # A resumed part gets its own folder (or continues the log when started in the same second).
    parts = sorted({first.run_dir, second.run_dir})
    assert [r["_step"] for part in parts for r in history(part)] == [0, 1, 2, 3]
    seqs = [r.seq for part in parts for r in records(part)]
    assert seqs == list(range(len(seqs))), "sequence numbers continue across the resumed parts"


def test_resume_allow_without_a_previous_run_starts_fresh() -> None:
    run = wakelog.init(mode="offline", id="fresh01", resume="allow")
    assert not run.resumed and run.step == 0


def test_resume_must_and_never() -> None:
    with pytest.raises(UsageError, match="no run with id 'ghost'"):
        wakelog.init(mode="offline", id="ghost", resume="must")
    with pytest.raises(UsageError, match="needs the id"):
        wakelog.init(mode="offline", resume="must")
    wakelog.init(mode="offline", id="taken01").finish()
    with pytest.raises(UsageError, match="already exists"):
        wakelog.init(mode="offline", id="taken01", resume="never")
    with pytest.raises(UsageError, match="resume='allow'"):
        wakelog.init(mode="offline", id="taken01")
    assert wakelog.init(mode="offline", id="taken01", resume="must").resumed


def test_resume_auto_picks_up_a_crashed_latest_run() -> None:
    crashed = wakelog.init(mode="offline")
    crashed.log({"a": 1})
    crashed._writer.close()  # the process "died": no exit record
    from wakelog.sdk._init import _forget

    _forget(crashed)
    resumed = wakelog.init(mode="offline", resume="auto")
    assert resumed.id == crashed.id and resumed.step == 1


def test_unknown_and_unsupported_arguments() -> None:
    with pytest.raises(TypeError, match="colour"):
        wakelog.init(mode="offline", colour="red")
    with pytest.raises(TypeError, match="magic"):  # wandb 0.28's init no longer takes it
        wakelog.init(mode="offline", magic=True)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"mode": "offline", "resume_from": "abc?_step=3"}, "needs the server"),
        ({"resume_from": "abc?epoch=3"}, "_step only"),
        ({"resume_from": "abc"}, "<run id>?_step=<step>"),
        ({"resume_from": "abc?_step=-1"}, "whole number"),
        ({"resume_from": "abc?_step=1.5"}, "whole number"),
        ({"resume_from": "abc?_step=2", "resume": "allow"}, "mutually exclusive"),
        ({"resume_from": "abc?_step=2", "id": "other"}, "differ"),
    ],
)
def test_resume_from_is_refused_before_any_request_when_it_cannot_be(
    arguments: dict[str, object], says: str
) -> None:
    """``resume_from`` (a rewind, which the server does) is checked as wandb checks it; nothing is
    asked of a server (none is configured here) and no run starts."""
    with pytest.raises(UsageError, match=re.escape(says)):
        wakelog.init(**arguments)
    assert wakelog.run is None


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"fork_from": "abc?epoch=3"}, "init(fork_from=…): a run branches by _step only"),
        ({"fork_from": "abc"}, "init: fork_from must look like '<run id>?_step=<step>'"),
        ({"fork_from": 3}, "init: fork_from must look like"),
        ({"fork_from": "abc?_step=-1"}, "init(fork_from=…): the step must be a whole number"),
        ({"fork_from": "abc?_step=1.5"}, "init(fork_from=…): the step must be a whole number"),
        ({"fork_from": "abc?_step=2", "resume": "allow"}, "resume and fork_from are mutually exclusive"),
        (
            {"fork_from": "abc?_step=2", "resume_from": "abc?_step=2"},
            "fork_from and resume_from are mutually",
        ),
        ({"fork_from": "abc?_step=2", "id": "abc"}, "its id cannot be fork_from's run 'abc'"),
    ],
)
def test_fork_from_is_refused_before_any_request_when_it_cannot_be(
    arguments: dict[str, object], says: str
) -> None:
    """``fork_from`` is checked as wandb checks it, by the parser ``resume_from`` shares (its
    messages name the option given); nothing is asked of a server and no run starts."""
    with pytest.raises(UsageError, match=re.escape(says)):
        wakelog.init(**arguments)
    assert wakelog.run is None


def test_an_offline_fork_logs_from_the_step_after_its_fork_point_and_its_run_log_names_the_parent() -> None:
    """As in wandb, a fork's own first row is step N+1; the run log's first record (the run's)
    names the parent for the server to copy from when the run is synced."""
    run = wakelog.init(mode="offline", id="child01", fork_from="parent01?_step=3")
    assert run.id == "child01" and run.step == 4
    run.log({"x": 1})
    run.finish()
    records = read_runlog(find_runlog(Path(run.run_dir))).records
    assert (records[0].seq, records[0].type) == (0, RecordType.RUN)
    assert records[0].data["fork_from"] == {"run": "parent01", "step": 3}
    assert [r.data["_step"] for r in records if r.type == RecordType.HISTORY] == [4]
    resumed = wakelog.init(mode="offline", id="child01", resume="allow")  # not a fork again
    assert resumed.step == 5
    resumed.finish()
    again = read_runlog(find_runlog(Path(resumed.run_dir))).records
    assert all("fork_from" not in r.data for r in again if r.type == RecordType.RUN and r.seq > 0)


def test_identity_changes_are_recorded() -> None:
    run = wakelog.init(mode="offline", name="before")
    run.name = "after"
    run.tags = ["a", "b"]
    run.notes = "why"
    run.finish()
    updates = [r.data for r in records(run.run_dir, "run")][1:]
    assert {k: v for u in updates for k, v in u.items() if k not in ("id", "update")} == {
        "name": "after",
        "tags": ["a", "b"],
        "notes": "why",
    }


@pytest.mark.parametrize(
    ("env", "records_here"),
    [
        ({"PADDLE_TRAINER_ID": "1", "PADDLE_TRAINERS_NUM": "2"}, False),
        ({"RANK": "0", "WORLD_SIZE": "4"}, True),
    ],
)
def test_only_global_rank_zero_records_by_default(
    monkeypatch: pytest.MonkeyPatch, env: dict, records_here: bool
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    run = wakelog.init(mode="offline")
    run.log({"a": 1})
    assert run.disabled is not records_here


def test_distributed_all_gives_each_rank_a_run_in_one_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PADDLE_TRAINER_ID", "1")
    monkeypatch.setenv("PADDLE_TRAINERS_NUM", "2")
    monkeypatch.setenv("PADDLE_MASTER", "127.0.0.1:6170")
    run = wakelog.init(mode="offline", name="job", settings={"distributed": "all"})
    assert not run.disabled and run.name == "job-rank1" and run.group and run.group.startswith("dist-")
    monkeypatch.setenv("PADDLE_TRAINER_ID", "0")
    other = wakelog.init(mode="offline", name="job", settings={"distributed": "all"}, reinit="create_new")
    assert other.group == run.group and other.id != run.id


def test_unwritable_dir_falls_back_to_a_temporary_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be")
    with pytest.warns(RuntimeWarning, match="cannot write run folder"):
        run = wakelog.init(mode="offline", dir=str(blocker))
    assert not run.disabled and "wakelog-fallback" in str(run.run_dir)
    run.log({"a": 1})
    run.finish()
    assert [user_keys(r) for r in history(run.run_dir)] == [{"a": 1}]


def test_read_only_file_system_still_trains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", "/proc/no-such-place")
    with pytest.warns(RuntimeWarning) as caught:
        run = wakelog.init(mode="offline", dir="/proc/wakelog-cannot-write-here")
    assert run.disabled and "not recorded" in str(caught[-1].message)
    run.log({"a": 1})
    run.finish()
    assert os.path.exists("/proc/wakelog-cannot-write-here") is False


def test_disabled_run_starts_no_threads_and_opens_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setenv("WAKELOG_DISABLE_STATS", "false")
    monkeypatch.setenv("WAKELOG_CONSOLE", "wrap")
    before = threading.active_count()
    run = wakelog.init(mode="disabled")
    for i in range(1000):
        run.log({"i": i})
    assert threading.active_count() == before
    run.finish()
    assert not (tmp_path / "wakelog").exists()
