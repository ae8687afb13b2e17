"""``run.save()``: bring the user's files into the run's ``files/`` folder.

``now`` copies a snapshot at once. ``live`` and ``end`` link the file (symlink, else hard link,
else copy) so the run sees its latest content; ``live`` files are also watched and each change
is recorded. At ``finish()`` every link is replaced by a copy, so a finished run directory is
self-contained and can be synced after the originals are gone. A saved file's name inside the
run is relative and may never contain ``..``, so nothing is written outside ``files/``.
"""

from __future__ import annotations

import fnmatch
import glob as globlib
import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from wakelog._names import check_file_name
from wakelog._threads import start_background
from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.runlog import RecordType

POLICIES = ("live", "now", "end")
IGNORE_FILES = (".wakelogignore", ".wandbignore")


def read_ignore_globs(folder: Path, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Globs from ``WAKELOG_IGNORE_GLOBS`` (passed as ``extra``) and the ignore files in ``folder``."""
    globs = list(extra)
    for name in IGNORE_FILES:
        try:
            text = (folder / name).read_text(encoding="utf-8")
        except OSError:
            continue
        globs.extend(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return tuple(dict.fromkeys(globs))


def saved_name(path: Path, base: Path) -> str:
    """The run-relative name for ``path`` under ``base``, refusing anything that could escape."""
    try:
        relative = path.resolve().relative_to(base.resolve()) if path.is_absolute() else path
    except ValueError:
        raise UsageError(f"save: {path} is not inside base_path {base}") from None
    name = PurePosixPath(*relative.parts).as_posix()
    try:
        return check_file_name(name)  # the server's own rule, so a saved file is never refused there
    except ValueError as exc:
        raise BadFileName(f"wakelog: save skipped {path}: its {exc}; rename the file to save it") from None


class BadFileName(UsageError):
    """A file whose name the server would refuse (backslash, ``..``, NUL…); skipped with a warning."""


def _glob_base(pattern: str, base_path: Any) -> Path:
    """The folder saved names are relative to: ``base_path``, else the cwd, or for an absolute
    glob the folder above its first directory with a wildcard."""
    if base_path is None:
        # An absolute glob keeps one parent folder ("/ckpt/model.pd" -> "ckpt/model.pd").
        static = Path(re.split(r"[*?\[]", pattern, maxsplit=1)[0])
        folder = static if pattern.endswith(os.sep) else static.parent
        return folder.parent if Path(pattern).is_absolute() else Path.cwd()
    return Path(base_path)


class FileSaver:
    """The files a run saved, and the watcher for the ``live`` ones."""

    def __init__(
        self,
        files_dir: Path,
        emit: Callable[[str, Any], None],
        *,
        ignore_globs: tuple[str, ...] = (),
        watch_interval: float = 2.0,
    ) -> None:
        self.files_dir = files_dir
        self._emit = emit
        self._ignore = ignore_globs
        self._watch_interval = watch_interval
        self._saved: dict[str, tuple[Path, str]] = {}  # name -> (source, policy)
        self._seen: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def save(self, glob_str: Any, *, base_path: Any = None, policy: str = "live") -> list[str]:
        if policy not in POLICIES:
            raise UsageError(f"save: policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        if not isinstance(glob_str, (str, os.PathLike)) or not str(glob_str):
            raise UsageError(f"save: pass a file path or glob, got {glob_str!r}")
        pattern = os.fspath(glob_str)
        if "\x00" in pattern:
            raise UsageError("save: the path contains a NUL character")
        base = _glob_base(pattern, base_path)
        matches = [Path(p) for p in globlib.glob(pattern, recursive=True) if Path(p).is_file()]
        if not matches:
            warn(f"wakelog: save({pattern!r}) matched no files", UserWarning)
            return []
        saved = []
        records = []
        for source in matches:
            name = self._save_one(source, base, policy)
            if name is not None:
                records.append({"name": name, "policy": policy})
                saved.append(str(self.files_dir / name))
        if records:
            self._emit(RecordType.FILES, {"files": records})
        if any(p == "live" for _, p in self._saved.values()) and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="wakelog-files", daemon=True)
            start_background(self._watcher)
        return saved

    def save_named(self, files: list[tuple[Path, str]]) -> list[str]:
        """Snapshot each ``(file, name)`` into the run under that name (``log_code``); returns the
        names saved. Unusable names are skipped with a warning, as in ``save``."""
        records, names = [], []
        for source, name in files:
            try:
                check_file_name(name)
            except ValueError as exc:
                warn(f"wakelog: skipped {source}: its {exc}; rename the file to save it")
                continue
            self._place(source, name, "now")
            records.append({"name": name, "policy": "now"})
            names.append(name)
        if records:
            self._emit(RecordType.FILES, {"files": records})
        return names

    def _save_one(self, source: Path, base: Path, policy: str) -> str | None:
        """Place one matched file; its name in the run, or None when it is ignored or unusable."""
        try:
            name = saved_name(source.absolute(), base.absolute())
        except BadFileName as exc:
            warn(str(exc))
            return None
        if any(fnmatch.fnmatch(name, g) for g in self._ignore):
            return None
        self._place(source, name, policy)
        with self._lock:
            self._saved[name] = (source.absolute(), policy)
            self._seen[name] = _stamp(source)
        return name

    def _place(self, source: Path, name: str, policy: str) -> None:
        target = self.files_dir / name
        if target.exists() and target.resolve() == source.resolve() and not target.is_symlink():
            return  # the user wrote it into run.dir directly
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        if policy == "now":
            shutil.copy2(source, target)
            return
        try:
            target.symlink_to(source.absolute())
        except OSError:
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)

    def _watch(self) -> None:
        while not self._stop.wait(self._watch_interval):
            self.check_changes()

    def check_changes(self) -> list[str]:
        """Record the ``live`` files whose content changed since last seen."""
        changed = []
        with self._lock:
            for name, (source, policy) in self._saved.items():
                if policy != "live":
                    continue
                stamp = _stamp(source)
                if stamp != self._seen.get(name):
                    self._seen[name] = stamp
                    target = self.files_dir / name
                    if not target.is_symlink() and source.exists():
                        shutil.copy2(source, target)
                    changed.append(name)
        if changed:
            self._emit(
                RecordType.FILES, {"files": [{"name": n, "policy": "live", "changed": True} for n in changed]}
            )
        return changed

    def finish(self) -> None:
        """Stop watching and turn links into copies, so the run folder stands on its own."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        self.check_changes()
        with self._lock:
            items = list(self._saved.items())
        for name, (source, _policy) in items:
            target = self.files_dir / name
            if not target.is_symlink():
                continue
            try:
                target.unlink()
                shutil.copy2(source, target)
            except OSError as exc:
                warn(f"wakelog: could not keep saved file {name!r}: {exc}", UserWarning)
        if items:
            self._emit(
                RecordType.FILES, {"files": [{"name": n, "policy": p} for n, (_, p) in items], "final": True}
            )


def _stamp(path: Path) -> tuple[float, int]:
    try:
        info = path.stat()
    except OSError:
        return (0.0, -1)
    return (info.st_mtime, info.st_size)
