"""The packed series format (``store/series.py``): chunks decode to what was encoded, and a sketch
says, bucket by bucket, what a plain reading of the points says."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.server.conftest import zlib_chunk
from wakelog.store import series as codec

POINTS = st.lists(
    st.tuples(st.integers(1, 1000), st.floats(allow_nan=True, allow_infinity=True)),
    min_size=1,
    max_size=300,
)


def chunk_of(points: list[tuple[int, float]]) -> codec.Chunk:
    """Steps rising by the drawn gaps from a drawn (possibly negative or huge) start."""
    gaps = np.array([gap for gap, _ in points], dtype=np.int64)
    return codec.Chunk(np.cumsum(gaps) - 500, np.array([value for _, value in points], dtype=np.float64))


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@given(POINTS)
def test_a_chunk_decodes_to_what_was_encoded(points: list[tuple[int, float]]) -> None:
    chunk = chunk_of(points)
    decoded = codec.decode(codec.encode(chunk))
    assert decoded.steps.tolist() == chunk.steps.tolist()
    assert decoded.values.tobytes() == chunk.values.tobytes(), "bit for bit, NaN payloads too"


def as_read(sketch: bytes, chunk: codec.Chunk) -> bytes:
    """What a coarse read takes of a chunk's row (``server/query/history._SKETCH``): its sketch, or
    its data if it has at most ``RAW_MAX`` points."""
    return codec.encode(chunk) if len(chunk) <= codec.RAW_MAX else sketch


def buckets_of(sketch: bytes, chunk: codec.Chunk) -> list[tuple[float, ...]]:
    """A chunk's sketch read back, as its row gives it to a reader, bucket by bucket."""
    read = codec.read_sketches([as_read(sketch, chunk)], [chunk.first_step], [chunk.last_step], [len(chunk)])
    columns = (read.first_steps, read.last_steps, read.mins, read.maxs, read.lasts, read.counts)
    return list(zip(*(column.tolist() for column in columns), strict=True))


def check_buckets(buckets: list[tuple[float, ...]], chunk: codec.Chunk) -> None:
    """Each bucket is its points' first and last step, min, max, last value and count."""
    assert len(buckets) == min(len(chunk), codec.SKETCH_BUCKETS)
    assert sum(bucket[5] for bucket in buckets) == len(chunk) and buckets[0][0] == chunk.first_step
    start = 0
    for first, last, low, high, final, count in buckets:
        steps = chunk.steps[start : start + int(count)].tolist()
        values = chunk.values[start : start + int(count)].tolist()
        finite = [v for v in values if not math.isnan(v)]
        assert (first, last) == (steps[0], steps[-1])
        assert same(low, min(finite) if finite else math.nan)
        assert same(high, max(finite) if finite else math.nan)
        assert same(final, values[-1])
        start += int(count)


@given(POINTS)
def test_each_sketch_bucket_is_its_points_first_last_min_max_and_count(
    points: list[tuple[int, float]],
) -> None:
    """Small chunks (their data read as their buckets, a point each) and big ones alike."""
    chunk = chunk_of(points)
    check_buckets(buckets_of(codec.sketch(chunk), chunk), chunk)


@given(POINTS)
def test_a_chunk_of_few_points_stores_no_sketch_and_its_data_reads_as_its_buckets(
    points: list[tuple[int, float]],
) -> None:
    """A staged append's buckets would be its points, one each: its data holds them in fewer bytes
    (16 a point against a sketch's 24 or 48), so no sketch is stored and readers read the data (a
    sketch an older wakelog stored for such a chunk is not read)."""
    chunk = chunk_of(points[: codec.RAW_MAX])
    assert codec.sketch(chunk) == b""
    assert len(codec.encode(chunk)) < len(full_sketch(chunk))
    buckets = buckets_of(b"", chunk)
    assert [bucket[5] for bucket in buckets] == [1] * len(chunk)
    check_buckets(buckets, chunk)


EVEN = st.tuples(
    st.integers(-(2**40), 2**40),  # the first step
    st.integers(1, 1000),  # the stride: 1 for consecutive steps, k for every k-th
    st.integers(1, 3 * codec.SKETCH_BUCKETS + 7),  # points: fewer than, as many as, more than buckets
)


def even_chunk(spacing: tuple[int, int, int]) -> codec.Chunk:
    first, stride, count = spacing
    steps = first + stride * np.arange(count, dtype=np.int64)
    values = np.cos(steps.astype(np.float64))
    values[::7] = math.nan
    return codec.Chunk(steps, values)


@given(EVEN.map(even_chunk))
def test_an_evenly_spaced_chunk_stores_only_min_max_and_last_and_reads_back_whole(chunk: codec.Chunk) -> None:
    """Steps and counts come from the row's first step, last step and point count: half the bytes
    per bucket, and every bucket still exact."""
    sketch = codec.sketch(chunk)
    assert len(sketch) == (0 if len(chunk) <= codec.RAW_MAX else codec.SKETCH_BUCKETS * codec.REGULAR_BYTES)
    check_buckets(buckets_of(sketch, chunk), chunk)


def full_sketch(chunk: codec.Chunk) -> bytes:
    """A sketch in the full format, whatever the spacing (what wakelog wrote for every chunk before
    the regular format): the reference, built bucket by bucket from the points."""
    count = len(chunk)
    buckets = min(count, codec.SKETCH_BUCKETS)
    rows = []
    for b in range(buckets):
        lo, hi = b * count // buckets, (b + 1) * count // buckets
        values = chunk.values[lo:hi]
        finite = values[~np.isnan(values)]
        low, high = (finite.min(), finite.max()) if len(finite) else (math.nan, math.nan)
        rows.append([chunk.steps[lo], chunk.steps[hi - 1], low, high, values[-1], hi - lo])
    return np.array(rows, dtype="<f8").tobytes()


def test_an_evenly_spaced_chunk_of_huge_steps_keeps_its_steps() -> None:
    """Past 2**53 not every step is a float64 number, and past 2**52 a span or a product may not be:
    recomputing the steps in float64 could land a unit off what the full format stores, so such a
    chunk keeps the full format."""
    for first in (codec.EXACT, 2**53 - 10, -(2**60)):
        chunk = codec.Chunk(first + 3 * np.arange(200, dtype=np.int64), np.arange(200, dtype=np.float64))
        sketch = codec.sketch(chunk)
        assert sketch == full_sketch(chunk)


@given(st.lists(st.one_of(POINTS.map(chunk_of), EVEN.map(even_chunk)), min_size=1, max_size=8))
def test_many_sketches_read_together_as_each_alone_in_either_format(chunks: list[codec.Chunk]) -> None:
    """A chart reads its chunks' sketches in one pass, the two formats mixed (evenly spaced chunks
    written now, older full-format sketches of the same kind of chunk, irregular ones): each
    chunk's buckets come back in order, as when read alone."""
    sketches = [codec.sketch(ch) if i % 2 else full_sketch(ch) for i, ch in enumerate(chunks)]
    read = codec.read_sketches(
        [as_read(sketch, ch) for sketch, ch in zip(sketches, chunks, strict=True)],
        [ch.first_step for ch in chunks],
        [ch.last_step for ch in chunks],
        [len(ch) for ch in chunks],
    )
    columns = (read.first_steps, read.last_steps, read.mins, read.maxs, read.lasts, read.counts)
    together = list(zip(*(column.tolist() for column in columns), strict=True))
    alone = [bucket for sketch, ch in zip(sketches, chunks, strict=True) for bucket in buckets_of(sketch, ch)]
    assert len(together) == len(alone)
    assert all(all(map(same, a, b)) for a, b in zip(together, alone, strict=True))
    start = 0
    for ch in chunks:
        size = min(len(ch), codec.SKETCH_BUCKETS)
        check_buckets(together[start : start + size], ch)
        start += size


@given(POINTS, st.integers(1, 5))
def test_the_chunks_of_series_at_the_same_steps_encode_as_each_alone(
    points: list[tuple[int, float]], series: int
) -> None:
    """How a live batch's keys are encoded together (``encode_many``, ``sketch_many``)."""
    chunk = chunk_of(points)
    values = np.stack([np.roll(chunk.values, i) for i in range(series)])  # different rows, same steps
    encoded, sketches = codec.encode_many(chunk.steps, values), codec.sketch_many(chunk.steps, values)
    for i, row in enumerate(values):
        alone = codec.Chunk(chunk.steps, row.copy())
        assert (encoded[i], sketches[i]) == (codec.encode(alone), codec.sketch(alone))
        assert codec.decode(encoded[i]).values.tobytes() == row.tobytes()


def compressed(chunk: codec.Chunk) -> bytes:
    """A chunk as stored before small ones were left uncompressed, and before Zstandard."""
    return zlib_chunk(chunk.steps, chunk.values)


@given(st.lists(st.lists(POINTS, max_size=4), min_size=1, max_size=4), st.data())
def test_groups_of_chunks_decode_joined_whether_stored_raw_or_compressed(
    drawn: list[list[list[tuple[int, float]]]], data: st.DataObject
) -> None:
    """A join decodes each key's rows into one chunk: its main chunk (Zstandard's), its staged rows
    (small: raw) and, in a store written before, chunks of any size in zlib's, all in one pass."""
    groups = [[chunk_of(points) for points in group] for group in drawn]
    stored = [[compressed(ch) if data.draw(st.booleans()) else codec.encode(ch) for ch in g] for g in groups]
    for group, joined in zip(groups, codec.decode_joined(stored), strict=True):
        assert joined.steps.tolist() == [step for ch in group for step in ch.steps.tolist()]
        assert joined.values.tobytes() == b"".join(ch.values.tobytes() for ch in group), "bit for bit"
    for group, datas in zip(groups, stored, strict=True):
        for ch, one in zip(group, datas, strict=True):
            assert codec.decode(one).values.tobytes() == ch.values.tobytes()


def test_a_small_chunk_is_stored_uncompressed_and_a_larger_one_compressed() -> None:
    steps = np.arange(codec.RAW_MAX + 1, dtype=np.int64)
    small, large = (
        codec.encode(codec.Chunk(steps[:n], np.zeros(n))) for n in (codec.RAW_MAX, codec.RAW_MAX + 1)
    )
    assert len(small) == 4 + codec.RAW_MAX * 16, "the count, then the step and value bytes as they are"
    assert int.from_bytes(small[:4], "little") == codec.RAW_MAX | codec.RAW_FLAG
    assert len(large) < 4 + 16 * (codec.RAW_MAX + 1) // 4, "zeros and unit steps compress"
    assert int.from_bytes(large[:4], "little") == (codec.RAW_MAX + 1) | codec.ZSTD_FLAG
    assert large[4:8] == b"\x28\xb5\x2f\xfd", "a Zstandard frame"


@given(st.lists(POINTS, min_size=1, max_size=3))
def test_chunks_stored_before_zstandard_decode_as_they_did(drawn: list[list[tuple[int, float]]]) -> None:
    """zlib's chunks (the count alone ahead of them) decode bit for bit, alone and joined."""
    chunks = [chunk_of(points) for points in drawn]
    for chunk in chunks:
        assert codec.decode(compressed(chunk)).values.tobytes() == chunk.values.tobytes()
    (joined,) = codec.decode_joined([[compressed(chunk) for chunk in chunks]])
    assert joined.steps.tolist() == [step for chunk in chunks for step in chunk.steps.tolist()]


def test_threads_encode_and_decode_at_once() -> None:
    """The server's thread pool encodes and decodes in several threads at a time: each has its own
    compressor (a Zstandard context serves one call at a time)."""
    rng = np.random.default_rng(7)
    chunks = [
        codec.Chunk(np.arange(size, dtype=np.int64), rng.standard_normal(size).cumsum())
        for size in rng.integers(codec.RAW_MAX + 1, codec.CHUNK_POINTS, 64)
    ]

    def round_trips(offset: int) -> bool:
        for chunk in chunks[offset:] + chunks[:offset]:
            for _ in range(3):
                if codec.decode(codec.encode(chunk)).values.tobytes() != chunk.values.tobytes():
                    return False
        return True

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(round_trips, range(0, 64, 8)))
