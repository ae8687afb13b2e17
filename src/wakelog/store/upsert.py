"""INSERT … ON CONFLICT for both backends (SQLite and PostgreSQL spell it alike in SQLAlchemy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

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
    if not rows:
        return
    statement = _insert(conn, table)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    conn.execute(statement, rows)


def insert_missing(conn: sa.Connection, table: sa.Table, row: dict[str, Any], keys: list[str]) -> bool:
    """Insert ``row`` unless one with the same ``keys`` exists (or is being inserted); True if inserted."""
    statement = _insert(conn, table).values(**row).on_conflict_do_nothing(index_elements=keys)
    # RETURNING, not rowcount: psycopg reports -1 for this statement.
    return conn.execute(statement.returning(*(table.c[name] for name in keys))).first() is not None


def _insert(conn: sa.Connection, table: sa.Table) -> PostgresInsert | SqliteInsert:
    """An INSERT of the connection's dialect, the kind that can say ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
