"""The session-end checks of ``tests/_hermetic.py`` fail a session that escaped, and only then.

Each test runs a small pytest session in a child process with the plugin loaded. For that child,
this session's fake home is "the real home": what it must leave alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from tests._env import child_env, pythonpath

REPO = Path(__file__).resolve().parents[1]


def run_session(tmp_path: Path, body: str, **env: str) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests._hermetic", "-p", "no:cacheprovider", str(test_file)],
        cwd=tmp_path,
        env=child_env(PYTHONPATH=pythonpath(REPO), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_clean_session_passes_in_its_own_fake_home(tmp_path: Path) -> None:
    home = os.environ["HOME"]
    demo_key = Path(home) / ".local/share/wakelog/server/admin.key"  # what `wakelog demo` leaves
    demo_key.parent.mkdir(parents=True, exist_ok=True)
    demo_key.write_text("wk_" + "d" * 40)
    demo_key.chmod(0o600)
    done = run_session(
        tmp_path,
        f"""
        import os, subprocess, sys
        from pathlib import Path
        from wakelog.sdk._login import local_admin_key

        def test_clean():
            assert os.environ["HOME"] != {home!r}
            assert not any(k.startswith(("WAKELOG_API", "WANDB_")) for k in os.environ)
            assert local_admin_key("http://127.0.0.1:8080") is None
            (Path(os.environ["HOME"]) / "wakelog").mkdir()  # the fake home is the test's to use
            subprocess.run([sys.executable, "-c", "pass"], check=True)
        """,
        WAKELOG_API_KEY="from-the-shell",
        WANDB_MODE="online",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_process_left_running_fails_the_session_and_is_killed(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    try:
        done = run_session(
            tmp_path,
            f"""
            import subprocess, sys
            SLEEP = [sys.executable, "-c", "import time; time.sleep(300)  # leaked"]

            def test_leaks_a_child():
                child = subprocess.Popen(SLEEP)
                open({str(pids)!r}, "a").write(f"{{child.pid}}\\n")

            def test_leaks_a_detached_grandchild():
                # Its parent exits at once: only the environment mark ties it to the session.
                starter = (
                    "import subprocess, sys; "
                    "print(subprocess.Popen(sys.argv[1:], start_new_session=True, stdout=-3, stderr=-3).pid)"
                )
                out = subprocess.run([sys.executable, "-c", starter, *SLEEP], capture_output=True, text=True)
                open({str(pids)!r}, "a").write(out.stdout)
            """,
        )
    finally:
        leaked = [int(line) for line in pids.read_text().split()] if pids.exists() else []
        still_running = [pid for pid in leaked if _running(pid)]
        for pid in still_running:
            psutil.Process(pid).kill()
    assert len(leaked) == 2 and not still_running
    assert done.returncode == 1, done.stdout + done.stderr
    assert "processes the tests started outlived them" in done.stdout
    for pid in leaked:
        assert f"pid {pid}: " in done.stdout and "# leaked" in done.stdout


def test_writing_into_the_real_home_fails_the_session(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])  # the child session's real home
    admin_key = home / ".local/share/wakelog/server/admin.key"
    admin_key.parent.mkdir(parents=True, exist_ok=True)
    admin_key.write_text("old")
    done = run_session(
        tmp_path,
        f"""
        from pathlib import Path

        def test_changes_an_admin_key():
            Path({str(admin_key)!r}).write_text("new key")

        def test_makes_a_run_root_in_home():
            Path({str(home / "wakelog")!r}).mkdir()
        """,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the tests touched the real user's wakelog folders" in done.stdout
    assert f"{home / '.local/share/wakelog'}: changed: server/admin.key" in done.stdout
    assert f"{home / 'wakelog'}: created" in done.stdout


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
