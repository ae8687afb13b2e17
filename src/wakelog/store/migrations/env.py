"""Alembic environment: runs migrations on the engine wakelog hands over (no alembic.ini)."""

from alembic import context

from wakelog.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
