"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.server.conftest import BACKENDS, fresh_database
from wakelog.store.database import Database
from wakelog.store.schema import metadata


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_declared_schema(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres_url"))
    db = Database(url)
    try:
        db.upgrade()
        assert db.current_revision() == db.head_revision()
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        db.dispose()
    assert differences == [], "a schema change needs a migration in store/migrations/versions/"
