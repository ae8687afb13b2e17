"""teamwork: runs and projects in the trash, run edits' times, project settings, the audit log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 02:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", JSON, nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f("ix_runs_deleted_at"), ["deleted_at"], unique=False)
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("visibility", sa.String(length=16), server_default="members", nullable=False)
        )
        batch_op.add_column(sa.Column("pinned_runs", JSON, nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f("ix_projects_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_check_constraint("ck_projects_visibility", "visibility IN ('members', 'signed_in')")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=128), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=1024), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_log_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_entity_id", ["entity", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_log")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_constraint("ck_projects_visibility", type_="check")
        batch_op.drop_index(batch_op.f("ix_projects_deleted_at"))
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("pinned_runs")
        batch_op.drop_column("visibility")
        batch_op.drop_column("description")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_deleted_at"))
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("edited_at")
