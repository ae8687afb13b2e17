"""capture_environment against real git repositories made in a temp folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wakelog._secrets import MASK, mask_argv
from wakelog.monitor.environment import (
    capture_environment,
    detect_container,
    packages,
    sanitize_remote_url,
    slurm_info,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths and git setup")


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make git deterministic: no user/system config, a fixed identity, no repo above tmp_path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(var, "Test")
    for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "test@example.com")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "src" / "train.py").write_text("print('training')\nlr = 0.1\n")
    (root / "README.md").write_text("hello\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_dirty_repo_reports_commit_branch_diff_and_untracked(repo: Path, tmp_path: Path) -> None:
    (repo / "src" / "train.py").write_text("print('training')\nlr = 0.2\n")  # unstaged change
    (repo / "README.md").write_text("hello\nstaged line\n")
    git(repo, "add", "README.md")  # staged change
    (repo / "notes.txt").write_text("scratch, not tracked\n")
    run_dir = tmp_path / "run"
    meta = capture_environment(
        run_dir, program=str(repo / "src" / "train.py"), args=["--lr", "0.2"], save_code=True
    )
    g = meta["git"]
    assert g["commit"] == git(repo, "rev-parse", "HEAD")
    assert g["branch"] == "main"
    assert g["dirty"] is True
    assert g["untracked"] == ["notes.txt"] and g["untracked_count"] == 1
    assert "remote" not in g
    patch = (run_dir / "diff.patch").read_text()
    assert "-lr = 0.1" in patch and "+lr = 0.2" in patch
    assert "+staged line" in patch
    assert "scratch" not in patch  # untracked files are listed, not diffed
    # The patch applies to the recorded commit and reproduces the working tree.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "checkout", "-q", g["commit"])
    git(clone, "apply", str(run_dir / "diff.patch"))
    assert (clone / "src" / "train.py").read_text() == (repo / "src" / "train.py").read_text()
    assert meta["codePath"] == "src/train.py"
    assert (run_dir / "code" / "src" / "train.py").read_text() == (repo / "src" / "train.py").read_text()
    assert meta["args"] == ["--lr", "0.2"]
    assert set(meta["files"]) == {"diff.patch", "code/src/train.py", "requirements.txt"}
    json.dumps(meta)


def test_clean_repo_has_no_patch(repo: Path, tmp_path: Path) -> None:
    (repo / "build").mkdir()
    (repo / ".gitignore").write_text("build/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore")
    run_dir = tmp_path / "run"
    meta = capture_environment(run_dir, program=str(repo / "src" / "train.py"), args=[], save_code=False)
    assert meta["git"]["dirty"] is False
    assert meta["git"]["untracked"] == []
    assert not (run_dir / "diff.patch").exists()
    assert not (run_dir / "code").exists()
    assert "diff.patch" not in meta["files"]


def test_detached_head_and_repo_without_commits(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    meta = capture_environment(
        tmp_path / "r1", program=str(repo / "src" / "train.py"), args=[], save_code=False
    )
    assert "branch" not in meta["git"] and meta["git"]["commit"]

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    (fresh / "a.py").write_text("x = 1\n")
    git(fresh, "add", "a.py")
    meta = capture_environment(tmp_path / "r2", program=str(fresh / "a.py"), args=[], save_code=False)
    assert "commit" not in meta["git"] and meta["git"]["dirty"] is True
    assert "+x = 1" in (tmp_path / "r2" / "diff.patch").read_text()


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://user:s3cret@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://ghp_tokenvalue@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("http://oauth2:glpat-xyz@gitlab.example.com:8443/g/p.git", "http://gitlab.example.com:8443/g/p.git"),
        ("ssh://git:pw@host.example/repo.git", "ssh://git@host.example/repo.git"),
        ("ssh://git@host.example/repo.git", "ssh://git@host.example/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
    ],
)
def test_sanitize_remote_url(url: str, clean: str) -> None:
    assert sanitize_remote_url(url) == clean


def test_remote_credentials_never_recorded(repo: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", "https://alice:hunter2@git.example.com/team/proj.git")
    git(repo, "remote", "add", "backup", "https://bob:other@backup.example.com/p.git")
    meta = capture_environment(
        tmp_path / "run", program=str(repo / "src" / "train.py"), args=[], save_code=False
    )
    assert meta["git"]["remote"] == "https://git.example.com/team/proj.git"
    dumped = json.dumps(meta)
    assert "hunter2" not in dumped and "alice" not in dumped and "other" not in dumped


def test_requirements_lists_installed_packages(tmp_path: Path) -> None:
    import numpy

    run_dir = tmp_path / "run"
    capture_environment(run_dir, program=None, args=[], save_code=True)
    lines = (run_dir / "requirements.txt").read_text().splitlines()
    assert f"numpy=={numpy.__version__}" in lines
    assert f"psutil=={metadata.version('psutil')}" in lines
    names = [line.split("==")[0] for line in lines]
    assert names == sorted(names, key=str.lower)
    assert all("==" in line for line in lines)
    assert packages()["numpy"] == numpy.__version__


def test_outside_a_repo_no_git_and_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "plain"
    work.mkdir()
    (work / "train.py").write_text("pass\n")
    monkeypatch.chdir(work)
    run_dir = tmp_path / "run"
    meta = capture_environment(run_dir, program="train.py", args=[], save_code=True)
    assert "git" not in meta
    assert not (run_dir / "diff.patch").exists()
    assert meta["codePath"] == "train.py"
    assert (run_dir / "code" / "train.py").read_text() == "pass\n"
    assert meta["program"] == "train.py"


def test_disable_git_and_missing_git_binary(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prog = str(repo / "src" / "train.py")
    (repo / "src" / "train.py").write_text("changed\n")
    meta = capture_environment(tmp_path / "r1", program=prog, args=[], save_code=False, disable_git=True)
    assert "git" not in meta and not (tmp_path / "r1" / "diff.patch").exists()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    meta = capture_environment(tmp_path / "r2", program=prog, args=[], save_code=False)
    assert "git" not in meta
    # No git root: relative to the cwd when the program is below it, else the bare file name.
    assert meta["codePath"] == os.path.relpath(prog, Path.cwd())


def test_host_fields(tmp_path: Path, repo: Path) -> None:
    meta = capture_environment(
        tmp_path / "run", program=str(repo / "src" / "train.py"), args=[], save_code=True
    )
    for key in ("python", "python_implementation", "executable", "os", "host", "cwd", "pid", "started_at"):
        assert meta[key], key
    assert meta["started_at"].endswith("Z")
    assert meta["pid"] == os.getpid()
    assert meta["cpu_count_logical"] >= 1
    assert meta["memory_total_gb"] > 0
    assert meta["disk"]["/"]["total_gb"] > 0
    assert meta["gpu_count"] == meta["gpu"]["gpu_count"]
    assert isinstance(meta["gpu"]["gpus"], list)
    json.dumps(meta)


def test_slurm_whitelist_and_no_env_leak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_JOB_NAME", "resnet")
    monkeypatch.setenv("SLURM_NTASKS", "8")
    monkeypatch.setenv("SLURM_JOB_NODELIST", "gpu[01-02]")
    monkeypatch.setenv("SLURM_PROCID", "3")
    monkeypatch.setenv("SLURM_JOB_CREDENTIAL_TOKEN", "tok-should-not-leak")
    monkeypatch.setenv("MY_API_KEY", "key-should-not-leak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-should-not-leak")
    meta = capture_environment(tmp_path / "run", program=None, args=[], save_code=False)
    assert meta["slurm"] == {
        "job_id": "4242",
        "job_name": "resnet",
        "ntasks": "8",
        "nodelist": "gpu[01-02]",
        "procid": "3",
    }
    dumped = json.dumps(meta)
    assert "should-not-leak" not in dumped
    assert slurm_info({"HOME": "/root"}) is None


def test_outside_slurm_no_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SLURM"):
            monkeypatch.delenv(name)
    meta = capture_environment(tmp_path / "run", program=None, args=[], save_code=False)
    assert "slurm" not in meta


def test_container_detection_kubernetes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    assert detect_container() == "kubernetes"


def test_unwritable_run_dir_still_returns_metadata(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    meta = capture_environment(blocker / "run", program=None, args=["x"], save_code=True)
    assert meta["args"] == ["x"]
    assert meta["files"] == []
    assert "python" in meta


@pytest.mark.parametrize(
    ("args", "recorded"),
    [
        (["--api-key", "k-123", "--lr", "0.1"], ["--api-key", MASK, "--lr", "0.1"]),
        (["--password=hunter2", "--epochs=3"], [f"--password={MASK}", "--epochs=3"]),
        (["--hfToken", "abc"], ["--hfToken", MASK]),
        (["db.password=x", "trainer.max_epochs=3"], [f"db.password={MASK}", "trainer.max_epochs=3"]),
        (["+model.secret_key=s3"], [f"+model.secret_key={MASK}"]),
        (["--token", "--lr", "0.1"], ["--token", "--lr", "0.1"]),  # a flag without its value
        (["--token", "-5"], ["--token", MASK]),  # a negative number is a value, not an option
        (
            ["--data", "https://bob:pa55@oss.example/bucket"],
            ["--data", f"https://bob:{MASK}@oss.example/bucket"],
        ),
        (["--num_passes", "3", "--author", "li"], ["--num_passes", "3", "--author", "li"]),
    ],
)
def test_secrets_on_the_command_line_are_masked(args: list[str], recorded: list[str]) -> None:
    assert mask_argv(args)[0] == recorded


def test_captured_args_never_hold_a_secret(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="2 secret-looking command-line value"):
        meta = capture_environment(
            tmp_path / "run", program=None, args=["--api-key", "k-123", "--password=hunter2"], save_code=False
        )
    assert meta["args"] == ["--api-key", MASK, f"--password={MASK}"]
    assert "k-123" not in json.dumps(meta) and "hunter2" not in json.dumps(meta)


@given(st.lists(st.text(max_size=12), max_size=8), st.text(min_size=1, max_size=12))
def test_a_secret_options_value_never_survives(args: list[str], secret: str) -> None:
    masked, count = mask_argv([*args, "--api-key", "v" + secret])
    assert "v" + secret not in masked
    assert count >= 1
