"""The run surface wandb code reads and calls without a server: identity and URLs offline, status,
``log_code``, ``config.persist``, argument-less ``save``, ``finish(quiet=)``, ``define_metric(goal=)``,
``mark_preempting`` and ``restore`` on disk (wandb's documented behaviour; the server side is in
tests/test_identity_online.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import wakelog
from tests.conftest import records
from wakelog.errors import UsageError


def test_an_offline_run_has_no_entity_or_urls_until_synced() -> None:
    run = wakelog.init(project="p", mode="offline")
    assert run.entity == "" and run.path == f"p/{run.id}"
    assert run.url is None and run.get_url() is None
    assert run.project_url is None and run.get_project_url() is None
    assert run.sweep_id is None
    given = wakelog.init(project="p", entity="lab", mode="offline", reinit="create_new")
    assert given.entity == "lab" and given.path == f"lab/p/{given.id}"


def test_status_of_a_run_that_uploads_nothing_is_empty_and_refused_after_finish() -> None:
    run = wakelog.init(project="p", mode="offline")
    status = run.status()
    assert (status.sync_items_total, status.sync_items_pending, status.sync_time) == (0, 0, None)
    run.finish()
    with pytest.raises(UsageError, match="is finished"):
        run.status()


def test_argument_less_save_is_a_no_op_returning_true() -> None:
    run = wakelog.init(project="p", mode="offline")
    assert run.save() is True
    assert wakelog.save() is True
    assert not records(Path(run.run_dir), "files")


def test_finish_quiet_says_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WAKELOG_SILENT", "false")
    wakelog.init(project="p", mode="offline")
    capsys.readouterr()
    wakelog.finish(quiet=True)
    assert "wakelog" not in capsys.readouterr().err
    wakelog.init(project="p", mode="offline").finish()
    assert "finished" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("goal", "best"), [("minimize", 0.1), ("maximize", 0.9), (None, 0.1)], ids=["min", "max", "no-goal"]
)
def test_summary_best_follows_the_goal(goal: str | None, best: float) -> None:
    run = wakelog.init(project="p", mode="offline")
    run.define_metric("loss", summary="best", goal=goal)
    run.define_metric("acc", goal="maximize")  # a goal alone leaves the last value, as in wandb
    for value in (0.5, 0.1, 0.9, 0.3):
        run.log({"loss": value, "acc": value})
    assert run.summary["loss"] == {"best": best}
    assert run.summary["acc"] == 0.3
    run.finish()
    (exit_record,) = records(Path(run.run_dir), "exit")
    assert exit_record.data["summary"]["loss"] == {"best": best}


def test_config_persist_records_what_was_changed_in_place() -> None:
    with pytest.warns(UserWarning, match="looks like a secret"):
        run = wakelog.init(
            project="p", mode="offline", config={"opt": {"lr": 0.1}, "api_key": "s3cret-value"}
        )
    run.config["opt"]["lr"] = 0.2
    run.config.persist()
    run.finish()
    last = records(Path(run.run_dir), "config")[-1].data["update"]
    assert last["opt"] == {"lr": 0.2}
    assert last["api_key"] != "s3cret-value", "a secret stays masked"


def test_mark_preempting_is_recorded_and_needs_a_run() -> None:
    with pytest.raises(UsageError):
        wakelog.mark_preempting()
    run = wakelog.init(project="p", mode="offline")
    wakelog.mark_preempting()
    run.finish()
    updates = [r.data for r in records(Path(run.run_dir), "run") if r.data.get("update")]
    assert updates == [{"preempting": True, "id": run.id, "update": True}]
    with pytest.raises(UsageError, match="is finished"):
        run.mark_preempting()


def _source_tree(root: Path) -> None:
    for name in (
        "train.py",
        "requirements.txt",
        "Dockerfile.gpu",
        "README.md",
        "models/net.py",
        "models/data/cache.py",
        "wakelog/old-run/x.py",
        "wandb/old-run/x.py",
        ".venv/lib/site.py",
        "models/__pycache__/net.cpython-312.py",
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {name}\n")


def test_log_code_saves_the_source_files_under_code(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _source_tree(src)
    run = wakelog.init(project="p", mode="offline")
    saved = run.log_code(str(src)) or []
    assert sorted(saved) == ["code/Dockerfile.gpu", "code/models/data/cache.py", "code/models/net.py",
                     "code/requirements.txt", "code/train.py"]  # fmt: skip
    assert (Path(run.dir) / "code" / "models" / "net.py").read_text() == "# models/net.py\n"
    run.finish()
    names = {f["name"] for r in records(Path(run.run_dir), "files") for f in r.data["files"]}
    assert set(saved) <= names


def test_log_code_filters_take_a_path_or_a_path_and_root(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _source_tree(src)
    os.chdir(src)
    run = wakelog.init(project="p", mode="offline", dir=str(tmp_path))
    saved = run.log_code(
        include_fn=lambda path: path.endswith((".py", ".md")),
        exclude_fn=lambda path, root: os.path.relpath(path, root).startswith("models/data"),
    )
    # A custom exclude_fn replaces the default one, so old run folders are code again (as in wandb).
    assert sorted(saved) == ["code/README.md", "code/models/net.py", "code/train.py",
                             "code/wakelog/old-run/x.py", "code/wandb/old-run/x.py"]  # fmt: skip
    with pytest.warns(UserWarning, match="no matching files"):
        assert run.log_code(include_fn=lambda path: path.endswith(".ipynb")) is None


def test_restore_in_a_disabled_run_only_looks_on_disk(tmp_path: Path) -> None:
    run = wakelog.init(mode="disabled")
    (tmp_path / "here.txt").write_text("local")
    with run.restore("here.txt", run_path="a/b/c", root=str(tmp_path)) as found:  # type: ignore[union-attr]
        assert found.read() == "local"
    assert run.restore("missing.txt", run_path="a/b/c", root=str(tmp_path)) is None


def test_restore_before_init_needs_a_run_path() -> None:
    with pytest.raises(ValueError, match="run_path required"):
        wakelog.restore("model.pdparams")
