"""the run table sorted by a summary key walks an index: ``summaries.project_id`` and
``ix_summaries_project_key_last (project_id, key, last, run_pk)``, and "loose" key registry entries

A page of a project's runs sorted by ``summary.acc`` is then the first rows of the index range
``(project, "acc")`` in order, not the sort value of every run computed and sorted
(server/query/summary_sort.py). The index replaces ``ix_summaries_key_last (key, last)``: every
query that used it names the project too.

``summaries.project_id`` is the run's project: written by ingest, set here for the rows from
before, and kept when a run moves by a trigger on ``runs`` (on SQLite, a later migration that
rebuilds ``runs`` must create it again: ``create_triggers``).

A "loose" entry in ``project_keys`` marks a key that some run of the project holds as a number in
its summary JSON without a ``summaries`` row (``run.summary[k] = v``, never logged): the index does
not hold those values, so sorting by such a key reads every run's JSON as before. The upgrade adds
them for the runs from before.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 05:30:00.000000
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_FOLLOW = "UPDATE summaries SET project_id = NEW.project_id WHERE run_pk = NEW.id"
_MOVED = "OLD.project_id <> NEW.project_id"


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION wakelog_summaries_follow_run() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {_FOLLOW}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER tr_runs_move_summaries AFTER UPDATE OF project_id ON runs "
            f"FOR EACH ROW WHEN ({_MOVED}) EXECUTE FUNCTION wakelog_summaries_follow_run()"
        )
        return
    op.execute(
        f"CREATE TRIGGER tr_runs_move_summaries AFTER UPDATE OF project_id ON runs WHEN {_MOVED} "
        f"BEGIN {_FOLLOW}; END"
    )


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS tr_runs_move_summaries ON runs")
        op.execute("DROP FUNCTION IF EXISTS wakelog_summaries_follow_run()")
    else:
        op.execute("DROP TRIGGER IF EXISTS tr_runs_move_summaries")


def upgrade() -> None:
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
    create_triggers()
    op.execute(
        "UPDATE summaries SET project_id = (SELECT project_id FROM runs WHERE runs.id = summaries.run_pk)"
    )
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.drop_index("ix_summaries_key_last")
        batch_op.create_index(
            "ix_summaries_project_key_last", ["project_id", "key", "last", "run_pk"], unique=False
        )
    _register_loose_keys()


def _register_loose_keys() -> None:
    """A "loose" entry per project and key that a run holds as a JSON number without a row."""
    conn = op.get_bind()
    runs = sa.table("runs", sa.column("id"), sa.column("project_id"), sa.column("summary", sa.JSON))
    summaries = sa.table("summaries", sa.column("run_pk"), sa.column("key"))
    registry = sa.table("project_keys", *(sa.column(n) for n in ("project_id", "kind", "key", "step_metric")))
    seen: set[tuple[int, str]] = set()
    last = 0
    while True:  # a batch of runs at a time: a big store's summaries are never all in memory
        batch = conn.execute(
            sa.select(runs.c.id, runs.c.project_id, runs.c.summary)
            .where(runs.c.id > last)
            .order_by(runs.c.id)
            .limit(1000)
        ).all()
        if not batch:
            return
        last = batch[-1].id
        logged = set(
            conn.execute(
                sa.select(summaries.c.run_pk, summaries.c.key).where(
                    summaries.c.run_pk.in_([row.id for row in batch])
                )
            ).all()
        )
        rows = []
        for pk, project_id, summary in batch:
            for key in _numbers(summary or {}):
                if (pk, key) not in logged and (project_id, key) not in seen and len(key) <= 1024:
                    seen.add((project_id, key))
                    rows.append({"project_id": project_id, "kind": "loose", "key": key, "step_metric": None})
        if rows:
            conn.execute(registry.insert(), rows)


def _numbers(summary: dict[str, Any]) -> set[str]:
    """``store/key_registry.summary_numbers`` as it was when this migration was written (copied: a
    migration must not change with the code)."""

    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    found = set()
    for key, value in summary.items():
        if number(value):
            found.add(str(key))
        elif isinstance(value, dict):
            found.update(f"{key}.{view}" for view, inner in value.items() if number(inner))
    return found


def downgrade() -> None:
    op.execute("DELETE FROM project_keys WHERE kind = 'loose'")
    drop_triggers()
    with op.batch_alter_table("summaries", schema=None) as batch_op:
        batch_op.drop_index("ix_summaries_project_key_last")
        batch_op.create_index("ix_summaries_key_last", ["key", "last"], unique=False)
        batch_op.drop_column("project_id")
