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


def select_rows(
    dialect: str,
    selected: Sequence[sa.Column[Any]],
    fixed: Sequence[sa.ColumnElement[bool]],
    columns: Sequence[sa.Column[Any]],
    wanted: Sequence[Sequence[Any]],
    *,
    ordered: bool = False,
) -> sa.Select[Any]:
    """``selected`` of the rows that match every ``fixed`` condition and whose ``columns`` equal
    one of the ``wanted`` tuples (``ordered``: by ``columns``, which ``selected`` must hold), each
    found by one index search whatever the planner knows. The fixed and listed columns must name at
    most one row (a key) and ``wanted`` be at most ``IN_CHUNK`` rows.

    SQLite searches no index for a row-value ``IN`` list (it scans the whole table), but searches
    one for each term of an ``OR`` of equalities (each term holding the fixed conditions too).
    PostgreSQL turns a row-value ``IN`` list whose rows share a value (every key's chunk 0) into
    that one index condition and filters every other row of the run through the ``OR`` of the
    rest: O(run's rows × list) per statement. It gets the list as one array per column instead,
    joined row by row to a ``LIMIT 1`` lookup it cannot flatten into a hash join over the whole
    run (which it picks for a new run, whose size its statistics do not know yet).
    """
    if dialect == "sqlite":
        terms = (
            sa.and_(*fixed, *(column == value for column, value in zip(columns, row, strict=True)))
            for row in wanted
        )
        query = sa.select(*selected).where(sa.or_(*terms))
        return query.order_by(*columns) if ordered else query
    names = [f"v{i}" for i in range(len(columns))]
    arrays = [
        sa.bindparam(f"listed_{name}", [row[i] for row in wanted], type_=sa.ARRAY(column.type), unique=True)
        for i, (name, column) in enumerate(zip(names, columns, strict=True))
    ]
    listed = sa.func.unnest(*arrays).table_valued(*names).render_derived(name="listed")
    found = (
        sa.select(*selected)
        .where(*fixed, *(column == listed.c[name] for column, name in zip(columns, names, strict=True)))
        .limit(1)
        .lateral("found")
    )
    query = sa.select(*found.c).select_from(listed).join(found, sa.true())
    return query.order_by(*(found.c[column.name] for column in columns)) if ordered else query
