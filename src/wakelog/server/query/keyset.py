"""Keyset (cursor) pages of a sorted run list: the page after a row is the rows that sort after it,
found with a WHERE on the sort columns instead of an OFFSET that reads and drops every row before.

A cursor is the last row's sort values and id, as opaque URL-safe text (JSON, base64). It is tied to
the sort it came from: given with another sort it is refused (its length differs) or pages from
wherever its values fall in that order. Missing values sort last in either direction, as
``order_by`` puts them (``filters.compiler.sort_columns``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import sqlalchemy as sa

from wakelog.server.errors import InvalidRequest


def encode(values: list[Any]) -> str:
    text = json.dumps(values, separators=(",", ":"), allow_nan=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, columns: int) -> list[Any]:
    """The values of a cursor for a sort of ``columns`` columns (its id included); a 400 if it is
    not one."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        values = None
    scalar = (str, int, float, type(None))
    fits = isinstance(values, list) and len(values) == columns
    if not fits or not all(isinstance(v, scalar) for v in values) or type(values[-1]) is not int:
        raise InvalidRequest("after: not a cursor of this sort (use the next_cursor a page gave)")
    return values


def after(columns: list[tuple[sa.ColumnElement, bool]], values: list[Any]) -> sa.ColumnElement[bool]:
    """Rows that sort after the row whose sort values are ``values``: for each column, those equal
    on every column before it and beyond it on this one."""
    check(columns, values)
    alternatives = []
    for index, (column, descending) in enumerate(columns):
        equal = [_same(c, v) for (c, _), v in zip(columns[:index], values[:index], strict=True)]
        alternatives.append(sa.and_(*equal, _beyond(column, values[index], descending)))
    return sa.or_(*alternatives)


def check(columns: list[tuple[sa.ColumnElement, bool]], values: list[Any]) -> None:
    """A 400 unless each value can be compared with its column."""
    for (column, _), value in zip(columns, values, strict=True):
        if isinstance(value, bool) or (value is not None and not isinstance(value, _python_types(column))):
            raise InvalidRequest("after: not a cursor of this sort (use the next_cursor a page gave)")


def _same(column: sa.ColumnElement, value: Any) -> sa.ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _beyond(column: sa.ColumnElement, value: Any, descending: bool) -> sa.ColumnElement[bool]:
    """Further along than ``value`` on ``column``; missing values (NULL) are last, after every value."""
    if value is None:
        return sa.false()
    return sa.or_(column < value if descending else column > value, column.is_(None))


def _python_types(column: sa.ColumnElement) -> tuple[type, ...]:
    """What a cursor may hold for ``column``: a number for a number, text for text (a value of
    another kind would be an SQL error on PostgreSQL, not a 400), anything where the type is open."""
    try:
        expected = column.type.python_type
    except NotImplementedError:
        return (object,)
    if expected in (int, float):
        return (int, float)
    return (expected,) if expected is str else (object,)
