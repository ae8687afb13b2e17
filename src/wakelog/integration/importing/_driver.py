"""Import runs from a source and upload them: the steps every format shares.

For each source run: its import folder (``<state dir>/<format>/<run id>``) is opened where the
last import stopped, the format's reader appends what is new, and the real uploader sends the
folder like any offline run (``transport.sync``), so the server applies each record once. The
upload starts while the source is read (``_tail``); the final one sends the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from wakelog.integration.importing._run import ImportedRun, RunIdentity, RunReport
from wakelog.integration.importing._tail import Tail
from wakelog.runlog.syncstate import SyncState
from wakelog.transport.client import ServerClient
from wakelog.transport.sync import LocalRun, sync_run


class Source(Protocol):
    """One run of another format, as the importer reads it."""

    format: str
    identity: RunIdentity

    @property
    def location(self) -> str: ...

    @property
    def size(self) -> int: ...  # what ``read`` reports progress in (bytes, or points)

    def read(self, run: ImportedRun, advance: Callable[[int], None]) -> None: ...


class Progress(Protocol):
    """What the importer reports as it goes (the CLI draws bars from it)."""

    def run_started(self, source: Source, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...

    def uploading(self, state: SyncState, records: int) -> None: ...

    def run_done(self, report: RunReport) -> None: ...


def default_state_dir() -> Path:
    """Where import folders are kept: ``<user data folder>/imports``."""
    import platformdirs

    return Path(platformdirs.user_data_dir("wakelog", appauthor=False)) / "imports"


def import_run(
    source: Source, client: ServerClient, state_dir: Path, progress: Progress | None = None
) -> RunReport:
    """Read what is new in ``source`` into its import folder and upload it; returns the report."""
    ident = source.identity
    folder = state_dir / source.format / ident.run_id
    report = RunReport(source.location, ident.run_id, ident.name)
    if progress is not None:
        progress.run_started(source, source.size)
    run = ImportedRun(folder, ident, report)
    tail = Tail(folder, ident, client)
    tail.start()
    try:
        source.read(run, progress.advance if progress is not None else _ignore)
    finally:
        run.close()
        tail.stop()
    if run.state.start_time is None:  # nothing readable: no run to create
        return report
    local = LocalRun(
        run_dir=folder,
        run_id=ident.run_id,
        project=ident.project,
        entity=ident.entity,
        records=run.state.next_seq,
        ended=run.state.exit_state is not None,
        state=SyncState.load(folder),
    )
    if not local.synced:
        records = run.state.next_seq

        def show(state: SyncState) -> None:
            if progress is not None:
                progress.uploading(state, records)

        state = sync_run(local, client, entity=ident.entity, project=ident.project, progress=show)
        report.run_path = state.run_path
        if not state.complete:
            report.error = state.error or "the upload did not finish; import again to go on"
    else:
        report.run_path = local.state.run_path
    if progress is not None:
        progress.run_done(report)
    return report


def import_all(
    sources: Iterable[Source], client: ServerClient, state_dir: Path, progress: Progress | None = None
) -> list[RunReport]:
    """``import_run`` for each source, one after the other (sources are produced lazily)."""
    return [import_run(source, client, state_dir, progress) for source in sources]


def _ignore(_: Any) -> None:
    pass
