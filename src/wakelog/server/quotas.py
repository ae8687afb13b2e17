"""Storage quotas per user and per entity: what they use, what they may, and the check on writes.

Two measures, both cheap to sum in SQL: **bytes** of blob content (a user's: the content they
uploaded whole, plus their unfinished uploads; an entity's: the content its runs' files and its
artifact versions point at, each counted once) and **rows** (metric points, console lines and
non-numeric history values; a user's: those of the runs they created). Each user and entity
has the server's default limits (``ServerConfig.user_max_*``/``entity_max_*``, unlimited unless
set) unless a server admin set others (the ``quotas`` table; a null limit is unlimited).

Writes are checked before they are applied: content is refused when it would go past a bytes
limit, records once the rows limit is reached (so a run may go past it by one batch). Usage is
measured at most once per ``ttl`` seconds per subject and counted forward from each write, so
checking a write adds no query in the common case; nothing is measured for a subject without
limits. A refusal is 507 ``insufficient_storage`` naming the quota; the uploader keeps the data
and retries, so raising the quota lets it finish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import sqlalchemy as sa

from wakelog.server.accounts import NotFound, find_user
from wakelog.server.config import ServerConfig
from wakelog.server.diskguard import human
from wakelog.server.errors import InsufficientStorage
from wakelog.store.blobs import BlobStore
from wakelog.store.chunks import IN_CHUNK, chunked
from wakelog.store.content_refs import content_refs
from wakelog.store.database import Database
from wakelog.store.schema import (
    blob_holders,
    blobs,
    console_lines,
    entities,
    history_objects,
    projects,
    quotas,
    runs,
    series_chunks,
)


@dataclass(frozen=True)
class Limits:
    """None: unlimited."""

    max_bytes: int | None = None
    max_rows: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.max_bytes is None and self.max_rows is None


@dataclass(frozen=True)
class Usage:
    bytes: int = 0
    rows: int = 0


@dataclass(frozen=True)
class Quota:
    """A user's or entity's usage and limits; ``custom``: set for it, not the server's default."""

    kind: str  # "user" or "entity"
    name: str
    usage: Usage
    limits: Limits
    custom: bool


# -- measuring -------------------------------------------------------------------------------------
def upload_owner(user_id: int) -> str:
    """Whose staging area a user's uploads go to (``BlobStore``): nobody else's chunks mix in."""
    return str(user_id)


def _rows(conn: sa.Connection, run_ids: sa.Select) -> int:
    """Metric points, console lines and history values of the runs ``run_ids`` selects."""
    points = sa.select(sa.func.coalesce(sa.func.sum(series_chunks.c.count), 0)).where(
        series_chunks.c.run_pk.in_(run_ids)
    )
    values = (
        sa.select(sa.func.count()).select_from(history_objects).where(history_objects.c.run_pk.in_(run_ids))
    )
    lines = sa.select(sa.func.count()).select_from(console_lines).where(console_lines.c.run_pk.in_(run_ids))
    total = sa.select(points.scalar_subquery() + values.scalar_subquery() + lines.scalar_subquery())
    return int(conn.execute(total).scalar_one())


def user_usage(conn: sa.Connection, user_id: int, staged: int = 0) -> Usage:
    """``staged``: bytes of the user's unfinished uploads (``BlobStore.staged``)."""
    held = (
        sa.select(sa.func.coalesce(sa.func.sum(blobs.c.size), 0))
        .select_from(blobs.join(blob_holders, blob_holders.c.sha256 == blobs.c.sha256))
        .where(blob_holders.c.user_id == user_id)
    )
    created = sa.select(runs.c.id).where(runs.c.created_by == user_id)
    return Usage(int(conn.execute(held).scalar_one()) + staged, _rows(conn, created))


def entity_usage(conn: sa.Connection, entity_id: int) -> Usage:
    """Each content the entity's runs and artifacts point at, counted once; its runs' rows."""
    entity_runs = (
        sa.select(runs.c.id)
        .join(projects, projects.c.id == runs.c.project_id)
        .where(projects.c.entity_id == entity_id)
    )
    content = content_refs(entities.c.id == entity_id)
    attached = sa.select(sa.func.coalesce(sa.func.sum(blobs.c.size), 0)).where(blobs.c.sha256.in_(content))
    return Usage(int(conn.execute(attached).scalar_one()), _rows(conn, entity_runs))


def new_content_bytes(conn: sa.Connection, entity: str, hashes: Iterable[str]) -> int:
    """The stored size of the distinct content of ``hashes`` that no run file or artifact version
    of ``entity`` points at yet: what attaching it adds to the entity's usage."""
    total = 0
    for some in chunked(set(hashes), IN_CHUNK // 3):  # the list appears three times in the statement
        known = content_refs(entities.c.name == entity, some)
        query = sa.select(sa.func.coalesce(sa.func.sum(blobs.c.size), 0)).where(
            blobs.c.sha256.in_(some), blobs.c.sha256.not_in(known)
        )
        total += int(conn.execute(query).scalar_one())
    return total


def _entity_id(conn: sa.Connection, name: str) -> int | None:
    return conn.execute(sa.select(entities.c.id).where(entities.c.name == name)).scalar()


# -- limits ----------------------------------------------------------------------------------------
def default_limits(config: ServerConfig, kind: str) -> Limits:
    if kind == "user":
        return Limits(config.user_max_bytes, config.user_max_rows)
    return Limits(config.entity_max_bytes, config.entity_max_rows)


def _set_limits(conn: sa.Connection, kind: str, subject_id: int | None) -> tuple[Limits, bool] | None:
    if subject_id is None:
        return None
    column = quotas.c.user_id if kind == "user" else quotas.c.entity_id
    row = conn.execute(sa.select(quotas.c.max_bytes, quotas.c.max_rows).where(column == subject_id)).first()
    return None if row is None else (Limits(row.max_bytes, row.max_rows), True)


def limits_of(
    conn: sa.Connection, config: ServerConfig, kind: str, subject_id: int | None
) -> tuple[Limits, bool]:
    """The subject's limits and whether they were set for it (else the server's defaults)."""
    return _set_limits(conn, kind, subject_id) or (default_limits(config, kind), False)


def _subject_id(conn: sa.Connection, kind: str, name: str) -> int:
    if kind == "user":
        return int(find_user(conn, name).id)
    entity_id = _entity_id(conn, name)
    if entity_id is None:
        raise NotFound(f"no entity {name!r}")
    return entity_id


def quota_of(
    db: Database, config: ServerConfig, kind: str, name: str, store: BlobStore | None = None
) -> Quota:
    """A user's (``kind="user"``) or entity's usage and limits; ``NotFound`` if there is none.
    ``store``: where a user's unfinished uploads are (else they are not counted)."""
    with db.read() as conn:
        subject_id = _subject_id(conn, kind, name)
        limits, custom = limits_of(conn, config, kind, subject_id)
        if kind == "user":
            usage = user_usage(conn, subject_id, store.staged(upload_owner(subject_id)) if store else 0)
        else:
            usage = entity_usage(conn, subject_id)
    return Quota(kind, name, usage, limits, custom)


def set_quota(db: Database, kind: str, name: str, limits: Limits | None) -> None:
    """Set a user's or entity's limits; ``None`` goes back to the server's defaults."""
    with db.write() as conn:
        subject_id = _subject_id(conn, kind, name)
        column = quotas.c.user_id if kind == "user" else quotas.c.entity_id
        conn.execute(sa.delete(quotas).where(column == subject_id))
        if limits is not None:
            values = {"max_bytes": limits.max_bytes, "max_rows": limits.max_rows, "updated_at": time.time()}
            conn.execute(sa.insert(quotas).values({column.name: subject_id, **values}))


# -- the check on writes ---------------------------------------------------------------------------
def _subjects(username: str | None, entity: str | None) -> list[tuple[str, str]]:
    return [(kind, name) for kind, name in (("user", username), ("entity", entity)) if name is not None]


@dataclass
class _Measured:
    at: float
    limits: Limits
    usage: Usage


class QuotaGuard:
    """Checks writes against the writer's and the entity's quotas, with usage cached per subject."""

    def __init__(
        self,
        db: Database,
        config: ServerConfig,
        store: BlobStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = 10.0,
    ) -> None:
        self.db, self.config, self.store, self._clock, self._ttl = db, config, store, clock, ttl
        self._cache: dict[tuple[str, str], _Measured] = {}
        self._lock = threading.Lock()

    def _measure(self, conn: sa.Connection, kind: str, name: str) -> _Measured:
        if kind == "user":
            subject_id: int | None = int(find_user(conn, name).id)
        else:
            subject_id = _entity_id(conn, name)
        limits, _ = limits_of(conn, self.config, kind, subject_id)
        usage = Usage()
        if not limits.unlimited and subject_id is not None:
            if kind == "user":
                usage = user_usage(conn, subject_id, self.store.staged(upload_owner(subject_id)))
            else:
                usage = entity_usage(conn, subject_id)
        return _Measured(self._clock(), limits, usage)

    def _current(self, kind: str, name: str) -> _Measured:
        key = (kind, name)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and self._clock() - cached.at < self._ttl:
            return cached
        with self.db.read() as conn:
            measured = self._measure(conn, kind, name)
        with self._lock:
            self._cache[key] = measured
        return measured

    def check(self, username: str | None, entity: str, *, new_bytes: int = 0, rows: bool = False) -> None:
        """Raise ``InsufficientStorage`` if ``new_bytes`` more content, or (``rows``) more records,
        would go past the user's (unless None; their unfinished uploads count) or the entity's quota."""
        for kind, name in _subjects(username, entity):
            measured = self._current(kind, name)
            limits, usage = measured.limits, measured.usage
            if new_bytes and limits.max_bytes is not None and usage.bytes + new_bytes > limits.max_bytes:
                raise InsufficientStorage(
                    f"the storage quota of {kind} {name!r} is {human(limits.max_bytes)} and "
                    f"{human(usage.bytes)} of it is used, too little left for {human(new_bytes)} more; "
                    "a server admin can raise it with `wakelog quota set`"
                )
            if rows and limits.max_rows is not None and usage.rows >= limits.max_rows:
                raise InsufficientStorage(
                    f"the quota of {kind} {name!r} is {limits.max_rows:,} rows (metric points, console "
                    f"lines, media) and {usage.rows:,} are used; a server admin can raise it with "
                    "`wakelog quota set`"
                )

    def count(self, username: str | None, entity: str | None, *, new_bytes: int = 0, rows: int = 0) -> None:
        """Count a write that was applied into the cached usage (until it is measured again)."""
        with self._lock:
            for key in _subjects(username, entity):
                cached = self._cache.get(key)
                if cached is not None:
                    usage = cached.usage
                    cached.usage = replace(usage, bytes=usage.bytes + new_bytes, rows=usage.rows + rows)

    def forget(self) -> None:
        """Measure again at the next check (limits were changed)."""
        with self._lock:
            self._cache.clear()
