"""One imported run: its import folder, a run folder the real uploader sends like any offline run.

``ImportedRun`` is what a format's reader writes into. It appends run-log records (``runlog``'s
writer, so steps and wall times go to the server exactly as read) and saves media with the SDK's
own media types. Everything written since the last ``checkpoint()`` is provisional: the next
import of the same run cuts it away and reads the source again from the saved cursor (``_state``).
Records reach the file only at a checkpoint, so the upload that runs beside the import
(``_driver``) never sends one that a later import cuts away.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wakelog.errors import UsageError
from wakelog.integration.importing._rows import Rows
from wakelog.integration.importing._state import ImportState
from wakelog.runlog import RecordType, RunLogWriter

#: Run-log bytes written since the last checkpoint after which a reader makes one (``checkpoint_due``).
FLUSH_BYTES = 4 * 1024 * 1024


@dataclass
class RunIdentity:
    """Who the imported run is on the server."""

    run_id: str
    project: str
    name: str
    entity: str | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    group: str | None = None
    job_type: str | None = None
    named: bool = False  # the user chose ``name``: names found in the source do not replace it


@dataclass
class RunReport:
    """What one import of one run did."""

    source: str
    run_id: str
    name: str
    records: int = 0  # run-log records added by this import
    points: int = 0  # history values added (scalars and media)
    #: Values left out, by reason (an unknown kind of value, a step already imported…).
    skipped: Counter[str] = field(default_factory=Counter)
    #: Damaged or unreadable parts of the source, one line each.
    damage: list[str] = field(default_factory=list)
    run_path: str | None = None  # entity/project/id on the server, once uploaded
    error: str | None = None  # why the upload stopped short (importing again goes on)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


class ImportedRun:
    """Writes one run's records into its import folder, continuing where the last import stopped."""

    def __init__(self, folder: Path, identity: RunIdentity, report: RunReport) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.identity = identity
        self.report = report
        self.state = ImportState.load(folder, identity.run_id)
        self.log_path = folder / f"run-{identity.run_id}.wakelog"
        _cut_back(self.log_path, self.state.log_bytes)
        self._writer = RunLogWriter(self.log_path, start_seq=self.state.next_seq)
        self._first_seq = self.state.next_seq
        self._rows = Rows(self._history, self.state.last_steps, self._start_time, report.skipped)

    # -- what a reader calls --------------------------------------------------------------------
    @property
    def cursor(self) -> dict[str, Any]:
        """The format reader's own cursor, saved with each checkpoint."""
        return self.state.source

    @property
    def checkpoint_due(self) -> bool:
        """Whether the reader should checkpoint at its next record boundary: what it wrote since the
        last one waits in memory (bounded this way) and is not uploaded until then."""
        return self._writer.pending_bytes >= FLUSH_BYTES

    def begin(self, start_time: float) -> None:
        """Write the run's identity once, started at ``start_time`` (seconds since the epoch)."""
        if self.state.start_time is not None:
            return
        self.state.start_time = float(start_time)
        ident = self.identity
        data = {
            "id": ident.run_id,
            "project": ident.project,
            "entity": ident.entity,
            "name": ident.name,
            "group": ident.group,
            "job_type": ident.job_type,
            "tags": list(ident.tags),
            "notes": ident.notes,
            "mode": "offline",
            "resumed": False,
            "start_time": float(start_time),
        }
        self._append(RecordType.RUN, data, float(start_time))

    def rename(self, name: str) -> None:
        """The source names the run itself (unless the user gave a name)."""
        if name and not self.identity.named and self._changed("name", name):
            self._append(RecordType.RUN, {"update": True, "name": name}, self._now())

    def config(self, values: dict[str, Any]) -> None:
        """The run's whole config; written only when it differs from what the last import wrote."""
        if values and self._changed("config", values):
            self._append(RecordType.CONFIG, {"update": values}, self._now())

    def summary(self, values: dict[str, Any]) -> None:
        """Explicit summary values; written only when changed."""
        if values and self._changed("summary", values):
            self._append(RecordType.SUMMARY, {"update": values}, self._now())

    def metadata(self, values: dict[str, Any]) -> None:
        if self._changed("metadata", values):
            self._append(RecordType.METADATA, values, self._now())

    def point(self, key: str, step: int, wall: float, value: Any) -> None:
        """One history value: a number, a string or a wakelog media object (saved now)."""
        if not self._rows.accepts(key, step):
            return
        if hasattr(value, "to_stub"):
            value = value.to_stub(self.folder, key, step)
            if value.get("_type") == "custom-chart":  # wandb's shape: the chart's table is a key too
                self._rows.add(value["table_key"], step, wall, value["table"])
        self._rows.add(key, step, wall, value)
        self.report.points += 1

    def skip(self, reason: str, count: int = 1) -> None:
        self.report.skipped[reason] += count

    def damaged(self, what: str) -> None:
        self.report.damage.append(what)

    def file(self, name: str, source: Path) -> None:
        """Save ``source`` as the run file ``name`` (uploaded with the run)."""
        target = self.folder / "files" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        self._append(RecordType.FILES, {"files": [{"name": name, "policy": "now"}]}, self._now())

    def finish(self, state: str, end_time: float | None = None, exit_code: int | None = None) -> None:
        """The run ended (``finished``/``failed``/``killed``) at ``end_time`` (default: the latest
        wall time seen); written again only when that changes (a log that grew ends later)."""
        if self.state.start_time is None:
            return
        end = self._now() if end_time is None else float(end_time)
        code = exit_code if exit_code is not None else (0 if state == "finished" else 1)
        if not self._changed("exit", [state, end, code]):
            return
        self._rows.flush()
        runtime = max(end - self.state.start_time, 0.0)
        self._append(RecordType.EXIT, {"exit_code": code, "state": state, "runtime": runtime}, end)
        self.state.exit_state = state

    def checkpoint(self) -> None:
        """Make everything so far permanent: write the open rows, flush the log, save the cursor."""
        self._rows.flush()
        self._writer.flush()
        _fsync(self.log_path)  # the cursor never counts bytes a crash could take back
        self.state.log_bytes = self.log_path.stat().st_size
        self.state.next_seq = self._writer.next_seq
        self.state.save(self.folder)

    def close(self) -> None:
        """Checkpoint and close the log (on an error too: what was read stays imported)."""
        try:
            self.checkpoint()
        finally:
            self._writer.close()
        self.report.records += self._writer.next_seq - self._first_seq

    # -- inside ---------------------------------------------------------------------------------
    def _start_time(self) -> float:
        return self.state.start_time or 0.0

    def _now(self) -> float:
        return self.state.last_time or self.state.start_time or 0.0

    def _changed(self, what: str, values: Any) -> bool:
        digest = _digest(values)
        if self.state.digests.get(what) == digest:
            return False
        self.state.digests[what] = digest
        return True

    def _history(self, row: dict[str, Any], wall: float) -> None:
        self._append(RecordType.HISTORY, row, wall)

    def _append(self, kind: str, data: Any, time: float) -> None:
        if self.state.start_time is None:
            raise UsageError("an importer must call begin() before writing records")
        self._writer.append(kind, data, time)
        if self.state.last_time is None or time > self.state.last_time:
            self.state.last_time = time


def _cut_back(log_path: Path, size: int) -> None:
    """Cut records the last import wrote after its last checkpoint (they are read again)."""
    if not log_path.exists():
        return
    if size == 0:
        log_path.unlink()
    elif log_path.stat().st_size > size:
        with open(log_path, "r+b") as f:
            f.truncate(size)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
