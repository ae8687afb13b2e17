"""Downsampling that keeps the min/max envelope, for many series at once.

The unit of work is an *atom*: a run of consecutive points summarised as (first step, last step,
min, max, last value, count) — exactly a row of a chunk sketch (``store/series.py``), or a
single raw point (first = last step, min = max = last = value, count 1). A series is a sequence
of atoms in step order; downsampling it to ``points`` means cutting its step range into
``points`` equal-width bins and merging the atoms of each bin: min of mins, max of maxes, the
last atom's value at its last step, the sum of counts. Every raw point therefore lies inside its
bin's [min, max] (NaN is ignored by min/max unless a whole bin is NaN), and each returned point
is a real logged point. Nothing is sampled at random.

Everything is vectorised over *all* series of a request together: one set of atom columns
(``store.series.Buckets``), one bin id per atom, one ``reduceat`` per statistic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wakelog.store.series import Buckets


@dataclass
class Binned:
    """The merged bins of every series, concatenated; ``bounds[i]:bounds[i+1]`` is series i."""

    steps: np.ndarray  # int64: the last step of each bin
    values: np.ndarray  # the value at that step
    mins: np.ndarray
    maxs: np.ndarray
    counts: np.ndarray  # raw points per bin
    bounds: np.ndarray  # int64, len = series + 1

    def series(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        a, b = self.bounds[index], self.bounds[index + 1]
        return self.steps[a:b], self.values[a:b], self.mins[a:b], self.maxs[a:b], self.counts[a:b]


def bin_atoms(
    atoms: Buckets, series: np.ndarray, lo: np.ndarray, hi: np.ndarray, points: int, n_series: int
) -> Binned:
    """Merge the atoms of each series into at most ``points`` equal-step-width bins.

    ``atoms`` are grouped by ``series`` (non-decreasing series indexes) and in step order
    within a series; ``lo``/``hi`` are each series' step range (the bin grid), by series index.
    """
    if len(atoms) == 0:
        empty = np.empty(0)
        return Binned(
            empty.astype(np.int64), empty, empty, empty, empty, np.zeros(n_series + 1, dtype=np.int64)
        )
    lo = np.asarray(lo, dtype=np.float64)
    span = np.maximum(np.asarray(hi, dtype=np.float64) - lo + 1.0, 1.0)
    width = span / points
    position = np.floor((atoms.last_steps - lo[series]) / width[series])
    bins = np.clip(position, 0, points - 1).astype(np.int64)
    group = series.astype(np.int64) * points + bins
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    ends = np.concatenate((starts[1:], [len(group)])) - 1
    mins = np.fmin.reduceat(atoms.mins, starts)
    maxs = np.fmax.reduceat(atoms.maxs, starts)
    counts = np.add.reduceat(atoms.counts, starts)
    owner = series[starts]
    bounds = np.searchsorted(owner, np.arange(n_series + 1), side="left").astype(np.int64)
    return Binned(atoms.last_steps[ends].astype(np.int64), atoms.lasts[ends], mins, maxs, counts, bounds)


def interpolate(steps: np.ndarray, knot_steps: np.ndarray, knot_values: np.ndarray) -> np.ndarray:
    """Values of another series at ``steps``: exact where it has a point, linear between its
    points, NaN outside its range."""
    if len(knot_steps) == 0 or len(steps) == 0:
        return np.full(len(steps), np.nan)
    return np.interp(
        steps.astype(np.float64), knot_steps.astype(np.float64), knot_values, left=np.nan, right=np.nan
    )
