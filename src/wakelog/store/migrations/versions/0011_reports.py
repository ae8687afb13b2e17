"""reports: report documents, their revisions, share tokens (hashed), the pinned dashboard, and
comment threads on a report's panel

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:30:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _fk(column: str, table: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("share_prefix", sa.String(length=16), nullable=True),
        sa.Column("share_hash", sa.String(length=64), nullable=True),
        sa.Column("share_created_at", sa.Float(), nullable=True),
        _fk("project_id", "reports", "projects", "CASCADE"),
        _fk("created_by", "reports", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("report_id", name=op.f("uq_reports_report_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_project_id", ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_share_prefix"), ["share_prefix"], unique=False)
        batch_op.create_index(
            "uq_reports_pinned_project",
            ["project_id"],
            unique=True,
            sqlite_where=sa.text("pinned"),
            postgresql_where=sa.text("pinned"),
        )
    op.create_table(
        "report_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("saved_by", sa.Integer(), nullable=True),
        sa.Column("saved_by_name", sa.String(length=64), nullable=False),
        sa.Column("saved_at", sa.Float(), nullable=False),
        _fk("report_pk", "report_revisions", "reports", "CASCADE"),
        _fk("saved_by", "report_revisions", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_revisions")),
        sa.UniqueConstraint("report_pk", "version", name=op.f("uq_report_revisions_report_pk_version")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("comment_threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("panel_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comment_threads", schema=None) as batch_op:
        batch_op.drop_column("panel_id")
    op.drop_table("report_revisions")
    op.drop_table("reports")
