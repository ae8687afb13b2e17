"""Seeding a benchmark server's database fast: a few template runs are ingested for real, the
others get copies of their series chunks in SQL (same bytes, other run ids); and the store it
lives in (SQLite, or a throwaway PostgreSQL cluster)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa


def copy_series_from_templates(db: Any, ids: list[str], templates: int, run_id_like: str) -> None:
    """Give run ``ids[i]`` (for i ≥ ``templates``) the series chunks of ``ids[i % templates]``."""
    from wakelog.store.schema import series_chunks

    with db.write() as conn:
        query = sa.text("SELECT run_id, id FROM runs WHERE run_id LIKE :pattern")
        pks = dict(conn.execute(query, {"pattern": run_id_like}).all())
        listed = ", ".join(c.name for c in series_chunks.columns if c.name != "run_pk")
        copy = sa.text(
            f"INSERT INTO series_chunks (run_pk, {listed}) "
            f"SELECT :pk, {listed} FROM series_chunks WHERE run_pk = :source"
        )
        for i in range(templates, len(ids)):
            conn.execute(copy, {"pk": pks[ids[i]], "source": pks[ids[i % templates]]})


@contextlib.contextmanager
def backend_store(postgres: bool) -> Iterator[str | None]:
    """Where a bench server keeps its metadata: ``None`` (its own SQLite file) or a fresh, upgraded
    database on a throwaway PostgreSQL cluster (as the tests start one), stopped afterwards."""
    if not postgres:
        yield None
        return
    from load import postgres as start_postgres

    cluster, url = start_postgres()
    try:
        yield url
    finally:
        cluster.stop()


@contextlib.contextmanager
def scratch_database(postgres: bool) -> Iterator[Any]:
    """An empty, upgraded store for a bench that queries it in-process: SQLite in a temporary
    folder, or a throwaway PostgreSQL cluster (``backend_store``); disposed and removed after."""
    import tempfile
    from pathlib import Path

    from wakelog.store.database import Database

    with tempfile.TemporaryDirectory() as tmp, backend_store(postgres) as url:
        db = Database(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            if url is None:
                db.upgrade()
            yield db
        finally:
            db.dispose()


def settle(db: Any) -> None:
    """Statistics (and PostgreSQL's visibility map) as autovacuum leaves a seeded store."""
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "ANALYZE" if db.is_sqlite else "VACUUM ANALYZE"
        )


def storage_note(db: Any) -> str:
    """On PostgreSQL, how the chunk rows' ``sketch`` and ``data`` are stored: pglz-compressed
    (inline or not) or plain; chunk reads pay the decompression on every read."""
    if db.is_sqlite:
        return ""
    with db.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT count(*), count(pg_column_compression(sketch)), count(pg_column_compression(data)), "
            "pg_size_pretty(pg_relation_size('series_chunks')), "
            "pg_size_pretty(pg_total_relation_size('series_chunks')) FROM series_chunks"
        ).one()
    return (
        f"; PostgreSQL: {row[1]:,} of {row[0]:,} sketches and {row[2]:,} data compressed, "
        f"table {row[3]} ({row[4]} with TOAST and indexes)"
    )
