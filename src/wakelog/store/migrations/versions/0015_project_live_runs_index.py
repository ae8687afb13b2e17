"""an index of each project's live runs by update time: the project list asks every project for its
last activity and run count through it instead of grouping over every run of the server

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 13:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_runs_project_live_updated",
        "runs",
        ["project_id", "updated_at"],
        unique=False,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_runs_project_live_updated", table_name="runs")
