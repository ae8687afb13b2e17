"""How a process ends is recorded, and a killed process loses at most one flush interval.

Each test runs a real training script in a subprocess and reads its run log afterwards.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests._env import child_env
from tests.conftest import records
from tests.harness import wait_until
from wakelog.runlog import find_runlog, read_runlog
from wakelog.sdk._local_runs import run_dirs

#: Exit paths of a real training process (atexit, signals, kill -9, a full disk): only processes show them.
pytestmark = pytest.mark.process


def start(tmp_path: Path, body: str, **env: str) -> subprocess.Popen:
    script = tmp_path / "train.py"
    script.write_text("import wakelog\n" + textwrap.dedent(body))
    return subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=child_env(**{"WAKELOG_MODE": "offline", **env}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def only_run_dir(tmp_path: Path) -> Path:
    (run_dir,) = run_dirs(tmp_path)
    return run_dir


def exit_record(tmp_path: Path) -> dict:
    (record,) = records(only_run_dir(tmp_path), "exit")
    return record.data


def test_normal_exit_finishes_the_run_through_atexit(tmp_path: Path) -> None:
    code, _, err = finish(start(tmp_path, "wakelog.init()\nwakelog.log({'a': 1})\n"))
    assert code == 0, err
    assert exit_record(tmp_path)["state"] == "finished"


def test_uncaught_exception_marks_the_run_failed_with_its_traceback(tmp_path: Path) -> None:
    code, _, err = finish(
        start(tmp_path, "wakelog.init()\nwakelog.log({'a': 1})\nraise RuntimeError('diverged')\n")
    )
    assert code == 1 and "RuntimeError: diverged" in err, "the user's excepthook output is kept"
    record = exit_record(tmp_path)
    assert record["state"] == "failed" and record["exit_code"] == 1
    assert "RuntimeError: diverged" in record["traceback"]


def test_keyboard_interrupt_marks_the_run_killed(tmp_path: Path) -> None:
    code, _, _ = finish(start(tmp_path, "wakelog.init()\nraise KeyboardInterrupt\n"))
    assert code != 0
    assert exit_record(tmp_path)["state"] == "killed"


def test_sigterm_marks_the_run_killed_and_still_terminates(tmp_path: Path) -> None:
    proc = start(
        tmp_path,
        "import time\nwakelog.init()\nprint('ready', flush=True)\nwakelog.log({'a': 1})\ntime.sleep(60)\n",
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    code, _, _ = finish(proc)
    assert code == -signal.SIGTERM
    record = exit_record(tmp_path)
    assert record["state"] == "killed" and record["exit_code"] == 143


def test_wakelogs_threads_leave_sigterm_and_sigint_to_the_main_thread(tmp_path: Path) -> None:
    """A signal sent to the process goes to any thread that does not block it. When one of ours
    took a SIGTERM while the main thread slept, the main thread was woken for nothing and slept on:
    the test above hung one time in eight under load. Every thread wakelog starts blocks both."""
    body = """
    import json, threading
    from pathlib import Path
    run = wakelog.init()
    Path("live.txt").write_text("x")
    run.save("live.txt", policy="live")
    run.log({"a": 1})

    def blocked(thread):
        try:  # a short-lived thread may end between enumerate() and here: it takes no signal
            with open(f"/proc/self/task/{thread.native_id}/status") as status:
                lines = status.readlines()
        except FileNotFoundError:
            return None
        return next(int(line.split()[1], 16) for line in lines if line.startswith("SigBlk:"))

    masks = {t.name: blocked(t) for t in threading.enumerate()}
    print(json.dumps({name: mask for name, mask in masks.items() if mask is not None}), flush=True)
    """
    proc = start(tmp_path, body, WAKELOG_CONSOLE="redirect", WAKELOG_DISABLE_STATS="false")
    code, out, err = finish(proc)
    assert code == 0, err
    masks = json.loads(out.splitlines()[-1])
    ours = {name: mask for name, mask in masks.items() if name.startswith("wakelog-")}
    assert {"wakelog-writer", "wakelog-console", "wakelog-system-monitor", "wakelog-files"} <= set(ours)
    both = 1 << (signal.SIGINT - 1) | 1 << (signal.SIGTERM - 1)
    assert all(mask & both == both for mask in ours.values()), masks
    assert masks["MainThread"] & both == 0, masks


def test_a_sigterm_during_log_still_finishes_the_run_and_terminates(tmp_path: Path) -> None:
    """A preemption's SIGTERM lands while ``log()`` holds the run's lock (each call here spends most
    of its time inside it). Its handler used to finish the run right there, in that same thread,
    and waited for the lock forever: the process never ended."""
    body = """
    run = wakelog.init()
    row = {f"k{i}": float(i) for i in range(200)}
    run.log(row)
    print("logging", flush=True)
    while True:
        run.log(row)
    """
    proc = start(tmp_path, body)
    try:
        assert proc.stdout.readline().strip() == "logging"
        proc.send_signal(signal.SIGTERM)
        code, _, err = finish(proc, timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert code == -signal.SIGTERM, err
    assert exit_record(tmp_path)["state"] == "killed"
    steps = [record.data["_step"] for record in records(only_run_dir(tmp_path), "history")]
    assert steps == list(range(len(steps))) and steps, "every row up to the signal, once"


def test_kill_9_keeps_every_record_older_than_the_flush_interval(tmp_path: Path) -> None:
    body = """
    import time
    run = wakelog.init(settings={"flush_interval": 0.1})
    step = 0
    while True:
        run.log({"step_time": time.time(), "i": step})
        step += 1
        if step == 2000:
            print("logging", flush=True)
        time.sleep(0.0002)
    """
    proc = start(tmp_path, body)
    assert proc.stdout.readline().strip() == "logging"

    def flushed_since() -> bool:  # rows written after "logging": several flush intervals went by
        rows = [r for r in read_runlog(find_runlog(only_run_dir(tmp_path))).records if r.type == "history"]
        return len(rows) > 2000

    wait_until(flushed_since, 60)
    killed_at = time.time()
    proc.kill()
    proc.communicate()  # reaps it and closes its pipes
    result = read_runlog(find_runlog(only_run_dir(tmp_path)))
    rows = [r.data for r in result.records if r.type == "history"]
    assert [r["i"] for r in rows] == list(range(len(rows))), "no gaps, no duplicates"
    newest = rows[-1]["step_time"]
    assert killed_at - newest <= 0.1 + 0.05, f"lost {killed_at - newest:.3f} s of records"
    assert len(result.damage) <= 1, "at most the torn last record"


def test_full_disk_warns_and_training_goes_on(tmp_path: Path) -> None:
    """A file-size limit makes writes past it fail with EFBIG, like a full disk."""
    body = """
    import resource, signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    run = wakelog.init()
    run.log({"early": 1})
    run._writer.barrier()
    size = run.run_dir.joinpath(f"run-{run.id}.wakelog").stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 2000, resource.RLIM_INFINITY))
    for i in range(5000):
        run.log({"i": i, "pad": "x" * 100})
    print("trained to the end", flush=True)
    """
    code, out, err = finish(start(tmp_path, body))
    assert code == 0, err
    assert "trained to the end" in out
    assert "cannot take more records" in err
    result = read_runlog(find_runlog(only_run_dir(tmp_path)))
    assert result.damage == [], "a failed write is rolled back, never left torn"
    assert [r.data.get("early") for r in result.records if r.type == "history"][:1] == [1]


@pytest.mark.parametrize("handler", ["lambda s, f: None", "signal.SIG_IGN"])
def test_a_programs_own_sigterm_handler_is_left_alone(tmp_path: Path, handler: str) -> None:
    body = f"""
    import signal, time
    signal.signal(signal.SIGTERM, {handler})
    wakelog.init()
    print("ready", flush=True)
    time.sleep(2)
    """
    proc = start(tmp_path, body)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    code, _, _ = finish(proc)
    assert code == 0
    assert exit_record(tmp_path)["state"] == "finished"
