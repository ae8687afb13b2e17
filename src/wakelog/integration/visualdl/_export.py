"""A wakelog run written back out as a VisualDL log (``wakelog export visualdl RUN_PATH DIR``).

``export_run(run, logdir)`` takes a run of the public API (``wakelog.Api().run(path)``: it reads
the history with ``scan_history`` and media files with ``file(name).download``) and writes it
with VisualDL's own ``LogWriter`` into ``logdir``, so that ``visualdl --logdir`` shows it:

* numbers → scalars, strings → text, ``Histogram`` → histograms (the stored buckets as they
  are), ``Image`` → images (the stored PNG/JPEG bytes as they are), ``Audio`` WAV → audio;
  other media (tables, charts, video…) are counted as skipped, by type;
* the step is the row's ``global_step`` when it has one (what the VisualDL and TensorBoard
  bridges record), else ``_step``; the wall time is the row's ``_timestamp`` in milliseconds;
* the config's top-level numbers and strings → ``add_hparams``, with the scalar tags as metrics.

Precomputed buckets and encoded media go through VisualDL's record builders
(``visualdl.component.base_component``, ``record_pb2``) into the writer's own file writer, since
``LogWriter.add_histogram``/``add_image`` only take raw values to bin or encode again.
"""

from __future__ import annotations

import io
import os
import tempfile
import wave
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wakelog.errors import UsageError

#: Row keys that are wakelog's bookkeeping, not VisualDL tags.
_BOOKKEEPING = ("_step", "_runtime", "_timestamp", "global_step")


class _File(Protocol):
    def download(self, root: str = ".", replace: bool = False, exist_ok: bool = False) -> Any: ...


class ApiRun(Protocol):
    """What ``export_run`` uses of ``wakelog.Api().run(path)``."""

    id: str
    name: str | None
    config: dict[str, Any]

    def scan_history(
        self, keys: list[str] | None = None, page_size: int = 1000
    ) -> Iterator[dict[str, Any]]: ...

    def file(self, name: str) -> _File: ...


@dataclass
class ExportCounts:
    """What ``export_run`` wrote, by VisualDL component, and what it skipped, by value type."""

    written: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def export_run(
    run: ApiRun, logdir: str | os.PathLike[str], progress: Callable[[int], None] | None = None
) -> ExportCounts:
    """Write ``run`` as a VisualDL log into ``logdir``; ``progress(rows)`` hears of each row."""
    try:
        from visualdl import LogWriter
    except ImportError:
        raise UsageError("exporting to VisualDL needs VisualDL: pip install 'wakelog[visualdl]'") from None
    counts = ExportCounts()
    scalar_tags: dict[str, None] = {}
    last_wall = 0
    with tempfile.TemporaryDirectory(prefix="wakelog-export-") as media_dir:
        writer = LogWriter(logdir=os.fspath(logdir), display_name=run.name or run.id)
        try:
            out = _Writer(writer, run, Path(media_dir), counts)
            for index, row in enumerate(run.scan_history()):
                step = int(row.get("global_step", row["_step"]))
                last_wall = round(float(row["_timestamp"]) * 1000)
                for key, value in row.items():
                    if key not in _BOOKKEEPING and out.write(key, value, step, last_wall) == "scalar":
                        scalar_tags[key] = None
                if progress is not None:
                    progress(index + 1)
            hparams = {k: v for k, v in run.config.items() if _is_hparam(k, v)}
            if hparams:
                writer.add_hparams(hparams, list(scalar_tags), walltime=last_wall or None)
                counts.written["hyper_parameters"] += 1
        finally:
            writer.close()
    return counts


def _is_hparam(key: str, value: Any) -> bool:
    return not key.startswith("_") and type(value) in (int, float, str)


class _Writer:
    """One value at a time into the VisualDL writer, by its type."""

    def __init__(self, writer: Any, run: ApiRun, media_dir: Path, counts: ExportCounts) -> None:
        from visualdl.component import base_component
        from visualdl.proto.record_pb2 import Record

        self._writer, self._run, self._media_dir, self._counts = writer, run, media_dir, counts
        self._components, self._record = base_component, Record

    def write(self, tag: str, value: Any, step: int, walltime: int) -> str | None:
        """Write one value; returns the VisualDL component it went to, or None (skipped)."""
        kind = self._kind(tag, value)
        if kind is None:
            return None
        if kind == "scalar":
            self._writer.add_scalar(tag, float(value), step, walltime)
        elif kind == "text":
            self._writer.add_text(tag, value, step, walltime)
        elif kind == "histogram":
            self._add(self._histogram(tag, value, step, walltime))
        elif kind == "image":
            self._add(
                self._value(
                    tag, step, walltime, image=self._record.Image(encoded_image_string=self._bytes(value))
                )
            )
        else:
            self._add(self._value(tag, step, walltime, audio=self._audio(self._bytes(value))))
        self._counts.written[kind] += 1
        return kind

    def _kind(self, tag: str, value: Any) -> str | None:
        media = value.get("_type") if isinstance(value, dict) else None
        if "%" in tag:  # VisualDL refuses such tags
            found = "tag with %"
        elif isinstance(value, int | float):
            return "scalar"
        elif isinstance(value, str):
            return "text"
        elif media == "audio-file" and not str(value.get("path", "")).endswith(".wav"):
            found = "audio-file (not WAV)"
        elif media in _MEDIA:
            return _MEDIA[media]
        else:
            found = media or type(value).__name__
        self._counts.skipped[found] += 1
        return None

    def _add(self, record: Any) -> None:
        self._writer._get_file_writer().add_record(record)

    def _value(self, tag: str, step: int, walltime: int, **content: Any) -> Any:
        return self._record(values=[self._record.Value(id=step, tag=tag, timestamp=walltime, **content)])

    def _histogram(self, tag: str, value: dict[str, Any], step: int, walltime: int) -> Any:
        import numpy as np

        counts, edges = np.asarray(value["values"]), np.asarray(value["bins"], dtype=np.float64)
        return self._components.histogram(tag=tag, hist=counts, bin_edges=edges, step=step, walltime=walltime)

    def _bytes(self, value: dict[str, Any]) -> bytes:
        with self._run.file(value["path"]).download(root=str(self._media_dir), exist_ok=True) as handle:
            name = handle.name
        return Path(name).read_bytes()

    def _audio(self, data: bytes) -> Any:
        with wave.open(io.BytesIO(data), "rb") as clip:
            rate, channels, frames = clip.getframerate(), clip.getnchannels(), clip.getnframes()
        return self._record.Audio(
            sample_rate=rate,
            num_channels=channels,
            length_frames=frames,
            encoded_audio_string=data,
            content_type="audio/wav",
        )


#: wakelog media ``_type`` → the VisualDL component it becomes.
_MEDIA = {"histogram": "histogram", "image-file": "image", "audio-file": "audio"}
