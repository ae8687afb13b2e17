"""Seeding a benchmark server's database fast: a few template runs are ingested for real, the
others get copies of their series chunks in SQL (same bytes, other run ids)."""

from __future__ import annotations

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
