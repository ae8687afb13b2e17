"""Alembic environment: runs migrations on the engine wakelog hands over (no alembic.ini).

On SQLite, foreign keys are off while migrations run: a migration that rebuilds a table (batch
mode copies it, drops the old one, renames the copy) would otherwise fire the ``ON DELETE``
actions of every table that refers to it when the old one is dropped, and delete their rows.
The pragma only takes effect outside a transaction, so it is set before the migrations begin.
"""

from alembic import context

from wakelog.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:  # rolls the migrations back
                    raise RuntimeError(f"the migration left rows that refer to missing ones: {broken[:5]}")
    finally:
        if sqlite:  # the connection goes back to the pool, whose connections enforce foreign keys
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
