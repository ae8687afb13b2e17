"""The `wakelog` command: login, modes, inspect."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import wakelog
from wakelog.cli import main
from wakelog.sdk._login import api_key_for, credentials_file

KEY = "wk_" + "a1b2c3d4" * 5


def test_login_stores_the_key_readable_by_the_user_only() -> None:
    result = CliRunner().invoke(main, ["login", KEY, "--host", "http://gpu-box:8080/"])
    assert result.exit_code == 0, result.output
    path = credentials_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"http://gpu-box:8080": KEY}
    assert api_key_for("http://gpu-box:8080") == KEY


def test_environment_key_wins_over_the_stored_one(monkeypatch: pytest.MonkeyPatch) -> None:
    wakelog.login(KEY, host="http://h:1")
    monkeypatch.setenv("WANDB_API_KEY", "from-env-" + "x" * 20)
    assert api_key_for("http://h:1") == "from-env-" + "x" * 20


def test_login_refuses_bad_keys_and_hosts() -> None:
    bad_key = CliRunner().invoke(main, ["login", "short", "--host", "http://h:1"])
    assert bad_key.exit_code == 1 and "does not look like a wakelog API key" in bad_key.output
    bad_host = CliRunner().invoke(main, ["login", KEY, "--host", "ftp://h"])
    assert bad_host.exit_code == 1 and "http:// or https://" in bad_host.output
    assert not credentials_file().exists()


def test_login_without_a_key_and_no_terminal_says_what_to_do() -> None:
    result = CliRunner().invoke(main, ["login", "--host", "http://h:1"], input="")
    assert result.exit_code == 1 and "WAKELOG_API_KEY" in result.output


def test_inspect_reports_counts_state_and_damage(tmp_path: Path) -> None:
    run = wakelog.init(mode="offline")
    for i in range(10):
        run.log({"i": i})
    run.finish()
    ok = CliRunner().invoke(main, ["inspect", str(run.run_dir)])
    assert ok.exit_code == 0 and "history   10" in ok.output and "state     finished" in ok.output
    log = run.run_dir / f"run-{run.id}.wakelog"
    log.write_bytes(log.read_bytes()[:-5])
    torn = CliRunner().invoke(main, ["inspect", str(run.run_dir)])
    assert torn.exit_code == 1 and "torn tail" in torn.output
    assert "unfinished" in torn.output


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for name in ("login", "offline", "online", "disabled", "inspect"):
        assert name in result.output


@pytest.mark.parametrize("given", ["0.5", "61", "soon"])
def test_server_refuses_a_send_interval_it_cannot_ask_for(given: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["server", "--data-dir", str(tmp_path), "--max-send-interval", given])
    assert result.exit_code == 2 and "--max-send-interval" in result.output, result.output


def test_server_passes_its_send_interval_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wakelog.server import serve

    served = []
    monkeypatch.setattr(serve, "serve", served.append)  # the options as the server would get them
    result = CliRunner().invoke(main, ["server", "--data-dir", str(tmp_path), "--max-send-interval", "4"])
    assert result.exit_code == 0, result.output
    assert served[0].max_send_interval == 4.0
    CliRunner().invoke(main, ["server", "--data-dir", str(tmp_path)])
    assert served[1].max_send_interval == 1.5
