"""A pytest plugin that fails the session when a test escaped its temp folders or its processes.

Two checks run when the session ends, after every fixture was torn down:

- the developer's wakelog folders (``tests._env.user_folders`` of the environment the session
  started in: ``~/.config/wakelog``, ``~/.local/share/wakelog``, ``~/wakelog``, ...) look exactly
  as they did at the start: nothing created, changed or removed;
- no process the session started is still running: children of this process at any depth, and
  detached ones (uploaders start in a session of their own, orphans lose their parent) found by
  the mark ``tests._env`` puts in the environment every child inherits. Leftovers are named with
  their command lines and killed.

Either failure makes pytest exit non-zero. ``tests/test_hermetic.py`` proves both can fail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psutil
import pytest

from tests._env import REAL_ENVIRON, SESSION_MARK, user_folders

#: How long processes a teardown just signalled get to exit before they count as leaked.
EXIT_GRACE_S = 5.0

Fingerprint = dict[str, tuple[bool, int, int]] | None


def fingerprint(path: Path) -> Fingerprint:
    """Every entry under ``path`` (itself included) with whether it is a folder, its size and its
    modification time; ``None`` when ``path`` does not exist."""
    if not path.exists():
        return None
    seen: dict[str, tuple[bool, int, int]] = {}
    entries = [path, *path.rglob("*")] if path.is_dir() else [path]
    for entry in entries:
        try:
            info = entry.lstat()
        except OSError:  # removed while we looked
            continue
        seen[str(entry.relative_to(path))] = (entry.is_dir(), info.st_size, info.st_mtime_ns)
    return seen


def _describe(before: Fingerprint, after: Fingerprint) -> str:
    if before is None:
        return "created"
    if after is None:
        return "removed"
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    return "changed: " + ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")


_FOLDERS = user_folders(REAL_ENVIRON)
_AT_START = {path: fingerprint(path) for path in _FOLDERS}


def touched_folders() -> list[str]:
    """The developer's wakelog folders that differ from the start of the session, with how."""
    problems = []
    for path in _FOLDERS:
        now = fingerprint(path)
        if now != _AT_START[path]:
            problems.append(f"{path}: {_describe(_AT_START[path], now)}")
    return problems


def session_processes() -> list[psutil.Process]:
    """Live processes this session started: descendants, and any process carrying its mark."""
    me = psutil.Process()
    found = {proc.pid: proc for proc in me.children(recursive=True)}
    mark = os.environ.get(SESSION_MARK)
    for proc in psutil.process_iter():
        if proc.pid in found or proc.pid == me.pid:
            continue
        try:
            if mark and proc.environ().get(SESSION_MARK) == mark:
                found[proc.pid] = proc
        except (psutil.Error, OSError):  # gone, or another user's
            continue
    return [proc for proc in found.values() if _alive(proc)]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _command_line(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline()) or proc.name()
    except psutil.Error:
        return "(exited)"


def leaked_processes() -> list[str]:
    """Processes of this session still running after a short grace, killed, with their commands."""
    _, alive = psutil.wait_procs(session_processes(), timeout=EXIT_GRACE_S)
    leaked = [proc for proc in alive if _alive(proc)]
    described = [f"pid {proc.pid}: {_command_line(proc)}" for proc in leaked]
    for proc in leaked:
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(leaked, timeout=EXIT_GRACE_S)
    return described


def pytest_sessionfinish(session: pytest.Session) -> None:
    failures = [
        ("processes the tests started outlived them (killed now)", leaked_processes()),
        ("the tests touched the real user's wakelog folders", touched_folders()),
    ]
    failures = [(title, lines) for title, lines in failures if lines]
    if not failures:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for title, lines in failures:
        heading = f"hermetic check failed: {title}"
        if reporter is None:
            print(heading, *lines, sep="\n", file=sys.stderr)
            continue
        reporter.write_sep("=", heading, red=True)
        for line in lines:
            reporter.write_line(line)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
