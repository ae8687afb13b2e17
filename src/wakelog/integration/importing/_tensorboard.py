"""TensorBoard event files → imported runs, read with the ``tensorboard`` package's own reader.

A run is a directory holding ``*tfevents*`` files (TensorBoard's notion of a run); its files are
read in name order with TensorBoard's record reader (checksums checked) and its ``Event`` protos.
Values become wakelog values as TensorBoard's own ``data_compat`` migrates them: scalars,
histograms, images, text and the hparams plugin's hyperparameters (→ config). A damaged record
stops its file (TFRecord framing cannot be trusted past it): what came before is imported and the
damage reported. The cursor is the number of records read per file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wakelog.errors import UsageError
from wakelog.integration.importing import _values
from wakelog.integration.importing._ids import display, run_id
from wakelog.integration.importing._run import ImportedRun, RunIdentity

CHECKPOINT_RECORDS = 200_000
_DEFAULT_PLUGINS = ("scalars", "histograms", "images", "text", "hparams", "")


def _library() -> Any:
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow
    except ImportError:
        raise UsageError(
            "importing TensorBoard logs needs tensorboard: pip install 'wakelog[tensorboard]'"
        ) from None
    return Event, errors, pywrap_tensorflow


def is_event_file(name: str) -> bool:
    return "tfevents" in name


def find_runs(logdir: Path) -> Iterator[tuple[Path, list[str]]]:
    """Each run directory under ``logdir`` (itself included) with its event files, in name order."""
    for root, dirs, files in os.walk(logdir):
        dirs.sort()
        events = sorted(name for name in files if is_event_file(name))
        if events:
            yield Path(root), events


def records(path: Path, damaged: Callable[[str], None]) -> Iterator[bytes]:
    """The intact records of one event file, in order; damage or a cut-off tail ends them."""
    _, errors, pywrap = _library()
    reader = pywrap.PyRecordReader_New(os.fsencode(path), 0, None, None)
    count = 0
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:
            return
        except errors.DataLossError as exc:
            what = "cut off" if "truncated" in str(exc) else "damaged"
            damaged(f"{display(str(path))}: record {count + 1} is {what}; the rest of the file is not read")
            return
        count += 1
        yield reader.record()


@dataclass
class TensorBoardRun:
    """One TensorBoard run directory as an import source."""

    path: Path
    files: list[str]
    identity: RunIdentity
    format: str = "tensorboard"

    @property
    def location(self) -> str:
        return display(str(self.path))

    @property
    def size(self) -> int:
        return sum((self.path / name).stat().st_size for name in self.files)

    def read(self, run: ImportedRun, advance: Callable[[int], None]) -> None:
        event_class = _library()[0]
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
                if index % CHECKPOINT_RECORDS == 0 and index > start:
                    done[name] = index
                    run.checkpoint()
            advance(pending)
            done[name] = max(index, start)
            run.checkpoint()
        run.finish("finished")


class _Converter:
    """Events into the run's values; remembers each tag's plugin (written with its first value only)."""

    def __init__(self, run: ImportedRun) -> None:
        self.run = run
        self.plugins: dict[str, str] = {}

    def event(self, event: Any) -> None:
        self.run.begin(event.wall_time)
        if not event.HasField("summary"):
            return
        for value in event.summary.value:
            if value.HasField("metadata") and value.metadata.plugin_data.plugin_name:
                self.plugins[value.tag] = value.metadata.plugin_data.plugin_name
            try:
                self._value(value, event.step, event.wall_time)
            except (ValueError, TypeError, OSError) as exc:
                self.run.skip(f"TensorBoard values that could not be converted ({type(exc).__name__})")

    def _value(self, value: Any, step: int, wall: float) -> None:
        if value.WhichOneof("value") == "simple_value":  # the common case, without data_compat's cost
            self.run.point(value.tag, step, wall, value.simple_value)
            return
        from tensorboard import data_compat
        from tensorboard.util import tensor_util

        migrated = data_compat.migrate_value(value)
        plugin = migrated.metadata.plugin_data.plugin_name or self.plugins.get(value.tag, "")
        if plugin == "hparams":
            self._hparams(migrated)
            return
        if plugin not in _DEFAULT_PLUGINS or not migrated.HasField("tensor"):
            self.run.skip(f"TensorBoard values of plugin {plugin or 'none'!r}")
            return
        array = tensor_util.make_ndarray(migrated.tensor)
        converted = _CONVERT[plugin](array) if plugin in _CONVERT else None
        if converted is None:
            self.run.skip(f"TensorBoard values of plugin {plugin or 'none'!r}")
            return
        self.run.point(value.tag, step, wall, converted)

    def _hparams(self, value: Any) -> None:
        from tensorboard.plugins.hparams import metadata

        content = value.metadata.plugin_data.content
        try:
            start = metadata.parse_session_start_info_plugin_data(content)
        except Exception:  # the experiment or session-end summaries: nothing for the config
            return
        config = {}
        for name, item in start.hparams.items():
            kind = item.WhichOneof("kind")
            config[name] = getattr(item, kind) if kind and kind != "null_value" else None
        self.run.config(config)


def _scalar(array: Any) -> Any:
    return float(array.reshape(-1)[0]) if array.size == 1 else None


def _histogram(array: Any) -> Any:
    if array.ndim != 2 or array.shape[1] != 3 or not len(array):
        return None
    edges = [*array[:, 0].tolist(), float(array[-1, 1])]
    return _values.histogram(array[:, 2].tolist(), edges)


def _image(array: Any) -> Any:
    return _values.image(array.reshape(-1)[2]) if array.size >= 3 else None  # width, height, image…


def _text(array: Any) -> Any:
    if array.size != 1:
        return None
    item = array.reshape(-1)[0]
    return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "scalars": _scalar,
    "histograms": _histogram,
    "images": _image,
    "text": _text,
}


def sources(
    logdir: Path, project: str, name: str | None = None, entity: str | None = None
) -> Iterator[TensorBoardRun]:
    """The runs under ``logdir`` as import sources; a run's id comes from its directory's path
    relative to ``logdir`` and its first event file's name (time and host of its writer)."""
    logdir = Path(logdir)
    if not logdir.is_dir():
        raise UsageError(f"{logdir} is not a directory")
    for path, files in find_runs(logdir):
        relative = path.relative_to(logdir).as_posix()
        label = display(relative if relative != "." else path.absolute().name)
        if name is not None:
            label = name if relative == "." else f"{name}/{label}"
        ident = RunIdentity(
            run_id("tensorboard", relative, files[0]), project, label, entity, named=name is not None
        )
        yield TensorBoardRun(path, files, ident)
