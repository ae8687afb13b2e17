"""wandb's process-wide helpers: util.generate_id, setup/teardown, require, term*, AlertLevel, Settings."""

from __future__ import annotations

import logging
import re

import pytest

import wakelog
from tests.conftest import records
from wakelog.sdk._settings import resolve_settings

# wandb 0.28's Settings fields (wandb/sdk/wandb_settings.py), every one of which wakelog accepts.
WANDB_SETTINGS = [
    "allow_media_symlink", "allow_offline_artifacts", "allow_val_change", "anonymous", "api_key",
    "azure_account_url_to_access_key", "app_url_override", "base_url", "code_dir", "config_paths",
    "console", "console_multipart", "console_chunk_max_bytes", "console_chunk_max_seconds",
    "capture_loggers", "credentials_file", "disable_code", "disable_git", "disable_git_fork_point",
    "disable_job_creation", "docker", "email", "entity", "organization", "force", "fork_from",
    "git_commit", "git_remote", "git_remote_url", "git_root", "heartbeat_seconds", "host",
    "http_proxy", "https_proxy", "identity_token_file", "ignore_globs", "init_timeout",
    "finish_timeout", "finish_timeout_raises", "insecure_disable_ssl", "job_name", "job_source",
    "label_disable", "launch", "launch_config_path", "login_timeout", "mode", "notebook_name",
    "program", "program_abspath", "program_relpath", "project", "quiet", "reinit", "relogin",
    "resume", "resume_from", "resumed", "root_dir", "run_group", "run_id", "run_job_type", "run_name",
    "run_notes", "run_tags", "sagemaker_disable", "save_code", "settings_system", "stop_fn",
    "max_end_of_run_history_metrics", "max_end_of_run_summary_metrics", "show_colors", "show_emoji",
    "show_errors", "show_info", "show_warnings", "silent", "start_method", "stop_on_fatal_error",
    "strict", "summary_timeout", "summary_warnings", "sweep_id", "sweep_param_path", "symlink",
    "sync_tensorboard", "table_raise_on_max_row_limit_exceeded", "use_dot_wandb", "username",
    "x_cli_only_mode", "x_disable_meta", "x_disable_stats", "x_disable_viewer",
    "x_disable_machine_info", "x_executable", "x_extra_http_headers", "x_file_stream_max_bytes",
    "x_file_stream_max_line_bytes", "x_file_stream_transmit_interval", "x_file_stream_no_gzip",
    "x_file_stream_retry_max", "x_file_stream_retry_wait_min_seconds",
    "x_file_stream_retry_wait_max_seconds", "x_file_stream_timeout_seconds", "x_file_transfer_retry_max",
    "x_file_transfer_retry_wait_min_seconds", "x_file_transfer_retry_wait_max_seconds",
    "x_file_transfer_timeout_seconds", "x_files_dir", "x_flow_control_custom",
    "x_flow_control_disabled", "x_graphql_retry_max", "x_graphql_retry_wait_min_seconds",
    "x_graphql_retry_wait_max_seconds", "x_graphql_timeout_seconds", "x_internal_check_process",
    "x_jupyter_name", "x_jupyter_path", "x_jupyter_root", "x_label", "x_live_policy_rate_limit",
    "x_live_policy_wait_time", "x_log_level", "x_network_buffer", "x_primary", "x_proxies",
    "x_runqueue_item_id", "x_save_requirements", "x_server_side_derived_summary",
    "x_server_side_expand_glob_metrics", "x_service_transport", "x_service_wait",
    "x_skip_transaction_log", "x_start_time", "x_stats_pid", "x_stats_sampling_interval",
    "x_stats_neuron_monitor_config_path", "x_stats_dcgm_exporter", "x_stats_open_metrics_endpoints",
    "x_stats_open_metrics_filters", "x_stats_open_metrics_http_headers", "x_stats_disk_paths",
    "x_stats_cpu_count", "x_stats_cpu_logical_count", "x_stats_gpu_count", "x_stats_gpu_type",
    "x_stats_gpu_device_ids", "x_stats_buffer_size", "x_stats_coreweave_metadata_base_url",
    "x_stats_coreweave_metadata_endpoint", "x_stats_track_process_tree", "x_stats_no_cgroup", "x_sync",
    "x_sync_dir_suffix", "x_update_finish_state",
]  # fmt: skip

# A value of the right kind for the settings that wakelog checks ("1" is text, true and 1.0).
_VALUES = {"mode": "offline", "console": "wrap_raw", "resume": "allow", "run_tags": ["a"]}


def test_generate_id_has_wandbs_shape() -> None:
    ids = {wakelog.util.generate_id() for _ in range(200)}
    assert len(ids) == 200 and all(re.fullmatch(r"[a-z0-9]{8}", i) for i in ids)
    assert re.fullmatch(r"[a-z0-9]{12}", wakelog.util.generate_id(12))


def test_settings_accept_every_wandb_name_and_note_the_ignored_ones_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    values = {name: _VALUES.get(name, "1") for name in WANDB_SETTINGS}
    with caplog.at_level(logging.DEBUG, logger="wakelog"):
        settings = wakelog.Settings(**values)
    notes = [r for r in caplog.records if "no meaning in wakelog" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == logging.DEBUG
    assert "init_timeout" in notes[0].getMessage() and "x_disable_stats" not in notes[0].getMessage()
    assert settings.disable_stats is True and settings.stats_sampling_interval == 1.0
    assert settings.console == "wrap" and settings.quiet is True and settings.sync_tensorboard is True


def test_an_unknown_setting_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="'colour'"):
        wakelog.Settings(colour="red")


def test_x_disable_stats_and_sampling_interval_take_effect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAKELOG_DISABLE_STATS")
    run = wakelog.init(mode="offline", settings=wakelog.Settings(x_disable_stats=True))
    assert "system metrics" not in run._parts.monitors
    run.finish()
    run = wakelog.init(mode="offline", settings={"_stats_sampling_interval": 2.5}, reinit="create_new")
    assert run._parts.monitors["system metrics"].interval == 2.5  # type: ignore[attr-defined]
    run.finish()
    monkeypatch.setenv("WANDB_X_DISABLE_STATS", "true")
    assert resolve_settings().disable_stats is True


def test_setup_settings_apply_to_later_runs_and_teardown_finishes_them() -> None:
    setup = wakelog.setup(wakelog.Settings(project="from-setup"))
    assert setup.settings.project == "from-setup"
    run = wakelog.init(mode="offline")
    assert run.project == "from-setup"
    assert wakelog.init(mode="offline", project="own", reinit="create_new").project == "own"
    wakelog.teardown()
    assert run.finished and wakelog.run is None
    assert records(run.run_dir, "exit")[0].data["state"] == "finished"
    assert resolve_settings().project is None


def test_require_accepts_wandbs_names_and_refuses_others(capsys: pytest.CaptureFixture[str]) -> None:
    wakelog.setup(wakelog.Settings(silent=False))
    wakelog.require("core")
    wakelog.require(["service", "require"])
    wakelog.require(experiment="core@beta")
    assert "no-op" in capsys.readouterr().err
    with pytest.raises(wakelog.UnsupportedError, match="unsupported requirement: teleport"):
        wakelog.require("teleport")
    assert isinstance(wakelog.UnsupportedError("x"), wakelog.UsageError)
    wakelog.teardown()


def test_term_functions_print_prefixed_lines_unless_silent(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    wakelog.setup(wakelog.Settings(silent=False, quiet=True))  # quiet does not silence them
    wakelog.termlog("hello\nworld")
    wakelog.termwarn("careful")
    wakelog.termerror("broken", prefix=False)
    wakelog.termlog("once", repeat=False)
    wakelog.termlog("once", repeat=False)
    assert capsys.readouterr().err == (
        "wakelog: hello\nwakelog: world\nwakelog: WARNING careful\nERROR broken\nwakelog: once\n"
    )
    wakelog.setup(wakelog.Settings(silent=True))
    with caplog.at_level(logging.INFO, logger="wakelog"):
        wakelog.termwarn("hidden")
    assert capsys.readouterr().err == ""
    assert [r.getMessage() for r in caplog.records] == ["hidden"]
    wakelog.teardown()


def test_alert_level_is_usable_with_alert() -> None:
    run = wakelog.init(mode="offline")
    run.alert("slow", "epoch took long", level=wakelog.AlertLevel.WARN)
    wakelog.alert("bad", "loss is nan", level=wakelog.AlertLevel.ERROR)
    run.finish()
    assert [r.data["level"] for r in records(run.run_dir, "alert")] == ["WARN", "ERROR"]
    assert wakelog.AlertLevel.INFO.value == "INFO"


def test_init_takes_wandbs_arguments() -> None:
    run = wakelog.init(mode="offline", anonymous="allow", force=True)
    assert run.settings.sync_tensorboard is False
    run.finish()
    with pytest.raises(TypeError, match="magic"):
        wakelog.init(mode="offline", magic=True)
