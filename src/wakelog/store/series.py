"""Metric series, packed: a few thousand points per SQL row instead of a row per point.

A series is one (run, stream, key). It is stored as chunks of at most ``CHUNK_POINTS`` points,
each a row holding:

* ``data`` — the full-resolution points: step deltas (int64) then values (float64), each
  byte-shuffled (byte 0 of every number, then byte 1, …) and zlib-compressed. Shuffling groups
  the slowly changing high bytes of neighbouring floats, which is what lets zlib shrink them;
  a logged scalar costs about 6-9 bytes here.
* ``sketch`` — ``SKETCH_BUCKETS`` consecutive-point buckets, each (first step, last step, min, max,
  last value, count) as float64. Coarse reads (a 1,000-point chart of a 100k-step series) use the
  sketches alone and never decompress ``data``.

Chunk numbers say where appends go. A series' main chunks are numbered at multiples of
``STRIDE``. The last main chunk is open while it holds fewer than ``MERGE_BELOW`` points; a small
append after it (a live run's batch) is stored as a row of its own, numbered after it (staged),
so that it costs what its own points cost. When the ``STRIDE - 1`` numbers after the open chunk are
taken, the next append joins the open chunk, its staged rows and itself into main chunks again: each
point is re-encoded a few times over a run's life, not at every batch. Readers take the rows in
number order, whatever the numbers (chunks stored before staging are numbered 0, 1, 2, …).
NaN and ±Inf are kept; min and max ignore NaN.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

CHUNK_POINTS = 4096
#: An open chunk smaller than this is extended by the next append; a larger one is left alone.
MERGE_BELOW = CHUNK_POINTS // 4
#: Main chunks are numbered at multiples of this; the numbers between hold staged appends.
STRIDE = 16
SKETCH_BUCKETS = 64
SKETCH_FIELDS = 6  # first_step, last_step, min, max, last, count


@dataclass
class Chunk:
    steps: np.ndarray  # int64, strictly increasing
    values: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def first_step(self) -> int:
        return int(self.steps[0])

    @property
    def last_step(self) -> int:
        return int(self.steps[-1])


def _shuffle(array: np.ndarray) -> bytes:
    columns: np.ndarray = array.view(np.uint8).reshape(-1, array.itemsize).T  # byte planes: compress better
    return columns.tobytes()


def _unshuffle(raw: bytes, dtype: np.dtype, count: int) -> np.ndarray:
    itemsize = np.dtype(dtype).itemsize
    planes: np.ndarray = np.frombuffer(raw, dtype=np.uint8).reshape(itemsize, count).T
    values: np.ndarray = planes.copy().view(dtype).reshape(-1)
    return values


def encode(chunk: Chunk) -> bytes:
    steps = chunk.steps.astype("<i8", copy=False)
    deltas = np.diff(steps, prepend=np.int64(0))
    values = chunk.values.astype("<f8", copy=False)
    header = np.array([len(steps)], dtype="<u4").tobytes()
    return header + zlib.compress(_shuffle(deltas) + _shuffle(values), 1)


def decode(data: bytes) -> Chunk:
    count = int(np.frombuffer(data[:4], dtype="<u4")[0])
    raw = zlib.decompress(data[4:])
    half = count * 8
    deltas = _unshuffle(raw[:half], np.dtype("<i8"), count)
    values = _unshuffle(raw[half:], np.dtype("<f8"), count)
    return Chunk(np.cumsum(deltas, dtype=np.int64), values.astype(np.float64))


def sketch(chunk: Chunk) -> bytes:
    """Per-bucket (first step, last step, min, max, last value, count) of consecutive points."""
    count = len(chunk)
    if count <= SKETCH_BUCKETS:  # a point per bucket (a staged append): no reductions to make
        table = np.empty((count, SKETCH_FIELDS), dtype="<f8")
        table[:, :2] = chunk.steps[:, None]
        table[:, 2:5] = chunk.values[:, None]
        table[:, 5] = 1
        return table.tobytes()
    edges = np.linspace(0, count, min(SKETCH_BUCKETS, count) + 1).astype(np.int64)
    starts, ends = edges[:-1], edges[1:]
    values = chunk.values
    mins = np.fmin.reduceat(values, starts)  # fmin/fmax skip NaN unless a bucket is all NaN
    maxs = np.fmax.reduceat(values, starts)
    table = np.column_stack(
        [chunk.steps[starts], chunk.steps[ends - 1], mins, maxs, values[ends - 1], (ends - starts)]
    ).astype("<f8")
    return table.tobytes()


def read_sketch(data: bytes) -> np.ndarray:
    """A sketch as an (n, 6) float64 array."""
    return np.frombuffer(data, dtype="<f8").reshape(-1, SKETCH_FIELDS)


def merge(tail: Chunk | None, steps: np.ndarray, values: np.ndarray) -> list[Chunk]:
    """Append points (steps increasing, all past ``tail``) to the open chunk; split when full."""
    if tail is not None:
        steps = np.concatenate([tail.steps, steps])
        values = np.concatenate([tail.values, values])
    return [
        Chunk(steps[i : i + CHUNK_POINTS], values[i : i + CHUNK_POINTS])
        for i in range(0, len(steps), CHUNK_POINTS)
    ]
