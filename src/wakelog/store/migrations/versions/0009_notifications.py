"""notifications: delivered alerts (rate limit), in-app notifications, subscription settings,
metric threshold rules, once-only run notices and the outbox of e-mails and webhook calls

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 02:30:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _fk(column: str, table: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wait_duration", sa.Float(), nullable=True))
        # alerts stored before this migration were never delivered; they are history now
        batch_op.add_column(sa.Column("delivered", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_alerts_run_pk_title", ["run_pk", "title"], unique=False)
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_state_heartbeat", ["state", "heartbeat_at"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("run_pk", sa.Integer(), nullable=True),
        sa.Column("subject", JSON, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("read_at", sa.Float(), nullable=True),
        _fk("user_id", "notifications", "users"),
        _fk("run_pk", "notifications", "runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_run_pk"), ["run_pk"], unique=False)
        batch_op.create_index("ix_notifications_user_read", ["user_id", "read_at"], unique=False)
    op.create_table(
        "notification_settings",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("targets", JSON, nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        _fk("user_id", "notification_settings", "users"),
        _fk("project_id", "notification_settings", "projects"),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_notification_settings")),
    )
    with op.batch_alter_table("notification_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_settings_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_settings_project_id"), ["project_id"], unique=False)
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("op", sa.String(length=2), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("after_step", sa.BigInteger(), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        _fk("project_id", "alert_rules", "projects"),
        _fk("created_by", "alert_rules", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_rules_project_id"), ["project_id"], unique=False)
    op.create_table(
        "run_notices",
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        _fk("run_pk", "run_notices", "runs"),
        sa.PrimaryKeyConstraint("run_pk", "kind", "key", name=op.f("pk_run_notices")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("target", JSON, nullable=False),
        sa.Column("message", JSON, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_state_due", ["state", "due_at"], unique=False)


def downgrade() -> None:
    for table in ("outbox", "run_notices", "alert_rules", "notification_settings", "notifications"):
        op.drop_table(table)
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_state_heartbeat")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_run_pk_title")
        batch_op.drop_column("delivered")
        batch_op.drop_column("wait_duration")
