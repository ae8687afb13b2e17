"""What a run records alongside the training: metadata files, system metrics, console output."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import wakelog
from tests._env import child_env
from tests.conftest import records
from tests.harness import wait_until
from wakelog.runlog import find_runlog, read_runlog
from wakelog.sdk._local_runs import run_dirs


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_metadata_requirements_diff_and_code_are_written(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "dev")
    git(tmp_path, "remote", "add", "origin", "https://user:hunter2@git.example.com/team/repo.git")
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import wakelog
            run = wakelog.init(mode="offline", save_code=True, config={"lr": 0.1})
            run.log({"loss": 1.0})
            run.finish()
            """
        )
    )
    git(tmp_path, "add", "train.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    script.write_text(script.read_text() + "# tuned\n")
    env = child_env(WAKELOG_CONSOLE=None)
    subprocess.run([sys.executable, str(script), "--epochs", "3"], cwd=tmp_path, env=env, check=True)
    (run_dir,) = run_dirs(tmp_path)
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["args"] == ["--epochs", "3"]
    assert metadata["git"]["branch"] == "main" and metadata["git"]["dirty"] is True
    assert "hunter2" not in json.dumps(metadata)
    files = run_dir / "files"  # where saved files go, so that they are uploaded like them
    assert "# tuned" in (files / "diff.patch").read_text()
    assert "numpy==" in (files / "requirements.txt").read_text()
    assert (files / "code" / "train.py").read_text() == script.read_text()
    (listed,) = records(run_dir, "files")
    assert {f["name"] for f in listed.data["files"]} == {"diff.patch", "requirements.txt", "code/train.py"}
    (record,) = records(run_dir, "metadata")
    assert record.data["git"]["commit"] == metadata["git"]["commit"]
    kinds = [r.type for r in records(run_dir)]
    assert kinds.index("metadata") < kinds.index("exit")


def test_system_metrics_are_sampled_into_stats_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAKELOG_DISABLE_STATS", "false")
    monkeypatch.setenv("WAKELOG_STATS_SAMPLING_INTERVAL", "0.2")
    run = wakelog.init(mode="offline")

    def sampled() -> bool:
        on_disk = read_runlog(find_runlog(run.run_dir)).records
        return len([r for r in on_disk if r.type == "stats"]) >= 2

    wait_until(sampled, 30)
    run.finish()
    samples = [r.data for r in records(run.run_dir, "stats")]
    assert len(samples) >= 2
    assert samples[-1]["system/proc_rss_mb"] > 0 and 0 <= samples[-1]["system/memory_percent"] <= 100
    assert all(s["_runtime"] > 0 for s in samples)


def test_console_output_is_recorded_with_progress_bars_collapsed(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, wakelog
            run = wakelog.init(mode="offline")
            print("epoch 1 done")
            sys.stdout.write("10%\\r50%\\r100%\\n")
            print("careful", file=sys.stderr)
            run.finish()
            """
        )
    )
    env = child_env(WAKELOG_CONSOLE="auto")
    result = subprocess.run(
        [sys.executable, str(script)], check=False, cwd=tmp_path, env=env, capture_output=True
    )
    assert result.returncode == 0, result.stderr
    assert b"10%\r50%\r100%\n" in result.stdout, "the terminal sees exactly what was written"
    (run_dir,) = run_dirs(tmp_path)
    lines = [(stream, text) for r in records(run_dir, "output") for _, stream, text in r.data["lines"]]
    assert ("stdout", "epoch 1 done") in lines and ("stdout", "100%") in lines
    assert ("stderr", "careful") in lines
    log_text = (run_dir / "output.log").read_text()
    assert "Z epoch 1 done\n" in log_text and "Z [stderr] careful\n" in log_text and "50%" not in log_text


def test_console_off_records_nothing(tmp_path: Path) -> None:
    run = wakelog.init(mode="offline")
    print("not captured")
    run.finish()
    assert records(run.run_dir, "output") == []
