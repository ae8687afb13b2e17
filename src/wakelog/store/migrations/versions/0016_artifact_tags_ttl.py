"""artifact tags and TTLs: a version's tags, and how long it is kept (the wandb client's
``artifact.tags`` and ``artifact.ttl``); expiry moves a version to the trash at ``expires_at``

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 19:45:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("artifact_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", JSON, nullable=True))
        batch_op.add_column(sa.Column("ttl_seconds", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f("ix_artifact_versions_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("artifact_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artifact_versions_expires_at"))
        batch_op.drop_column("expires_at")
        batch_op.drop_column("ttl_seconds")
        batch_op.drop_column("tags")
