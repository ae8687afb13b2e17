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


def encode(chunk: Chunk) -> bytes:
    return encode_many(chunk.steps, chunk.values[None])[0]


def encode_many(steps: np.ndarray, values: np.ndarray) -> list[bytes]:
    """``encode`` of a chunk per row of ``values`` (series × points), all at ``steps``: the keys of a
    live run's batch share their steps, so the byte shuffles are done once for all of them."""
    count = len(steps)
    header = np.array([count], dtype="<u4").tobytes()
    deltas = _shuffle(np.diff(steps.astype("<i8", copy=False), prepend=np.int64(0)))
    planes = values.astype("<f8", copy=False).view(np.uint8).reshape(len(values), count, 8)
    shuffled = np.ascontiguousarray(planes.transpose(0, 2, 1)).reshape(len(values), -1)  # per row as _shuffle
    return [header + zlib.compress(deltas + row.tobytes(), 1) for row in shuffled]


def decode(data: bytes) -> Chunk:
    return decode_many([data])[0]


def decode_many(datas: list[bytes]) -> list[Chunk]:
    """``decode`` of each of ``datas``; those of the same point count are unshuffled together (a
    join decodes a staged row of every key of a live run, all of a few points)."""
    raws = [zlib.decompress(data[4:]) for data in datas]
    by_count: dict[int, list[int]] = {}
    for index, data in enumerate(datas):
        by_count.setdefault(int.from_bytes(data[:4], "little"), []).append(index)
    chunks: dict[int, Chunk] = {}
    for count, members in by_count.items():
        joined = np.frombuffer(b"".join(raws[index] for index in members), dtype=np.uint8)
        items = joined.reshape(len(members), 2, 8, count).transpose(0, 1, 3, 2).copy()  # planes → numbers
        steps = np.cumsum(items[:, 0].view("<i8").reshape(len(members), count), axis=1, dtype=np.int64)
        values = items[:, 1].view("<f8").reshape(len(members), count).astype(np.float64, copy=False)
        for row, index in enumerate(members):
            chunks[index] = Chunk(steps[row], values[row])
    return [chunks[index] for index in range(len(datas))]


def sketch(chunk: Chunk) -> bytes:
    """Per-bucket (first step, last step, min, max, last value, count) of consecutive points."""
    return sketch_many(chunk.steps, chunk.values[None])[0]


def sketch_many(steps: np.ndarray, values: np.ndarray) -> list[bytes]:
    """``sketch`` of a chunk per row of ``values`` (series × points), all at ``steps``."""
    count = len(steps)
    if count <= SKETCH_BUCKETS:  # a point per bucket (a staged append): no reductions to make
        starts = ends = np.arange(count)
        mins = maxs = values
    else:
        edges = np.linspace(0, count, SKETCH_BUCKETS + 1).astype(np.int64)
        starts, ends = edges[:-1], edges[1:] - 1
        mins = np.fmin.reduceat(values, starts, axis=1)  # fmin/fmax skip NaN unless a bucket is all NaN
        maxs = np.fmax.reduceat(values, starts, axis=1)
    table = np.empty((len(values), len(starts), SKETCH_FIELDS), dtype="<f8")
    table[:, :, 0] = steps[starts]
    table[:, :, 1] = steps[ends]
    table[:, :, 2] = mins
    table[:, :, 3] = maxs
    table[:, :, 4] = values[:, ends]
    table[:, :, 5] = ends - starts + 1
    return [rows.tobytes() for rows in table]


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
