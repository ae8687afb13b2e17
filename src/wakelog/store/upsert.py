"""INSERT … ON CONFLICT for both backends (SQLite and PostgreSQL spell it alike in SQLAlchemy), and
plain inserts of many rows the fastest way each backend has."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from wakelog.store.driver import driver_errors, execute, execute_many

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    keys: list[str],
    *,
    update: list[str] | None = None,
) -> None:
    """Insert ``rows``; on a key conflict update the ``update`` columns (or do nothing)."""
    if rows:
        conn.execute(_upsert(conn.dialect.name, table, tuple(keys), tuple(update or ())), rows)


def insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (every column of ``table`` in each; plain values, ``store/driver.py``). On
    PostgreSQL by a binary ``COPY``: psycopg writes the rows in C, where an executemany costs a round
    of Python per row (a live batch's 51 chunk rows: 0.46 against 1.8 ms of the server's CPU, and a
    third of the time holding the connection), and binary spares both sides the text format's hex
    of every ``bytea`` (50 chunk rows: 0.64 → 0.50 ms of the server's CPU, 0.72 → 0.48 ms of
    PostgreSQL's). On SQLite by the driver's executemany. A failure comes as SQLAlchemy's error for
    it, as an ``execute``'s would."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        execute_many(conn, _plain_insert(table), rows)
        return
    statement, names, types = _binary_copy(conn.dialect, table)
    driver: Any = conn.connection.dbapi_connection
    with driver_errors(conn, statement), driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row([row[name] for name in names])


#: The binary form psycopg writes for each column type ``insert_rows`` copies, most specific first
#: (``SmallInteger`` and ``BigInteger`` are ``Integer``s; ``Text`` is a ``String``). In binary, a
#: value's bytes must be exactly the column's type: an ``int8`` sent to an ``int4`` column fails.
_BINARY_TYPES: tuple[tuple[type[sa.types.TypeEngine[Any]], str], ...] = (
    (sa.SmallInteger, "int2"),
    (sa.BigInteger, "int8"),
    (sa.Integer, "int4"),
    (sa.Float, "float8"),
    (sa.LargeBinary, "bytea"),
    (sa.String, "text"),
)


@functools.cache
def _binary_copy(dialect: sa.Dialect, table: sa.Table) -> tuple[str, list[str], list[str]]:
    """``table``'s binary ``COPY`` statement, its columns' names and their binary types; a
    ``TypeError`` names a column of a type not in ``_BINARY_TYPES``."""
    types = []
    for column in table.columns:
        found = next((name for kind, name in _BINARY_TYPES if isinstance(column.type, kind)), None)
        if found is None:
            raise TypeError(f"insert_rows cannot copy {table.name}.{column.name} ({column.type!r}) in binary")
        types.append(found)
    names = [column.name for column in table.columns]
    quote = dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(map(quote, names))}) FROM STDIN (FORMAT BINARY)"
    return statement, names, types


@functools.cache
def _plain_insert(table: sa.Table) -> sa.Insert:
    """Built once per table: its compiled form is kept per statement object (``store/driver.py``)."""
    return table.insert()


def upsert_merging(
    conn: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    keys: list[str],
    merge: Callable[[Any], dict[str, Any]],
) -> None:
    """Insert ``rows``; on a key conflict set the columns ``merge(excluded)`` gives (SQL expressions
    over the stored row's columns and ``excluded``, the row that was to be inserted). Run on the
    driver (``store/driver.py``): rows of plain values only, no two with the same ``keys``. On
    PostgreSQL the rows go as an array per column, unnested by the statement: an executemany costs a
    round of psycopg's Python per row (a live batch's 50 summaries: 0.86 against 0.35 ms of the
    server's CPU, and 1.15 against 0.91 ms until PostgreSQL answers)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        execute_many(conn, _merging(conn.dialect.name, table, tuple(keys), merge), rows)
        return
    names = tuple(rows[0])
    columns = {name: [row[name] for row in rows] for name in names}
    execute(conn, _merging_unnested(table, names, tuple(keys), merge), columns)


# Built once per dialect and shape: ingest upserts on every batch, and building the statement cost
# more than executing it.
@functools.lru_cache(maxsize=128)
def _upsert(dialect: str, table: sa.Table, keys: tuple[str, ...], update: tuple[str, ...]) -> Any:
    statement = _insert(dialect, table)
    if update:
        return statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in update}
        )
    return statement.on_conflict_do_nothing(index_elements=keys)


@functools.lru_cache(maxsize=32)
def _merging(
    dialect: str, table: sa.Table, keys: tuple[str, ...], merge: Callable[[Any], dict[str, Any]]
) -> Any:
    statement = _insert(dialect, table)
    return statement.on_conflict_do_update(index_elements=keys, set_=merge(statement.excluded))


@functools.lru_cache(maxsize=32)
def _merging_unnested(
    table: sa.Table, names: tuple[str, ...], keys: tuple[str, ...], merge: Callable[[Any], dict[str, Any]]
) -> Any:
    """``_merging`` on PostgreSQL with its rows as arrays: parameter ``name`` holds column ``name``'s
    values, row by row."""
    from sqlalchemy.dialects.postgresql import ARRAY
    from sqlalchemy.dialects.postgresql import insert as postgres_insert

    arrays = [sa.cast(sa.bindparam(name), ARRAY(table.c[name].type)) for name in names]
    unnested = sa.func.unnest(*arrays).table_valued(*names).render_derived()
    statement = postgres_insert(table).from_select(list(names), sa.select(*unnested.c))
    return statement.on_conflict_do_update(index_elements=keys, set_=merge(statement.excluded))


def insert_missing(conn: sa.Connection, table: sa.Table, row: dict[str, Any], keys: list[str]) -> bool:
    """Insert ``row`` unless one with the same ``keys`` exists (or is being inserted); True if inserted."""
    statement = _insert(conn.dialect.name, table).values(**row).on_conflict_do_nothing(index_elements=keys)
    # RETURNING, not rowcount: psycopg reports -1 for this statement.
    return conn.execute(statement.returning(*(table.c[name] for name in keys))).first() is not None


def insert_selected_missing(
    conn: sa.Connection, table: sa.Table, columns: list[str], rows: sa.Select[Any], keys: list[str]
) -> None:
    """Insert ``rows`` (a SELECT of ``columns``), but those with the same ``keys`` as a row stored
    (or being inserted): INSERT … SELECT … ON CONFLICT DO NOTHING."""
    statement = _insert(conn.dialect.name, table).from_select(columns, rows)
    conn.execute(statement.on_conflict_do_nothing(index_elements=keys))


def _insert(dialect: str, table: sa.Table) -> PostgresInsert | SqliteInsert:
    """An INSERT of the dialect, the kind that can say ON CONFLICT."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
