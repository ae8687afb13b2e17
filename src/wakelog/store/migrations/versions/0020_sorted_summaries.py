"""the run table's sort index holds the keys a project's runs were sorted by, not every key:
``sorted_summaries`` and "filling"/"sorted" key registry entries replace
``ix_summaries_project_key_last``

Every ingest batch moves the ``last`` of each key it logged. With the index on ``summaries`` that
moved an index entry per key (a 50-key batch: some 50 pages more written, where its series' own
rows write about 20), although a run table is sorted by a few keys. Now a key is indexed for a
project from the first time its run table is sorted by it (store/sort_index.py): its entry in
``project_keys`` ("filling" while the runs from before are copied in, then "sorted") and its runs'
rows in ``sorted_summaries``. Triggers on ``summaries`` keep the rows of both kinds of keys in the
transaction that writes the summaries (ingest, a rewind's restatement, a move), so no writer has to
know; deletes cascade. No key is indexed after the upgrade: each is indexed at its first sort.

On PostgreSQL the triggers take a shared advisory lock on the run's project before they write and
before a summaries row is deleted, and making the entry (and copying each slice of runs) takes the
exclusive one: under READ COMMITTED a batch in flight meanwhile would otherwise be missed by the
copy and miss the entry. On SQLite the one writer does the same. A later SQLite migration that
rebuilds ``summaries`` or ``runs`` must create the triggers again (``create_triggers``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 05:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

#: The advisory lock class of a project's sort index ("WAKE"); the second key is the project id.
#: store/sort_index.py takes the exclusive lock with the same numbers.
LOCK_CLASS = 0x57414B45

#: The registry kinds of an indexed key, and of one whose rows are being copied in.
_KINDS = "('filling', 'sorted')"
#: Whether ``row`` (NEW) is of a key its project's run table is sorted by.
_SORTED = (
    "EXISTS (SELECT 1 FROM project_keys WHERE project_keys.project_id = {row}.project_id"
    f" AND project_keys.kind IN {_KINDS} AND project_keys.key = {{row}}.key)"
)
_KEEP = (
    "INSERT INTO sorted_summaries (run_pk, key, project_id, last) {rows}"
    " ON CONFLICT (run_pk, key) DO UPDATE SET project_id = excluded.project_id, last = excluded.last"
)
#: A moved run's rows leave the index first; its summaries' update puts back those its new
#: project sorts by.
_FOLLOW = (
    "DELETE FROM sorted_summaries WHERE run_pk = NEW.id; "
    "UPDATE summaries SET project_id = NEW.project_id WHERE run_pk = NEW.id"
)
#: How migration 0019 followed a move.
_FOLLOW_0019 = "UPDATE summaries SET project_id = NEW.project_id WHERE run_pk = NEW.id"


def _lock(project: str) -> str:
    return f"PERFORM pg_advisory_xact_lock_shared({LOCK_CLASS}, {project})"


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _create_postgres_triggers()
    else:
        rows = "VALUES (NEW.run_pk, NEW.key, NEW.project_id, NEW.last)"
        for name, event in (("insert", "INSERT"), ("update", "UPDATE OF last, project_id")):
            op.execute(
                f"CREATE TRIGGER tr_summaries_sorted_{name} AFTER {event} ON summaries"
                f" WHEN {_SORTED.format(row='NEW')} BEGIN {_KEEP.format(rows=rows)}; END"
            )
    _follow_moves(_FOLLOW)


def _create_postgres_triggers() -> None:
    # Per statement: an ingest batch's summaries are one statement, and its trigger one call.
    rows = (
        "SELECT c.run_pk, c.key, c.project_id, c.last FROM changed AS c"
        f" JOIN project_keys AS k ON k.project_id = c.project_id AND k.kind IN {_KINDS} AND k.key = c.key"
    )
    keep = (
        f"{_lock('p')} FROM (SELECT DISTINCT project_id AS p FROM changed ORDER BY 1) AS projects; "
        f"{_KEEP.format(rows=rows)}"
    )
    for name, body, result in (
        ("wakelog_sorted_summaries_keep", keep, "NULL"),
        ("wakelog_sorted_summaries_guard", _lock("OLD.project_id"), "OLD"),
    ):
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {body}; RETURN {result}; END $$"
        )
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER tr_summaries_sorted_{event.lower()} AFTER {event} ON summaries"
            " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
            " EXECUTE FUNCTION wakelog_sorted_summaries_keep()"
        )
    # Per row, before the delete (and its cascade to the index) takes any row lock.
    op.execute(
        "CREATE TRIGGER tr_summaries_sorted_guard BEFORE DELETE ON summaries FOR EACH ROW"
        " EXECUTE FUNCTION wakelog_sorted_summaries_guard()"
    )


def _follow_moves(follow: str) -> None:
    """Make the move trigger of migration 0019 run ``follow``. On PostgreSQL its function is
    replaced, and takes the locks of both projects first when ``follow`` writes the index."""
    if op.get_bind().dialect.name == "postgresql":
        both = "(VALUES (LEAST(OLD.project_id, NEW.project_id)), (GREATEST(OLD.project_id, NEW.project_id)))"
        lock = f"{_lock('p')} FROM {both} AS projects (p); " if "sorted_summaries" in follow else ""
        op.execute(
            "CREATE OR REPLACE FUNCTION wakelog_summaries_follow_run() RETURNS trigger LANGUAGE plpgsql"
            f" AS $$ BEGIN {lock}{follow}; RETURN NULL; END $$"
        )
        return
    op.execute("DROP TRIGGER IF EXISTS tr_runs_move_summaries")
    op.execute(
        "CREATE TRIGGER tr_runs_move_summaries AFTER UPDATE OF project_id ON runs"
        f" WHEN OLD.project_id <> NEW.project_id BEGIN {follow}; END"
    )


def drop_triggers() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("tr_summaries_sorted_insert", "tr_summaries_sorted_update", "tr_summaries_sorted_guard"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON summaries" if postgres else ""))
    if postgres:
        for name in ("wakelog_sorted_summaries_keep", "wakelog_sorted_summaries_guard"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    _follow_moves(_FOLLOW_0019)


def upgrade() -> None:
    op.create_table(
        "sorted_summaries",
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("last", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_pk", "key"],
            ["summaries.run_pk", "summaries.key"],
            name="fk_sorted_summaries_run_pk_summaries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_pk", "key", name="pk_sorted_summaries"),
    )
    op.create_index(
        "ix_sorted_summaries_project_key_last",
        "sorted_summaries",
        ["project_id", "key", "last", "run_pk"],
        unique=False,
    )
    create_triggers()
    op.drop_index("ix_summaries_project_key_last", table_name="summaries")


def downgrade() -> None:
    drop_triggers()
    op.create_index(
        "ix_summaries_project_key_last", "summaries", ["project_id", "key", "last", "run_pk"], unique=False
    )
    op.drop_index("ix_sorted_summaries_project_key_last", table_name="sorted_summaries")
    op.drop_table("sorted_summaries")
    op.execute(f"DELETE FROM project_keys WHERE kind IN {_KINDS}")
