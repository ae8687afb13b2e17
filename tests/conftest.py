"""Shared fixtures: every test gets its own run root and config folder and a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wakelog.runlog import Record, find_runlog, read_runlog


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("WAKELOG_", "WANDB_", "PADDLE_TRAINER", "PADDLE_GLOBAL", "RANK", "WORLD_SIZE")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WAKELOG_CONFIG_DIR", str(tmp_path / "config"))
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
