"""INSERT … ON CONFLICT for both backends (SQLite and PostgreSQL spell it alike in SQLAlchemy)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


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
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    conn.execute(statement, rows)
