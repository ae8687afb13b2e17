"""Reading metric series: downsampled histories for many runs × keys, and full-resolution rows.

Coarse reads — a 1,000-point chart of a 100k-step series — use only the chunk *sketches*
(64 buckets of min/max/last per chunk, see ``store/series.py``) and never decompress a chunk's
``data``. A read decodes chunks only where it must: chunks that stick out of a zoomed step range
(to cut them exactly), and series whose requested range holds so few points that the sketches are
coarser than the requested resolution (then the raw points are binned, or returned as they are
when there are no more of them than points asked for).

All series of a request come from one SQL query over ``series_chunks`` (plus one for the chunks
that need decoding, and one to map an x range to steps when zooming on ``_runtime`` & co).
"""

from __future__ import annotations

import dataclasses
import json
import math
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from wakelog.server.errors import InvalidRequest
from wakelog.server.query.downsample import bin_atoms, interpolate
from wakelog.store import series as codec
from wakelog.store.chunks import select_rows
from wakelog.store.database import binary_results
from wakelog.store.driver import driver_rows
from wakelog.store.schema import STREAM_HISTORY, STREAM_SYSTEM, history_objects, series_chunks

STREAMS = {
    "history": STREAM_HISTORY,
    "default": STREAM_HISTORY,
    "system": STREAM_SYSTEM,
    "events": STREAM_SYSTEM,
}
SPECIAL_X = ("_step", "_runtime", "_timestamp")
MAX_POINTS = 10_000
#: The most keys a request may name in repeated ``keys=``/``key=`` parameters (exports, rows,
#: media): far under both backends' bind-parameter limits (SQLite 32,766, PostgreSQL 65,535).
MAX_KEY_PARAMS = 1_000
#: Chunks fetched by their primary key per statement (up to four parameters each: under every limit).
DECODE_BATCH = 200
INT64 = 2**63 - 1


class HistoryError(InvalidRequest, ValueError):
    """A history request that cannot be answered as asked (400 ``invalid_request``)."""


@dataclass(frozen=True)
class RunRef:
    pk: int
    run_id: str
    created_at: float


@dataclass
class Series:
    run_id: str
    key: str
    downsampled: bool
    steps: np.ndarray  # int64
    values: np.ndarray
    mins: np.ndarray
    maxs: np.ndarray
    count: int  # raw points in the range
    x: np.ndarray | None = None


@dataclass(slots=True)
class _Chunk:
    chunk: int
    first_step: int
    last_step: int
    count: int
    sketch: bytes  # its sketch, or its data if it has at most codec.RAW_MAX points (``_SKETCH``)
    points: codec.Chunk | None = None  # decoded, cut to the range


@dataclass
class _Plan:
    index: int
    ref: RunRef
    key: str
    chunks: list[_Chunk]
    lo: int | None
    hi: int | None
    mode: str = "raw"  # raw | sketch | fine
    decode: list[_Chunk] = field(default_factory=list)


#: What a coarse read takes of a chunk's row: its sketch, or the data of a chunk of at most
#: ``codec.RAW_MAX`` points, which has no sketch and whose points are its buckets (``codec.read_sketches``;
#: rows stored before 2026-12-07 have one, the same buckets).
_SKETCH = sa.case(
    (series_chunks.c.count <= codec.RAW_MAX, series_chunks.c.data), else_=series_chunks.c.sketch
).label("sketch")


#: A sketch read's rows in (run, key, chunk) order, as ``_in_chunk_order`` sorts them.
_CHUNK_ORDER = operator.itemgetter(0, 1, 2)


def _in_chunk_order(conn: sa.Connection, query: sa.Select[Any]) -> Sequence[Any]:
    """The rows of a sketch read (``query`` selects run, key and chunk first) in chunk order, as the
    driver's tuples. SQLite sorts them by walking its primary key's index (without the ``ORDER BY``
    it may scan the whole table instead); PostgreSQL would sort them sketches and all (a chart of
    100 runs logged live: 16,000 rows, 10 MB, a sort spilled to disk, 50 of the statement's 75 ms),
    so they are sorted here, in a pass or two (they come in index order, or table order, near it)."""
    c = series_chunks.c
    if conn.dialect.name == "sqlite":
        return driver_rows(conn, binary_results(query.order_by(c.run_pk, c.key, c.chunk)))
    return sorted(driver_rows(conn, binary_results(query)), key=_CHUNK_ORDER)


def prepare_read(conn: sa.Connection) -> None:
    """Memory-map SQLite reads: walking a chunk row past its ``data`` blob to its sketch is then
    a pointer walk instead of a page copy per overflow page (2-3× faster coarse reads)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA mmap_size=2147483648")


def _inside(chunk: _Chunk, lo: int | None, hi: int | None) -> bool:
    return (lo is None or chunk.first_step >= lo) and (hi is None or chunk.last_step <= hi)


def _sketches(chunks: list[_Chunk]) -> codec.Buckets:
    """The buckets of the sketches of ``chunks``, concatenated (one pass for them all)."""
    return codec.read_sketches(
        [ch.sketch for ch in chunks],
        [ch.first_step for ch in chunks],
        [ch.last_step for ch in chunks],
        [ch.count for ch in chunks],
    )


def _cut(points: codec.Chunk, lo: int | None, hi: int | None) -> codec.Chunk:
    steps = points.steps
    a = 0 if lo is None else int(np.searchsorted(steps, lo, "left"))
    b = len(steps) if hi is None else int(np.searchsorted(steps, hi, "right"))
    return codec.Chunk(steps[a:b], points.values[a:b])


def _estimate(chunk: _Chunk, lo: int | None, hi: int | None) -> int:
    """Points of a partly covered chunk inside [lo, hi], from its sketch buckets."""
    buckets = _sketches([chunk])
    keep = np.ones(len(buckets), dtype=bool)
    if lo is not None:
        keep &= buckets.last_steps >= lo
    if hi is not None:
        keep &= buckets.first_steps <= hi
    return int(buckets.counts[keep].sum())


def _decode_into(
    conn: sa.Connection, targets: list[tuple[int, str, _Chunk, int | None, int | None]], stream: int
) -> None:
    """Fetch and decode the ``data`` of the given chunks, each cut to its own range, in batches."""
    c = series_chunks.c
    wanted: dict[tuple[int, str, int], list[tuple[_Chunk, int | None, int | None]]] = {}
    for pk, key, chunk, lo, hi in targets:
        if chunk.points is None:
            wanted.setdefault((pk, key, chunk.chunk), []).append((chunk, lo, hi))
    items = list(wanted)
    for start in range(0, len(items), DECODE_BATCH):
        batch = items[start : start + DECODE_BATCH]
        rows = conn.execute(
            *select_rows(
                conn.dialect.name,
                (c.run_pk, c.key, c.chunk, c.data),
                [(c.stream, stream)],
                (c.run_pk, c.key, c.chunk),
                batch,
                binary=True,
            )
        )
        for row in rows:
            decoded = codec.decode(row.data)
            for chunk, lo, hi in wanted[(row.run_pk, row.key, row.chunk)]:
                chunk.points = _cut(decoded, lo, hi)


def _x_ranges_from_sketches(
    conn: sa.Connection,
    refs: list[RunRef],
    x_key: str,
    x_min: float | None,
    x_max: float | None,
    base: tuple[int | None, int | None],
) -> dict[int, tuple[int | None, int | None]]:
    """Each run's step range where ``x_key`` lies in [x_min, x_max] (bucket-exact, a superset)."""
    c = series_chunks.c
    chunks: dict[int, list[_Chunk]] = {}
    query = sa.select(c.run_pk, c.key, c.chunk, c.first_step, c.last_step, c.count, _SKETCH).where(
        c.run_pk.in_([r.pk for r in refs]), c.stream == STREAM_HISTORY, c.key == x_key
    )
    for run_pk, _, *chunk in _in_chunk_order(conn, query):
        chunks.setdefault(run_pk, []).append(_Chunk(*chunk))
    ranges: dict[int, tuple[int | None, int | None]] = {}
    for ref in refs:
        if ref.pk not in chunks:
            ranges[ref.pk] = (1, 0)  # empty
            continue
        buckets = _sketches(chunks[ref.pk])
        keep = np.ones(len(buckets), dtype=bool)
        if x_min is not None:
            keep &= np.nan_to_num(buckets.maxs, nan=-np.inf) >= x_min
        if x_max is not None:
            keep &= np.nan_to_num(buckets.mins, nan=np.inf) <= x_max
        if not keep.any():
            ranges[ref.pk] = (1, 0)
            continue
        hit = np.flatnonzero(keep)
        lo, hi = int(buckets.first_steps[hit[0]]), int(buckets.last_steps[hit[-1]])
        ranges[ref.pk] = (_max_opt(lo, base[0]), _min_opt(hi, base[1]))
    return ranges


def _clamp(step: int | None) -> int | None:
    """A step bound inside SQL's BIGINT (x ranges can map to any number)."""
    return None if step is None else max(-INT64, min(INT64, step))


def _max_opt(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _min_opt(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass(frozen=True)
class _Request:
    """What ``read_history`` was asked for."""

    keys: list[str]
    points: int
    x_axis: str
    stream: int
    min_step: int | None
    max_step: int | None
    x_min: float | None
    x_max: float | None

    @property
    def x_key(self) -> str | None:
        """The metric whose values are the x axis (None for _step and system metrics)."""
        return self.x_axis if self.stream == STREAM_HISTORY and self.x_axis != "_step" else None

    @property
    def zoom_x(self) -> bool:
        """Zoomed in on an x axis that is not the step."""
        return self.x_axis != "_step" and (self.x_min is not None or self.x_max is not None)


StepRanges = dict[int, tuple[int | None, int | None]]


def read_history(
    conn: sa.Connection,
    refs: list[RunRef],
    keys: list[str],
    *,
    points: int = 1000,
    x_axis: str = "_step",
    stream: int = STREAM_HISTORY,
    min_step: int | None = None,
    max_step: int | None = None,
    x_min: float | None = None,
    x_max: float | None = None,
) -> list[Series]:
    """Every (run, key) series downsampled to at most ``points`` points with its min/max envelope.

    In stages: each run's step range (from steps, or from an x range through the x key's
    sketches), the chunks that overlap it, a plan per series (raw points, stored sketches, or
    points binned finely), decoding what the plans need, binning, and the series with their x.
    ``refs`` and ``keys`` go into ``IN`` lists whole: the route caps them (1,000 runs, 200 keys).
    """
    request = _Request(keys, points, x_axis, stream, min_step, max_step, x_min, x_max)
    _check_request(request)
    if not refs or not keys:
        return []
    prepare_read(conn)
    ranges = _step_ranges(conn, refs, request)
    live = [ref for ref in refs if not _is_empty(ranges[ref.pk])]
    groups = _overlapping_chunks(conn, live, ranges, request)
    plans, grids, raw_runs = _plan_series(refs, ranges, groups, request)
    x_chunks = _decode_planned(conn, plans, raw_runs, live, groups, request)
    binned, binned_at = _bin_downsampled(plans, grids, points)
    return [_series(plan, binned, binned_at, x_chunks, request) for plan in plans]


def _check_request(request: _Request) -> None:
    if not 1 <= request.points <= MAX_POINTS:
        raise HistoryError(f"points must be between 1 and {MAX_POINTS}")
    if request.stream == STREAM_SYSTEM and request.x_axis not in SPECIAL_X:
        raise HistoryError("system metrics can be plotted against _step, _runtime or _timestamp only")
    if any(x is not None and not math.isfinite(x) for x in (request.x_min, request.x_max)):
        raise HistoryError("x_min and x_max must be finite numbers")


def _is_empty(step_range: tuple[int | None, int | None]) -> bool:
    lo, hi = step_range
    return lo is not None and hi is not None and lo > hi


def _step_ranges(conn: sa.Connection, refs: list[RunRef], request: _Request) -> StepRanges:
    """Each run's step range to read: the step bounds, narrowed by an x range if zoomed."""
    x_min, x_max = request.x_min, request.x_max
    base = (request.min_step, request.max_step)
    if request.x_axis == "_step":
        base = (
            _max_opt(request.min_step, None if x_min is None else math.ceil(x_min)),
            _min_opt(request.max_step, None if x_max is None else math.floor(x_max)),
        )
    ranges: StepRanges = {ref.pk: base for ref in refs}
    if request.zoom_x and request.stream == STREAM_SYSTEM:
        for ref in refs:
            offset = ref.created_at if request.x_axis == "_timestamp" else 0.0
            lo = None if x_min is None else math.ceil((x_min - offset) * 1000)
            hi = None if x_max is None else math.floor((x_max - offset) * 1000)
            ranges[ref.pk] = (_max_opt(lo, base[0]), _min_opt(hi, base[1]))
    elif request.zoom_x:
        assert request.x_key is not None
        ranges = _x_ranges_from_sketches(conn, refs, request.x_key, x_min, x_max, base)
    return {pk: (_clamp(lo), _clamp(hi)) for pk, (lo, hi) in ranges.items()}


def _overlapping_chunks(
    conn: sa.Connection, live: list[RunRef], ranges: StepRanges, request: _Request
) -> dict[tuple[int, str], list[_Chunk]]:
    """The chunks (without their data) of the requested keys and the x key that overlap the
    union of the runs' ranges, by (run, key)."""
    groups: dict[tuple[int, str], list[_Chunk]] = {}
    if not live:
        return groups
    all_lo = [ranges[r.pk][0] for r in live]
    all_hi = [ranges[r.pk][1] for r in live]
    union_lo = None if None in all_lo else min(all_lo)  # type: ignore[type-var]
    union_hi = None if None in all_hi else max(all_hi)  # type: ignore[type-var]
    x_key = request.x_key
    fetch_keys = sorted(set(request.keys) | ({x_key} if x_key else set()))
    c = series_chunks.c
    query = sa.select(c.run_pk, c.key, c.chunk, c.first_step, c.last_step, c.count, _SKETCH).where(
        c.run_pk.in_([r.pk for r in live]), c.stream == request.stream, c.key.in_(fetch_keys)
    )
    if union_lo is not None:
        query = query.where(c.last_step >= union_lo)
    if union_hi is not None:
        query = query.where(c.first_step <= union_hi)
    rows = _in_chunk_order(conn, query)  # 10,000-16,000 for 100 runs
    for run_pk, key, chunk, first_step, last_step, count, sketch in rows:
        groups.setdefault((run_pk, key), []).append(_Chunk(chunk, first_step, last_step, count, sketch))
    return groups


def _plan_series(
    refs: list[RunRef],
    ranges: StepRanges,
    groups: dict[tuple[int, str], list[_Chunk]],
    request: _Request,
) -> tuple[list[_Plan], dict[int, tuple[int, int]], set[int]]:
    """A plan for every (run, key) series; each run's bin grid (the requested range, narrowed to
    where the run has points); the runs with a series that comes back as raw points."""
    plans: list[_Plan] = []
    grids: dict[int, tuple[int, int]] = {}
    raw_runs: set[int] = set()
    for ref in refs:
        lo, hi = ranges[ref.pk]
        empty_range = _is_empty((lo, hi))
        run_plans = []
        for key in request.keys:
            chunks = [] if empty_range else groups.get((ref.pk, key), [])
            chunks = [
                ch
                for ch in chunks
                if (lo is None or ch.last_step >= lo) and (hi is None or ch.first_step <= hi)
            ]
            plan = _Plan(len(plans), ref, key, chunks, lo, hi)
            plans.append(plan)
            if chunks:
                _choose_mode(plan, request.points)
                run_plans.append(plan)
        if any(plan.mode != "sketch" for plan in run_plans):
            raw_runs.add(ref.pk)
        if run_plans:
            first = min(plan.chunks[0].first_step for plan in run_plans)
            last = max(plan.chunks[-1].last_step for plan in run_plans)
            grids[ref.pk] = (first if lo is None else max(lo, first), last if hi is None else min(hi, last))
    return plans, grids, raw_runs


def _choose_mode(plan: _Plan, points: int) -> None:
    """Raw points if they fit, else the stored sketches if they are fine enough, else points
    binned here; and which chunks that needs decoded."""
    lo, hi = plan.lo, plan.hi
    if lo is None and hi is None:  # the whole series (the usual chart): every chunk inside
        inner, partial = plan.chunks, []
    else:
        inner = [ch for ch in plan.chunks if _inside(ch, lo, hi)]
        partial = [ch for ch in plan.chunks if not _inside(ch, lo, hi)]
    counts = [ch.count for ch in inner]
    estimate = sum(counts) + sum(_estimate(ch, lo, hi) for ch in partial)
    inner_buckets = sum(map(codec.sketch_buckets, counts))
    if estimate <= points:
        plan.mode, plan.decode = "raw", plan.chunks
    elif inner_buckets >= points:
        plan.mode, plan.decode = "sketch", partial
    else:
        plan.mode, plan.decode = "fine", plan.chunks


def _decode_planned(
    conn: sa.Connection,
    plans: list[_Plan],
    raw_runs: set[int],
    live: list[RunRef],
    groups: dict[tuple[int, str], list[_Chunk]],
    request: _Request,
) -> dict[int, list[_Chunk]]:
    """Decode the chunks the plans need, and the x series of a run when one of its series comes
    back as raw points; the x chunks by run."""
    x_chunks: dict[int, list[_Chunk]] = {}
    x_key = request.x_key
    if x_key:
        for ref in live:
            # Copies: a requested key can be the x key too, cut to the range where the x is not.
            x_chunks[ref.pk] = [
                dataclasses.replace(ch, points=None) for ch in groups.get((ref.pk, x_key), [])
            ]
    to_decode = [(p.ref.pk, p.key, ch, p.lo, p.hi) for p in plans for ch in p.decode]
    for pk in raw_runs:
        to_decode += [(pk, x_key, ch, None, None) for ch in x_chunks.get(pk, [])]  # type: ignore[misc]
    if to_decode:
        _decode_into(conn, to_decode, request.stream)
    for plan in plans:  # the estimate from sketches is an upper bound: maybe all points fit
        if plan.mode == "fine" and sum(len(ch.points or ()) for ch in plan.chunks) <= request.points:
            plan.mode = "raw"
    return x_chunks


def _bin_downsampled(
    plans: list[_Plan], grids: dict[int, tuple[int, int]], points: int
) -> tuple[Any, dict[int, int]]:
    """Bin every downsampled series together; (the bins, each plan's index among them)."""
    binned_plans = [p for p in plans if p.chunks and p.mode != "raw"]
    binned_at = {p.index: i for i, p in enumerate(binned_plans)}
    if not binned_plans:
        return None, binned_at
    # A chart of 100 runs bins 10,000-16,000 sketches: they are read in one pass (an array per sketch
    # costs more than the binning), and the points of the few decoded chunks fill the rows between.
    # A series read from its sketches alone (the usual chart's) is taken whole, not chunk by chunk.
    sketched: list[_Chunk] = []
    decoded: list[codec.Buckets] = []
    sizes: list[int] = []  # points per piece: a sketched chunk's, a decoded one's
    from_sketch: list[bool] = []
    pieces: list[int] = []  # per series
    for plan in binned_plans:
        if plan.mode == "sketch" and not plan.decode:  # none of its chunks decoded
            sketched += plan.chunks
            sizes += [ch.count for ch in plan.chunks]
            from_sketch += [True] * len(plan.chunks)
        else:
            for ch in plan.chunks:
                use_sketch = plan.mode == "sketch" and ch.points is None
                if use_sketch:
                    sketched.append(ch)
                    sizes.append(ch.count)
                else:
                    assert ch.points is not None
                    decoded.append(codec.Buckets.of_points(ch.points.steps, ch.points.values))
                    sizes.append(len(ch.points))
                from_sketch.append(use_sketch)
        pieces.append(len(plan.chunks))
    mask = np.array(from_sketch, dtype=bool)
    size = np.array(sizes, dtype=np.int64)
    lengths = np.where(mask, np.minimum(size, codec.SKETCH_BUCKETS), size)  # atoms per piece
    atoms = _atoms(sketched, decoded, mask, lengths)
    owners = np.repeat(np.arange(len(binned_plans), dtype=np.int64), pieces)
    series_index = np.repeat(owners, lengths)
    lo_grid = np.array([grids[p.ref.pk][0] for p in binned_plans], dtype=np.float64)
    hi_grid = np.array([grids[p.ref.pk][1] for p in binned_plans], dtype=np.float64)
    return bin_atoms(atoms, series_index, lo_grid, hi_grid, points, len(binned_plans)), binned_at


def _atoms(
    sketched: list[_Chunk], decoded: list[codec.Buckets], from_sketch: np.ndarray, lengths: np.ndarray
) -> codec.Buckets:
    """The atoms of the pieces in order (``lengths`` atoms each): the buckets of ``sketched`` where
    ``from_sketch``, the ``decoded`` points elsewhere."""
    sketches = _sketches(sketched)
    if not decoded:  # a chart of whole sketches: no mask to build
        return sketches
    mask = np.repeat(from_sketch, lengths)
    return codec.Buckets.interleave(mask, sketches, codec.Buckets.concat(decoded))


def _series(
    plan: _Plan, binned: Any, binned_at: dict[int, int], x_chunks: dict[int, list[_Chunk]], request: _Request
) -> Series:
    """A plan's answer: empty, its raw points, or its bins; with its x values unless x is the step."""
    ref = plan.ref
    if not plan.chunks:
        empty = np.empty(0)
        result = Series(ref.run_id, plan.key, False, empty.astype(np.int64), empty, empty, empty, 0)
    elif plan.mode == "raw":
        parts = [ch.points for ch in plan.chunks if ch.points is not None]
        steps = np.concatenate([p.steps for p in parts]) if parts else np.empty(0, dtype=np.int64)
        values = np.concatenate([p.values for p in parts]) if parts else np.empty(0)
        result = Series(ref.run_id, plan.key, False, steps, values, values, values, len(steps))
    else:
        steps, values, mins, maxs, counts = binned.series(binned_at[plan.index])
        result = Series(ref.run_id, plan.key, True, steps, values, mins, maxs, int(counts.sum()))
    if request.x_axis == "_step":
        return result
    result.x = _x_values(result.steps, ref, request.x_axis, request.stream, x_chunks.get(ref.pk, []))
    if request.zoom_x and not result.downsampled and len(result.steps):
        keep = np.ones(len(result.x), dtype=bool)
        if request.x_min is not None:
            keep &= result.x >= request.x_min
        if request.x_max is not None:
            keep &= result.x <= request.x_max
        if not keep.all():
            result = _filtered(result, keep)
    return result


def _filtered(series: Series, keep: np.ndarray) -> Series:
    return Series(
        series.run_id,
        series.key,
        series.downsampled,
        series.steps[keep],
        series.values[keep],
        series.mins[keep],
        series.maxs[keep],
        int(keep.sum()),
        None if series.x is None else series.x[keep],
    )


def _x_values(steps: np.ndarray, ref: RunRef, x_axis: str, stream: int, x_chunks: list[_Chunk]) -> np.ndarray:
    if stream == STREAM_SYSTEM:
        seconds = steps.astype(np.float64) / 1000.0
        return seconds + ref.created_at if x_axis == "_timestamp" else seconds
    if not x_chunks or not len(steps):
        return np.full(len(steps), np.nan)
    if all(ch.points is not None for ch in x_chunks):
        knot_steps = np.concatenate([ch.points.steps for ch in x_chunks])  # type: ignore[union-attr]
        knot_values = np.concatenate([ch.points.values for ch in x_chunks])  # type: ignore[union-attr]
    else:
        buckets = _sketches(x_chunks)
        knot_steps, knot_values = buckets.last_steps, buckets.lasts
    return interpolate(steps, knot_steps, knot_values)


# -- full resolution ---------------------------------------------------------------------------
@dataclass
class Window:
    """Consecutive rows of a run's history: the union of the steps of every key in the window."""

    steps: np.ndarray  # int64, increasing
    numeric: dict[str, tuple[np.ndarray, np.ndarray]]  # key -> (row indexes, values)
    objects: dict[str, dict[int, Any]]  # key -> {row index: value}


def run_keys(conn: sa.Connection, run_pk: int, stream: int) -> tuple[list[str], list[str]]:
    """The run's numeric keys and (for the history stream) its non-numeric keys, sorted."""
    c = series_chunks.c
    numeric = conn.execute(
        sa.select(c.key).where(c.run_pk == run_pk, c.stream == stream).distinct().order_by(c.key)
    ).scalars()
    numeric_keys = list(numeric)
    object_keys: list[str] = []
    if stream == STREAM_HISTORY:
        o = history_objects.c
        object_keys = list(
            conn.execute(sa.select(o.key).where(o.run_pk == run_pk).distinct().order_by(o.key)).scalars()
        )
    return numeric_keys, object_keys


def iter_windows(
    conn: sa.Connection,
    run_pk: int,
    stream: int,
    keys: list[str] | None,
    min_step: int | None = None,
    max_step: int | None = None,
) -> Iterator[Window]:
    """The run's rows for ``keys`` (``None``: every key, with no list in the SQL: a run may have
    more keys than a statement takes parameters; callers cap a given list at ``MAX_KEY_PARAMS``)
    from ``min_step`` to ``max_step``, a window of chunks at a time.

    Each chunk is decoded once; memory holds only the chunks that overlap the current window.
    """
    prepare_read(conn)
    metas = _chunk_metas(conn, run_pk, stream, keys, min_step, max_step)
    by_end = sorted(metas, key=lambda m: (m[3], m[0]))
    by_start = sorted(metas, key=lambda m: (m[2], m[0]))
    buffers: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    done_end = 0
    next_start = 0
    previous = None if min_step is None else min_step - 1
    with_objects = stream == STREAM_HISTORY
    while done_end < len(by_end):
        end = by_end[done_end][3]
        if max_step is not None:
            end = min(end, max_step)
        needed = []
        while next_start < len(by_start) and by_start[next_start][2] <= end:
            needed.append(by_start[next_start])
            next_start += 1
        _load_chunks(
            conn, buffers, run_pk, stream, [(key, chunk) for key, chunk, _, _ in needed], min_step, max_step
        )
        window = _take(buffers, end)
        objects = _objects(conn, run_pk, keys, previous, end) if with_objects else []
        yield _assemble(window, objects)
        previous = end
        while done_end < len(by_end) and by_end[done_end][3] <= end:
            done_end += 1
        if max_step is not None and end >= max_step:
            return
    if with_objects and (max_step is None or previous is None or previous < max_step):
        objects = _objects(conn, run_pk, keys, previous, max_step)
        if objects:
            yield _assemble({}, objects)


def _chunk_metas(
    conn: sa.Connection,
    run_pk: int,
    stream: int,
    keys: list[str] | None,
    min_step: int | None,
    max_step: int | None,
) -> list[tuple[str, int, int, int]]:
    """(key, chunk, first step, last step) of the chunks of ``keys`` (None: all) in the step range."""
    c = series_chunks.c
    query = sa.select(c.key, c.chunk, c.first_step, c.last_step).where(c.run_pk == run_pk, c.stream == stream)
    if keys is not None:
        query = query.where(c.key.in_(keys))
    if min_step is not None:
        query = query.where(c.last_step >= min_step)
    if max_step is not None:
        query = query.where(c.first_step <= max_step)
    return [(row.key, row.chunk, row.first_step, row.last_step) for row in conn.execute(query)]


def _load_chunks(
    conn: sa.Connection,
    buffers: dict[str, tuple[np.ndarray, np.ndarray]],
    run_pk: int,
    stream: int,
    needed: list[tuple[str, int]],
    min_step: int | None,
    max_step: int | None,
) -> None:
    """Decode the ``needed`` (key, chunk)s, cut to the step range, onto the keys' buffers."""
    c = series_chunks.c
    fixed = [(c.run_pk, run_pk), (c.stream, stream)]
    for start in range(0, len(needed), DECODE_BATCH):
        batch = needed[start : start + DECODE_BATCH]
        rows = conn.execute(
            *select_rows(
                conn.dialect.name,
                (c.key, c.chunk, c.data),
                fixed,
                (c.key, c.chunk),
                batch,
                ordered=True,
                binary=True,
            )
        )
        for row in rows:
            points = _cut(codec.decode(row.data), min_step, max_step)
            old = buffers.get(row.key)
            if old is None:
                buffers[row.key] = (points.steps, points.values)
            else:
                buffers[row.key] = (
                    np.concatenate([old[0], points.steps]),
                    np.concatenate([old[1], points.values]),
                )


def _take(
    buffers: dict[str, tuple[np.ndarray, np.ndarray]], end: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    taken = {}
    for key in list(buffers):
        steps, values = buffers[key]
        cut = int(np.searchsorted(steps, end, "right"))
        if cut:
            taken[key] = (steps[:cut], values[:cut])
        if cut == len(steps):
            del buffers[key]
        else:
            buffers[key] = (steps[cut:], values[cut:])
    return taken


def _objects(
    conn: sa.Connection, run_pk: int, keys: list[str] | None, after: int | None, upto: int | None
) -> list[tuple[str, int, Any]]:
    o = history_objects.c
    query = sa.select(o.key, o.step, o.value).where(o.run_pk == run_pk)
    if keys is not None:
        query = query.where(o.key.in_(keys))
    if after is not None:
        query = query.where(o.step > after)
    if upto is not None:
        query = query.where(o.step <= upto)
    return [(row.key, row.step, row.value) for row in conn.execute(query.order_by(o.step))]


def _assemble(
    numeric: dict[str, tuple[np.ndarray, np.ndarray]], objects: list[tuple[str, int, Any]]
) -> Window:
    arrays = [steps for steps, _ in numeric.values()]
    if objects:
        arrays.append(np.array([step for _, step, _ in objects], dtype=np.int64))
    steps = np.unique(np.concatenate(arrays)) if arrays else np.empty(0, dtype=np.int64)
    window = Window(steps, {}, {})
    for key, (key_steps, values) in numeric.items():
        window.numeric[key] = (np.searchsorted(steps, key_steps), values)
    if objects:
        positions = np.searchsorted(
            steps, np.array([step for _, step, _ in objects], dtype=np.int64)
        ).tolist()
        for (key, _, value), index in zip(objects, positions, strict=True):
            window.objects.setdefault(key, {})[index] = value
    return window


def window_rows(
    window: Window, keys: list[str], *, require_all: bool = False, step_key: str = "_step"
) -> list[dict[str, Any]]:
    """A window as row dicts ``{"_step": s, key: value, …}`` holding the keys present at each step."""
    rows: list[dict[str, Any]] = [{step_key: s} for s in window.steps.tolist()]
    present = np.zeros(len(rows), dtype=np.int64)
    for key in keys:
        if key in window.numeric:
            indexes, values = window.numeric[key]
            for index, value in zip(indexes.tolist(), values.tolist(), strict=True):
                rows[index][key] = value
            np.add.at(present, indexes, 1)
        if key in window.objects:
            for index, value in window.objects[key].items():
                if key not in rows[index]:
                    present[index] += 1
                rows[index][key] = value
    if require_all and keys:
        return [row for row, count in zip(rows, present.tolist(), strict=True) if count >= len(keys)]
    return [row for row, count in zip(rows, present.tolist(), strict=True) if count]


# -- text formats ------------------------------------------------------------------------------
def json_float(value: float) -> str:
    """A float as JSON text the way Python's ``json`` writes it (NaN, Infinity, -Infinity)."""
    if math.isfinite(value):
        return repr(value)
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_header(keys: list[str], step_key: str = "_step") -> str:
    return ",".join(_csv_cell(k) for k in [step_key, *keys]) + "\n"


def csv_lines(window: Window, keys: list[str], step_text: list[str]) -> str:
    """One window as CSV: empty cells where a key has no value at a step; nan/inf as written
    by Python; non-numeric values as JSON."""
    n = len(window.steps)
    columns = [step_text]
    for key in keys:
        cells = [""] * n
        if key in window.numeric:
            indexes, values = window.numeric[key]
            for index, value in zip(indexes.tolist(), values.tolist(), strict=True):
                cells[index] = repr(value)
        for index, value in window.objects.get(key, {}).items():
            cells[index] = _csv_cell(json.dumps(value, ensure_ascii=False))
        columns.append(cells)
    return "".join(",".join(row) + "\n" for row in zip(*columns, strict=True))


def jsonl_lines(window: Window, keys: list[str], step_text: list[str], step_key: str = "_step") -> str:
    """One window as JSON lines, one object per step holding the keys present there."""
    n = len(window.steps)
    parts: list[list[str]] = [[f"{json.dumps(step_key)}: {s}"] for s in step_text]
    for key in keys:
        name = json.dumps(key, ensure_ascii=False)
        if key in window.numeric:
            indexes, values = window.numeric[key]
            for index, value in zip(indexes.tolist(), values.tolist(), strict=True):
                parts[index].append(f"{name}: {json_float(value)}")
        for index, value in window.objects.get(key, {}).items():
            parts[index].append(f"{name}: {json.dumps(value, ensure_ascii=False)}")
    return "".join("{" + ", ".join(p) + "}\n" for p in parts[:n] if len(p) > 1)
