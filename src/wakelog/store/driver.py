"""Statements whose rows skip SQLAlchemy's row and parameter handling and go straight to the driver.

``driver_rows`` reads any statement's rows as the driver's tuples, in one call (the thousands of
sketch rows a chart reads). ``fetch_all``, ``fetch_first`` and ``execute_many`` run a live batch's
hot statements on the driver's own cursor, compiled once: a live run's batch repeats the same few
statements for each of its keys (the tails lookup, the staged rows, the summary upserts), and
through SQLAlchemy each ``execute`` rebuilds its execution context and processes every row's
parameters in Python, which cost a 50-key batch more than SQLite spent running the statements.
Their rows go to the driver as a tuple per row on SQLite (``?`` parameters), a mapping on
PostgreSQL.

``fetch_all``, ``fetch_first`` and ``execute_many`` are only for statements built once (cached by
their builders: the compiled form is kept per statement object). All but ``fetch_first``, which
reads a row as SQLAlchemy types it, only for plain values: SQLAlchemy's type processing (JSON,
dates on SQLite) is not applied. The driver's errors come as SQLAlchemy's, as an
``execute``'s would, so the disk-full handler and the transaction's rollback work alike.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, cast

import sqlalchemy as sa

from wakelog.store import pg_arrays
from wakelog.store.database import BINARY_RESULTS


class _Compiled(NamedTuple):
    sql: str
    ordered: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None  # the parameters in order (SQLite's ``?``)
    constants: dict[str, Any]  # values the statement binds itself (a literal in an expression)
    binary: bool  # results in PostgreSQL's binary format (``database.binary_results``; never on SQLite)
    #: Parameters cast to an array of a type ``store/pg_arrays.py`` writes, with their element type
    #: (PostgreSQL only; psycopg dumps the other arrays).
    arrays: tuple[tuple[str, pg_arrays.Element], ...]


@functools.lru_cache(maxsize=256)
def _compiled(dialect: sa.Dialect, statement: sa.Executable) -> _Compiled:
    compiled = cast(sa.ClauseElement, statement).compile(dialect=dialect)
    assert isinstance(compiled, sa.sql.compiler.SQLCompiler)
    constants = {name: value for name, value in compiled.params.items() if value is not None}
    sql, binary = compiled.string, False
    arrays: tuple[tuple[str, pg_arrays.Element], ...] = ()
    if dialect.name == "postgresql":
        typed = ((name, pg_arrays.element_of(sql_type)) for name, sql_type in _ARRAY_PARAMETER.findall(sql))
        arrays = tuple((name, element) for name, element in typed if element is not None)
        sql = _ARRAY_PARAMETER.sub(r"CAST(%(\1)b AS \2[])", sql)
        binary = bool(statement.get_execution_options().get(BINARY_RESULTS))
    return _Compiled(sql, _in_order(compiled.positiontup), constants, binary, arrays)


#: A parameter cast to an array type on PostgreSQL (a batch's rows as arrays, ``store/upsert.py``):
#: sent in binary format (``%b``), by ``pg_arrays`` for the element types it writes (a 50-key
#: batch's summaries: 0.13 → 0.04 ms of the server's CPU, its tails 0.035 → 0.014 ms), else by
#: psycopg (3-7 times faster than in text, which quotes each element in Python).
_ARRAY_PARAMETER = re.compile(r"CAST\(%\((\w+)\)s AS ([\w ]+(?:\(\d+\))?)\[\]\)")


def _in_order(names: Sequence[str] | None) -> Callable[[Mapping[str, Any]], tuple[Any, ...]] | None:
    """A mapping's values as the tuple of ``names`` (in C: a row's parameters cost more than its
    insert otherwise); None for a driver that takes parameters by name."""
    if names is None:
        return None
    if len(names) == 1:
        (name,) = names
        return lambda values: (values[name],)
    return operator.itemgetter(*names)


def _parameters(compiled: _Compiled, values: Mapping[str, Any]) -> Any:
    if compiled.constants:
        values = {**compiled.constants, **values}
    if compiled.arrays:
        encoded = {name: pg_arrays.encode(values[name], element) for name, element in compiled.arrays}
        values = {**values, **encoded}
    return values if compiled.ordered is None else compiled.ordered(values)


def driver_rows(conn: sa.Connection, statement: sa.Executable, params: Any = None) -> Sequence[Any]:
    """All of ``statement``'s rows as the driver's own tuples: fetched in one call into its C row
    loader, without SQLAlchemy's row objects (a third again of the fetch for the thousands of rows a
    chart reads). For a statement built per call; one built once goes faster by ``fetch_all``."""
    with conn.execute(statement, params) as result:
        return result.cursor.fetchall()


def fetch_all(
    conn: sa.Connection, statement: sa.Executable, values: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """``statement``'s rows for ``values`` (its parameters by name), as the driver's tuples."""
    compiled = _compiled(conn.dialect, statement)
    with _cursor(conn, compiled) as cursor:
        cursor.execute(compiled.sql, _parameters(compiled, values))
        return cursor.fetchall()  # type: ignore[no-any-return]


def fetch_first(
    conn: sa.Connection, statement: sa.Select[Any], values: Mapping[str, Any]
) -> dict[str, Any] | None:
    """``statement``'s first row for ``values`` as its columns' names → values, typed as SQLAlchemy
    would type them (JSON parsed on SQLite, where the driver gives text), or None. Without
    SQLAlchemy's result, for which psycopg describes every column at every execution: for a live
    batch's read of its run (26 columns) that description cost more than the rest of the read."""
    compiled = _compiled(conn.dialect, statement)
    with _cursor(conn, compiled) as cursor:
        cursor.execute(compiled.sql, _parameters(compiled, values))
        row = cursor.fetchone()
        if row is None:
            return None
        readers = _readers(conn.dialect, statement, cursor)
    return {
        name: value if process is None else process(value)
        for (name, process), value in zip(readers, row, strict=True)
    }


#: A selected column's name and SQLAlchemy's processing of its values (None: the driver's value is
#: the value).
_Reader = tuple[str, Callable[[Any], Any] | None]
#: Per dialect and statement (built once, as for ``_compiled``).
_READERS: dict[tuple[sa.Dialect, sa.Select[Any]], list[_Reader]] = {}


def _readers(dialect: sa.Dialect, statement: sa.Select[Any], cursor: Any) -> list[_Reader]:
    """``statement``'s readers, worked out at its first execution from the driver's description of
    its columns (SQLAlchemy's processing may depend on their types there: PostgreSQL's numbers)."""
    readers = _READERS.get((dialect, statement))
    if readers is None:
        columns = statement.selected_columns
        codes = [description[1] for description in cursor.description]
        readers = _READERS[(dialect, statement)] = [
            (name, column.type.dialect_impl(dialect).result_processor(dialect, code))
            for name, column, code in zip(columns.keys(), columns, codes, strict=True)
        ]
    return readers


def execute(conn: sa.Connection, statement: sa.Executable, values: Mapping[str, Any]) -> None:
    """``statement`` once, for ``values`` (its parameters by name), its result (if any) left unread."""
    compiled = _compiled(conn.dialect, statement)
    with _cursor(conn, compiled) as cursor:
        cursor.execute(compiled.sql, _parameters(compiled, values))


def execute_many(conn: sa.Connection, statement: sa.Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """``statement`` once for each of ``rows`` (its parameters by name), in one driver call."""
    if not rows:
        return
    compiled = _compiled(conn.dialect, statement)
    with _cursor(conn, compiled) as cursor:
        cursor.executemany(compiled.sql, [_parameters(compiled, row) for row in rows])


class driver_errors:  # named as a function: ``with driver_errors(conn, sql):``, as ``contextlib.suppress``
    """The driver's errors raised in the block, as SQLAlchemy's error for them (``IntegrityError``,
    ``OperationalError``, …). A class rather than a generator: each of the ten or so statements of a
    live batch runs inside one, and ``contextlib.contextmanager`` costs a few µs per block."""

    def __init__(self, conn: sa.Connection, statement: str) -> None:
        self.conn, self.statement = conn, statement

    def __enter__(self) -> None:
        return None

    def __exit__(self, _kind: object, exc: BaseException | None, _traceback: object) -> None:
        error: type[Exception] = self.conn.dialect.loaded_dbapi.Error
        if isinstance(exc, error):
            raise sa.exc.DBAPIError.instance(
                self.statement, None, exc, error, dialect=self.conn.dialect
            ) from exc


class _cursor(driver_errors):
    """The driver's own cursor for ``compiled``, closed after the block, its errors as ``driver_errors``."""

    def __init__(self, conn: sa.Connection, compiled: _Compiled) -> None:
        super().__init__(conn, compiled.sql)
        driver = conn.connection.dbapi_connection
        assert driver is not None
        self.cursor = driver.cursor(binary=True) if compiled.binary else driver.cursor()

    def __enter__(self) -> Any:
        return self.cursor

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        self.cursor.close()
        super().__exit__(kind, exc, traceback)
