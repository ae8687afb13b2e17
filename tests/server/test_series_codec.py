"""The packed series format (``store/series.py``): chunks decode to what was encoded, and a sketch
says, bucket by bucket, what a plain reading of the points says."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

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


@given(POINTS)
def test_each_sketch_bucket_is_its_points_first_last_min_max_and_count(
    points: list[tuple[int, float]],
) -> None:
    """Small chunks (a point per bucket, the staged appends' fast path) and big ones alike."""
    chunk = chunk_of(points)
    table = codec.read_sketch(codec.sketch(chunk))
    assert len(table) == min(len(chunk), codec.SKETCH_BUCKETS)
    assert table[:, 5].sum() == len(chunk) and table[0][0] == chunk.first_step
    start = 0
    for first, last, low, high, final, count in table.tolist():
        steps = chunk.steps[start : start + int(count)].tolist()
        values = chunk.values[start : start + int(count)].tolist()
        finite = [v for v in values if not math.isnan(v)]
        assert (first, last) == (steps[0], steps[-1])
        assert same(low, min(finite) if finite else math.nan)
        assert same(high, max(finite) if finite else math.nan)
        assert same(final, values[-1])
        start += int(count)


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
