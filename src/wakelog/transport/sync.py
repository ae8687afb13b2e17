"""``wakelog sync``: upload runs recorded offline, or whose upload did not finish.

The same ``Uploader`` as a live run does the work, so syncing is idempotent: the server skips
records it has (by sequence number) and content it has (by hash); a run folder whose training's
disk was full is uploaded with its spill log, found by itself. A run folder's ``sync.json``
says how far it got; ``--clean`` only deletes folders the server has whole.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wakelog.runlog import RecordType, RunLogError, find_runlog, iter_records
from wakelog.runlog.syncstate import SyncState, upload_lock
from wakelog.transport.client import ServerClient
from wakelog.transport.uploader import Uploader, spill_log


@dataclass
class LocalRun:
    run_dir: Path
    run_id: str
    project: str
    entity: str | None
    records: int
    ended: bool  # has an exit record
    state: SyncState

    @property
    def synced(self) -> bool:
        return self.state.complete and self.state.acked_seq >= self.records - 1

    @property
    def status(self) -> str:
        if self.synced:
            return "synced"
        if self.state.acked_seq >= 0:
            return f"partly synced ({self.state.acked_seq + 1}/{self.records} records)"
        return "not synced"


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any(path.glob("run-*.wakelog"))


def find_run_dirs(paths: Iterable[Path]) -> list[Path]:
    """Run folders named directly, or inside a ``wakelog/`` folder (or a folder holding one)."""
    found: list[Path] = []
    for path in paths:
        if is_run_dir(path):
            found.append(path)
            continue
        base = path / "wakelog" if (path / "wakelog").is_dir() else path
        if base.is_dir():
            found.extend(p for p in sorted(base.iterdir()) if not p.is_symlink() and is_run_dir(p))
    return list(dict.fromkeys(p.resolve() for p in found))


#: How much of a run log ``describe`` decodes at a time: it reads the whole log (streamed, so a long
#: run never sits in memory), and a small piece keeps ``wakelog sync``'s peak memory low (8 MiB of
#: decoded records is about 50 MB of Python objects).
DESCRIBE_PIECE = 1024 * 1024


def describe(run_dir: Path) -> LocalRun:
    """What a run folder holds, read from its run log and its spill log (if the disk was full)."""
    log_path = find_runlog(run_dir)
    identity: dict[str, Any] = {}
    ended, last = False, -1
    spill = spill_log(run_dir, log_path)
    for path in (log_path, spill):
        if path is None:
            continue
        try:
            for record in iter_records(path, piece=DESCRIBE_PIECE):
                if record.type == RecordType.RUN and not identity:
                    identity = record.data
                elif record.type == RecordType.EXIT:
                    ended = True
                last = max(last, record.seq)
        except (FileNotFoundError, RunLogError):
            if path == log_path:
                raise
            # the spill log: none (the usual), or unreadable
    run_id = identity.get("id") or run_dir.name.rsplit("-", 1)[-1]
    return LocalRun(
        run_dir=run_dir,
        run_id=run_id,
        project=identity.get("project") or "uncategorized",
        entity=identity.get("entity"),
        records=last + 1,
        ended=ended,
        state=SyncState.load(run_dir),
    )


def sync_run(
    run: LocalRun,
    client: ServerClient,
    *,
    entity: str | None = None,
    project: str | None = None,
    default_entity: str | None = None,
    progress: Callable[[SyncState], None] | None = None,
) -> SyncState:
    """Upload one run; raises ``RuntimeError`` if another uploader is sending it right now.

    The entity is ``entity`` if given, else the run's own, else ``default_entity`` (the configured one, as
    for a run started online today), else the server's default: the key owner's.
    """
    with upload_lock(run.run_dir, wait=30.0) as mine:
        if not mine:
            raise RuntimeError(f"{run.run_dir} is still being uploaded by its uploader process; try later")
        uploader = Uploader(
            run.run_dir,
            client,
            project or run.project,
            run.run_id,
            entity=entity or run.entity or default_entity,
            parent_pid=None,
            linger=0.0,
            progress=progress,
        )
        return uploader.run()


def clean(runs: Iterable[LocalRun]) -> list[Path]:
    """Delete the run folders the server has whole; returns what was deleted."""
    removed = []
    for run in runs:
        if run.synced:
            shutil.rmtree(run.run_dir)
            removed.append(run.run_dir)
    return removed


__all__ = ["LocalRun", "RunLogError", "clean", "describe", "find_run_dirs", "is_run_dir", "sync_run"]
