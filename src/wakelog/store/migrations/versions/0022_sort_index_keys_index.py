"""an index of the keys a project's run table is sorted by: the sort index's trigger finds them
without walking all of the project's keys

Migration 0020's triggers on ``summaries`` keep ``sorted_summaries`` for the keys of
``project_keys`` whose kind is "filling" or "sorted". On PostgreSQL the per-statement trigger joins
the changed rows to ``project_keys`` by project, kind in that list and key. The planner reckons a
transition table at one row: with no statistics on ``project_keys`` yet it probed the primary key
(project_id, kind, key) per changed row without the kind list, walking every entry of the project
(config keys, metric keys, step metrics) each time; with statistics, it read the whole table (every
project's keys) once per statement. A live batch of 50 keys into a project of 10,000 entries cost
PostgreSQL 14.2 ms of CPU (2.3 ms with this index); a batch of 65,000 keys, minutes. This index
holds the indexed keys only (a run table is sorted by a few), so either plan reads a few entries.
SQLite's trigger already searched the primary key by the whole key, and gets the index too: one
schema on both.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 21:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_SORTED_KINDS = sa.text("kind IN ('filling', 'sorted')")


def upgrade() -> None:
    op.create_index(
        "ix_project_keys_sorted",
        "project_keys",
        ["project_id", "key"],
        unique=False,
        sqlite_where=_SORTED_KINDS,
        postgresql_where=_SORTED_KINDS,
    )


def downgrade() -> None:
    op.drop_index("ix_project_keys_sorted", table_name="project_keys")
