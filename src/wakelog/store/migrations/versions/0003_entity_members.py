"""entity members and blob holders

Every existing non-admin user becomes a ``member`` of every existing entity, so a deployment
upgraded from the open model keeps working as before; a user whose personal entity (named after
them) exists becomes its ``admin``. Users who created runs become holders of those runs' files, so
their uploaders need not send known content again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00.000000
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The tables as they are at this revision (not imported from schema.py, which moves on).
_users = sa.table("users", sa.column("id"), sa.column("username"), sa.column("is_admin"))
_entities = sa.table("entities", sa.column("id"), sa.column("name"))
_runs = sa.table("runs", sa.column("id"), sa.column("created_by"))
_run_files = sa.table("run_files", sa.column("run_pk"), sa.column("sha256"))
_blobs = sa.table("blobs", sa.column("sha256"))


def upgrade() -> None:
    members = op.create_table(
        "entity_members",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.CheckConstraint("role IN ('viewer', 'member', 'admin')", name="ck_entity_members_role"),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name=op.f("fk_entity_members_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_entity_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entity_id", "user_id", name=op.f("pk_entity_members")),
    )
    with op.batch_alter_table("entity_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entity_members_user_id"), ["user_id"], unique=False)
    holders = op.create_table(
        "blob_holders",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"], ["blobs.sha256"], name=op.f("fk_blob_holders_sha256_blobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_blob_holders_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("sha256", "user_id", name=op.f("pk_blob_holders")),
    )
    now = sa.literal(time.time(), sa.Float())
    personal = _entities.c.name == _users.c.username
    op.execute(
        members.insert().from_select(
            ["entity_id", "user_id", "role", "created_at"],
            sa.select(
                _entities.c.id,
                _users.c.id,
                sa.case((personal, sa.literal("admin")), else_=sa.literal("member")),
                now,
            ).where(sa.or_(personal, _users.c.is_admin == sa.false())),
        )
    )
    op.execute(
        holders.insert().from_select(
            ["sha256", "user_id", "created_at"],
            sa.select(_blobs.c.sha256, _runs.c.created_by, now)
            .distinct()
            .select_from(
                _run_files.join(_runs, _runs.c.id == _run_files.c.run_pk).join(
                    _blobs, _blobs.c.sha256 == _run_files.c.sha256
                )
            )
            .where(_runs.c.created_by.is_not(None)),
        )
    )


def downgrade() -> None:
    op.drop_table("blob_holders")
    with op.batch_alter_table("entity_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_members_user_id"))
    op.drop_table("entity_members")
