"""Shared fixtures: every test gets its own run root and config folder and a clean environment.

The whole session runs in a fake home (``tests/_env.py``, imported before anything imports
wakelog) and fails if a test touched the real one or left a process running (``tests/_hermetic.py``).
"""

from __future__ import annotations

import tests._env  # noqa: F401  # isort: skip  (first: moves the session into its fake home)

import os
from pathlib import Path

import pytest

from wakelog.runlog import Record, find_runlog, read_runlog

pytest_plugins = ["tests._hermetic"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("WAKELOG_", "WANDB_", "PADDLE_TRAINER", "PADDLE_GLOBAL", "RANK", "WORLD_SIZE")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WAKELOG_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WAKELOG_SERVER_DATA_DIR", str(tmp_path / "server-data"))
    monkeypatch.setenv("WAKELOG_SILENT", "true")
    monkeypatch.setenv("WAKELOG_DISABLE_STATS", "true")
    monkeypatch.setenv("WAKELOG_CONSOLE", "off")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    import wakelog
    from wakelog.sdk._init import finish_all

    finish_all(0, "finished", None)
    assert wakelog.run is None


def records(run_dir: Path, kind: str | None = None) -> list[Record]:
    result = read_runlog(find_runlog(run_dir))
    assert not result.damage, result.damage
    return [r for r in result.records if kind is None or r.type == kind]


def history(run_dir: Path) -> list[dict]:
    return [r.data for r in records(run_dir, "history")]


def user_keys(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}
