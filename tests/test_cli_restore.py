"""`wakelog restore`: a run recorded from a real git repository (pushed to a bare "remote", with
uncommitted changes) brought back — clone or current repository, patch, files, config, venv,
artifacts, rerun command — against the in-process server."""

from __future__ import annotations

import shlex
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests._env import child_env
from tests.conftest import records
from tests.harness import InProcessServer, upload
from wakelog.api._restore_run import normalise_remote, rerun_command
from wakelog.cli import main
from wakelog.sdk._config import load_yaml
from wakelog.transport.sync import describe

TRAIN = textwrap.dedent(
    """\
    import argparse
    import wakelog

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args()
    run = wakelog.init(project="repro", config={"lr": args.lr, "layers": [64, 32]}, save_code=True)
    open("notes/setup.txt", "w").write("seed 7\\n")
    run.save("notes/setup.txt", policy="now")
    run.log({"loss": 0.5})
    run.finish()
    """
)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env=child_env(GIT_TERMINAL_PROMPT="0"),
    )
    return done.stdout.strip()


@dataclass
class Recorded:
    remote: Path
    path: str  # entity/project/run_id
    run_id: str
    commit: str
    run_dir: Path


def _record(root: Path, server: InProcessServer, *, push: bool = True) -> Recorded:
    """A bare remote, a clone with one commit (pushed or not) and an uncommitted change, a run of
    ``train.py --lr 0.1`` from the clone (offline, a real process), uploaded to ``server``."""
    root.mkdir(exist_ok=True)
    remote = root / "remote.git"
    git(root, "init", "--quiet", "--bare", "-b", "main", str(remote))
    work = root / "work"
    git(root, "clone", "--quiet", str(remote), str(work))
    (work / "train.py").write_text(TRAIN)
    (work / "notes").mkdir()
    (work / "notes" / ".keep").write_text("")
    git(work, "add", ".")
    git(work, "commit", "--quiet", "-m", "train")
    if push:
        git(work, "push", "--quiet", "origin", "main")
    (work / "train.py").write_text(TRAIN.replace("default=0.01", "default=0.02"))  # the uncommitted change
    subprocess.run(
        [sys.executable, "train.py", "--lr", "0.1"],
        cwd=work,
        env=child_env(WAKELOG_MODE="offline"),
        check=True,
        timeout=120,
    )
    (run_dir,) = (work / "wakelog").glob("offline-run-*")
    upload(server, run_dir, entity="admin")
    local = describe(run_dir)
    return Recorded(
        remote, f"admin/repro/{local.run_id}", local.run_id, git(work, "rev-parse", "HEAD"), run_dir
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path_factory.mktemp("restore") / "data") as server:
        server.url  # noqa: B018  (wakelog.Api dials it)
        yield server


@pytest.fixture(scope="module")
def recorded(served: InProcessServer, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    with pytest.MonkeyPatch.context() as mp:  # the recording run's own environment
        mp.setenv("WAKELOG_SILENT", "true")
        mp.setenv("WAKELOG_CONSOLE", "off")
        mp.setenv("WAKELOG_DISABLE_STATS", "true")
        return _record(tmp_path_factory.mktemp("recorded"), served)


@pytest.fixture
def api_env(served: InProcessServer, monkeypatch: pytest.MonkeyPatch) -> InProcessServer:
    monkeypatch.setenv("WAKELOG_BASE_URL", served.url)
    monkeypatch.setenv("WAKELOG_API_KEY", served.key)
    return served


def restore(*args: str) -> Result:
    return CliRunner().invoke(main, ["restore", *args])


def test_restore_clones_checks_out_patches_and_prints_the_rerun_command(
    api_env: InProcessServer, recorded: Recorded, tmp_path: Path
) -> None:
    result = restore(recorded.path, "--dir", "out")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert git(out, "rev-parse", "HEAD") == recorded.commit
    assert git(out, "rev-parse", "--abbrev-ref", "HEAD") == f"wakelog/{recorded.run_id}"
    assert "default=0.02" in (out / "train.py").read_text(), "diff.patch applied"
    assert git(out, "status", "--porcelain", "--untracked-files=no") == "M train.py"
    assert (out / "notes" / "setup.txt").read_text() == "seed 7\n", "the saved file is back"
    config = (out / "wakelog" / "config.yaml").read_text()
    assert config.startswith("wandb_version: 1\n") and "lr:\n  desc: null\n  value: 0.1\n" in config
    assert load_yaml(out / "wakelog" / "config.yaml") == {"lr": 0.1, "layers": [64, 32]}
    assert "wakelog==" in (out / "wakelog" / "requirements.txt").read_text()
    assert "no artifacts: the run used none" in result.output
    command = f"cd {shlex.quote(str(out))} && python train.py --lr 0.1"
    assert command in result.output
    # The printed command really reruns it: same program, same arguments, same config.
    rerun = subprocess.run(
        ["bash", "-c", command.replace(" python ", f" {shlex.quote(sys.executable)} ")],
        env=child_env(WAKELOG_MODE="offline"),
        timeout=120,
        check=True,
    )
    assert rerun.returncode == 0
    (again,) = (out / "wakelog").glob("offline-run-*")
    (first,) = records(again, "config")
    assert first.data["update"] == {"lr": 0.1, "layers": [64, 32]}


def test_restore_in_the_current_clone_and_refusing_uncommitted_work(
    api_env: InProcessServer, recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = tmp_path / "mine"
    git(tmp_path, "clone", "--quiet", str(recorded.remote), str(clone))
    (clone / "train.py").write_text("my own work in progress\n")
    monkeypatch.chdir(clone)
    refused = restore(recorded.path)
    assert refused.exit_code == 1 and "uncommitted changes" in refused.output and "train.py" in refused.output
    assert (clone / "train.py").read_text() == "my own work in progress\n", "nothing was touched"
    assert not (clone / "wakelog").exists()

    git(clone, "checkout", "--quiet", "--", "train.py")
    done = restore(recorded.path, "--no-branch")
    assert done.exit_code == 0, done.output
    assert git(clone, "rev-parse", "HEAD") == recorded.commit
    assert git(clone, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD", "detached"
    assert "default=0.02" in (clone / "train.py").read_text()
    assert f"cd {shlex.quote(str(clone))} && python train.py --lr 0.1" in done.output


def test_a_commit_never_pushed_is_explained_and_the_saved_code_put_back_instead(
    api_env: InProcessServer, tmp_path: Path
) -> None:
    unpushed = _record(tmp_path / "rec", api_env, push=False)
    result = restore(unpushed.path, "--dir", "out")
    assert result.exit_code == 1, result.output
    assert f"commit {unpushed.commit} is not in" in result.output and "was it pushed?" in result.output
    out = tmp_path / "out"
    assert "default=0.02" in (out / "train.py").read_text(), "the saved copy of the program, as it ran"
    assert (out / "notes" / "setup.txt").exists() and (out / "wakelog" / "config.yaml").exists()
    assert "python train.py --lr 0.1" in result.output


def test_files_that_differ_are_left_alone_unless_yes(
    api_env: InProcessServer, recorded: Recorded, tmp_path: Path
) -> None:
    (tmp_path / "plain" / "notes").mkdir(parents=True)
    (tmp_path / "plain" / "notes" / "setup.txt").write_text("mine\n")
    kept = restore(recorded.path, "--no-git", "--dir", "plain")
    assert (
        kept.exit_code == 1
        and "left alone because they differ" in kept.output
        and "notes/setup.txt" in kept.output
    )
    assert (tmp_path / "plain" / "notes" / "setup.txt").read_text() == "mine\n"
    assert "default=0.02" in (tmp_path / "plain" / "train.py").read_text(), "--no-git: the saved code"
    replaced = restore(recorded.path, "--no-git", "--dir", "plain", "--yes")
    assert replaced.exit_code == 0, replaced.output
    assert (tmp_path / "plain" / "notes" / "setup.txt").read_text() == "seed 7\n"


def test_a_non_empty_folder_that_is_not_a_clone_is_refused(
    api_env: InProcessServer, recorded: Recorded, tmp_path: Path
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("\\begin{document}")
    result = restore(recorded.path, "--dir", "busy")
    assert result.exit_code == 1 and "not empty and not a clone" in result.output
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["thesis.tex"]


def _tiny_wheel(folder: Path) -> None:
    """A pure-Python wheel built by hand (no network, no build backend)."""
    folder.mkdir()
    info = "tinypkg-1.0.dist-info"
    files = {
        "tinypkg.py": "VALUE = 42\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    with zipfile.ZipFile(folder / "tinypkg-1.0-py3-none-any.whl", "w") as whl:
        for name, text in files.items():
            whl.writestr(name, text)
        whl.writestr(f"{info}/RECORD", "".join(f"{n},,\n" for n in [*files, f"{info}/RECORD"]))


@pytest.fixture
def as_a_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Runs started in this process record a program file, as a script's runs do (the rerun
    command needs one); pytest's own ``__main__`` is no file under pytest-xdist."""
    script = tmp_path / "train.py"
    script.write_text("")
    monkeypatch.setattr(sys.modules["__main__"], "__file__", str(script), raising=False)
    return script


@pytest.mark.process  # python -m venv and pip run as processes
@pytest.mark.usefixtures("as_a_script")
def test_venv_is_made_from_the_runs_requirements_offline(
    api_env: InProcessServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wakelog

    run = wakelog.init(mode="offline", project="repro", config={"lr": 0.3})
    run.finish()
    (run.run_dir / "files" / "requirements.txt").write_text("tinypkg==1.0\n")
    upload(api_env, run.run_dir, entity="admin")
    _tiny_wheel(tmp_path / "wheels")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    result = restore(f"admin/repro/{run.id}", "--dir", "env", "--venv", "--no-git")
    assert result.exit_code == 0, result.output
    assert "venv: [1/1] tinypkg-1.0-py3-none-any.whl" in result.output
    python = tmp_path / "env" / ".venv" / "bin" / "python"
    imported = subprocess.run(
        [str(python), "-c", "import tinypkg; print(tinypkg.VALUE)"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert imported.stdout.strip() == "42"
    assert "made " in result.output
    again = restore(f"admin/repro/{run.id}", "--dir", "env", "--venv", "--no-git")
    assert again.exit_code == 1 and "exists: pass --yes" in again.output


def test_remote_spellings_compare_equal() -> None:
    assert normalise_remote("git@github.com:org/repo.git") == normalise_remote("https://GitHub.com/org/repo")
    assert normalise_remote("ssh://git@github.com/org/repo.git") == "github.com/org/repo"
    assert normalise_remote("https://github.com/org/repo") != normalise_remote("https://github.com/org/other")


def test_rerun_command_keeps_the_recorded_working_folder(tmp_path: Path) -> None:
    meta = {
        "program": "/src/proj/tools/train.py",
        "codePath": "tools/train.py",
        "cwd": "/src/proj/exp",
        "args": ["--x", "a b"],
    }
    assert rerun_command(meta, tmp_path, "py") == f"cd {tmp_path / 'exp'} && py ../tools/train.py --x 'a b'"
    assert rerun_command({"program": "<stdin>", "codePath": "x"}, tmp_path) is None


@pytest.mark.usefixtures("as_a_script")
def test_the_artifacts_the_run_used_are_downloaded(
    api_env: InProcessServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wakelog

    monkeypatch.setenv("WAKELOG_CACHE_DIR", str(tmp_path / "cache"))
    with wakelog.init(mode="offline", project="repro", entity="admin", dir=str(tmp_path / "r1")) as run:
        data = wakelog.Artifact("digits", "dataset")
        with data.new_file("train.csv") as f:
            f.write("x,y\n1,2\n")
        run.log_artifact(data)
        maker = Path(run.run_dir)
    upload(api_env, maker)
    with wakelog.init(mode="offline", project="repro", entity="admin", dir=str(tmp_path / "r2")) as run:
        run.use_artifact("digits:latest")
        user, user_dir = run.id, Path(run.run_dir)
    upload(api_env, user_dir)
    result = restore(f"admin/repro/{user}", "--no-git", "--dir", "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "artifacts" / "digits:v0" / "train.csv").read_text() == "x,y\n1,2\n"
    assert "downloaded 1 artifact(s)" in result.output
