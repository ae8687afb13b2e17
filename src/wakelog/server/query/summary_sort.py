"""A page of the run table sorted by one summary key, found by walking the sort index
``sorted_summaries (project_id, key, last, run_pk)``: the page is the first rows of the project's
range for the key, in order, a few index entries whatever the number of runs (migration 0020).

It answers exactly what the general sort (``filters.compiler.sort_columns``) answers, in the case
it applies to: no filter, one sort key ``summary.<key>`` without an aggregate, and a project whose
key registry has no "loose" entry for the key (no run holds the key as a number in its summary
JSON without a summaries row: ``store/key_registry.py``). A run's sort value is then its row's
``last``, or, for a row without one (every value it logged was NaN), the number in its summary JSON,
as the general sort's ``COALESCE`` reads it. Runs with neither come after every run with a value,
by id, as missing values do in any sort; those are found by the general sort's expression, a pass
over the project's runs that only a page past the last run with a value needs.

The index holds the keys a project's run table was sorted by (store/sort_index.py). The first sort
by a key is the general one, and the key is indexed after it (``plan`` says "unindexed"); a key no
run of the project logged (none in its key registry) is never indexed, so a reader cannot fill the
registry with names.

Pages by offset walk ``offset + limit`` entries; pages after a cursor (the general sort's cursors:
the value and the run's id) start where it points.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa

from wakelog.server.query import keyset
from wakelog.server.query.filters import Context, Node, SortKey, sort_columns, summary_json
from wakelog.store import sort_index
from wakelog.store.schema import project_keys, runs, sorted_summaries

#: A page's rows: each run's sort value and id.
Keys = list[tuple[Any, int]]


#: How a page is found: by walking the index; the general way, the key then indexed for the next
#: page (``store/sort_index.add``); the general way.
Plan = Literal["walk", "unindexed", "general"]


def plan(conn: sa.Connection, project_id: int, where: Node | None, sort: list[SortKey]) -> Plan:
    """How this page is found (see the module)."""
    if where is not None or len(sort) != 1:
        return "general"
    field = sort[0].field
    if field.kind != "summary" or field.agg is not None:
        return "general"
    c = project_keys.c
    wanted = ["loose", "summary", sort_index.KIND, sort_index.FILLING]
    kinds = sa.select(c.kind).where(c.project_id == project_id, c.kind.in_(wanted), c.key == field.path[0])
    found = set(conn.execute(kinds).scalars())
    if "loose" in found:
        return "general"
    if sort_index.KIND in found:
        return "walk"
    # Being filled (or a fill cut short: this sort's fill goes on with it); a key no run logged:
    # nothing to index.
    return "unindexed" if found else "general"


def page_keys(
    conn: sa.Connection,
    project_id: int,
    sort: SortKey,
    ctx: Context,
    limit: int,
    offset: int,
    after: str | None,
) -> Keys:
    """The sort values and ids of the page's rows, in order (a sort ``plan`` walks)."""
    descending = sort.descending
    cursor = keyset.decode(after, 2) if after is not None else None
    valued: Keys = []
    if cursor is None or cursor[0] is not None:  # a cursor without a value is past every value
        if cursor is not None:
            s = sorted_summaries.c
            keyset.check([(s.last, descending), (s.run_pk, descending)], cursor)
        wanted = offset + limit
        queries = [
            _logged(project_id, sort, wanted, cursor),
            _json_only(project_id, sort, ctx, wanted, cursor),
        ]
        rows = [(row[0], row[1]) for query in queries if query is not None for row in conn.execute(query)]
        valued = sorted(rows, reverse=descending)[:wanted]  # (value, id) in the sort's direction
        if len(valued) == wanted:
            return valued[offset:]
    # Past the last run with a value: the runs without one, by id.
    page = valued[offset:]
    skipped = max(0, offset - len(valued))
    start = cursor[1] if cursor is not None and cursor[0] is None else None
    return page + _valueless(conn, project_id, sort, ctx, limit - len(page), skipped, start)


def _range(project_id: int, key: str) -> list[sa.ColumnElement[bool]]:
    """The project's rows for ``key`` of runs outside the trash."""
    s = sorted_summaries.c
    return [s.project_id == project_id, s.key == key, runs.c.id == s.run_pk, runs.c.deleted_at.is_(None)]


def _ordered(
    value: sa.ColumnElement, where: list[sa.ColumnElement[bool]], sort: SortKey, wanted: int, cursor: Any
) -> sa.Select:
    columns = [value, sorted_summaries.c.run_pk]
    if cursor is not None:  # one row-value comparison: a bound of the index range, not a filter on it
        row, at = sa.tuple_(*columns), sa.tuple_(*cursor)
        where = [*where, row < at if sort.descending else row > at]
    order = [column.desc() if sort.descending else column.asc() for column in columns]
    return sa.select(*columns).where(*where).order_by(*order).limit(wanted)


def _logged(project_id: int, sort: SortKey, wanted: int, cursor: Any) -> sa.Select:
    """Runs by their row's ``last``: the index range itself, in order."""
    last = sorted_summaries.c.last
    return _ordered(last, [*_range(project_id, sort.field.path[0]), last.isnot(None)], sort, wanted, cursor)


def _json_only(project_id: int, sort: SortKey, ctx: Context, wanted: int, cursor: Any) -> sa.Select | None:
    """Runs whose row has no ``last`` (only NaN logged) but whose summary JSON has a number; None
    where the key cannot be looked up in JSON."""
    fallback = summary_json(sort.field, ctx)
    if fallback is None:
        return None
    where = [*_range(project_id, sort.field.path[0]), sorted_summaries.c.last.is_(None), fallback.isnot(None)]
    return _ordered(fallback, where, sort, wanted, cursor)


def _valueless(
    conn: sa.Connection,
    project_id: int,
    sort: SortKey,
    ctx: Context,
    count: int,
    skipped: int,
    start: int | None,
) -> Keys:
    """``count`` runs without a value for the key after ``skipped`` of them (and after the run
    ``start``), by id in the sort's direction: the general sort's value is NULL for them."""
    if count <= 0:
        return []
    (value, _), (run_id, descending) = sort_columns([sort], ctx)
    where = [runs.c.project_id == project_id, runs.c.deleted_at.is_(None), value.is_(None)]
    if start is not None:
        where.append(run_id < start if descending else run_id > start)
    query = sa.select(run_id).where(*where).order_by(run_id.desc() if descending else run_id.asc())
    return [(None, pk) for pk in conn.execute(query.limit(count).offset(skipped)).scalars()]
