"""run.save(): policies, names, ignore globs, and names that try to escape."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import wakelog
from tests.conftest import records
from wakelog.errors import UsageError

#: What the metadata capture writes beside saved files (tests/sdk/test_run_capture.py checks those).
CAPTURED = {"requirements.txt", "diff.patch"}


def saved(run: wakelog.Run) -> dict[str, str]:
    """The files ``save()`` put in the run's files folder, by name."""
    files = Path(run.dir)
    return {
        str(p.relative_to(files)): p.read_text()
        for p in files.rglob("*")
        if p.is_file() and not {"media", "code"} & set(p.parts) and str(p.relative_to(files)) not in CAPTURED
    }


def test_now_copies_a_snapshot(tmp_path: Path) -> None:
    (tmp_path / "model.txt").write_text("v1")
    run = wakelog.init(mode="offline")
    run.save("model.txt", policy="now")
    (tmp_path / "model.txt").write_text("v2")
    run.finish()
    assert saved(run) == {"model.txt": "v1"}


def test_live_and_end_follow_the_file_and_are_copies_after_finish(tmp_path: Path) -> None:
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "a.pdparams").write_text("a1")
    (tmp_path / "ckpt" / "b.pdparams").write_text("b1")
    run = wakelog.init(mode="offline")
    assert len(run.save("ckpt/*.pdparams", policy="live")) == 2
    (tmp_path / "ckpt" / "a.pdparams").write_text("a2-longer")
    assert run._files.check_changes() == ["ckpt/a.pdparams"]
    run.finish()
    (tmp_path / "ckpt" / "a.pdparams").write_text("after finish")
    assert saved(run) == {"ckpt/a.pdparams": "a2-longer", "ckpt/b.pdparams": "b1"}
    assert not any(p.is_symlink() for p in Path(run.dir).rglob("*"))
    file_records = [f for r in records(run.run_dir, "files") for f in r.data["files"]]
    assert {"name": "ckpt/a.pdparams", "policy": "live", "changed": True} in file_records


def test_absolute_glob_keeps_one_parent_and_base_path_sets_the_root(tmp_path: Path) -> None:
    out = tmp_path / "outputs" / "exp1"
    out.mkdir(parents=True)
    (out / "final.txt").write_text("x")
    run = wakelog.init(mode="offline")
    run.save(str(out / "final.txt"), policy="now")
    run.save(str(out / "final.txt"), base_path=str(tmp_path), policy="now")
    assert set(saved(run)) == {"exp1/final.txt", "outputs/exp1/final.txt"}


def test_ignore_globs_from_env_and_ignore_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAKELOG_IGNORE_GLOBS", "*.tmp")
    (tmp_path / ".wandbignore").write_text("# comment\nsecret*\n")
    for name in ("keep.txt", "x.tmp", "secret.txt"):
        (tmp_path / name).write_text(name)
    run = wakelog.init(mode="offline")
    run.save("*", policy="now")
    assert set(saved(run)) == {"keep.txt"}


def test_files_written_into_run_dir_are_kept(tmp_path: Path) -> None:
    run = wakelog.init(mode="offline")
    Path(run.dir, "notes.txt").write_text("hi")
    os.chdir(run.dir)
    run.save("notes.txt", policy="now")
    run.finish()
    assert saved(run) == {"notes.txt": "hi"}


@pytest.mark.parametrize(
    ("glob", "base", "message"),
    [
        ("../outside.txt", None, "not inside base_path"),
        ("data/x.txt", "elsewhere", "not inside base_path"),
        ("a\x00b", None, "NUL"),
        ("", None, "pass a file path"),
    ],
)
def test_names_that_would_escape_files_are_refused(
    tmp_path: Path, glob: str, base: str | None, message: str
) -> None:
    (tmp_path.parent / "outside.txt").write_text("secret")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("x")
    (tmp_path / "elsewhere").mkdir()
    run = wakelog.init(mode="offline")
    with pytest.raises(UsageError, match=message):
        run.save(glob, base_path=base, policy="now")
    assert saved(run) == {}


def test_bad_policy_and_no_match() -> None:
    run = wakelog.init(mode="offline")
    with pytest.raises(UsageError, match="policy"):
        run.save("*", policy="sometimes")
    with pytest.warns(UserWarning, match="matched no files"):
        assert run.save("nothing-*.bin") == []


def test_a_file_name_the_server_would_refuse_is_skipped_with_a_warning_and_the_rest_saved() -> None:
    # Linux allows a backslash in a file name; the server refuses it as a run file's name, so saving
    # it would have made the whole run unuploadable (finding M6). One shared rule, checked here first.
    Path("ckpt").mkdir()
    Path("ckpt/ok.txt").write_text("ok")
    Path("ckpt/bad\\name.txt").write_text("bad")
    run = wakelog.init(mode="offline")
    with pytest.warns(UserWarning, match=r"save skipped .*contains a backslash; rename the file"):
        paths = run.save("ckpt/*.txt", policy="now")
    assert [Path(p).name for p in paths] == ["ok.txt"]
    assert saved(run) == {"ckpt/ok.txt": "ok"}
    wakelog.finish()
    names = [f["name"] for r in records(Path(run.dir).parent, "files") for f in r.data["files"]]
    assert "ckpt/ok.txt" in names
    assert not [n for n in names if "\\" in n]
