"""sweeps: the sweeps, their agents and their trials

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("sweep_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("yaml", sa.Text(), nullable=True),
        sa.Column("run_cap", sa.BigInteger(), nullable=True),
        sa.Column("trials", sa.BigInteger(), nullable=False),
        sa.Column("trial_limit", sa.BigInteger(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_sweeps_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_sweeps_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweeps")),
        sa.UniqueConstraint("project_id", "sweep_id", name=op.f("uq_sweeps_project_id_sweep_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sweep_agents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sweep_pk", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("host", sa.String(length=256), nullable=False),
        sa.Column("pid", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("heartbeat_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_sweep_agents_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["sweep_pk"], ["sweeps.id"], name=op.f("fk_sweep_agents_sweep_pk_sweeps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_agents")),
        sa.UniqueConstraint("sweep_pk", "agent_id", name=op.f("uq_sweep_agents_sweep_pk_agent_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sweep_trials",
        sa.Column("sweep_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(length=128), nullable=False),
        sa.Column("agent_pk", sa.Integer(), nullable=True),
        sa.Column("params", JSON, nullable=False),
        sa.Column("point", JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("stopped_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_pk"],
            ["sweep_agents.id"],
            name=op.f("fk_sweep_trials_agent_pk_sweep_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sweep_pk"], ["sweeps.id"], name=op.f("fk_sweep_trials_sweep_pk_sweeps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("sweep_pk", "seq", name=op.f("pk_sweep_trials")),
        sa.UniqueConstraint("sweep_pk", "run_id", name=op.f("uq_sweep_trials_sweep_pk_run_id")),
    )
    op.create_index(op.f("ix_sweep_trials_agent_pk"), "sweep_trials", ["agent_pk"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sweep_trials_agent_pk"), table_name="sweep_trials")
    op.drop_table("sweep_trials")
    op.drop_table("sweep_agents")
    op.drop_table("sweeps")
