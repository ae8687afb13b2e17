"""Settings precedence: defaults < settings files < environment < Settings < init arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

import wakelog
from wakelog.errors import UsageError
from wakelog.sdk._settings import config_dir, resolve_settings, write_file_setting


def test_defaults() -> None:
    settings = resolve_settings()
    assert settings.mode == "online" and settings.flush_interval == 0.1 and settings.console == "off"


def test_user_file_over_defaults_and_workspace_file_over_user_file(tmp_path: Path) -> None:
    write_file_setting(config_dir() / "settings", "project", "from-user-file")
    write_file_setting(config_dir() / "settings", "entity", "team-a")
    assert resolve_settings().project == "from-user-file"
    write_file_setting(tmp_path / "wakelog" / "settings", "project", "from-workspace")
    settings = resolve_settings()
    assert settings.project == "from-workspace" and settings.entity == "team-a"


def test_environment_over_files(monkeypatch: pytest.MonkeyPatch) -> None:
    write_file_setting(config_dir() / "settings", "mode", "offline")
    monkeypatch.setenv("WAKELOG_MODE", "disabled")
    assert resolve_settings().mode == "disabled"


def test_wakelog_env_over_wandb_env_which_is_read_as_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_PROJECT", "wandb-name")
    monkeypatch.setenv("WANDB_TAGS", "a, b,,c")
    monkeypatch.setenv("WANDB_MODE", "dryrun")
    settings = resolve_settings()
    assert (
        settings.project == "wandb-name"
        and settings.run_tags == ("a", "b", "c")
        and settings.mode == "offline"
    )
    monkeypatch.setenv("WAKELOG_PROJECT", "ours")
    assert resolve_settings().project == "ours"


def test_settings_object_over_environment_and_init_args_over_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAKELOG_PROJECT", "env")
    assert resolve_settings(wakelog.Settings(project="obj")).project == "obj"
    assert resolve_settings({"project": "dict"}).project == "dict"
    assert resolve_settings(wakelog.Settings(project="obj"), project="arg").project == "arg"


def test_init_uses_the_resolved_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WAKELOG_PROJECT", "env-project")
    monkeypatch.setenv("WAKELOG_RUN_GROUP", "g1")
    monkeypatch.setenv("WAKELOG_DIR", str(tmp_path / "runs"))
    run = wakelog.init(mode="offline", settings=wakelog.Settings(run_job_type="train"), tags=["x"])
    assert (run.project, run.group, run.job_type, run.tags) == ("env-project", "g1", "train", ("x",))
    assert run.run_dir.parent == tmp_path / "runs" / "wakelog"


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("WAKELOG_MODE", "sometimes", "not one of"),
        ("WAKELOG_SILENT", "maybe", "true/false"),
        ("WAKELOG_FLUSH_INTERVAL", "soon", "number"),
        ("WAKELOG_FLUSH_INTERVAL", "-1", "≥ 0"),
    ],
)
def test_bad_environment_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, message: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(UsageError, match=message) as info:
        resolve_settings()
    assert env in str(info.value)


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown settings: colour"):
        resolve_settings({"colour": "blue"})
    (config_dir()).mkdir(parents=True, exist_ok=True)
    (config_dir() / "settings").write_text("[default]\ncolour = blue\n")
    with pytest.raises(UsageError, match="unknown setting 'colour'"):
        resolve_settings()


def test_cli_offline_and_online_write_the_user_settings_file() -> None:
    from click.testing import CliRunner

    from wakelog.cli import main

    assert CliRunner().invoke(main, ["offline"]).exit_code == 0
    assert resolve_settings().mode == "offline"
    assert CliRunner().invoke(main, ["online"]).exit_code == 0
    assert resolve_settings().mode == "online"
