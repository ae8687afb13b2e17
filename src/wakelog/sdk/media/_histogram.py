"""Histograms: counts and bin edges, stored inline in history (no file)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import Media
from ._convert import to_numpy

if TYPE_CHECKING:
    import numpy as np

MAX_BINS = 512
DEFAULT_BINS = 64


def _numeric_1d(value: Any, what: str) -> np.ndarray:
    """Flatten ``value`` into a 1-D numeric array, refusing strings, objects and complex numbers."""
    try:
        arr = to_numpy(value)
    except Exception as exc:
        raise TypeError(f"Histogram {what} must be numeric (sequence, array or tensor): {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Histogram {what} must hold bool, integer or float values; got {type(value).__name__} "
            f"with dtype {arr.dtype}"
        )
    return arr.reshape(-1)


def _bin(finite: np.ndarray, num_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.histogram`` with equal-width bins, made total for ranges numpy refuses.

    numpy raises when the range overflows float64 (``-1e308..1e308``) or is too
    narrow to hold ``num_bins`` distinct float edges (one huge value, many
    bins), and loses values when the range is just under float64's max. Then
    the edges are widened just enough and built at half scale.
    """
    import numpy as np

    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        with np.errstate(over="ignore"):
            span = hi - lo
        if np.isfinite(span):
            try:
                # Near float64's max, linspace may overshoot inside numpy; numpy pins the last edge.
                with np.errstate(over="ignore", invalid="ignore"):
                    counts, edges = np.histogram(finite, bins=num_bins)
                # A span just under float64's max can overflow numpy's bin arithmetic and drop
                # values silently: then the explicit half-scale edges below (searched, not computed).
                if counts.sum() == finite.size:
                    return counts, edges
            except (ValueError, IndexError):  # numpy's arithmetic overflowed (an index out of range)
                pass
        mid = lo / 2 + hi / 2
        with np.errstate(over="ignore"):
            half = max(hi / 2 - lo / 2, 0.5, 4.0 * num_bins * float(np.spacing(abs(mid))))
        top = float(np.finfo(np.float64).max)
        low, high = max(-top, mid - half), min(top, mid + half)
        with np.errstate(over="ignore"):
            edges = np.linspace(low / 2, high / 2, num_bins + 1) * 2
        # Rounding at this scale can leave the extremes just outside: the ends are the data's own.
        edges[0], edges[-1] = min(edges[0], lo), max(edges[-1], hi)
        return np.histogram(finite, bins=edges)
    return np.histogram(finite, bins=num_bins)


def _check_num_bins(num_bins: Any) -> int:
    import numpy as np

    if isinstance(num_bins, bool) or not isinstance(num_bins, int | np.integer):
        raise TypeError(f"Histogram num_bins must be an int; got {type(num_bins).__name__}")
    if not 1 <= int(num_bins) <= MAX_BINS:
        raise ValueError(f"Histogram num_bins must be between 1 and {MAX_BINS}; got {num_bins}")
    return int(num_bins)


def _precomputed(np_histogram: Any) -> tuple[list[Any], list[float]]:
    """Check a ``(counts, edges)`` pair like ``np.histogram``'s; return both as lists."""
    import numpy as np

    if not isinstance(np_histogram, tuple | list) or len(np_histogram) != 2:
        raise TypeError("Histogram np_histogram must be a (counts, edges) pair like np.histogram's")
    counts = _numeric_1d(np_histogram[0], "np_histogram counts")
    edges = _numeric_1d(np_histogram[1], "np_histogram edges").astype(np.float64)
    if len(edges) != len(counts) + 1:
        raise ValueError(
            f"Histogram np_histogram needs len(edges) == len(counts) + 1; "
            f"got {len(counts)} counts and {len(edges)} edges"
        )
    if len(counts) == 0 or len(counts) > MAX_BINS:
        raise ValueError(f"Histogram np_histogram must have 1..{MAX_BINS} bins; got {len(counts)}")
    if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) < 0):
        raise ValueError("Histogram np_histogram edges must be finite and non-decreasing")
    if counts.dtype.kind == "f" and not np.all(np.isfinite(counts)):
        raise ValueError("Histogram np_histogram counts must be finite")
    if np.any(counts < 0):
        raise ValueError("Histogram np_histogram counts must not be negative")
    if counts.dtype.kind == "b":
        counts = counts.astype(np.int64)
    return counts.tolist(), edges.tolist()


def _snapshot(sequence: Any) -> np.ndarray:
    """A private copy of the values to bin, in a dtype that bins fast."""
    import numpy as np

    values = _numeric_1d(sequence, "sequence")
    if values.dtype.kind == "b":
        values = values.astype(np.uint8)
    elif values.dtype.kind == "f" and values.dtype.itemsize < 4:
        values = values.astype(np.float32)  # float16 arithmetic is slow and lossy
    return np.array(values, copy=True)


class Histogram(Media):
    """A histogram of values, or a precomputed ``(counts, edges)`` pair.

    Args:
        sequence: values to bin (list, numpy array, tensor; any shape, flattened).
        np_histogram: ``(counts, edges)`` as returned by ``np.histogram``.
        num_bins: number of bins for ``sequence`` (1..512, default 64).

    Non-finite values (NaN, +inf, -inf) are dropped before binning, because one
    inf would otherwise stretch the range until every finite value shares a bin.
    With no finite values the result is ``num_bins`` zero counts over ``[0, 1]``
    (numpy's convention). Binning uses float64 and runs in ``to_stub``; the
    constructor only copies the values.
    """

    def __init__(
        self,
        sequence: Any = None,
        np_histogram: tuple[Any, Any] | None = None,
        num_bins: int = DEFAULT_BINS,
    ) -> None:
        self._num_bins = _check_num_bins(num_bins)
        if (sequence is None) == (np_histogram is None):
            raise ValueError("Histogram needs exactly one of sequence= or np_histogram=")
        self._values: np.ndarray | None = None
        self._result: tuple[list[Any], list[float]] | None = None
        self._lock = threading.Lock()
        if np_histogram is not None:
            self._result = _precomputed(np_histogram)
        else:
            self._values = _snapshot(sequence)  # binning waits for to_stub

    def _compute(self) -> tuple[list[Any], list[float]]:
        with self._lock:
            if self._result is None:
                import numpy as np

                assert self._values is not None
                values = self._values.astype(np.float64)
                finite = values[np.isfinite(values)]
                counts, edges = _bin(finite, self._num_bins)
                self._result = (counts.tolist(), edges.tolist())
                self._values = None
            return self._result

    @property
    def histogram(self) -> list[Any]:
        """Counts per bin (computed on first access)."""
        return list(self._compute()[0])

    @property
    def bins(self) -> list[float]:
        """Bin edges, one more than the counts (computed on first access)."""
        return list(self._compute()[1])

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        counts, edges = self._compute()
        return {"_type": "histogram", "values": list(counts), "bins": list(edges)}

    def __repr__(self) -> str:
        state = "computed" if self._result is not None else "pending"
        return f"Histogram(num_bins={self._num_bins}, {state})"
