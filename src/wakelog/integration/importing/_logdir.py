"""Log directories as import sources: one run per directory that holds log files (VisualDL's
``vdlrecords.*``, TensorBoard's ``events.out.tfevents.*``), found under a root in name order.

A run's id comes from its directory's path relative to the root and its first log file's name
(which holds the writer's start time), so importing the same directory again finds the same run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from wakelog.errors import UsageError
from wakelog.integration.importing._ids import display, run_id
from wakelog.integration.importing._run import RunIdentity


@dataclass
class LogDirRun:
    """One run directory: its log files (names, in order) and the wakelog run it becomes."""

    path: Path
    files: list[str]
    identity: RunIdentity

    @property
    def location(self) -> str:
        return display(str(self.path))

    @property
    def size(self) -> int:
        return sum((self.path / name).stat().st_size for name in self.files)


def find_runs(logdir: Path, is_log: Callable[[str], bool]) -> Iterator[tuple[Path, list[str]]]:
    """Each run directory under ``logdir`` (itself included) with its log files, in name order."""
    for root, dirs, files in os.walk(logdir):
        dirs.sort()
        logs = sorted(name for name in files if is_log(name))
        if logs:
            yield Path(root), logs


def identities(
    kind: str,
    logdir: Path,
    is_log: Callable[[str], bool],
    project: str,
    name: str | None,
    entity: str | None,
) -> Iterator[tuple[Path, list[str], RunIdentity]]:
    """The run directories under ``logdir`` with the identity of the run each becomes: named by its
    relative path (under ``name`` when given)."""
    logdir = Path(logdir)
    if not logdir.is_dir():
        raise UsageError(f"{logdir} is not a directory")
    for path, files in find_runs(logdir, is_log):
        relative = path.relative_to(logdir).as_posix()
        label = display(relative if relative != "." else path.absolute().name)
        if name is not None:
            label = name if relative == "." else f"{name}/{label}"
        ident = RunIdentity(run_id(kind, relative, files[0]), project, label, entity, named=name is not None)
        yield path, files, ident
