"""maintained run counts per project, and each project's registry of the keys its runs used

Run counts: ``projects.run_count`` (every run, the trash included) and
``projects.live_run_count`` (runs outside the trash), kept by triggers on ``runs`` in the transaction
that inserts, deletes (purge, cascades), trashes, restores or moves a run, so the project list and
the run table's total read one row instead of counting the project's runs

Triggers rather than code at each call site: runs are created by ingest, moved and trashed by
people, purged by expiry and deleted by cascades from projects and entities; the database sees them
all. On SQLite, a later migration that rebuilds ``runs`` (batch mode "recreate") drops the triggers
with the old table and must create them again (``create_triggers``).

Key registry: ``project_keys`` (config keys, summary keys, step metrics; store/key_registry.py),
filled here from every run's config, metric definitions and summary rows.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:30:00.000000
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
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


#: On PostgreSQL, count a statement's inserted or deleted rows (``rows``) at once: a bulk insert or
#: a purge writes each project's row once, not once per run.
_COUNT_ROWS = (
    "UPDATE projects SET run_count = run_count {sign} n.runs, live_run_count = live_run_count {sign} n.live"
    " FROM (SELECT project_id, count(*) AS runs, count(*) FILTER (WHERE deleted_at IS NULL) AS live"
    " FROM {rows} GROUP BY project_id) AS n WHERE projects.id = n.project_id"
)


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, body in (
            ("wakelog_count_new_runs", _COUNT_ROWS.format(sign="+", rows="new_runs")),
            ("wakelog_count_old_runs", _COUNT_ROWS.format(sign="-", rows="old_runs")),
            ("wakelog_count_changed_run", f"{_take('OLD')}; {_add('NEW')}"),
        ):
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN {body}; RETURN NULL; END $$"
            )
        op.execute(
            "CREATE TRIGGER tr_runs_count_insert AFTER INSERT ON runs REFERENCING NEW TABLE AS new_runs"
            " FOR EACH STATEMENT EXECUTE FUNCTION wakelog_count_new_runs()"
        )
        op.execute(
            "CREATE TRIGGER tr_runs_count_delete AFTER DELETE ON runs REFERENCING OLD TABLE AS old_runs"
            " FOR EACH STATEMENT EXECUTE FUNCTION wakelog_count_old_runs()"
        )
        # Per row, and only for a row that changed project or trash state: a statement trigger with
        # transition tables cannot name columns, and would run on every ingest batch's update.
        op.execute(
            "CREATE TRIGGER tr_runs_count_change AFTER UPDATE OF project_id, deleted_at ON runs "
            f"FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION wakelog_count_changed_run()"
        )
        return
    op.execute(f"CREATE TRIGGER tr_runs_count_insert AFTER INSERT ON runs BEGIN {_add('NEW')}; END")
    op.execute(f"CREATE TRIGGER tr_runs_count_delete AFTER DELETE ON runs BEGIN {_take('OLD')}; END")
    op.execute(
        "CREATE TRIGGER tr_runs_count_change AFTER UPDATE OF project_id, deleted_at ON runs "
        f"WHEN {_CHANGED} BEGIN {_take('OLD')}; {_add('NEW')}; END"
    )


def drop_triggers() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("tr_runs_count_insert", "tr_runs_count_delete", "tr_runs_count_change"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON runs" if postgres else ""))
    if postgres:
        for name in ("wakelog_count_new_runs", "wakelog_count_old_runs", "wakelog_count_changed_run"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")


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
    _create_registry()


def _create_registry() -> None:
    op.create_table(
        "project_keys",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("step_metric", sa.String(length=1024), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "kind", "key"),
    )
    op.execute(
        "INSERT INTO project_keys (project_id, kind, key) SELECT DISTINCT runs.project_id, 'summary', "
        "summaries.key FROM summaries JOIN runs ON runs.id = summaries.run_pk"
    )
    conn = op.get_bind()
    names = ("project_id", "kind", "key", "step_metric")
    table = sa.table("project_keys", *(sa.column(name) for name in names))
    runs = sa.table(
        "runs",
        sa.column("id"),
        sa.column("project_id"),
        sa.column("config", sa.JSON),
        sa.column("metric_defs", sa.JSON),
    )
    seen: set[tuple[int, str, str]] = set()
    steps: dict[tuple[int, str], str] = {}  # the step metric the last run declared, as ingest keeps
    last = 0
    while True:  # a batch of runs at a time: a big store's configs are never all in memory
        batch = conn.execute(
            sa.select(runs.c.id, runs.c.project_id, runs.c.config, runs.c.metric_defs)
            .where(runs.c.id > last)
            .order_by(runs.c.id)
            .limit(1000)
        ).all()
        if not batch:
            break
        rows = []
        for pk, project_id, config, defs in batch:
            for (kind, key), step in _entries(config or {}, defs or {}).items():
                if kind == "step" and step is not None:
                    steps[(project_id, key)] = step
                elif (project_id, kind, key) not in seen:
                    seen.add((project_id, kind, key))
                    rows.append({"project_id": project_id, "kind": kind, "key": key, "step_metric": None})
            last = pk
        if rows:
            conn.execute(table.insert(), rows)
    rows = [{"project_id": p, "kind": "step", "key": k, "step_metric": v} for (p, k), v in steps.items()]
    if rows:
        conn.execute(table.insert(), rows)


def _entries(config: dict[str, Any], defs: dict[str, Any]) -> dict[tuple[str, str], str | None]:
    """A run's config paths and step metrics, as ``store/key_registry.entries`` found them when
    this migration was written (copied: a migration must not change with the code)."""
    found: dict[tuple[str, str], str | None] = {}

    def flatten(value: dict[str, Any], prefix: str, depth: int) -> None:
        for key, item in value.items():
            if isinstance(item, dict) and item and depth < 8:
                flatten(item, f"{prefix}{key}.", depth + 1)
            else:
                found[("config", f"{prefix}{key}")] = None

    flatten(config, "", 0)
    for name, definition in defs.items():
        step = definition.get("step_metric") if isinstance(definition, dict) else None
        if isinstance(step, str) and step and len(step) <= 1024:
            found[("step", str(name))] = step
    return {entry: step for entry, step in found.items() if len(entry[1]) <= 1024}  # the column's size


def downgrade() -> None:
    op.drop_table("project_keys")
    drop_triggers()
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("live_run_count")
        batch_op.drop_column("run_count")
