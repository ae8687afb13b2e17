"""The import's progress as Rich bars (``wakelog import``): one for the runs, one for the current run."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from wakelog.integration.importing._driver import Source
from wakelog.integration.importing._run import RunReport
from wakelog.runlog.syncstate import SyncState


class RichProgress:
    """Draws ``Progress`` events; use as a context manager around the import."""

    def __init__(self) -> None:
        from rich.progress import Progress

        self.bars = Progress(transient=False)
        self._runs = self.bars.add_task("runs", total=None)
        self._done = 0
        self._task: Any = None

    def __enter__(self) -> RichProgress:
        self.bars.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.bars.__exit__(kind, exc, tb)

    def run_started(self, source: Source, total: int) -> None:
        if self._task is not None:
            self.bars.remove_task(self._task)
        self._task = self.bars.add_task(f"  {source.identity.name}: reading", total=max(total, 1))

    def advance(self, amount: int) -> None:
        self.bars.advance(self._task, amount)

    def uploading(self, state: SyncState, records: int) -> None:
        self.bars.update(
            self._task,
            description="  uploading",
            total=max(records, 1),
            completed=state.acked_seq + 1,
        )

    def run_done(self, report: RunReport) -> None:
        self._done += 1
        self.bars.update(self._runs, completed=self._done, description=f"runs ({self._done} imported)")
        console = self.bars.console
        where = report.run_path or "(nothing to import)"
        console.print(f"{report.source} → {where}: {report.records} new records, {report.points} values")
        for reason, count in sorted(report.skipped.items()):
            console.print(f"  [yellow]skipped {count}: {reason}")
        for line in report.damage:
            console.print(f"  [red]damaged: {line}")
        if report.error:
            console.print(f"  [red]upload stopped: {report.error}")
