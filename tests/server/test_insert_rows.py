"""Many plain rows inserted the fastest way each backend has (``store/upsert.py: insert_rows``): by
a binary ``COPY`` on PostgreSQL, where each value's bytes must be exactly its column's type, so
every byte, character and extreme number a row may hold must come back as it went, into the tables
as the migrations made them; a failure is SQLAlchemy's error and takes the transaction's other
writes back with it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.server.conftest import fresh_database
from wakelog.store.database import Database
from wakelog.store.ingest import apply_batch
from wakelog.store.schema import console_lines, series_chunks
from wakelog.store.upsert import insert_rows

AWKWARD_KEYS = ["tab\there", "new\nline", "back\\slash", "\\N", "quote'\"", "comma,", "日本語", " "]


def a_run(db: Database) -> int:
    apply_batch(db, "e", "p", "r", [(0, "run", 1.0, {"id": "r"})])
    with db.read() as conn:
        return int(conn.execute(sa.text("SELECT id FROM runs WHERE run_id = 'r'")).scalar_one())


def chunk_row(run_pk: int, key: str, chunk: int, data: bytes) -> dict[str, Any]:
    return {
        "run_pk": run_pk,
        "stream": 1,
        "key": key,
        "chunk": chunk,
        "first_step": -(2**63),
        "last_step": 2**63 - 1,
        "count": 2**31 - 1,
        "sketch": data[::-1],
        "data": data,
    }


def stored(db: Database, run_pk: int) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(series_chunks).where(series_chunks.c.run_pk == run_pk).order_by(series_chunks.c.chunk)
        )
        return [{**row._mapping, "sketch": bytes(row.sketch), "data": bytes(row.data)} for row in rows]


def test_rows_come_back_as_they_went_every_byte_and_character(db: Database) -> None:
    run_pk = a_run(db)
    every_byte = bytes(range(256))
    rows = [chunk_row(run_pk, key, i, every_byte * (i + 1)) for i, key in enumerate(AWKWARD_KEYS)]
    rows.append(chunk_row(run_pk, "empty", len(rows), b""))
    with db.write() as conn:
        insert_rows(conn, series_chunks, rows)
    assert stored(db, run_pk) == rows


def test_console_lines_come_back_as_they_went(db: Database) -> None:
    run_pk = a_run(db)
    rows = [
        {"run_pk": run_pk, "line": 2**62 + i, "stream": "stderr", "time": 1.7e9 + i / 3, "text": text}
        for i, text in enumerate([*AWKWARD_KEYS, "", "\u2028 \U0001f600 \x7f"])
    ]
    with db.write() as conn:
        insert_rows(conn, console_lines, rows)
    with db.read() as conn:
        back = conn.execute(
            sa.select(console_lines).where(console_lines.c.run_pk == run_pk).order_by(console_lines.c.line)
        )
        assert [dict(row._mapping) for row in back] == rows


def test_a_table_with_a_column_it_cannot_copy_is_refused_by_name(postgres_url: str) -> None:
    database = Database(fresh_database(postgres_url))
    table = sa.Table("notes_for_copy", sa.MetaData(), sa.Column("id", sa.Integer), sa.Column("doc", sa.JSON))
    try:
        with pytest.raises(TypeError, match=r"notes_for_copy\.doc"), database.write() as conn:
            insert_rows(conn, table, [{"id": 1, "doc": {}}])
    finally:
        database.dispose()


def test_a_failed_insert_is_sqlalchemys_error_and_nothing_of_the_transaction_stays(db: Database) -> None:
    run_pk = a_run(db)
    with db.write() as conn:
        insert_rows(conn, series_chunks, [chunk_row(run_pk, "loss", 0, b"first")])
    with pytest.raises(sa.exc.IntegrityError), db.write() as conn:
        insert_rows(conn, series_chunks, [chunk_row(run_pk, "acc", 0, b"new")])
        insert_rows(conn, series_chunks, [chunk_row(run_pk, "loss", 0, b"again")])  # its primary key
    assert [(row["key"], row["data"]) for row in stored(db, run_pk)] == [("loss", b"first")]
    with db.write() as conn:  # the connection went back to the pool usable
        insert_rows(conn, series_chunks, [chunk_row(run_pk, "acc", 0, b"later")])
    assert len(stored(db, run_pk)) == 2
