"""TensorBoard event files → imported runs, read with the ``tensorboard`` package's own reader.

A run is a directory holding ``*tfevents*`` files (TensorBoard's notion of a run); its files are
read in name order with TensorBoard's record reader (checksums checked) and its ``Event`` protos
(``integration.tensorboard._reader``, shared with the live sync). Values become wakelog values as
TensorBoard's own ``data_compat`` migrates them (``integration.tensorboard._events``): scalars,
histograms, images, text and the hparams plugin's hyperparameters (→ config). A damaged record
stops its file (TFRecord framing cannot be trusted past it): what came before is imported and the
damage reported. The cursor is the number of records read per file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wakelog.integration.importing._ids import display
from wakelog.integration.importing._logdir import LogDirRun, identities
from wakelog.integration.importing._run import ImportedRun
from wakelog.integration.tensorboard._events import HPARAMS, ValueConverter
from wakelog.integration.tensorboard._reader import DamagedRecord, EventFile, is_event_file, library

#: Records between checkpoints of a long file (an interrupted import resumes from the last one).
CHECKPOINT_RECORDS = 200_000


def records(path: Path, damaged: Callable[[str], None]) -> Iterator[bytes]:
    """The intact records of one event file, in order; damage or a cut-off tail ends them."""
    with EventFile(path) as events:
        what = None
        try:
            while (data := events.next()) is not None:
                yield data
        except DamagedRecord:
            what = "damaged"
        if what is not None or events.cut_off:
            where = f"{display(str(path))}: record {events.count + 1}"
            damaged(f"{where} is {what or 'cut off'}; the rest of the file is not read")


@dataclass
class TensorBoardRun(LogDirRun):
    """One TensorBoard run directory as an import source."""

    format: str = "tensorboard"

    def read(self, run: ImportedRun, advance: Callable[[int], None]) -> None:
        event_class = library().event
        done: dict[str, int] = run.cursor.setdefault("files", {})
        converter = _Converter(run)
        for name in self.files:
            start = done.get(name, 0)
            index, pending = 0, 0
            for data in records(self.path / name, run.damaged):
                index += 1
                pending += len(data) + 16
                if index > start:
                    converter.event(event_class.FromString(data))
                if index % 1000 == 0:
                    advance(pending)
                    pending = 0
                if index > start and (index % CHECKPOINT_RECORDS == 0 or run.checkpoint_due):
                    done[name] = index
                    run.checkpoint()
            advance(pending)
            done[name] = max(index, start)
            run.checkpoint()
        run.finish("finished")


class _Converter:
    """Events into the run's values (``ValueConverter``: TensorBoard's own reading of them)."""

    def __init__(self, run: ImportedRun) -> None:
        self.run = run
        self.values = ValueConverter()

    def event(self, event: Any) -> None:
        self.run.begin(event.wall_time)
        if not event.HasField("summary"):
            return
        for value in event.summary.value:
            try:
                plugin, converted = self.values.convert(value)
            except (ValueError, TypeError, OSError) as exc:
                self.run.skip(f"TensorBoard values that could not be converted ({type(exc).__name__})")
                continue
            if plugin == HPARAMS:
                if converted:
                    self.run.config(converted)
            elif converted is None:
                self.run.skip(f"TensorBoard values of plugin {plugin or 'none'!r}")
            else:
                self.run.point(value.tag, event.step, event.wall_time, converted)


def sources(
    logdir: Path, project: str, name: str | None = None, entity: str | None = None
) -> Iterator[TensorBoardRun]:
    """The runs under ``logdir`` as import sources; a run's id comes from its directory's path
    relative to ``logdir`` and its first event file's name (time and host of its writer)."""
    for path, files, ident in identities("tensorboard", logdir, is_event_file, project, name, entity):
        yield TensorBoardRun(path, files, ident)
