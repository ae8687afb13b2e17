"""run stop: when someone asked a running run to stop (the stop button), read by its client

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-04 13:15:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stop_requested_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("stop_requested_at")
