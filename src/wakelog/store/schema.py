"""The database schema (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Changes to it go through an Alembic migration in ``migrations/versions/``; a test checks that the
migrations produce exactly these tables.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.Float  # seconds since the epoch, as the run log has them


class SteadyJSON(sa.types.TypeDecorator[object]):
    """JSON that SQLite stores padded with spaces to a size class (at most an eighth more), for a
    value updated often by a little, in a row that may be large: the run's summary, beside its
    config. SQLite overwrites a row of unchanged size in place, writing only those of its overflow
    pages whose bytes changed; a row whose size changed is written whole (a run with a 40 KB config:
    41 pages to the log per live batch instead of 23). Readers of JSON ignore the spaces;
    PostgreSQL's JSONB keeps none."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect: sa.Dialect) -> Any:
        serialize = super().bind_processor(dialect)
        if serialize is None or dialect.name != "sqlite":
            return serialize

        def padded(value: Any) -> Any:
            text = serialize(value)
            if not isinstance(text, str):
                return text
            size = len(text) if text.isascii() else len(text.encode())  # SQLite stores UTF-8
            size_class = 64 if size < 512 else 1 << (size.bit_length() - 3)
            return text + " " * (-size % size_class)

        return padded


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", Time, nullable=False),
    # Ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL): a user made after
    # another was deleted can never inherit a row that still names the old id.
    sqlite_autoincrement=True,
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    _id(),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(128), nullable=False, default=""),
    sa.Column("prefix", sa.String(16), nullable=False, index=True),  # shown to users, used for lookup
    sa.Column("key_hash", sa.String(64), nullable=False),  # sha256 hex of the whole key
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_used_at", Time, nullable=True),
    sa.Column("revoked_at", Time, nullable=True),
    sqlite_autoincrement=True,
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    # The API key a session was opened with (signing in with a key): revoking it ends the session.
    sa.Column(
        "key_id", sa.Integer, sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
)

# A name is an address, not an identity: who owns what is decided by ids. A user's personal entity
# is the one whose ``owner_id`` is theirs; a team entity has none. A name is taken by one user or
# one entity at a time (server/accounts.py refuses the second).
entities = sa.Table(
    "entities",
    metadata,
    _id(),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column(
        "owner_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, unique=True
    ),
    sqlite_autoincrement=True,
)

# Who may do what under an entity: ``viewer`` < ``member`` < ``admin`` (see server/permissions.py).
# Server admins (``users.is_admin``) need no row here.
entity_members = sa.Table(
    "entity_members",
    metadata,
    sa.Column("entity_id", sa.Integer, sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.CheckConstraint("role IN ('viewer', 'member', 'admin')", name="ck_entity_members_role"),
)

projects = sa.Table(
    "projects",
    metadata,
    _id(),
    sa.Column("entity_id", sa.Integer, sa.ForeignKey("entities.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    # ``members``: readable by the entity's members; ``signed_in``: also by every signed-in user, read-only
    sa.Column("visibility", sa.String(16), nullable=False, server_default="members"),
    sa.Column("pinned_runs", JSON, nullable=True),  # run ids, in the order pinned
    # In the trash since then (hidden with its runs; purged after ``run_trash_max_age``)
    sa.Column("deleted_at", Time, nullable=True, index=True),
    # Its runs, the trash included, and those outside the trash: kept by triggers on ``runs`` in the
    # transaction that adds, deletes, trashes, restores or moves one (migration 0017), so listing
    # projects and paging the run table never count runs.
    sa.Column("run_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("live_run_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("entity_id", "name"),
    sa.CheckConstraint("visibility IN ('members', 'signed_in')", name="ck_projects_visibility"),
)

runs = sa.Table(
    "runs",
    metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("run_id", sa.String(128), nullable=False),
    sa.Column("name", sa.String(256), nullable=True),
    sa.Column("state", sa.String(16), nullable=False, default="running"),
    sa.Column("group_name", sa.String(256), nullable=True, index=True),
    sa.Column("job_type", sa.String(128), nullable=True),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("config", JSON, nullable=False, default=dict),
    sa.Column("summary", SteadyJSON().with_variant(JSONB(), "postgresql"), nullable=False, default=dict),
    sa.Column("run_metadata", JSON, nullable=False, default=dict),
    sa.Column("metric_defs", JSON, nullable=False, default=dict),
    sa.Column("host", sa.String(256), nullable=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("heartbeat_at", Time, nullable=False),
    sa.Column("finished_at", Time, nullable=True),
    sa.Column("runtime", sa.Float, nullable=True),
    sa.Column("exit_code", sa.Integer, nullable=True),
    # What an uncaught exception left at the run's end (its last MAX_TRACEBACK characters).
    sa.Column("traceback", sa.Text, nullable=True),
    # When someone asked the running run to stop (web app, API); its client stops at its next
    # poll. Cleared when the run is resumed.
    sa.Column("stop_requested_at", Time, nullable=True),
    sa.Column("last_step", sa.BigInteger, nullable=False, default=-1),
    # The highest run-log sequence number applied: what ingest acknowledges. Batches apply in
    # sequence order exactly once; anything at or below this is a duplicate and skipped.
    sa.Column("last_seq", sa.BigInteger, nullable=False, default=-1),
    # When a person last edited each identity field through the API ({"name": t, "tags": t…}):
    # the SDK's values for a field win only if recorded later (last writer wins, server/runedit.py).
    sa.Column("edited_at", JSON, nullable=True),
    # In the project's trash since then: hidden everywhere, purged after ``run_trash_max_age``.
    sa.Column("deleted_at", Time, nullable=True, index=True),
    sa.UniqueConstraint("project_id", "run_id"),
    sa.Index("ix_runs_project_created", "project_id", "created_at"),
    # A project's live runs by update time: its last activity and run count without a scan.
    sa.Index(
        "ix_runs_project_live_updated",
        "project_id",
        "updated_at",
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    ),
    # The running runs whose heartbeat went stale: what the crash notices look for (server/notify/).
    sa.Index("ix_runs_state_heartbeat", "state", "heartbeat_at"),
)

# One row per (run, key): what the run table sorts and filters on, in SQL.
summaries = sa.Table(
    "summaries",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("last", sa.Float, nullable=True),
    sa.Column("min", sa.Float, nullable=True),
    sa.Column("max", sa.Float, nullable=True),
    sa.Column("first", sa.Float, nullable=True),
    sa.Column("total", sa.Float, nullable=False, default=0.0),
    sa.Column("count", sa.BigInteger, nullable=False, default=0),
    sa.Column("last_step", sa.BigInteger, nullable=True),
    # The run's project, kept with the run (ingest writes it; a trigger on ``runs`` follows a move;
    # migration 0019): what ``sorted_summaries`` is kept by.
    sa.Column("project_id", sa.Integer, nullable=True),
)

# The ``last`` of the summaries of the keys a project's run table was sorted by (a "sorted" entry
# in ``project_keys``), in the index a sorted page walks: a page in a few rows at any number of runs
# (server/query/summary_sort.py). Kept by triggers on ``summaries`` (migration 0020): an ingest
# batch moves index entries of those keys only, not of each of its keys (store/sort_index.py).
sorted_summaries = sa.Table(
    "sorted_summaries",
    metadata,
    sa.Column("run_pk", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("project_id", sa.Integer, nullable=False),
    sa.Column("last", sa.Float, nullable=True),
    sa.ForeignKeyConstraint(["run_pk", "key"], ["summaries.run_pk", "summaries.key"], ondelete="CASCADE"),
    sa.Index("ix_sorted_summaries_project_key_last", "project_id", "key", "last", "run_pk"),
)

#: The registry kinds of a key the run table is sorted by, or is being copied in (store/sort_index.py).
_SORTED_KINDS = sa.text("kind IN ('filling', 'sorted')")

# The keys a project's runs have used, for the run table's column picker: config keys (dotted
# paths), summary metric keys and ``define_metric`` step metrics (``kind`` "config", "summary",
# "step"; a step entry's ``step_metric``, the first one seen). Insert-if-absent at ingest
# (store/key_registry.py), never updated or pruned: a key stays listed after its runs leave.
project_keys = sa.Table(
    "project_keys",
    metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("key", sa.String(1024), primary_key=True),
    sa.Column("step_metric", sa.String(1024), nullable=True),
    # The keys the run table is sorted by (store/sort_index.py), found by the triggers that keep
    # their index rows without walking all of a project's keys (migration 0022).
    sa.Index(
        "ix_project_keys_sorted",
        "project_id",
        "key",
        sqlite_where=_SORTED_KINDS,
        postgresql_where=_SORTED_KINDS,
    ),
)

# Metric series in packed chunks (see store/series.py). stream 0: history, 1: system metrics.
series_chunks = sa.Table(
    "series_chunks",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("stream", sa.SmallInteger, primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("first_step", sa.BigInteger, nullable=False),
    sa.Column("last_step", sa.BigInteger, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    # The small sketch first: SQLite reads a row's columns in order, so a coarse read that only
    # wants the sketch never walks the pages of the large data blob.
    sa.Column("sketch", sa.LargeBinary, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# History values that are not numbers: media stubs, strings, lists, None.
history_objects = sa.Table(
    "history_objects",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("value", JSON, nullable=True),
)

console_lines = sa.Table(
    "console_lines",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("line", sa.BigInteger, primary_key=True),
    sa.Column("stream", sa.String(8), nullable=False),
    sa.Column("time", Time, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

run_files = sa.Table(
    "run_files",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.String(1024), primary_key=True),
    sa.Column("policy", sa.String(8), nullable=False, default="end"),
    # null until the content is uploaded; indexed for expiry (content no run refers to) and quotas
    sa.Column("sha256", sa.String(64), nullable=True, index=True),
    sa.Column("size", sa.BigInteger, nullable=True),
    sa.Column("updated_at", Time, nullable=False),
)

blobs = sa.Table(
    "blobs",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

# Users who proved they hold a blob's content by uploading all of it (verified against its hash).
# Only they may attach it to runs: knowing a hash is not enough to read content by dedup.
blob_holders = sa.Table(
    "blob_holders",
    metadata,
    sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("created_at", Time, nullable=False),
)

# Storage quotas set for one user or one entity (the other id is null); without a row the
# server's defaults apply. A null limit is unlimited (server/quotas.py).
quotas = sa.Table(
    "quotas",
    metadata,
    _id(),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True, unique=True
    ),
    sa.Column(
        "entity_id", sa.Integer, sa.ForeignKey("entities.id", ondelete="CASCADE"), nullable=True, unique=True
    ),
    sa.Column("max_bytes", sa.BigInteger, nullable=True),
    sa.Column("max_rows", sa.BigInteger, nullable=True),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint("(user_id IS NULL) <> (entity_id IS NULL)", name="ck_quotas_one_subject"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    _id(),
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("time", Time, nullable=False),
    # wandb's rate limit: an alert whose title was delivered less than ``wait_duration`` seconds
    # before (run-log time) is kept here but not delivered (``delivered`` false).
    sa.Column("wait_duration", sa.Float, nullable=True),
    sa.Column("delivered", sa.Boolean, nullable=False, default=True),
    sa.Index("ix_alerts_run_pk_title", "run_pk", "title"),
)

# Notifications (server/notify/): what a user sees under the bell, one row per user and event.
# ``subject`` is the run's address when the event happened ({"entity", "project", "run_id", "name"}).
notifications = sa.Table(
    "notifications",
    metadata,
    _id(),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=True, index=True),
    sa.Column("subject", JSON, nullable=False, default=dict),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("read_at", Time, nullable=True),
    sa.Index("ix_notifications_user_read", "user_id", "read_at"),
    sqlite_autoincrement=True,
)

# Who hears of which events through which channels. ``scope`` names the owner of a settings
# document: ``user:<id>`` (a user's own runs), ``user:<id>/project:<id>`` (a user's subscription to
# every run of a project) or ``project:<id>`` (a project's team channels); the ids are repeated as
# foreign keys so the rows go with their user or project.
notification_settings = sa.Table(
    "notification_settings",
    metadata,
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    sa.Column(
        "project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    sa.Column("targets", JSON, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

# A project's metric threshold rules ("eval/acc < 0.5 after step 1000"), checked on ingest.
alert_rules = sa.Table(
    "alert_rules",
    metadata,
    _id(),
    sa.Column(
        "project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("key", sa.String(256), nullable=False),
    sa.Column("op", sa.String(2), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("after_step", sa.BigInteger, nullable=True),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sqlite_autoincrement=True,
)

# Events already told about a run, so each is told once: ``rule``/<rule id> (a threshold crossed),
# ``crashed``/<the stale heartbeat> (a run that comes back and goes quiet again is told again).
run_notices = sa.Table(
    "run_notices",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("created_at", Time, nullable=False),
)

# The durable outbox of e-mails and webhook calls (server/notify/dispatcher.py): written in the
# transaction that caused them, sent off the request path, retried with backoff until ``sent`` or
# ``failed``. ``due_at`` is also the lease of a row being sent (a sender that dies gives it back).
outbox = sa.Table(
    "outbox",
    metadata,
    _id(),
    sa.Column("channel", sa.String(8), nullable=False),  # email | webhook
    sa.Column("target", JSON, nullable=False),
    sa.Column("message", JSON, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # pending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("due_at", Time, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("sent_at", Time, nullable=True),
    sa.Index("ix_outbox_state_due", "state", "due_at"),
    sqlite_autoincrement=True,
)

# Each user's chart layout of a project's workspace (panels added, removed, resized), so it
# follows them from browser to browser.
workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("layout", JSON, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

# Sweeps (server/sweeps/): a search over a wandb sweep configuration, the agents that run its
# trials, and the trials themselves. A trial's run_id is chosen when an agent asks for work; the
# run that reports under that id is the trial's run (joined by project and run_id).
sweeps = sa.Table(
    "sweeps",
    metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("sweep_id", sa.String(16), nullable=False),
    sa.Column("name", sa.String(256), nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("config", JSON, nullable=False),
    sa.Column("yaml", sa.Text, nullable=True),
    sa.Column("run_cap", sa.BigInteger, nullable=True),
    # Trials handed out, and the most there will be (run_cap, the grid's size): the conditional
    # UPDATE that raises ``trials`` below ``trial_limit`` is what hands out each trial exactly once.
    sa.Column("trials", sa.BigInteger, nullable=False, default=0),
    sa.Column("trial_limit", sa.BigInteger, nullable=True),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("project_id", "sweep_id"),
    sqlite_autoincrement=True,
)

sweep_agents = sa.Table(
    "sweep_agents",
    metadata,
    _id(),
    sa.Column("sweep_pk", sa.Integer, sa.ForeignKey("sweeps.id", ondelete="CASCADE"), nullable=False),
    sa.Column("agent_id", sa.String(16), nullable=False),
    sa.Column("name", sa.String(256), nullable=True),
    sa.Column("host", sa.String(256), nullable=False),
    sa.Column("pid", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # alive | dead
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("heartbeat_at", Time, nullable=False),
    sa.UniqueConstraint("sweep_pk", "agent_id"),
    sqlite_autoincrement=True,
)

sweep_trials = sa.Table(
    "sweep_trials",
    metadata,
    sa.Column("sweep_pk", sa.Integer, sa.ForeignKey("sweeps.id", ondelete="CASCADE"), primary_key=True),
    # 0, 1, 2… in the order handed out; the runs a sweep took in at creation (prior_runs) are -n…-1
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("run_id", sa.String(128), nullable=False),
    sa.Column(
        "agent_pk",
        sa.Integer,
        sa.ForeignKey("sweep_agents.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    sa.Column("params", JSON, nullable=False),
    sa.Column("point", JSON, nullable=False),  # where in the search space (for Optuna), by flat key
    # pending (handed out, no run yet) | running | finished | failed | crashed | killed: what the
    # server decided; once the run exists and ends, its own state wins (server/sweeps/store.py).
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("stopped_reason", sa.Text, nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("sweep_pk", "run_id"),
)

# Artifacts (server/artifacts/): versioned sets of files per project and name, wandb's model.
# ``artifacts`` is a name (its type and the version counter's home); each version is a manifest
# whose entries are rows of ``artifact_files`` (content by sha256 from the blob store, or a
# reference the server never fetches). A version row is written whole in one transaction, so
# nothing half-made is visible; ``(artifact_pk, version)`` unique keeps versions dense and
# unique under concurrent creators (the loser retries with the next number).
artifacts = sa.Table(
    "artifacts",
    metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("type", sa.String(128), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("project_id", "name"),
    sqlite_autoincrement=True,
)

artifact_versions = sa.Table(
    "artifact_versions",
    metadata,
    _id(),
    sa.Column("artifact_pk", sa.Integer, sa.ForeignKey("artifacts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),  # N of v<N>
    sa.Column("digest", sa.String(32), nullable=False),  # wandb's manifest digest (md5 hex)
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("artifact_metadata", JSON, nullable=False, default=dict),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("file_count", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True),
    sa.Column("created_at", Time, nullable=False),
    # Soft delete: hidden at once, purged with its files after the trash period (server/expiry.py).
    sa.Column("deleted_at", Time, nullable=True, index=True),
    # Tags (a list of names) and a TTL: the version goes to the trash at ``expires_at`` (created_at
    # + ttl_seconds), by the server's expiry (server/expiry.py). Null: no tags, kept until deleted.
    sa.Column("tags", JSON, nullable=True),
    sa.Column("ttl_seconds", sa.BigInteger, nullable=True),
    sa.Column("expires_at", Time, nullable=True, index=True),
    sa.UniqueConstraint("artifact_pk", "version"),
    sa.Index("ix_artifact_versions_artifact_digest", "artifact_pk", "digest"),
    sqlite_autoincrement=True,
)

artifact_files = sa.Table(
    "artifact_files",
    metadata,
    sa.Column(
        "version_pk", sa.Integer, sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("digest", sa.String(128), nullable=False),  # as the manifest has it (base64 md5)
    sa.Column("sha256", sa.String(64), nullable=True, index=True),  # null for a reference
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("ref", sa.Text, nullable=True),
    sa.Column("extra", JSON, nullable=False, default=dict),
)

# Aliases of a name's versions: one version per alias; ``latest`` is moved by the server.
artifact_aliases = sa.Table(
    "artifact_aliases",
    metadata,
    sa.Column("artifact_pk", sa.Integer, sa.ForeignKey("artifacts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("alias", sa.String(128), primary_key=True),
    sa.Column(
        "version_pk",
        sa.Integer,
        sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

# Lineage: the runs that logged (``logged``; the first is also the version's ``run_pk``) or used
# (``used``) each version.
artifact_runs = sa.Table(
    "artifact_runs",
    metadata,
    sa.Column("run_pk", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "version_pk",
        sa.Integer,
        sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("relation", sa.String(8), primary_key=True),
    sa.Column("created_at", Time, nullable=False),
    sa.CheckConstraint("relation IN ('logged', 'used')", name="ck_artifact_runs_relation"),
)

# The model registry: per entity, collections of linked artifact versions with their own aliases
# (``production``, ``staging``…).
registry_collections = sa.Table(
    "registry_collections",
    metadata,
    _id(),
    sa.Column("entity_id", sa.Integer, sa.ForeignKey("entities.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("entity_id", "name"),
    sqlite_autoincrement=True,
)

registry_links = sa.Table(
    "registry_links",
    metadata,
    sa.Column(
        "collection_pk",
        sa.Integer,
        sa.ForeignKey("registry_collections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "version_pk",
        sa.Integer,
        sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", Time, nullable=False),
)

registry_aliases = sa.Table(
    "registry_aliases",
    metadata,
    sa.Column(
        "collection_pk",
        sa.Integer,
        sa.ForeignKey("registry_collections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("alias", sa.String(128), primary_key=True),
    sa.Column(
        "version_pk",
        sa.Integer,
        sa.ForeignKey("artifact_versions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)

# Discussion threads. A thread's target is generic (``target_kind`` + ``target_id``: ``run`` or
# ``report`` and its primary key; a report thread may name one of its panels), so it has no foreign
# key to it: the places that delete targets delete their threads too (``server/comments.py``'s
# ``forget_orphans``).
comment_threads = sa.Table(
    "comment_threads",
    metadata,
    _id(),
    sa.Column("target_kind", sa.String(16), nullable=False),
    sa.Column("target_id", sa.Integer, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("resolved_at", Time, nullable=True),
    sa.Column("resolved_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("panel_id", sa.String(32), nullable=True),  # a report thread's panel (spec id), if any
    sa.Index("ix_comment_threads_target", "target_kind", "target_id"),
    sqlite_autoincrement=True,
)
comments = sa.Table(
    "comments",
    metadata,
    _id(),
    sa.Column(
        "thread_id",
        sa.Integer,
        sa.ForeignKey("comment_threads.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("author", sa.String(64), nullable=False),  # the username as it was
    sa.Column("body", sa.Text, nullable=False),  # markdown
    sa.Column("created_at", Time, nullable=False),
    sa.Column("edited_at", Time, nullable=True),
    sqlite_autoincrement=True,
)

# Reports (server/reports/): documents in a project, markdown blocks and live panels. Every save is
# a revision row; the report row says which revision is current (``version``) and which readers see
# (``published_version``). A share link's token is stored as its sha256, like API keys, with a short
# prefix to look it up by. A partial unique index keeps at most one pinned report (the project's
# dashboard) per project.
reports = sa.Table(
    "reports",
    metadata,
    _id(),
    sa.Column("report_id", sa.String(32), nullable=False, unique=True),  # the public id, url-safe
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("published_version", sa.Integer, nullable=True),
    sa.Column("pinned", sa.Boolean, nullable=False, default=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_by_name", sa.String(64), nullable=False),  # the username as it was
    sa.Column("created_at", Time, nullable=False),
    sa.Column("share_prefix", sa.String(16), nullable=True, index=True),
    sa.Column("share_hash", sa.String(64), nullable=True),
    sa.Column("share_created_at", Time, nullable=True),
    sa.Index("ix_reports_project_id", "project_id"),
    sa.Index(
        "uq_reports_pinned_project",
        "project_id",
        unique=True,
        sqlite_where=sa.text("pinned"),
        postgresql_where=sa.text("pinned"),
    ),
    sqlite_autoincrement=True,
)
report_revisions = sa.Table(
    "report_revisions",
    metadata,
    _id(),
    sa.Column("report_pk", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("spec", JSON, nullable=False),
    sa.Column("saved_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("saved_by_name", sa.String(64), nullable=False),
    sa.Column("saved_at", Time, nullable=False),
    sa.UniqueConstraint("report_pk", "version"),
    sqlite_autoincrement=True,
)

# Saved views (server/views/): named workspace states of a project, shareable by their id in the
# URL. ``state`` is checked before it is stored (server/views/state.py). A name is unique in its
# project, and a partial unique index keeps at most one default view per project.
saved_views = sa.Table(
    "saved_views",
    metadata,
    _id(),
    sa.Column("view_id", sa.String(16), nullable=False, unique=True),  # the public id, url-safe
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("state", JSON, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False, default=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_by_name", sa.String(64), nullable=False),  # the username as it was
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("project_id", "name"),
    sa.Index(
        "uq_saved_views_default_project",
        "project_id",
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    ),
    sqlite_autoincrement=True,
)

# Who changed what, append-only (server/audit.py): no route updates or deletes a row. ``actor``
# and ``entity`` are names as they were, kept after the user or entity is gone.
audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("time", Time, nullable=False),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(128), nullable=True),  # None: server-wide (users, keys)
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(1024), nullable=False),
    sa.Column("before", JSON, nullable=True),
    sa.Column("after", JSON, nullable=True),
    sa.Index("ix_audit_log_entity_id", "entity", "id"),
    sqlite_autoincrement=True,
)

STREAM_HISTORY = 0
STREAM_SYSTEM = 1
