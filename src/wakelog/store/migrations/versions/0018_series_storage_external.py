"""series storage external: PostgreSQL stores the chunk rows' sketch and data as they are, never
pglz-compressed (data is zlib output already; a sketch compresses a little, and every chart paid
the decompression of every sketch it read); a no-op on SQLite

Rows written before keep their compressed values until they are rewritten (an open chunk is
rewritten by its next append); reads handle both.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 19:30:00.000000
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

#: Column → PostgreSQL storage: EXTERNAL is out of line when the row is large, never compressed.
STORAGE = {"sketch": "EXTERNAL", "data": "EXTERNAL"}


def _set_storage(storage: dict[str, str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    columns = ", ".join(f"ALTER COLUMN {column} SET STORAGE {kind}" for column, kind in storage.items())
    op.execute(f"ALTER TABLE series_chunks {columns}")


def upgrade() -> None:
    _set_storage(STORAGE)


def downgrade() -> None:
    _set_storage(dict.fromkeys(STORAGE, "EXTENDED"))
