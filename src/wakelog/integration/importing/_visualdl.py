"""VisualDL logs → imported runs, read with VisualDL's own record reader and protobuf classes.

A run is a directory holding ``vdlrecords.*.log`` files (VisualDL's notion of a run); its files are
read in name order, record by record (memory stays bounded). VisualDL frames records without a
checksum, so damage shows as a record protobuf cannot decode: it is skipped and reported, and the
records after it are read on. The cursor is the number of records read per file, so a log that
grew is imported from where the last import stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wakelog.errors import UsageError
from wakelog.integration import _values
from wakelog.integration.importing._ids import display
from wakelog.integration.importing._logdir import LogDirRun, identities
from wakelog.integration.importing._run import ImportedRun

#: Records between checkpoints of a long file (an interrupted import resumes from the last one).
CHECKPOINT_RECORDS = 200_000
UNKNOWN = "VisualDL values of a kind wakelog does not know"


def _library() -> tuple[Any, Any]:
    try:
        from visualdl.proto.record_pb2 import Record
        from visualdl.reader.record_reader import RecordReader
    except ImportError:
        raise UsageError("importing VisualDL logs needs visualdl: pip install 'wakelog[visualdl]'") from None
    return Record, RecordReader


def _is_log(name: str) -> bool:
    return "vdlrecords" in name


@dataclass
class VisualDLRun(LogDirRun):
    """One VisualDL run directory as an import source."""

    format: str = "visualdl"

    def read(self, run: ImportedRun, advance: Callable[[int], None]) -> None:
        record_class, reader_class = _library()
        done: dict[str, int] = run.cursor.setdefault("files", {})
        for name in self.files:
            _File(self.path / name, record_class, reader_class(str(self.path / name)), run, done, name).read(
                advance
            )
        run.finish("finished")


class _File:
    def __init__(
        self, path: Path, record_class: Any, reader: Any, run: ImportedRun, done: dict[str, int], name: str
    ) -> None:
        self.path, self.record_class, self.reader, self.run = path, record_class, reader, run
        self.done, self.name = done, name
        self.damaged = 0

    def read(self, advance: Callable[[int], None]) -> None:
        start = self.done.get(self.name, 0)
        index, good_end, pending = 0, start, 0
        for data in self._records():
            index += 1
            pending += len(data) + 8
            if index <= start:
                continue
            if self._convert(data):
                good_end = index  # a damaged last record is read again next time: it may be unfinished
            if index % 1000 == 0:
                advance(pending)
                pending = 0
            if index % CHECKPOINT_RECORDS == 0 or self.run.checkpoint_due:
                self._save(good_end)
        advance(pending)
        self._save(good_end)
        if self.damaged:
            self.run.damaged(f"{display(str(self.path))}: {self.damaged} damaged records skipped")

    def _records(self) -> Iterator[bytes]:
        while True:
            try:
                yield self.reader.get_next()
            except StopIteration:
                return
            except (MemoryError, OverflowError, ValueError, OSError) as exc:  # a length no file has
                self.run.damaged(f"{display(str(self.path))}: unreadable after a damaged record ({exc})")
                return

    def _save(self, good_end: int) -> None:
        self.done[self.name] = good_end
        self.run.checkpoint()

    def _convert(self, data: bytes) -> bool:
        try:
            record = self.record_class.FromString(data)
        except Exception:  # protobuf's DecodeError: a damaged or cut-off record
            self.damaged += 1
            return False
        if not record.values:
            self.damaged += 1
            return False
        for value in record.values:
            self._value(value)
        return True

    def _value(self, value: Any) -> None:
        run = self.run
        wall = value.timestamp / 1000.0
        run.begin(wall)
        kind = value.WhichOneof("one_value")
        step, tag = value.id, value.tag
        if kind == "value":
            run.point(tag, step, wall, value.value)
        elif kind == "tag_value":
            run.point(f"{tag}/{value.tag_value.tag}", step, wall, value.tag_value.value)
        elif kind == "meta_data":
            run.rename(value.meta_data.display_name)
        elif kind == "hparam":
            run.config(_values.hparams(value.hparam.hparamInfos))
        elif kind in _CONVERTERS:
            run.point(tag, step, wall, _CONVERTERS[kind](getattr(value, kind)))
        else:
            run.skip(UNKNOWN)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "image": lambda v: _values.image(v.encoded_image_string),
    "text": lambda v: v.encoded_text_string,
    "audio": lambda v: _values.audio(v.encoded_audio_string, v.content_type),
    "histogram": lambda v: _values.histogram(v.hist, v.bin_edges),
    "pr_curve": lambda v: _values.curve(
        ["recall", "precision", "tp", "fp", "tn", "fn"], v.recall, v.precision, v.TP, v.FP, v.TN, v.FN
    ),
    "roc_curve": lambda v: _values.curve(
        ["fpr", "tpr", "tp", "fp", "tn", "fn"], v.fpr, v.tpr, v.TP, v.FP, v.TN, v.FN
    ),
    "embeddings": lambda v: _values.embeddings(v.embeddings, v.label_meta),
}


def sources(
    logdir: Path, project: str, name: str | None = None, entity: str | None = None
) -> Iterator[VisualDLRun]:
    """The runs under ``logdir`` as import sources; a run's id comes from its directory's path
    relative to ``logdir`` and its first log file's name (which holds its creation time)."""
    for path, files, ident in identities("visualdl", logdir, _is_log, project, name, entity):
        yield VisualDLRun(path, files, ident)
