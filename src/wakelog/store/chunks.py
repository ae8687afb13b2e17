"""Long lists in SQL, in pieces both backends take, and lists of rows that use an index.

PostgreSQL takes at most 65,535 bind parameters in one statement, SQLite 32,766 (999 before
3.32); a batch may name far more keys than that. No query takes an unbounded ``IN`` list: it
asks about ``IN_CHUNK`` values at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from wakelog.store.database import binary_results

T = TypeVar("T")

#: Values per ``IN`` list: under the oldest SQLite limit (999) with room for the other parameters.
IN_CHUNK = 900


def chunked(values: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``values`` in sorted lists of at most ``size`` (sorted: the same keys, the same statements)."""
    ordered = sorted(values)  # type: ignore[type-var]
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def select_rows(
    dialect: str,
    selected: Sequence[sa.Column[Any]],
    fixed: Sequence[tuple[sa.Column[Any], Any]],
    columns: Sequence[sa.Column[Any]],
    wanted: Sequence[Sequence[Any]],
    *,
    ordered: bool = False,
    binary: bool = False,
) -> tuple[sa.Select[Any], dict[str, Any]]:
    """A statement and its parameters: ``selected`` of the rows whose ``fixed`` columns hold their
    values and whose ``columns`` equal one of the ``wanted`` tuples (``ordered``: by ``columns``,
    which ``selected`` must hold; ``binary``: ``database.binary_results``), each found by one index
    search whatever the planner knows. The fixed and listed columns must name at most one row (a
    key) and ``wanted`` be one to ``IN_CHUNK`` rows.

    SQLite searches no index for a row-value ``IN`` list (it scans the whole table), but searches
    one for each term of an ``OR`` of equalities (each term holding the fixed conditions too).
    PostgreSQL turns a row-value ``IN`` list whose rows share a value (every key's chunk 0) into
    that one index condition and filters every other row of the run through the ``OR`` of the
    rest: O(run's rows × list) per statement. It gets the list as one array per column instead,
    joined row by row to a ``LIMIT 1`` lookup it cannot flatten into a hash join over the whole
    run (which it picks for a new run, whose size its statistics do not know yet).

    The statement is built once per shape and kept (``_terms``, ``_unnested``): building an ``OR``
    of 200 rows and working out its cache key cost 10-12 ms a statement, executing it 0.5-0.8 ms.
    SQLite's list is padded to a multiple of ``_PAD`` rows with its last row (a row matches once
    however many terms it matches), so a few statements serve every length.
    """
    values = {f"fixed_{column.name}": value for column, value in fixed}
    shape = (tuple(selected), tuple(column for column, _ in fixed), tuple(columns), ordered, binary)
    if dialect == "sqlite":
        size = -(-len(wanted) // _PAD) * _PAD
        padded = [*wanted, *[wanted[-1]] * (size - len(wanted))]
        values.update(
            (f"w{row}_{column}", value)
            for row, listed in enumerate(padded)
            for column, value in enumerate(listed)
        )
        return _terms(*shape, size), values
    values.update((f"listed_v{i}", [row[i] for row in wanted]) for i in range(len(columns)))
    return _unnested(*shape), values


#: SQLite's lists are padded to a multiple of this many rows (200 rows: 13 statements, 832 parameters).
_PAD = 16


def _fixed(columns: tuple[sa.Column[Any], ...]) -> list[sa.ColumnElement[bool]]:
    return [column == sa.bindparam(f"fixed_{column.name}") for column in columns]


def _finished(query: sa.Select[Any], order: Sequence[Any], ordered: bool, binary: bool) -> sa.Select[Any]:
    query = query.order_by(*order) if ordered else query
    return binary_results(query) if binary else query


@functools.lru_cache(maxsize=64)
def _terms(
    selected: tuple[sa.Column[Any], ...],
    fixed: tuple[sa.Column[Any], ...],
    columns: tuple[sa.Column[Any], ...],
    ordered: bool,
    binary: bool,
    size: int,
) -> sa.Select[Any]:
    """SQLite's ``select_rows``: an ``OR`` of ``size`` terms, row ``r``'s values ``:w<r>_<column>``."""
    terms = (
        sa.and_(*_fixed(fixed), *(column == sa.bindparam(f"w{row}_{i}") for i, column in enumerate(columns)))
        for row in range(size)
    )
    return _finished(sa.select(*selected).where(sa.or_(*terms)), columns, ordered, binary)


@functools.lru_cache(maxsize=16)
def _unnested(
    selected: tuple[sa.Column[Any], ...],
    fixed: tuple[sa.Column[Any], ...],
    columns: tuple[sa.Column[Any], ...],
    ordered: bool,
    binary: bool,
) -> sa.Select[Any]:
    """PostgreSQL's ``select_rows``: the list as an array per column, ``:listed_v<column>``."""
    names = [f"v{i}" for i in range(len(columns))]
    arrays = [
        sa.bindparam(f"listed_{name}", type_=sa.ARRAY(column.type))
        for name, column in zip(names, columns, strict=True)
    ]
    listed = sa.func.unnest(*arrays).table_valued(*names).render_derived(name="listed")
    found = (
        sa.select(*selected)
        .where(
            *_fixed(fixed), *(column == listed.c[name] for column, name in zip(columns, names, strict=True))
        )
        .limit(1)
        .lateral("found")
    )
    query = sa.select(*found.c).select_from(listed).join(found, sa.true())
    return _finished(query, [found.c[column.name] for column in columns], ordered, binary)
