"""The writer thread: the only path from ``log()`` to the disk.

``Run.log`` validates a row and appends ``(kind, data, time)`` to a deque; that is all the
training thread pays. This thread wakes at least twice per flush interval, takes everything
queued, encodes media to files (so PNG encoding never runs in the training thread), folds rows
into the summary, frames records into the run log and hands them to the OS — so a ``kill -9``
loses at most one flush interval. Console lines also go to ``output.log``. Failures (a full
disk, a bad media object) become one warning each; the training thread never sees them. When the
run folder's disk is full the run log keeps what fits and the rest spills to ``spill_dir``
(``<temp dir>/wakelog-fallback/wakelog/<run folder>``, see ``RunLogWriter``); ``close()`` then
says exactly how many records are where, and how many were lost.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from wakelog._threads import start_background
from wakelog._warn import warn
from wakelog.runlog import RecordType, RunLogWriter
from wakelog.runlog.writer import MAX_PENDING_BYTES, OpenFile, Shortfall, open_append
from wakelog.sdk._metrics import MetricDefinition, SummaryTracker

#: Internal queue kinds besides the record types.
BARRIER = "barrier"
HISTORY_WITH_MEDIA = "history+media"
OUTPUT_LINE = "output-line"


def spill_dir_for(run_dir: Path) -> Path | None:
    """Where records go that the run folder's disk cannot take (None: the run is already there)."""
    spill_dir = Path(tempfile.gettempdir()) / "wakelog-fallback" / "wakelog" / run_dir.name
    return None if spill_dir.resolve() == run_dir.resolve() else spill_dir


class RunWriter:
    """Drains the run's queue into the run log on a daemon thread."""

    def __init__(
        self,
        run_dir: Path,
        log_path: Path,
        *,
        tracker: SummaryTracker,
        start_seq: int = 0,
        flush_interval: float = 0.1,
        spill_dir: Path | None = None,
        max_pending: int = MAX_PENDING_BYTES,
        open_file: OpenFile = open_append,
    ) -> None:
        self.run_dir = run_dir
        self.tracker = tracker
        self.queue: deque[tuple[str, Any, float]] = deque()
        self.shortfall: Shortfall | None = None  # set by close(): what is not in the run log
        spill_dir = spill_dir or spill_dir_for(run_dir)
        self._log = RunLogWriter(
            log_path,
            start_seq=start_seq,
            spill_path=spill_dir / log_path.name if spill_dir else None,
            max_pending=max_pending,
            open_file=open_file,
        )
        self._output = open(run_dir / "output.log", "a", encoding="utf-8")  # noqa: SIM115
        self._interval = max(flush_interval, 0.001) / 2
        self._wake = threading.Event()
        self._stopping = False
        self._report = True
        self._warned: set[str] = set()
        self._thread = threading.Thread(target=self._loop, name="wakelog-writer", daemon=True)
        start_background(self._thread)

    # -- training-thread side ------------------------------------------------------------
    def put(self, kind: str, data: Any, when: float | None = None) -> None:
        self.queue.append((kind, data, time.time() if when is None else when))

    @property
    def next_seq(self) -> int:
        """The sequence number the next record will get (so ``next_seq - 1`` is the last)."""
        return self._log.next_seq

    def barrier(self, timeout: float | None = 10.0) -> bool:
        """Wait until everything queued so far is written; False if that took too long."""
        if not self._thread.is_alive():
            return False
        done = threading.Event()
        self.queue.append((BARRIER, done, 0.0))
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float | None = None, *, report: bool = True) -> bool:
        """Write everything still queued, then close the files. False if it did not finish.
        ``report``: warn where the records are that the run log lacks (``shortfall``); an online
        run says it itself, once it knows what reached the server."""
        self._report = report
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._warn(
                "close",
                "wakelog: the run log writer did not finish in time; some records "
                "queued in memory may be missing from the run log",
            )
            return False
        return True

    # -- writer-thread side --------------------------------------------------------------
    def _loop(self) -> None:
        try:
            while not self._stopping:
                self._wake.wait(self._interval)
                self._wake.clear()
                self._drain()
            self._drain()
        finally:
            self._close_files()

    def _drain(self) -> None:
        queue, log = self.queue, self._log
        output: list[list[Any]] = []
        while True:
            try:
                kind, data, when = queue.popleft()
            except IndexError:
                break
            try:
                if kind == RecordType.HISTORY:
                    self.tracker.observe(data)
                    log.append(kind, data, when)
                elif kind == OUTPUT_LINE:
                    output.append([when, data[0], data[1]])
                elif kind == BARRIER:
                    self._write_output(output)
                    self._flush()
                    data.set()
                elif kind == HISTORY_WITH_MEDIA:
                    row = self._encode_media(data)
                    self.tracker.observe(row)
                    log.append(RecordType.HISTORY, row, when)
                else:
                    self._apply(kind, data)
                    log.append(kind, data, when)
            except Exception as exc:  # a bug or a bad object must not stop the writer
                self._warn(f"record:{kind}", f"wakelog: could not record a {kind!r} record: {exc!r}")
        self._write_output(output)
        self._flush()

    def _apply(self, kind: str, data: Any) -> None:
        if kind == RecordType.METRIC:
            self.tracker.define(MetricDefinition(**{**data, "summary": tuple(data["summary"])}))
        elif kind == RecordType.SUMMARY:
            self.tracker.override(data.get("update", {}), data.get("remove", []))

    def _encode_media(self, row: dict[str, Any]) -> dict[str, Any]:
        from wakelog.sdk.media import CustomChart, Media

        step = row.get("_step", 0)

        def encode(key: str, value: Any) -> Any:
            if isinstance(value, Media):
                return value.to_stub(self.run_dir, key, step)
            if isinstance(value, dict):
                return {k: encode(f"{key}.{k}", v) for k, v in value.items()}
            if isinstance(value, list):
                return [encode(key, v) for v in value]
            return value

        out = {}
        for key, value in row.items():
            try:
                out[key] = encode(key, value)
                if isinstance(value, CustomChart):  # wandb's shape: the chart's table is its own key too
                    out[out[key]["table_key"]] = out[key]["table"]
            except Exception as exc:
                self._warn(f"media:{key}", f"wakelog: could not write media for {key!r}: {exc}")
        return out

    def _write_output(self, lines: list[list[Any]]) -> None:
        if not lines:
            return
        self._log.append(RecordType.OUTPUT, {"lines": lines}, lines[0][0])
        try:
            self._output.write("".join(_format_line(when, stream, text) for when, stream, text in lines))
            self._output.flush()
        except (OSError, ValueError) as exc:
            self._warn("output.log", f"wakelog: cannot write output.log: {exc}")
        lines.clear()

    def _flush(self) -> None:
        lost = len(self._log.lost)
        try:
            self._log.flush()
        except OSError as exc:
            spill = self._log.spill_path
            rest = f"beyond {self._log.max_pending // 2**20} MiB in {spill.parent}" if spill else "in memory"
            self._warn(
                "flush",
                f"wakelog: the run log {self._log.path} cannot take more records ({exc.strerror or exc}); "
                f"the records that fit are written whole, the rest wait {rest}; training continues",
            )
        if len(self._log.lost) > lost:
            self._warn(
                "dropped", f"wakelog: records of this run could not be written anywhere: {_lost(self._log)}"
            )

    def _close_files(self) -> None:
        try:
            self.shortfall = self._log.close()
        except OSError as exc:
            self._warn("close", f"wakelog: closing the run log failed: {exc}")
        if self.shortfall is not None and self._report:
            warn(_describe(self.shortfall, self.run_dir), RuntimeWarning)
        try:
            self._output.close()
        except OSError as exc:
            self._warn("output.log", f"wakelog: cannot write output.log: {exc}")

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn(message, RuntimeWarning)


def _describe(shortfall: Shortfall, run_dir: Path) -> str:
    """The finish summary of a run log that is missing records: how many are where."""
    parts = shortfall_parts(shortfall)
    if shortfall.spilled and shortfall.spill_path is not None:
        parts[1] += (
            f"; upload both, in this order, with `wakelog sync {run_dir} {shortfall.spill_path.parent}`"
        )
    return "; ".join(parts)


def shortfall_parts(shortfall: Shortfall) -> list[str]:
    """What a run log that is missing records holds, what its spill log holds, and what is lost."""
    parts = [f"wakelog: the run log {shortfall.path} is incomplete: {shortfall.logged:,} records are in it"]
    if shortfall.spilled and shortfall.spill_path is not None:
        parts.append(
            f"{shortfall.spilled_count:,} ({_ranges(shortfall.spilled)}) did not fit and are in "
            f"{shortfall.spill_path}"
        )
    if shortfall.lost:
        parts.append(
            f"{shortfall.lost_count:,} ({_ranges(shortfall.lost)}) could not be written anywhere and are lost"
        )
    return parts


def _lost(log: RunLogWriter) -> str:
    lost = [(a, b) for a, b in log.lost]
    return f"{sum(b - a + 1 for a, b in lost):,} records ({_ranges(lost)}) are lost"


def _ranges(ranges: list[tuple[int, int]]) -> str:
    shown = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges[:5])
    return f"seq {shown}" + (", ..." if len(ranges) > 5 else "")


def _format_line(when: float, stream: str, text: str) -> str:
    stamp = dt.datetime.fromtimestamp(when, dt.timezone.utc).isoformat(timespec="milliseconds")
    marker = " [stderr]" if stream == "stderr" else ""
    return f"{stamp[:-6]}Z{marker} {text}\n"
