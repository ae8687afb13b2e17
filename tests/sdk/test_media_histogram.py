"""wakelog Histogram: numpy-equal counts, bin limits, np_histogram validation, non-finite values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wakelog.sdk.media import Histogram


def stub_of(h: Histogram, tmp_path: Path) -> dict:
    stub = h.to_stub(tmp_path, "h", 0)
    json.dumps(stub, allow_nan=False)  # history stubs must be strict JSON
    return stub


def test_counts_and_edges_equal_numpy(tmp_path: Path) -> None:
    data = np.random.default_rng(0).normal(size=1000)
    counts, edges = np.histogram(data, bins=64)
    stub = stub_of(Histogram(data), tmp_path)
    assert stub["_type"] == "histogram"
    assert stub["values"] == counts.tolist()
    np.testing.assert_allclose(stub["bins"], edges)
    assert len(stub["bins"]) == 65
    assert not (tmp_path / "files").exists()  # histograms write no file


def test_list_int_and_2d_inputs(tmp_path: Path) -> None:
    assert stub_of(Histogram([1, 2, 2, 3], num_bins=3), tmp_path)["values"] == [1, 2, 1]
    grid = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert stub_of(Histogram(grid, num_bins=4), tmp_path)["values"] == np.histogram(grid, bins=4)[0].tolist()
    assert stub_of(Histogram([True, False, True], num_bins=2), tmp_path)["values"] == [1, 2]


def test_bin_limits() -> None:
    assert len(Histogram([1.0, 2.0], num_bins=512).bins) == 513
    for bad in (0, 513, -1):
        with pytest.raises(ValueError, match="between 1 and 512"):
            Histogram([1.0], num_bins=bad)
    with pytest.raises(TypeError, match="num_bins"):
        Histogram([1.0], num_bins=2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="num_bins"):
        Histogram([1.0], num_bins=True)


def test_np_histogram(tmp_path: Path) -> None:
    counts, edges = np.histogram([1, 2, 3, 3], bins=3)
    stub = stub_of(Histogram(np_histogram=(counts, edges)), tmp_path)
    assert stub["values"] == counts.tolist()
    assert stub["bins"] == edges.tolist()
    density = np.histogram([1, 2, 3, 3], bins=3, density=True)
    assert stub_of(Histogram(np_histogram=density), tmp_path)["values"] == density[0].tolist()


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (([1, 2], [0, 1]), ValueError, r"len\(edges\) == len\(counts\) \+ 1.*2 counts and 2 edges"),
        (([1] * 513, list(range(514))), ValueError, "1..512 bins"),
        (([], [0]), ValueError, "1..512 bins"),
        (([1, 2], [0, 2, 1]), ValueError, "non-decreasing"),
        (([1, 2], [0, np.inf, 2]), ValueError, "finite"),
        (([1, -2], [0, 1, 2]), ValueError, "negative"),
        (([1, np.nan], [0, 1, 2]), ValueError, "finite"),
        (([1, 2],), TypeError, "pair"),
        ("ab", TypeError, "pair"),
        ((["a"], [0, 1]), TypeError, "np_histogram counts"),
    ],
)
def test_np_histogram_validation(value: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Histogram(np_histogram=value)  # type: ignore[arg-type]


def test_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Histogram()
    with pytest.raises(ValueError, match="exactly one"):
        Histogram([1], np_histogram=([1], [0, 1]))


@pytest.mark.parametrize("bad", [["a", "b"], [1 + 2j], [{"x": 1}], "text"])
def test_non_numeric_sequence(bad: object) -> None:
    with pytest.raises(TypeError, match="Histogram sequence"):
        Histogram(bad)


def test_non_finite_values_are_dropped(tmp_path: Path) -> None:
    data = [1.0, 2.0, 3.0, np.nan, np.inf, -np.inf]
    counts, edges = np.histogram([1.0, 2.0, 3.0], bins=8)
    stub = stub_of(Histogram(data, num_bins=8), tmp_path)
    assert stub["values"] == counts.tolist()
    assert stub["bins"] == edges.tolist()


@pytest.mark.parametrize("data", [[], [np.nan, np.inf], np.zeros((0, 3))])
def test_no_finite_values(tmp_path: Path, data: object) -> None:
    stub = stub_of(Histogram(data, num_bins=4), tmp_path)
    assert stub["values"] == [0, 0, 0, 0]
    assert stub["bins"] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_single_value_and_huge_range(tmp_path: Path) -> None:
    assert sum(stub_of(Histogram([5.0, 5.0]), tmp_path)["values"]) == 2
    stub = stub_of(Histogram([-1e308, 0.0, 1e308], num_bins=2), tmp_path)
    assert stub["values"] == [1, 2]
    assert all(math.isfinite(b) for b in stub["bins"])


def test_mutation_after_construction_is_ignored(tmp_path: Path) -> None:
    data = np.arange(10, dtype=np.float32)
    h = Histogram(data, num_bins=5)
    data[:] = 0
    assert stub_of(h, tmp_path)["values"] == [2, 2, 2, 2, 2]
    assert h.histogram == [2, 2, 2, 2, 2] and len(h.bins) == 6


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=200),
    st.integers(min_value=1, max_value=512),
)
@example([2.7402531131942493e303, -1.797665732331184e308], 1)  # numpy's own binning dropped one
def test_counts_sum_to_number_of_finite_values(values: list[float], bins: int) -> None:
    h = Histogram(values, num_bins=bins)
    assert sum(h.histogram) == sum(1 for v in values if math.isfinite(v))
    assert len(h.histogram) == bins and len(h.bins) == bins + 1
    assert all(math.isfinite(b) for b in h.bins)
    assert h.bins == sorted(h.bins)
