"""ids that are never reused, personal entities by owner, sessions tied to the key that opened them

Names stop being identities: ``entities.owner_id`` says whose personal entity it is (set here for
every entity named after a user, the rule until now), and ids of users, keys and entities are
never handed out twice (SQLite needs AUTOINCREMENT for that, which means rebuilding those tables;
PostgreSQL's sequences never reuse). ``sessions.key_id`` ties a browser session opened by signing
in with an API key to that key, so revoking the key ends it; sessions from before this revision
cannot say how they were opened, so they end here (everyone signs in once more).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The tables as they are at this revision (not imported from schema.py, which moves on).
_users = sa.table("users", sa.column("id"), sa.column("username"))
_entities = sa.table("entities", sa.column("id"), sa.column("name"), sa.column("owner_id"))
_sessions = sa.table("sessions", sa.column("token_hash"))


def _never_reuse_ids(table: str, sqlite: bool) -> None:
    if sqlite:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _never_reuse_ids("users", sqlite)
    _never_reuse_ids("api_keys", sqlite)
    autoincrement = {"sqlite_autoincrement": True} if sqlite else {}
    with op.batch_alter_table("entities", table_kwargs=autoincrement) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_entities_owner_id"), ["owner_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_entities_owner_id_users"), "users", ["owner_id"], ["id"], ondelete="SET NULL"
        )
    op.execute(_sessions.delete())
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_sessions_key_id"), ["key_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_sessions_key_id_api_keys"), "api_keys", ["key_id"], ["id"], ondelete="CASCADE"
        )
    owner = sa.select(_users.c.id).where(_users.c.username == _entities.c.name).scalar_subquery()
    op.execute(_entities.update().values(owner_id=owner))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sessions_key_id_api_keys"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_sessions_key_id"))
        batch_op.drop_column("key_id")
    with op.batch_alter_table("entities") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_entities_owner_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_entities_owner_id"), type_="unique")
        batch_op.drop_column("owner_id")
