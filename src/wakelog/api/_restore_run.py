"""``wakelog restore``: a run's code, patch, files, config, environment and artifacts back in a folder.

The steps, in order, each reported on its own (one that cannot be done is explained and the others
go on; ``RestoreReport.ok`` says whether all worked):

``git``        check out the recorded commit on a ``wakelog/<run_id>`` branch (or detached) in the
               current repository when its remote is the recorded one, else in a clone of the recorded
               remote made in ``dir``; then apply the recorded ``diff.patch`` (all or nothing).
``files``      the run's saved files under the target folder; the saved copy of the program
               (``code/…``) too when the git step could not put the code back.
``config``     ``wakelog/config.yaml`` in wandb's config-file shape (``init(config=…)`` reads it back),
               and ``wakelog/requirements.txt``.
``venv``       (``venv=True``) ``.venv`` made with ``python -m venv`` and ``pip install -r``.
``artifacts``  the artifacts the run used, under ``artifacts/<name>:<version>``.
``command``    the exact command that reruns the program, from the recorded program, args and cwd.

Nothing that could lose work is done silently: a repository with uncommitted changes to tracked files
is refused before anything is written (``RestoreRefused`` names the files); an existing file that
differs from the run's is left alone unless ``overwrite``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from wakelog._secrets import MASK
from wakelog.errors import Error, UsageError

__all__ = ["RestoreRefused", "RestoreReport", "Step", "rerun_command", "restore_run"]

CONFIG_PATH = "wakelog/config.yaml"
REQUIREMENTS_PATH = "wakelog/requirements.txt"
VENV_DIR = ".venv"
#: Run files that are records of the run rather than files to put back.
_NOT_RESTORED = ("diff.patch", "requirements.txt", "output.log", "config.yaml", "wandb-metadata.json")
_NOT_RESTORED_DIRS = ("media/",)
_GIT_TIMEOUT = 600.0  # a clone or fetch of a big repository


class RestoreRefused(UsageError):
    """``wakelog restore`` would overwrite uncommitted work (or has nowhere safe to write)."""


@dataclass
class Step:
    """One step's outcome: ``ok`` False when it could not be done (``message`` says why)."""

    name: str
    ok: bool
    message: str


@dataclass
class RestoreReport:
    target: Path
    steps: list[Step] = field(default_factory=list)
    command: str | None = None

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)


Echo = Callable[[str], None]


# ---------------------------------------------------------------------------------------------- git


class GitFailed(UsageError):
    """A git command failed; the message carries git's own words."""


def _git(args: list[str], cwd: Path, *, timeout: float = _GIT_TIMEOUT) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args],
            check=False,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitFailed(f"git {args[0]}: {exc}") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip() or done.stdout.decode(errors="replace").strip()
        raise GitFailed(f"git {args[0]} failed: {said[-500:]}")
    return done.stdout.decode(errors="replace")


def _git_or_none(args: list[str], cwd: Path) -> str | None:
    try:
        return _git(args, cwd, timeout=30.0)
    except GitFailed:
        return None


def normalise_remote(url: str) -> str:
    """A remote URL reduced to ``host/path`` (scheme, user, ``.git`` and case of the host dropped), or a
    resolved local path, so that ``git@host:a/b.git`` and ``https://host/a/b`` compare equal."""
    url = url.strip().rstrip("/")
    if url.endswith(".git"):
        url = url[:-4]
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme == "file":
            return str(Path(parts.path).resolve())
        return f"{(parts.hostname or '').lower()}{parts.path}"
    scp = re.match(r"^(?:[^@/]+@)?([^:/]+):(.+)$", url)
    if scp and not Path(url).exists():
        return f"{scp.group(1).lower()}/{scp.group(2).lstrip('/')}"
    return str(Path(url).resolve())


def _repo_root(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    top = _git_or_none(["rev-parse", "--show-toplevel"], folder)
    return Path(top.strip()) if top and top.strip() else None


def _remotes(root: Path) -> list[str]:
    text = _git_or_none(["config", "--get-regexp", r"^remote\..*\.url$"], root) or ""
    return [line.partition(" ")[2] for line in text.splitlines() if " " in line]


def _matches(root: Path, remote: str | None) -> bool:
    if remote is None:
        return False
    want = normalise_remote(remote)
    return any(normalise_remote(url) == want for url in _remotes(root))


def _dirty_files(root: Path) -> list[str]:
    """Tracked files with uncommitted changes (staged or not)."""
    text = _git(["status", "--porcelain=v1", "-z", "--untracked-files=no"], root, timeout=60.0)
    return sorted({entry[3:] for entry in text.split("\0") if len(entry) > 3})


def _has_commit(root: Path, commit: str) -> bool:
    return _git_or_none(["cat-file", "-e", f"{commit}^{{commit}}"], root) is not None


# ---------------------------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _inside(base: Path, name: str) -> Path:
    """``base/name`` for a run file name (relative, ``/``-separated, never ``..``: refused)."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or "\0" in name:
        raise UsageError(f"run file name {name!r} cannot be restored: it points outside {base}")
    return base.joinpath(*pure.parts)


def config_yaml(config: dict[str, Any]) -> str:
    """wandb's config-file shape: ``wandb_version: 1`` then ``key: {desc: null, value: …}``."""
    import yaml

    values = {k: {"desc": None, "value": v} for k, v in config.items() if not k.startswith("_wandb")}
    body = yaml.safe_dump(values, default_flow_style=False, allow_unicode=True, sort_keys=False)
    return "wandb_version: 1\n\n" + body


def _program_root(meta: dict[str, Any]) -> tuple[PurePosixPath, PurePosixPath] | None:
    """The recorded program relative to its code root (git root, else cwd), and the cwd relative to
    that root: the same layout rebuilt under the restore target."""
    code_path = meta.get("codePath")
    program = meta.get("program")
    if not code_path or not program or str(program).startswith("<"):
        return None
    rel = PurePosixPath(str(code_path))
    prog = PurePosixPath(str(program))
    cwd = PurePosixPath(str(meta.get("cwd") or "."))
    if not prog.is_absolute():
        prog = cwd / prog
    root = (
        PurePosixPath(*prog.parts[: len(prog.parts) - len(rel.parts)])
        if prog.parts[-len(rel.parts) :] == rel.parts
        else cwd
    )
    try:
        return rel, cwd.relative_to(root)
    except ValueError:
        return rel, PurePosixPath(".")


def rerun_command(meta: dict[str, Any], target: Path, python: str = "python") -> str | None:
    """``cd <folder> && <python> <program> <args…>`` as the run was started; None without a program."""
    found = _program_root(meta)
    if found is None:
        return None
    rel, cwd_rel = found
    workdir = target.joinpath(*cwd_rel.parts) if cwd_rel.parts else target
    program = os.path.relpath(target.joinpath(*rel.parts), workdir)
    args = [str(a) for a in meta.get("args") or []]
    return f"cd {shlex.quote(str(workdir))} && " + shlex.join([python, program, *args])


# ---------------------------------------------------------------------------------------------- steps


class _Restorer:
    def __init__(self, run: Any, target: Path, *, overwrite: bool, echo: Echo) -> None:
        self.run, self.target, self.overwrite, self.echo = run, target, overwrite, echo
        self.meta: dict[str, Any] = dict(run.metadata or {})
        self.files = {f.name: f for f in run.files()}
        self.code_restored = False

    # -- git ----------------------------------------------------------------------------------
    def git(self, repo: Path | None, *, clone: bool, branch: bool) -> Step:
        git = self.meta.get("git") or {}
        commit = git.get("commit")
        if not commit:
            return Step("git", True, "the run recorded no git commit: nothing to check out")
        try:
            if clone:
                self.echo(f"git: cloning {git['remote']} into {self.target}")
                _git(["clone", "--quiet", "--no-checkout", git["remote"], str(self.target)], Path.cwd())
                repo = self.target
            if repo is None:
                return Step("git", False, self._no_repo_reason(git))
            if not _has_commit(repo, commit):
                self.echo(f"git: fetching {commit[:12]}")
                _git(["fetch", "--quiet", "--all"], repo)
            if not _has_commit(repo, commit):
                return Step(
                    "git", False, f"commit {commit} is not in {repo} nor its remotes (was it pushed?)"
                )
            where = self._checkout(repo, commit, branch)
        except GitFailed as exc:
            return Step("git", False, str(exc))
        patched = self._apply_patch(repo)
        self.code_restored = patched.ok
        return Step("git", patched.ok, f"{where}; {patched.message}")

    def _no_repo_reason(self, git: dict[str, Any]) -> str:
        remote = git.get("remote")
        if not remote:
            return "the run recorded a commit but no remote, and this folder is not a repository with it"
        return f"{Path.cwd()} is not a clone of {remote}: run from a clone, or pass --dir to clone it there"

    def _checkout(self, repo: Path, commit: str, branch: bool) -> str:
        if not branch:
            _git(["checkout", "--quiet", "--detach", commit], repo)
            return f"checked out {commit[:12]} (detached) in {repo}"
        name = f"wakelog/{self.run.id}"
        existing = _git_or_none(["rev-parse", "--verify", "-q", f"refs/heads/{name}"], repo)
        if existing is None:
            _git(["checkout", "--quiet", "-b", name, commit], repo)
        elif existing.strip() == commit or self.overwrite:
            _git(["checkout", "--quiet", "-B", name, commit], repo)
        else:
            raise GitFailed(
                f"branch {name} exists at another commit ({existing.strip()[:12]}): "
                "pass --yes to move it, or --no-branch to check out the commit detached"
            )
        return f"checked out {commit[:12]} on branch {name} in {repo}"

    def _apply_patch(self, repo: Path) -> Step:
        if "diff.patch" not in self.files:
            return Step("git", True, "the run recorded no uncommitted changes")
        with tempfile.TemporaryDirectory(prefix="wakelog-restore-") as tmp:
            self.files["diff.patch"].download(root=tmp, replace=True).close()
            patch = Path(tmp, "diff.patch")
            if patch.read_bytes().endswith(b"# wakelog: diff truncated\n"):
                return Step("git", False, "diff.patch was cut at 20 MB when recorded: not applied")
            try:  # all or nothing: a patch that does not apply leaves the checkout as it was
                _git(["apply", "--whitespace=nowarn", str(patch)], repo)
            except GitFailed as exc:
                return Step("git", False, f"diff.patch did not apply, nothing of it was applied: {exc}")
        return Step("git", True, "applied diff.patch")

    # -- files --------------------------------------------------------------------------------
    def put_back_files(self) -> Step:
        done, kept, same = [], [], 0
        for name, file in sorted(self.files.items()):
            dest_name = self._destination(name)
            if dest_name is None:
                continue
            dest = _inside(self.target, dest_name)
            if dest.exists() and file.sha256 and _sha256(dest) == file.sha256:
                same += 1
                continue
            if dest.exists() and not self.overwrite:
                kept.append(dest_name)
                continue
            self._download(file, dest)
            done.append(dest_name)
        message = f"{len(done)} file(s) put back" + (f", {same} already there" if same else "")
        if kept:
            return Step(
                "files",
                False,
                message + f"; left alone because they differ (--yes replaces): {', '.join(kept)}",
            )
        return Step("files", True, message)

    def _destination(self, name: str) -> str | None:
        if name in _NOT_RESTORED or name.startswith(_NOT_RESTORED_DIRS):
            return None
        if name.startswith("code/"):  # the saved program: only when git did not bring the code back
            return None if self.code_restored else name[len("code/") :]
        return name

    def _download(self, file: Any, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".wakelog-restore-", dir=dest.parent) as tmp:
            file.download(root=tmp, replace=True).close()
            os.replace(Path(tmp, file.name), dest)

    # -- config and requirements ------------------------------------------------------------------
    def config(self) -> Step:
        path = self.target / CONFIG_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config_yaml(dict(self.run.config)), encoding="utf-8")
        wrote = [CONFIG_PATH]
        if "requirements.txt" in self.files:
            self._download(self.files["requirements.txt"], self.target / REQUIREMENTS_PATH)
            wrote.append(REQUIREMENTS_PATH)
        return Step("config", True, "wrote " + " and ".join(wrote))

    # -- venv ---------------------------------------------------------------------------------
    def venv(self) -> Step:
        requirements = self.target / REQUIREMENTS_PATH
        if not requirements.exists():
            return Step("venv", False, "the run recorded no requirements.txt: no environment to rebuild")
        venv = self.target / VENV_DIR
        if venv.exists() and not self.overwrite:
            return Step("venv", False, f"{venv} exists: pass --yes to install the requirements into it")
        self.echo(f"venv: creating {venv}")
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], check=False, capture_output=True, text=True
        )
        if made.returncode != 0:
            return Step("venv", False, f"python -m venv failed: {made.stderr.strip()[-500:]}")
        failed = _pip_install(_venv_python(venv), requirements, self.echo)
        if failed:
            return Step("venv", False, f"pip install -r {REQUIREMENTS_PATH} failed: {failed}")
        note = ""
        recorded = str(self.meta.get("python") or "")
        here = ".".join(map(str, sys.version_info[:2]))
        if recorded and not recorded.startswith(here + "."):
            note = f" (the run used Python {recorded}, this venv has {here})"
        return Step("venv", True, f"made {venv} with the run's requirements{note}")

    # -- artifacts ----------------------------------------------------------------------------
    def artifacts(self) -> Step:
        """Each artifact the run used, where ``artifact.download()`` puts it: ``artifacts/<name>:<vN>``."""
        used = self.run.used_artifacts()
        if not used:
            return Step("artifacts", True, "no artifacts: the run used none")
        done, failed = [], []
        for artifact in used:
            root = self.target / "artifacts" / f"{artifact.collection_name}:{artifact.version}"
            self.echo(f"artifacts: downloading {artifact.name} into {root}")
            try:
                done.append(artifact.download(root=str(root)))
            except (Error, OSError) as exc:
                failed.append(f"{artifact.name}: {exc}")
        message = f"downloaded {len(done)} artifact(s)" + (f": {', '.join(done)}" if done else "")
        if failed:
            return Step("artifacts", False, message + "; could not download " + "; ".join(failed))
        return Step("artifacts", True, message)

    # -- the command --------------------------------------------------------------------------
    def command(self, python: str) -> tuple[Step, str | None]:
        cmd = rerun_command(self.meta, self.target, python)
        if cmd is None:
            return Step("command", False, "the run recorded no program file (a notebook or stdin?)"), None
        if MASK in (self.meta.get("args") or []):
            return Step(
                "command", True, f"some arguments were masked when recorded ({MASK}): fill them in"
            ), cmd
        return Step("command", True, "rerun it with the command below"), cmd


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _pip_install(python: Path, requirements: Path, echo: Echo) -> str | None:
    """``pip install -r``, one progress line per requirement; None when it worked, else pip's last words."""
    total = sum(
        1 for line in requirements.read_text().splitlines() if line.strip() and not line.startswith("#")
    )
    seen, tail = 0, list[str]()
    with subprocess.Popen(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(requirements)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = [*tail[-19:], line.rstrip()]
            if line.startswith(("Collecting ", "Processing ", "Requirement already satisfied: ")):
                seen += 1
                what = line.split(": ", 1)[-1] if line.startswith("Requirement") else line.split(" ", 1)[1]
                echo(f"venv: [{min(seen, total)}/{total}] {PurePosixPath(what.split()[0]).name}")
    if proc.returncode != 0:
        return "\n".join(tail[-5:])
    return None


# ---------------------------------------------------------------------------------------------- entry


def _pick_repo(git: dict[str, Any], dir: Path | None) -> tuple[Path | None, Path, bool]:
    """(repository to check out in, target folder, whether to clone into the target)."""
    remote = git.get("remote")
    here = _repo_root(dir if dir is not None else Path.cwd())
    if here is not None and (_matches(here, remote) or (remote is None and _has_commit(here, git["commit"]))):
        return here, here, False
    if dir is None:
        return None, Path.cwd(), False
    if dir.exists() and any(dir.iterdir()):
        raise RestoreRefused(f"{dir} is not empty and not a clone of {remote}: pick an empty or new folder")
    if remote is None:
        return None, dir, False
    return None, dir, True


def restore_run(
    api: Any,
    run_path: str,
    *,
    dir: str | os.PathLike[str] | None = None,
    git: bool = True,
    branch: bool = True,
    venv: bool = False,
    overwrite: bool = False,
    echo: Echo = lambda message: None,
) -> RestoreReport:
    """Restore the run ``run_path`` (``entity/project/run_id``) with ``api`` (a ``wakelog.Api``).

    Raises ``RestoreRefused`` before writing anything when the repository it would check out in has
    uncommitted changes (or ``dir`` is a non-empty folder that is not a clone of the run's remote).
    """
    run = api.run(run_path)
    restorer = _Restorer(run, Path.cwd(), overwrite=overwrite, echo=echo)
    recorded = restorer.meta.get("git") or {}
    folder = Path(dir).resolve() if dir is not None else None
    do_git = git and bool(recorded.get("commit"))
    if do_git:
        repo, target, clone = _pick_repo(recorded, folder)
        if repo is not None and (dirty := _dirty_files(repo)):
            raise RestoreRefused(
                f"{repo} has uncommitted changes that a checkout would overwrite: {', '.join(dirty)}; "
                "commit or stash them first (or pass --no-git)"
            )
    else:
        repo, target, clone = None, folder or Path.cwd(), False
    target.mkdir(parents=True, exist_ok=True)
    restorer.target = target
    report = RestoreReport(target)
    if do_git:
        report.steps.append(restorer.git(repo, clone=clone, branch=branch))
    else:
        why = "--no-git" if not git else "the run recorded no git commit"
        report.steps.append(Step("git", True, f"skipped ({why})"))
    report.steps += [restorer.put_back_files(), restorer.config()]
    if venv:
        report.steps.append(restorer.venv())
    report.steps.append(restorer.artifacts())
    venv_python = target / VENV_DIR / "bin" / "python"
    step, report.command = restorer.command(str(venv_python) if venv and venv_python.exists() else "python")
    report.steps.append(step)
    return report
