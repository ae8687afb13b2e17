"""A batch's points into packed series chunks (``store/series.py``), appended after each key's tail.

Points at or before a key's stored last step are dropped (a client bug or a clock jump must not break
the order chunks rely on), as are repeated steps within the batch. A few new points after an open
chunk are staged: stored as a row of their own, which costs what they cost. Once the numbers after
the open chunk are taken, the open chunk, its staged rows and the new points are joined into main
chunks again. A live batch's keys share their steps: their staged rows are checked and encoded
together, once per batch rather than once per key (a staged row, of few points, has no sketch:
``codec.RAW_MAX``). New points after a closed main chunk (``MERGE_BELOW`` points or more) start
a new main chunk, or, once the closed chunks since the last whole one hold ``CHUNK_POINTS``
points, are joined with them into whole ones (``_consolidated_from``). When the run ends (its
exit, or the dispatcher's notice that it crashed), what is staged is joined too (``seal``).
"""

from __future__ import annotations

import functools
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from wakelog.store import series as codec
from wakelog.store.chunks import chunked
from wakelog.store.database import binary_results
from wakelog.store.driver import execute_many, fetch_all
from wakelog.store.schema import runs, series_chunks
from wakelog.store.upsert import insert_rows

Steps = npt.NDArray[np.int64]
Values = npt.NDArray[np.float64]
Series = tuple[int, str]  # stream, key


class Tail(NamedTuple):
    """A key's last stored chunk."""

    chunk: int
    last_step: int
    points: int


#: A chunk to store: its series, its number, its points.
Numbered = tuple[Series, int, codec.Chunk]


class Join(NamedTuple):
    """A series' rows numbered ``lo`` to ``hi``, to be joined with new points into main chunks."""

    lo: int
    hi: int
    steps: Steps
    values: Values


def _join_open(tail: int, steps: Steps, values: Values) -> Join:
    """The join of the open chunk and the staged rows up to row ``tail`` with new points."""
    return Join(tail - tail % codec.STRIDE, tail, steps, values)


#: No new points: a join of what is stored alone (``seal``, ``compact``).
_NOTHING = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)


def _short(number: int, points: int) -> bool:
    """Whether row ``number`` of ``points`` points is a main chunk short of a whole one."""
    return number % codec.STRIDE == 0 and points < codec.CHUNK_POINTS


class Written(NamedTuple):
    """What ``write_series`` did: how many points were new, and the tail of each series written
    to or found (``Tail``) after it."""

    points: int
    tails: dict[Series, Tail]


def write_series(
    conn: sa.Connection,
    run_pk: int,
    points: Mapping[Series, tuple[list[int], list[float]]],
    encoded: Encoded | None = None,
    known: Mapping[Series, Tail] | None = None,
) -> Written:
    """Store ``points`` ((stream, key) → (steps, values)). ``encoded``: ``encode_appends(points)``,
    when the caller made it before the transaction; ``known``: tails known to hold
    (``_tail_cache``), which are not looked up."""
    if not points:
        return Written(0, {})
    if encoded is None:
        encoded = encode_appends(points)
    tails = _tails(conn, run_pk, list(points), known or {})
    staged = _staged(points, tails, encoded)
    rows = [_row(run_pk, series, at, points[series][0], *encoded[series]) for series, at in staged.items()]
    total = sum(len(points[series][0]) for series in staged)
    chunks: list[Numbered] = []
    joins: dict[Series, Join] = {}
    after_full: dict[Series, tuple[Tail, Steps, Values]] = {}
    for series in [series for series in points if series not in staged]:
        steps, values = points[series]
        tail = tails.get(series)
        step_array, value_array = _new_points(steps, values, None if tail is None else tail.last_step)
        if not len(step_array):
            continue
        total += len(step_array)
        if tail is None:
            chunks += _numbered(series, 0, codec.merge(None, step_array, value_array))
        elif _full(tail):
            after_full[series] = (tail, step_array, value_array)
        elif len(step_array) < codec.MERGE_BELOW and _stages(tail):
            chunks.append((series, tail.chunk + 1, codec.Chunk(step_array, value_array)))  # staged
        else:
            joins[series] = _join_open(tail.chunk, step_array, value_array)
    if after_full:
        started, consolidations = _after_closed(conn, run_pk, after_full)
        chunks += started
        joins.update(consolidations)
    if joins:
        chunks += _join(conn, run_pk, joins)
    rows += _rows(run_pk, chunks)
    insert_rows(conn, series_chunks, rows)
    return Written(total, {**tails, **_last_rows(rows)})


def _last_rows(rows: list[dict[str, Any]]) -> dict[Series, Tail]:
    """The tail each series has among ``rows`` (its highest-numbered): the series' tail once they
    are stored, as rows are only added after a tail or in place of the rows up to it (a join)."""
    last: dict[Series, Tail] = {}
    for row in rows:
        series = (row["stream"], row["key"])
        found = last.get(series)
        if found is None or row["chunk"] > found.chunk:
            last[series] = Tail(row["chunk"], row["last_step"], row["count"])
    return last


def _after_closed(
    conn: sa.Connection, run_pk: int, closed: Mapping[Series, tuple[Tail, Steps, Values]]
) -> tuple[list[Numbered], dict[Series, Join]]:
    """New points after closed main chunks (``_full``): the joins of those whose last main chunks
    ``_consolidated_from`` joins with them, and new main chunks of the others."""
    starts = _consolidated_from(conn, run_pk, {series: tail for series, (tail, _, _) in closed.items()})
    chunks: list[Numbered] = []
    joins: dict[Series, Join] = {}
    for series, (tail, steps, values) in closed.items():
        if series in starts:
            joins[series] = Join(starts[series], tail.chunk, steps, values)
        else:
            chunks += _numbered(series, tail.chunk + codec.STRIDE, codec.merge(None, steps, values))
    return chunks, joins


def _full(tail: Tail) -> bool:
    """Whether a series ends in a closed main chunk (``MERGE_BELOW`` points or more): new points
    start the next, or are joined with it into whole chunks (``_after_closed``)."""
    return tail.chunk % codec.STRIDE == 0 and tail.points >= codec.MERGE_BELOW


def _stages(tail: Tail) -> bool:
    """Whether a few new points after ``tail`` are staged (a number is left after the open chunk)."""
    return not _full(tail) and tail.chunk % codec.STRIDE < codec.STRIDE - 1


#: Series → the data and sketch of their points as one chunk (``encode_appends``).
Encoded = dict[Series, tuple[bytes, bytes]]


def encode_appends(points: Mapping[Series, tuple[list[int], list[float]]]) -> Encoded:
    """The chunk (data and sketch) of each series whose points could be a staged append as they
    came (a live run's batch: a few points in step order), keys logged at the same steps encoded
    together, once per batch rather than once per key. Needs no database: the server makes it
    before the write transaction, so that SQLite's write lock is not held for it. Which of these
    are staged, and as which rows, the series' tails say (``_staged``); the others are encoded
    again with what they join (a 16th batch's: every key's)."""
    groups: dict[tuple[int, ...], list[Series]] = {}
    for series, (steps, _) in points.items():
        if len(steps) <= _FEW and len(steps) < codec.MERGE_BELOW:
            groups.setdefault(tuple(steps), []).append(series)
    encoded: Encoded = {}
    for shared, members in groups.items():
        if all(map(operator.lt, shared, shared[1:])):  # else sorted key by key (``_new_points``)
            step_array = np.array(shared, dtype=np.int64)
            values = np.array([points[series][1] for series in members], dtype=np.float64)
            datas, sketches = codec.encode_many(step_array, values), codec.sketch_many(step_array, values)
            encoded.update(zip(members, zip(datas, sketches, strict=True), strict=True))
    return encoded


def _staged(
    points: Mapping[Series, tuple[list[int], list[float]]], tails: Mapping[Series, Tail], encoded: Encoded
) -> dict[Series, int]:
    """The series whose points are stored as they were ``encoded``, a staged row after their tail
    (every point new, a number left after the open chunk), each with its row's number."""
    staged: dict[Series, int] = {}
    for series, (steps, _) in points.items():
        tail = tails.get(series)
        if tail is not None and series in encoded and steps[0] > tail.last_step and _stages(tail):
            staged[series] = tail.chunk + 1
    return staged


def seal(conn: sa.Connection, run_pk: int) -> None:
    """A run's series that end in staged rows, each joined with its open chunk into main chunks (the
    run has ended: no later batch would join them). A staged row costs several times a main chunk's
    bytes per point (its points uncompressed, a row's overhead), and a chart
    reads a row each; a run that ends after a few hundred steps, as a sweep's trials do, is mostly
    staged rows. The run's ``updated_at`` moves with it: tails noted before (``_tail_cache``) are
    gone."""
    c = series_chunks.c
    last = (
        sa.select(c.stream, c.key, sa.func.max(c.chunk)).where(c.run_pk == run_pk).group_by(c.stream, c.key)
    )
    joins = {
        (stream, key): _join_open(chunk, *_NOTHING)
        for stream, key, chunk in conn.execute(last)
        if chunk % codec.STRIDE
    }
    if joins:
        insert_rows(conn, series_chunks, _rows(run_pk, _join(conn, run_pk, joins)))
        conn.execute(runs.update().where(runs.c.id == run_pk).values(updated_at=time.time()))


class Compacted(NamedTuple):
    """What one ``compact`` did: how many rows fewer the run holds, and whether more is left."""

    fewer: int
    left: bool


#: The most points one ``compact`` joins (their arrays some 64 MB): a wide run's series are
#: compacted over several transactions, each holding the run's lock (SQLite's write lock) briefly.
COMPACT_POINTS = 4_000_000


def compact(conn: sa.Connection, run_pk: int, most: int = COMPACT_POINTS) -> Compacted:
    """Join the run's closed main chunks that an older wakelog left apart into whole ones, as live
    appends now join them (``_consolidated_from``), up to ``most`` points (at least one series'
    worth); while ``left``, call again in a transaction of its own. The run's row is locked for
    the transaction on PostgreSQL (SQLite has one writer): its batches wait.

    Before 2026-12-07 a live series' main chunks were closed at ``MERGE_BELOW`` points and stayed
    so: four times the rows of a series sent in big batches, each read by a chart. In each series,
    consecutive main chunks short of ``CHUNK_POINTS`` before its last main chunk (which appends
    still extend) are joined into whole chunks and one of what is left, numbered where they were,
    where that makes fewer rows."""
    conn.execute(sa.select(runs.c.id).where(runs.c.id == run_pk).with_for_update())
    c = series_chunks.c
    listed = conn.execute(
        sa.select(c.stream, c.key, c.chunk, c.count)
        .where(c.run_pk == run_pk)
        .order_by(c.stream, c.key, c.chunk)
    )
    rows: dict[Series, list[tuple[int, int]]] = {}
    for stream, key, chunk, count in listed:
        rows.setdefault((stream, key), []).append((chunk, count))
    todo = [(series, found) for series, numbered in rows.items() for found in _short_runs(numbered)]
    taken: dict[Series, ShortRun] = {}  # a join takes one range a series
    points = 0
    for series, found in todo:
        if series not in taken and (not taken or points + found.points <= most):
            taken[series] = found
            points += found.points
    if not taken:
        return Compacted(0, left=False)
    chunks = _join(conn, run_pk, {series: Join(run.lo, run.hi, *_NOTHING) for series, run in taken.items()})
    insert_rows(conn, series_chunks, _rows(run_pk, chunks))
    return Compacted(sum(run.rows for run in taken.values()) - len(chunks), left=len(taken) < len(todo))


class ShortRun(NamedTuple):
    """Consecutive main chunks short of ``CHUNK_POINTS``: the first's and last's numbers, how many
    rows and points they are."""

    lo: int
    hi: int
    rows: int
    points: int


def _short_runs(rows: list[tuple[int, int]]) -> list[ShortRun]:
    """Of a series' rows (number, points, in order), the runs of consecutive main chunks short of
    ``CHUNK_POINTS`` before its last main chunk whose points would fill fewer chunks."""
    last = max((number for number, _ in rows if number % codec.STRIDE == 0), default=-1)
    found: list[ShortRun] = []
    run: list[tuple[int, int]] = []
    for number, points in [*rows, (last, 0)]:  # the last main chunk ends the last run
        if number < last and _short(number, points):
            run.append((number, points))
            continue
        total = sum(points for _, points in run)
        if len(run) > -(-total // codec.CHUNK_POINTS):
            found.append(ShortRun(run[0][0], run[-1][0], len(run), total))
        run = []
    return found


def _tails(
    conn: sa.Connection, run_pk: int, series: list[Series], known: Mapping[Series, Tail]
) -> dict[Series, Tail]:
    """The last stored chunk of each of ``series`` ((stream, key) pairs; its row count as ``points``)
    that has one: from ``known`` if there, else found by the primary key, from its end (O(log n)
    however many chunks the run holds)."""
    tails = {one: known[one] for one in series if one in known}
    unknown = [one for one in series if one not in tails]
    if unknown:
        rows = _per_series(conn, run_pk, unknown, {}, tails_query, TAILS_UNNESTED, UNION_TAILS)
        tails.update({(stream, key): Tail(chunk, last, n) for stream, key, chunk, last, n in rows})
    return tails


def _per_series(
    conn: sa.Connection,
    run_pk: int,
    series: list[Series],
    more: Mapping[str, list[Any]],
    union: Callable[[int], sa.Executable],
    unnested: sa.Executable,
    union_max: int,
    shared: Mapping[str, Any] | None = None,
) -> list[Any]:
    """The rows of a lookup per series of run ``:run``: the ``union`` of a branch per series, series
    ``i`` being ``:s<i>`` and ``:k<i>`` (and ``:<name><i>`` for each of ``more``, a value per series),
    or the ``unnested`` statement taking the same as arrays (``:s``, ``:k``, ``:<name>``); both
    take ``shared``'s parameters as they are."""
    columns: dict[str, list[Any]] = {"s": [stream for stream, _ in series], "k": [key for _, key in series]}
    columns.update(more)
    common = {"run": run_pk, **(shared or {})}
    if _unnested(conn, len(series), union_max):
        return fetch_all(conn, unnested, {**common, **columns})
    rows: list[Any] = []
    for some in chunked(range(len(series)), TAIL_LOOKUPS):
        params = {f"{name}{i}": values[at] for name, values in columns.items() for i, at in enumerate(some)}
        rows += fetch_all(conn, union(len(some)), {**common, **params})
    return rows


def _unnested(conn: sa.Connection, series: int, union_max: int) -> bool:
    """Whether a lookup of ``series`` series goes as arrays (``TAILS_UNNESTED``,
    ``OPEN_ROWS_UNNESTED``): on PostgreSQL, past the ``UNION ALL`` that psycopg parses once and
    keeps. Below that the ``UNION ALL`` costs less (5 keys' tails: 0.14 against 0.18 ms of the
    server's CPU, 0.24 against 0.37 ms until answered)."""
    return conn.dialect.name == "postgresql" and series > union_max


#: The most series a ``UNION ALL`` of tails (of open rows) takes on PostgreSQL: psycopg keeps its
#: parsing of a statement's text only up to 4 kB and 50 parameters (``MAX_CACHED_STATEMENT_LENGTH``
#: and ``_PARAMS``), and parses a larger one again at every execution. 21 tails: 4,075 bytes and 43
#: parameters; 12 open rows: 49; 16 series' earlier rows: 3,133 bytes and 50
#: (``tests/server/test_query_plans.py`` checks each).
UNION_TAILS = 21
UNION_OPEN_ROWS = 12
UNION_EARLIER = 16


#: Series whose tails (or open rows) one ``UNION ALL`` looks up (three or five bind parameters each,
#: under every limit).
TAIL_LOOKUPS = 200


def _from_the_end(count: int, columns: str, where: str, limit: str) -> sa.TextClause:
    """The last rows (``columns``, after stream and key; at most ``limit``; ``where`` more, series
    ``i``'s parameters ending in ``{0}``) of ``count`` series of run ``:run``, series ``i`` being
    (``:s<i>``, ``:k<i>``): one index range from the end of each, in one statement."""
    branch = (
        f"SELECT * FROM (SELECT stream, key, {columns} FROM series_chunks WHERE run_pk = :run "
        f"AND stream = :s{{0}} AND key = :k{{0}}{where} ORDER BY chunk DESC LIMIT {limit}) AS t{{0}}"
    )
    return sa.text(" UNION ALL ".join(branch.format(index) for index in range(count)))


@functools.lru_cache(maxsize=64)
def tails_query(count: int) -> sa.TextClause:
    """The last chunk of ``count`` series of run ``:run`` (``_from_the_end``; also what EXPLAIN is
    asked about)."""
    return _from_the_end(count, "chunk, last_step, count AS points", "", "1")


#: PostgreSQL's for many series: the same lookups for the series in the arrays ``:s`` and ``:k``,
#: one statement text however many series (50 keys' ``UNION ALL``, 101 parameters, took
#: 0.5 ms of the server's CPU at every batch, psycopg parsing its text again: 0.21 ms this way).
TAILS_UNNESTED = sa.text(
    "SELECT s.stream, s.key, t.chunk, t.last_step, t.points "
    "FROM unnest(CAST(:s AS SMALLINT[]), CAST(:k AS VARCHAR[])) AS s(stream, key) "
    "CROSS JOIN LATERAL (SELECT chunk, last_step, count AS points FROM series_chunks "
    "WHERE run_pk = :run AND stream = s.stream AND key = s.key ORDER BY chunk DESC LIMIT 1) AS t"
)


@functools.lru_cache(maxsize=64)
def open_rows_query(count: int) -> sa.TextClause:
    """The rows numbered ``:lo<i>`` to ``:hi<i>`` of ``count`` series of run ``:run``: one index
    range each."""
    branch = (
        "SELECT stream, key, chunk, data FROM series_chunks WHERE run_pk = :run "
        "AND stream = :s{0} AND key = :k{0} AND chunk >= :lo{0} AND chunk <= :hi{0}"
    )
    return binary_results(sa.text(" UNION ALL ".join(branch.format(index) for index in range(count))))


#: PostgreSQL's for many series: the same ranges for the series of ``:s`` and ``:k``, from ``:lo``
#: to ``:hi`` (as ``TAILS_UNNESTED``).
OPEN_ROWS_UNNESTED = binary_results(
    sa.text(
        "SELECT s.stream, s.key, c.chunk, c.data FROM unnest(CAST(:s AS SMALLINT[]), "
        "CAST(:k AS VARCHAR[]), CAST(:lo AS INTEGER[]), CAST(:hi AS INTEGER[])) "
        "AS s(stream, key, lo, hi) CROSS JOIN LATERAL (SELECT chunk, data FROM series_chunks "
        "WHERE run_pk = :run AND stream = s.stream AND key = s.key AND chunk >= s.lo AND chunk <= s.hi) AS c"
    )
)


def _open_rows(
    conn: sa.Connection, run_pk: int, ranges: Mapping[Series, tuple[int, int]]
) -> list[tuple[int, str, int, bytes]]:
    """The rows of each series numbered from its range's first to its last, as (stream, key,
    chunk, data)."""
    bounds = {"lo": [lo for lo, _ in ranges.values()], "hi": [hi for _, hi in ranges.values()]}
    return _per_series(
        conn, run_pk, list(ranges), bounds, open_rows_query, OPEN_ROWS_UNNESTED, UNION_OPEN_ROWS
    )


@functools.lru_cache(maxsize=64)
def earlier_query(count: int) -> sa.TextClause:
    """The ``:n`` rows before row ``:c<i>`` (their numbers and point counts, nearest first) of
    ``count`` series of run ``:run`` (``_from_the_end``)."""
    return _from_the_end(count, "chunk, count", " AND chunk < :c{0}", ":n")


#: PostgreSQL's for many series: the same for the series of ``:s``, ``:k`` and ``:c`` (as
#: ``TAILS_UNNESTED``).
EARLIER_UNNESTED = sa.text(
    "SELECT s.stream, s.key, e.chunk, e.count FROM unnest(CAST(:s AS SMALLINT[]), "
    "CAST(:k AS VARCHAR[]), CAST(:c AS INTEGER[])) AS s(stream, key, c) CROSS JOIN LATERAL "
    "(SELECT chunk, count FROM series_chunks WHERE run_pk = :run AND stream = s.stream AND key = s.key "
    "AND chunk < s.c ORDER BY chunk DESC LIMIT :n) AS e"
)


def _consolidated_from(conn: sa.Connection, run_pk: int, tails: Mapping[Series, Tail]) -> dict[Series, int]:
    """Of series whose tail is a closed main chunk (``_full``), those whose last main chunks are
    joined with the new points into whole ones, each with the number of the first of them.

    An open chunk is closed at ``MERGE_BELOW`` points, a quarter of ``CHUNK_POINTS``: each join
    re-encodes it, and one extended to ``CHUNK_POINTS`` would re-encode each point four times as
    often (a live 50-key batch: +30 % of its CPU, +50 % of the bytes it writes). Left at that, a
    live run's series would end up in four times the rows of one sent in big batches, and a
    chart reads a row each (a chart of 100 such runs: 380-620 ms, 300 allowed). So when a closed
    tail and the main chunks just before it, each short of ``CHUNK_POINTS``, hold
    ``CHUNK_POINTS`` points together, they are joined into whole chunks: each point is
    re-encoded once more, once (about every 4,000 steps)."""
    closing = {series: tail for series, tail in tails.items() if tail.points < codec.CHUNK_POINTS}
    if not closing:
        return {}
    lookback = -(-codec.CHUNK_POINTS // codec.MERGE_BELOW) - 1  # rows before the tail that may be needed
    earlier: dict[Series, list[tuple[int, int]]] = {series: [] for series in closing}
    numbers = {"c": [tail.chunk for tail in closing.values()]}
    found = _per_series(
        conn,
        run_pk,
        list(closing),
        numbers,
        earlier_query,
        EARLIER_UNNESTED,
        UNION_EARLIER,
        {"n": lookback},
    )
    for stream, key, chunk, count in found:
        earlier[(stream, key)].append((chunk, count))
    starts: dict[Series, int] = {}
    for series, tail in closing.items():
        start, points = tail.chunk, tail.points
        for chunk, count in sorted(earlier[series], reverse=True):
            if points >= codec.CHUNK_POINTS or not _short(chunk, count):
                break
            start, points = chunk, points + count
        if points >= codec.CHUNK_POINTS:
            starts[series] = start
    return starts


#: Removes a series' rows numbered ``lo`` to ``hi`` (executed once per joined series).
_DELETE_RANGE = series_chunks.delete().where(
    series_chunks.c.run_pk == sa.bindparam("at_run"),
    series_chunks.c.stream == sa.bindparam("at_stream"),
    series_chunks.c.key == sa.bindparam("at_key"),
    series_chunks.c.chunk >= sa.bindparam("lo"),
    series_chunks.c.chunk <= sa.bindparam("hi"),
)


def _join(conn: sa.Connection, run_pk: int, joins: Mapping[Series, Join]) -> list[Numbered]:
    """Each series' rows in its join's range (its open chunk and staged rows, or the main chunks
    ``_consolidated_from`` chose) joined with its new points into main chunks numbered from the
    range's first on; the rows they replace are deleted."""
    ranges = {series: (join.lo, join.hi) for series, join in joins.items()}
    stored: dict[Series, list[tuple[int, bytes]]] = {series: [] for series in joins}
    for stream, key, chunk, data in _open_rows(conn, run_pk, ranges):
        stored[(stream, key)].append((chunk, bytes(data)))
    execute_many(
        conn,
        _DELETE_RANGE,
        [
            {"at_run": run_pk, "at_stream": stream, "at_key": key, "lo": lo, "hi": hi}
            for (stream, key), (lo, hi) in ranges.items()
        ],
    )
    opened = codec.decode_joined([[data for _, data in sorted(pairs)] for pairs in stored.values()])
    chunks: list[Numbered] = []
    for (series, join), tail in zip(joins.items(), opened, strict=True):
        chunks += _numbered(series, join.lo, codec.merge(tail, join.steps, join.values))
    return chunks


#: Up to this many points, a key's batch is checked for order in Python (see ``_new_points``).
_FEW = 64


def _new_points(steps: list[int], values: list[float], after: int | None) -> tuple[Steps, Values]:
    """One key's points sorted by step, those at or before ``after`` and repeated steps dropped."""
    if len(steps) <= _FEW and (after is None or steps[0] > after) and all(map(operator.lt, steps, steps[1:])):
        # A live run's batch: in order and all new. Checked in Python: numpy's calls cost more here.
        return np.asarray(steps, dtype=np.int64), np.asarray(values, dtype=np.float64)
    step_array = np.asarray(steps, dtype=np.int64)
    value_array = np.asarray(values, dtype=np.float64)
    if len(step_array) > 1 and not np.all(np.diff(step_array) > 0):
        order = np.argsort(step_array, kind="stable")  # blocks of different key sets interleave
        step_array, value_array = step_array[order], value_array[order]
    if after is not None:
        keep = step_array > after
        step_array, value_array = step_array[keep], value_array[keep]
    if len(step_array) > 1 and not np.all(np.diff(step_array) > 0):
        order = np.unique(step_array, return_index=True)[1]
        step_array, value_array = step_array[order], value_array[order]
    return step_array, value_array


def _numbered(series: Series, first: int, chunks: list[codec.Chunk]) -> list[Numbered]:
    """``chunks`` numbered from ``first``, a main chunk's number apart."""
    return [(series, first + offset * codec.STRIDE, chunk) for offset, chunk in enumerate(chunks)]


def _rows(run_pk: int, chunks: list[Numbered]) -> list[dict[str, Any]]:
    """The rows of ``chunks``; those at the same steps (a live batch's keys) are encoded together."""
    groups: dict[bytes, list[Numbered]] = {}
    for numbered in chunks:
        groups.setdefault(numbered[2].steps.tobytes(), []).append(numbered)
    rows: list[dict[str, Any]] = []
    for group in groups.values():
        values = np.stack([chunk.values for _, _, chunk in group])
        rows += _encoded_rows(
            run_pk, group[0][2].steps, [(series, number) for series, number, _ in group], values
        )
    return rows


def _encoded_rows(
    run_pk: int, steps: Steps, members: list[tuple[Series, int]], values: npt.NDArray[np.float64]
) -> list[dict[str, Any]]:
    """The rows of the chunks numbered as ``members`` say, all at ``steps``, one row of ``values`` each."""
    encoded = zip(members, codec.encode_many(steps, values), codec.sketch_many(steps, values), strict=True)
    return [_row(run_pk, series, number, steps, data, sketch) for (series, number), data, sketch in encoded]


def _row(
    run_pk: int, series: Series, number: int, steps: Sequence[int] | Steps, data: bytes, sketch: bytes
) -> dict[str, Any]:
    """The ``series_chunks`` row of chunk ``number`` of ``series``: points at ``steps``, encoded."""
    stream, key = series
    return {
        "run_pk": run_pk,
        "stream": stream,
        "key": key,
        "chunk": number,
        "first_step": int(steps[0]),
        "last_step": int(steps[-1]),
        "count": len(steps),
        "data": data,
        "sketch": sketch,
    }
