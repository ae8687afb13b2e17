"""maintained run counts per project: ``projects.run_count`` (every run, the trash included) and
``projects.live_run_count`` (runs outside the trash), kept by triggers on ``runs`` in the transaction
that inserts, deletes (purge, cascades), trashes, restores or moves a run, so the project list and
the run table's total read one row instead of counting the project's runs

Triggers rather than code at each call site: runs are created by ingest, moved and trashed by
people, purged by expiry and deleted by cascades from projects and entities; the database sees them
all. On SQLite, a later migration that rebuilds ``runs`` (batch mode "recreate") drops the triggers
with the old table and must create them again (``create_triggers``).

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-04 19:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None

#: Count ``row`` (NEW or OLD) in (sign ``+``) or out of (``-``) its project.
_COUNT = (
    "UPDATE projects SET run_count = run_count {sign} 1, live_run_count = live_run_count {sign} "
    "CASE WHEN {row}.deleted_at IS NULL THEN 1 ELSE 0 END WHERE id = {row}.project_id"
)
#: A change that moves a run between projects or in or out of the trash.
_CHANGED = "OLD.project_id <> NEW.project_id OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)"


def _add(row: str) -> str:
    return _COUNT.format(sign="+", row=row)


def _take(row: str) -> str:
    return _COUNT.format(sign="-", row=row)


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION wakelog_count_runs() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN {_take("OLD")}; END IF;
                IF TG_OP <> 'DELETE' THEN {_add("NEW")}; END IF;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER tr_runs_count AFTER INSERT OR DELETE ON runs "
            "FOR EACH ROW EXECUTE FUNCTION wakelog_count_runs()"
        )
        op.execute(
            "CREATE TRIGGER tr_runs_count_change AFTER UPDATE OF project_id, deleted_at ON runs "
            f"FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION wakelog_count_runs()"
        )
        return
    op.execute(f"CREATE TRIGGER tr_runs_count_insert AFTER INSERT ON runs BEGIN {_add('NEW')}; END")
    op.execute(f"CREATE TRIGGER tr_runs_count_delete AFTER DELETE ON runs BEGIN {_take('OLD')}; END")
    op.execute(
        "CREATE TRIGGER tr_runs_count_change AFTER UPDATE OF project_id, deleted_at ON runs "
        f"WHEN {_CHANGED} BEGIN {_take('OLD')}; {_add('NEW')}; END"
    )


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS tr_runs_count ON runs")
        op.execute("DROP TRIGGER IF EXISTS tr_runs_count_change ON runs")
        op.execute("DROP FUNCTION IF EXISTS wakelog_count_runs()")
        return
    for name in ("tr_runs_count_insert", "tr_runs_count_delete", "tr_runs_count_change"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_count", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("live_run_count", sa.BigInteger(), nullable=False, server_default="0"))
    create_triggers()  # first: on PostgreSQL its lock holds back runs written meanwhile until commit
    op.execute(
        "UPDATE projects SET"
        " run_count = (SELECT count(*) FROM runs WHERE runs.project_id = projects.id),"
        " live_run_count = (SELECT count(*) FROM runs"
        " WHERE runs.project_id = projects.id AND runs.deleted_at IS NULL)"
    )


def downgrade() -> None:
    drop_triggers()
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("live_run_count")
        batch_op.drop_column("run_count")
