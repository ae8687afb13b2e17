"""Metric series, packed: a few thousand points per SQL row instead of a row per point.

A series is one (run, stream, key). It is stored as chunks of at most ``CHUNK_POINTS`` points,
each a row holding:

* ``data`` — the full-resolution points: step deltas (int64) then values (float64), each
  byte-shuffled (byte 0 of every number, then byte 1, …) and compressed with Zstandard. Shuffling
  groups the slowly changing high bytes of neighbouring floats, which is what lets the compressor
  shrink them; a logged scalar costs about 6-9 bytes here. A chunk of at most ``RAW_MAX`` points
  (a live run's staged append, joined into a main chunk a few batches later) is stored
  uncompressed: the compressor's fixed cost per call is most of what encoding it would cost, and
  saves a few bytes. The point count ahead of the bytes says which (``RAW_FLAG``, ``ZSTD_FLAG``);
  chunks stored before 2026-12-06 are zlib's, the count alone ahead of them, and read as they were.
  Zstandard compresses these bytes 3-8 times as fast as zlib (level 1) did and decompresses them
  3-20 times as fast (the more points, the more), to within a few percent of the same size: a join
  re-encodes each key's open chunk, and a zoomed chart or an export decodes every chunk it reads.
* ``sketch`` — ``SKETCH_BUCKETS`` consecutive-point buckets, each (first step, last step, min,
  max, last value, count). Coarse reads (a 1,000-point chart of a 100k-step series) use the
  sketches alone and never decompress ``data``. A chunk of at most ``RAW_MAX`` points has none
  (an empty one): its buckets would be its points, one each, which its uncompressed ``data``
  holds in two thirds to a third of the bytes, so readers take the data in its place
  (``read_sketches``); a live run's staged rows are such chunks. A bucket is stored as
  six float64, or, when the chunk's steps are evenly spaced (0, 1, 2, … or every k-th step, as
  nearly every training logs), as its min, max and last value alone: its steps and count follow
  from the row's first step, last step and point count, which bucket edges are fixed by. That
  halves what a chart reads, and keeps the sketch inside PostgreSQL's row instead of TOAST (a
  lookup per sketch). The length says which: ``REGULAR_BYTES`` or ``FULL_BYTES`` per bucket.

Chunk numbers say where appends go. A series' main chunks are numbered at multiples of
``STRIDE``. The last main chunk is open while it holds fewer than ``MERGE_BELOW`` points; a small
append after it (a live run's batch) is stored as a row of its own, numbered after it (staged),
so that it costs what its own points cost. When the ``STRIDE - 1`` numbers after the open chunk are
taken, the next append joins the open chunk, its staged rows and itself into main chunks again: each
point is re-encoded a few times over a run's life, not at every batch. An open chunk of
``MERGE_BELOW`` points or more is closed (new points start the next main chunk); once the closed
main chunks since the last whole one hold ``CHUNK_POINTS`` points, the next append joins them into
whole chunks, so that a series logged live is read in as many rows as one sent in big batches. The
batch that ends a run joins what is left staged (``store/ingest/_series.seal``). Readers take the rows in
number order, whatever the numbers (chunks stored before staging are numbered 0, 1, 2, …).
NaN and ±Inf are kept; min and max ignore NaN.
"""

from __future__ import annotations

import contextlib
import queue
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import zstandard

CHUNK_POINTS = 4096
#: An open chunk smaller than this is extended by the next append; a larger one is left alone.
MERGE_BELOW = CHUNK_POINTS // 4
#: Main chunks are numbered at multiples of this; the numbers between hold staged appends.
STRIDE = 16
SKETCH_BUCKETS = 64
SKETCH_FIELDS = 6  # first_step, last_step, min, max, last, count
FULL_BYTES = SKETCH_FIELDS * 8  # a bucket of a chunk whose steps are irregular
REGULAR_BYTES = 3 * 8  # min, max, last: a bucket of an evenly spaced chunk
#: A chunk of at most this many points is stored uncompressed (a live batch's append).
RAW_MAX = SKETCH_BUCKETS
#: Set in a stored chunk's point count when its bytes are not compressed (counts stay far below).
RAW_FLAG = 1 << 31
#: Set in a stored chunk's point count when its bytes are Zstandard's (neither flag: zlib's).
ZSTD_FLAG = 1 << 30
_COUNT = ~(RAW_FLAG | ZSTD_FLAG)
#: The compressor's level (Zstandard's default): on these bytes as fast as level 1 and a little
#: smaller (5.3 against 5.4 bytes a point in ``bench/server_ingest.py``; zlib's level 1: 5.2).
ZSTD_LEVEL = 3
#: A regular sketch's steps are recomputed in float64 (first + index × stride); below this, every
#: step, span and product is an integer float64 holds exactly. A chunk with a step past it keeps
#: the full format, whose steps are float64 as stored.
EXACT = 2**52

_T = TypeVar("_T")


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


class _Lender(Generic[_T]):
    """Zstandard contexts lent to one call at a time (a context serves one call at a time, and the
    server encodes and decodes in its thread pool): as many as were in use at once, each kept for
    the next call (a used compressor holds about 0.9 MB: one per thread of the pool would hold tens
    of megabytes; one made per call would make compressing a join's 160 points 3.5 times as
    long)."""

    def __init__(self, make: Callable[[], _T]) -> None:
        self._make = make
        self._idle: queue.SimpleQueue[_T] = queue.SimpleQueue()

    @contextlib.contextmanager
    def lend(self) -> Iterator[_T]:
        try:
            context = self._idle.get_nowait()
        except queue.Empty:
            context = self._make()
        try:
            yield context
        finally:
            self._idle.put(context)


_compressors = _Lender(lambda: zstandard.ZstdCompressor(level=ZSTD_LEVEL))
_decompressors = _Lender(zstandard.ZstdDecompressor)


def encode(chunk: Chunk) -> bytes:
    return encode_many(chunk.steps, chunk.values[None])[0]


def encode_many(steps: np.ndarray, values: np.ndarray) -> list[bytes]:
    """``encode`` of a chunk per row of ``values`` (series × points), all at ``steps``: the keys of a
    live run's batch share their steps, so the byte shuffles are done once for all of them."""
    count = len(steps)
    differences = steps.astype("<i8")  # the first step, then each one's difference from the one before
    np.subtract(steps[1:], steps[:-1], out=differences[1:])  # np.diff costs a small batch twice this
    deltas = _shuffle(differences)
    planes = values.astype("<f8", copy=False).view(np.uint8).reshape(len(values), count, 8)
    shuffled = np.ascontiguousarray(planes.transpose(0, 2, 1)).reshape(len(values), -1)  # per row as _shuffle
    if count <= RAW_MAX:
        header = (count | RAW_FLAG).to_bytes(4, "little")
        return [header + deltas + row.tobytes() for row in shuffled]
    header = (count | ZSTD_FLAG).to_bytes(4, "little")
    with _compressors.lend() as compressor:
        return [header + compressor.compress(deltas + row.tobytes()) for row in shuffled]


def decode(data: bytes) -> Chunk:
    header = int.from_bytes(data[:4], "little")
    count = header & _COUNT
    steps, values = _unshuffled(np.frombuffer(_body(data, header), dtype=np.uint8), 1, count)
    return Chunk(steps[0], values[0])


def _body(data: bytes, header: int, decompressor: zstandard.ZstdDecompressor | None = None) -> bytes:
    """A stored chunk's shuffled step deltas and values (``header``: its first four bytes)."""
    if header & RAW_FLAG:
        return data[4:]
    if not header & ZSTD_FLAG:
        return zlib.decompress(data[4:])
    if decompressor is not None:
        return decompressor.decompress(data[4:])
    with _decompressors.lend() as lent:
        return lent.decompress(data[4:])


def _unshuffled(shuffled: np.ndarray, chunks: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The steps and values (each ``chunks`` × ``count``) of ``chunks`` chunks of ``count`` points
    from their bytes (``shuffled``, one chunk after the other: its step deltas' byte planes, then its
    values')."""
    items = shuffled.reshape(chunks, 2, 8, count).transpose(0, 1, 3, 2).copy()  # planes → numbers
    steps = np.cumsum(items[:, 0].view("<i8").reshape(chunks, count), axis=1, dtype=np.int64)
    return steps, items[:, 1].view("<f8").reshape(chunks, count)


def decode_joined(groups: Sequence[Sequence[bytes]]) -> list[Chunk]:
    """Each group of chunks decoded and joined into one, in order (a key's open chunk and its
    staged rows, which a join turns into main chunks again). Chunks of the same point count, in
    whichever group, are unshuffled together and put in place by one index, and uncompressed ones
    are found and read without a step per chunk: a join of a live run's 50 keys reads some 800
    rows, and a chart of 100 live runs thousands of staged ones, most of a few points, and a step
    per row cost more than their points (a join's 800 rows: 2.3 → 1.3 ms)."""
    datas = [data for group in groups for data in group]
    headers = _headers(datas)
    counts = headers & _COUNT
    starts = np.zeros(len(datas) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    steps = np.empty(starts[-1], dtype=np.int64)
    values = np.empty(starts[-1], dtype=np.float64)

    def place(members: np.ndarray, bodies: bytes, skip: int) -> None:
        """The chunks at ``members``, of one point count, from their ``bodies`` (each ``skip``
        bytes of header, then its shuffled step deltas and values)."""
        count = int(counts[members[0]])
        shuffled = np.frombuffer(bodies, dtype=np.uint8).reshape(len(members), -1)[:, skip:]
        at = starts[members][:, None] + np.arange(count)
        steps[at], values[at] = _unshuffled(shuffled, len(members), count)

    raw = (headers & RAW_FLAG) != 0
    for members in _by_count(np.flatnonzero(raw), counts):
        place(members, b"".join([datas[index] for index in members.tolist()]), 4)
    unpacked: dict[int, bytes] = {}
    packed = np.flatnonzero(~raw)
    with _decompressors.lend() as decompressor:
        for index in packed.tolist():
            unpacked[index] = _body(datas[index], int(headers[index]), decompressor)
    for members in _by_count(packed, counts):
        place(members, b"".join([unpacked[index] for index in members.tolist()]), 0)
    ends = starts[np.cumsum([len(group) for group in groups], dtype=np.int64)].tolist()
    return [Chunk(steps[a:b], values[a:b]) for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def _headers(datas: Sequence[bytes]) -> np.ndarray:
    """Each stored chunk's first four bytes (its point count and flags), read in one pass."""
    sizes = np.fromiter(map(len, datas), dtype=np.int64, count=len(datas))
    offsets = np.zeros(len(datas), dtype=np.int64)
    np.cumsum(sizes[:-1], out=offsets[1:])
    joined = np.frombuffer(b"".join(datas), dtype=np.uint8)
    headers: np.ndarray = joined[offsets[:, None] + np.arange(4)].view("<u4").ravel()
    return headers.astype(np.int64)


def _by_count(indexes: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
    """``indexes`` split by their chunks' point counts (``counts``), each part in order."""
    if not len(indexes):
        return []
    ordered = indexes[np.argsort(counts[indexes], kind="stable")]
    return np.split(ordered, np.flatnonzero(np.diff(counts[ordered])) + 1)


def sketch(chunk: Chunk) -> bytes:
    """Per-bucket (first step, last step, min, max, last value, count) of consecutive points; none
    (empty bytes) for a chunk of at most ``RAW_MAX`` points, whose data readers take instead."""
    return sketch_many(chunk.steps, chunk.values[None])[0]


def sketch_many(steps: np.ndarray, values: np.ndarray) -> list[bytes]:
    """``sketch`` of a chunk per row of ``values`` (series × points), all at ``steps``."""
    count = len(steps)
    if count <= RAW_MAX:
        return [b""] * len(values)
    starts, ends = _bucket_edges(count)
    mins = np.fmin.reduceat(values, starts, axis=1)  # fmin/fmax skip NaN unless a bucket is all NaN
    maxs = np.fmax.reduceat(values, starts, axis=1)
    if _evenly_spaced(steps):
        table = np.stack([mins, maxs, values[:, ends]], axis=2).astype("<f8", copy=False)
        return [rows.tobytes() for rows in table]
    table = np.empty((len(values), len(starts), SKETCH_FIELDS), dtype="<f8")
    table[:, :, 0] = steps[starts]
    table[:, :, 1] = steps[ends]
    table[:, :, 2] = mins
    table[:, :, 3] = maxs
    table[:, :, 4] = values[:, ends]
    table[:, :, 5] = ends - starts + 1
    return [rows.tobytes() for rows in table]


def _evenly_spaced(steps: np.ndarray) -> bool:
    """Whether a regular sketch can hold these steps: evenly spaced, and small enough (``EXACT``)."""
    if abs(int(steps[0])) >= EXACT or abs(int(steps[-1])) >= EXACT:
        return False
    return len(steps) <= 2 or bool((np.diff(steps) == steps[1] - steps[0]).all())


def sketch_buckets(count: int) -> int:
    """How many buckets the sketch of a chunk of ``count`` points has."""
    return min(count, SKETCH_BUCKETS)


def _bucket_edges(count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first and last point of each bucket of a chunk of ``count`` points: consecutive runs of
    near-equal length (what ``linspace(0, count, buckets + 1)`` floors to, in integers)."""
    buckets = sketch_buckets(count)
    return np.arange(buckets) * count // buckets, np.arange(1, buckets + 1) * count // buckets - 1


@dataclass(frozen=True)
class Buckets:
    """Sketch buckets as columns, one element per bucket, in order (a column per field is what
    binning reads; the values are views of the stored bytes where the format allows)."""

    first_steps: np.ndarray
    last_steps: np.ndarray
    mins: np.ndarray
    maxs: np.ndarray
    lasts: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.counts)

    def _columns(self) -> tuple[np.ndarray, ...]:
        return self.first_steps, self.last_steps, self.mins, self.maxs, self.lasts, self.counts

    @staticmethod
    def of_points(steps: np.ndarray, values: np.ndarray) -> Buckets:
        """Points as buckets, one each."""
        return Buckets(steps, steps, values, values, values, np.ones(len(steps), dtype=np.int64))

    @staticmethod
    def concat(parts: Sequence[Buckets]) -> Buckets:
        columns = zip(*(part._columns() for part in parts), strict=True)
        return Buckets(*(np.concatenate(column) for column in columns))

    @staticmethod
    def interleave(mask: np.ndarray, on: Buckets, off: Buckets) -> Buckets:
        """The rows of ``on`` where ``mask`` is true and those of ``off`` elsewhere, each in order."""
        columns = []
        for a, b in zip(on._columns(), off._columns(), strict=True):
            column = np.empty(len(mask), dtype=np.result_type(a, b))
            column[mask] = a
            column[~mask] = b
            columns.append(column)
        return Buckets(*columns)


def read_sketches(
    datas: Sequence[bytes], first_steps: Sequence[int], last_steps: Sequence[int], counts: Sequence[int]
) -> Buckets:
    """The buckets of chunks' sketches, concatenated in order: of each chunk, its sketch, or its
    data if it has at most ``RAW_MAX`` points (it has no sketch: a bucket per point). Each chunk's
    row gives its first step, last step and point count (a regular sketch's steps and counts follow
    from them). Vectorised: a chart of 100 runs reads some 10,000 sketches, and an array per sketch
    would cost more than the chart."""
    count = np.asarray(counts, dtype=np.int64)
    first, last = np.asarray(first_steps, dtype=np.int64), np.asarray(last_steps, dtype=np.int64)
    small = count <= RAW_MAX
    if not small.any():
        return _stored_sketches(datas, first, last, count)
    points = decode_joined([[data for data, few in zip(datas, small, strict=True) if few]])[0]
    buckets = Buckets.of_points(points.steps, points.values)
    if small.all():
        return buckets
    big = ~small
    sketched = [data for data, many in zip(datas, big, strict=True) if many]
    stored = _stored_sketches(sketched, first[big], last[big], count[big])
    return Buckets.interleave(np.repeat(small, np.minimum(count, SKETCH_BUCKETS)), buckets, stored)


def _stored_sketches(
    datas: Sequence[bytes], first: np.ndarray, last: np.ndarray, count: np.ndarray
) -> Buckets:
    """``read_sketches`` of chunks of more than ``RAW_MAX`` points (each of them has all its buckets)."""
    sizes = np.fromiter(map(len, datas), dtype=np.int64, count=len(datas))
    regular = sizes == SKETCH_BUCKETS * REGULAR_BYTES
    if regular.all():
        return _regular(datas, first, last, count)
    if not regular.any():
        return _full(datas)
    evens = [data for data, even in zip(datas, regular, strict=True) if even]
    odds = [data for data, even in zip(datas, regular, strict=True) if not even]
    on = _regular(evens, first[regular], last[regular], count[regular])
    return Buckets.interleave(np.repeat(regular, SKETCH_BUCKETS), on, _full(odds))


def _full(datas: Sequence[bytes]) -> Buckets:
    table = np.frombuffer(b"".join(datas), dtype="<f8").reshape(-1, SKETCH_FIELDS)
    return Buckets(*table.T)


def _regular(datas: Sequence[bytes], first: np.ndarray, last: np.ndarray, count: np.ndarray) -> Buckets:
    """Buckets stored as (min, max, last): their point ranges are those ``sketch_many`` cuts, the
    same for every chunk of a length (a chart's chunks have few lengths: a table per length,
    gathered), and their steps follow from the chunk's first step and stride. float64 like the full
    format's columns (exact: ``EXACT``), so that binning mixes no types."""
    values = np.frombuffer(b"".join(datas), dtype="<f8").reshape(-1, 3)
    lengths, length_of = np.unique(count, return_inverse=True)
    starts = np.empty((len(lengths), SKETCH_BUCKETS))
    ends = np.empty((len(lengths), SKETCH_BUCKETS))
    for row, length in enumerate(lengths.tolist()):
        starts[row], ends[row] = _bucket_edges(length)
    counts = (ends - starts + 1.0)[length_of]
    stride = ((last - first) // np.maximum(count - 1, 1)).astype(np.float64)[:, None]
    at = first.astype(np.float64)[:, None]
    first_steps = starts[length_of]
    first_steps *= stride
    first_steps += at
    last_steps = ends[length_of]
    last_steps *= stride
    last_steps += at
    mins, maxs, lasts = values.T
    return Buckets(first_steps.ravel(), last_steps.ravel(), mins, maxs, lasts, counts.ravel())


def merge(tail: Chunk | None, steps: np.ndarray, values: np.ndarray) -> list[Chunk]:
    """Append points (steps increasing, all past ``tail``) to the open chunk; split when full."""
    if tail is not None:
        steps = np.concatenate([tail.steps, steps])
        values = np.concatenate([tail.values, values])
    return [
        Chunk(steps[i : i + CHUNK_POINTS], values[i : i + CHUNK_POINTS])
        for i in range(0, len(steps), CHUNK_POINTS)
    ]
