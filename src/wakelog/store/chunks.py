"""Long lists in SQL, in pieces both backends take, and lists of rows that use an index.

PostgreSQL takes at most 65,535 bind parameters in one statement, SQLite 32,766 (999 before
3.32); a batch may name far more keys than that. No query takes an unbounded ``IN`` list: it
asks about ``IN_CHUNK`` values at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")

#: Values per ``IN`` list: under the oldest SQLite limit (999) with room for the other parameters.
IN_CHUNK = 900


def chunked(values: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``values`` in sorted lists of at most ``size`` (sorted: the same keys, the same statements)."""
    ordered = sorted(values)  # type: ignore[type-var]
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def rows_in(
    dialect: str,
    fixed: Sequence[sa.ColumnElement[bool]],
    columns: Sequence[sa.ColumnElement[Any]],
    wanted: Sequence[Sequence[Any]],
) -> sa.ColumnElement[bool]:
    """Rows that match every ``fixed`` condition and whose ``columns`` equal one of the ``wanted``
    tuples, found through an index on the fixed and listed columns on both backends. SQLite
    searches no index for a row-value ``IN`` list (it scans the whole table), but searches one for
    each term of an ``OR`` of equalities (each term holding the fixed conditions too); PostgreSQL
    plans the ``IN`` list well. Keep ``wanted`` to ``IN_CHUNK`` parameters in all."""
    if dialect != "sqlite":
        return sa.and_(*fixed, sa.tuple_(*columns).in_([tuple(row) for row in wanted]))
    terms = (
        sa.and_(*fixed, *(column == value for column, value in zip(columns, row, strict=True)))
        for row in wanted
    )
    return sa.or_(*terms)
