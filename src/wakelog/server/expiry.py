"""Expiry of what nobody will use: unfinished uploads, deleted artifact versions, runs and
projects, and content no run file or artifact version points at.

An upload stopped half-way (a training killed, a client that never comes back) stays staged; a
finished one that nothing ever pointed at (its run was deleted, its artifact version purged, or
it was uploaded only to take space) stays stored. Both are deleted once older than their
configured age: staged uploads by when they were last written, content by when it was uploaded.
Artifact versions whose TTL ran out go to the trash first, as a delete puts them there (wandb's
``artifact.ttl``). Artifact versions deleted more than ``trash_max_age`` ago, and runs and
projects in the trash for more than ``run_trash_max_age``, are purged next (their files with
them), so their content counts as unattached in the same round. ``collect`` runs every
``ServerConfig.gc_seconds`` in the server and on demand with ``wakelog server gc``; several
replicas doing it at once do no harm.

Content is deleted row first, in a transaction that checks again that nothing points at it; a
run file or artifact version made meanwhile either wins (the content stays) or finds the row gone
and is refused (``blob_missing`` / ``artifact_incomplete``: upload it again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from wakelog.server.artifacts.store import expire, purge
from wakelog.server.comments import forget_orphans
from wakelog.server.config import ServerConfig
from wakelog.server.diskguard import human
from wakelog.store.blobs import BlobStore
from wakelog.store.database import Database
from wakelog.store.schema import artifact_files, blobs, projects, run_files, runs

_log = logging.getLogger(__name__)
#: Content rows deleted per transaction (bounded IN lists, short write locks).
BATCH = 500


@dataclass(frozen=True)
class Collected:
    staged: int
    staged_bytes: int
    unattached: int
    unattached_bytes: int
    purged_versions: int = 0
    purged_runs: int = 0
    purged_projects: int = 0
    expired_versions: int = 0

    def __str__(self) -> str:
        return (
            f"moved {self.expired_versions} artifact versions past their TTL to the trash, "
            f"deleted {self.staged} unfinished uploads ({human(self.staged_bytes)}), "
            f"{self.purged_versions} artifact versions, {self.purged_runs} runs and "
            f"{self.purged_projects} projects from the trash and "
            f"{self.unattached} unattached blobs ({human(self.unattached_bytes)})"
        )


def _attached() -> sa.ColumnElement[bool]:
    """Whether a run file or an artifact version (deleted ones until purged) points at the blob."""
    in_runs = sa.select(run_files.c.sha256).where(run_files.c.sha256 == blobs.c.sha256).exists()
    in_artifacts = (
        sa.select(artifact_files.c.sha256).where(artifact_files.c.sha256 == blobs.c.sha256).exists()
    )
    return sa.or_(in_runs, in_artifacts)


def _unattached(conn: sa.Connection, before: float) -> list[tuple[str, int]]:
    attached = _attached()
    query = (
        sa.select(blobs.c.sha256, blobs.c.size)
        .where(blobs.c.created_at < before, ~attached)
        .order_by(blobs.c.created_at)
        .limit(BATCH)
    )
    return [(row.sha256, row.size) for row in conn.execute(query)]


def _delete_unattached(db: Database, store: BlobStore, before: float) -> tuple[int, int]:
    count = size = 0
    while True:
        with db.write() as conn:
            found = _unattached(conn, before)
            if not found:
                return count, size
            hashes = [sha for sha, _ in found]
            attached = _attached()
            deleted = conn.execute(  # holders cascade
                sa.delete(blobs)
                .where(blobs.c.sha256.in_(hashes), ~attached)
                .returning(blobs.c.sha256, blobs.c.size)
            ).all()
        for sha256, blob_size in deleted:  # the rows are gone: nothing can attach these any more
            store.delete(sha256)
            count, size = count + 1, size + blob_size
        if len(deleted) < len(found):  # attached meanwhile: the next round would find them again
            return count, size


def _in_batches(db: Database, step: Callable[[sa.Connection], int]) -> int:
    """Run ``step`` (which handles at most ``BATCH`` rows) a transaction at a time until it handles
    fewer; how many it handled in all."""
    count = 0
    while True:
        with db.write() as conn:
            done = step(conn)
        count += done
        if done < BATCH:
            return count


def _purge_rows(db: Database, table: sa.Table, before: float) -> int:
    """Delete rows of ``table`` (runs or projects) in the trash since before ``before``, a batch
    per transaction; what hangs off them goes by cascade."""
    ids = (
        sa.select(table.c.id)
        .where(table.c.deleted_at.is_not(None), table.c.deleted_at < before)
        .limit(BATCH)
        .scalar_subquery()
    )
    return _in_batches(db, lambda conn: conn.execute(sa.delete(table).where(table.c.id.in_(ids))).rowcount)


def collect(db: Database, store: BlobStore, config: ServerConfig, *, now: float | None = None) -> Collected:
    """Delete staged uploads older than ``config.staging_max_age``, move artifact versions past
    their TTL to the trash, delete artifact versions deleted
    longer than ``config.trash_max_age`` ago, runs and projects longer than
    ``config.run_trash_max_age`` ago, and unattached content older than
    ``config.unattached_max_age`` (seconds before ``now``, default the current time)."""
    now = time.time() if now is None else now
    staged, staged_bytes = store.expire_staging(now - config.staging_max_age)
    # artifact versions whose TTL ran out go to the trash; the trash's old versions are purged
    expired = _in_batches(db, lambda conn: expire(conn, now, BATCH))
    purged = _in_batches(db, lambda conn: purge(conn, now - config.trash_max_age, BATCH))
    purged_projects = _purge_rows(db, projects, now - config.run_trash_max_age)
    purged_runs = _purge_rows(db, runs, now - config.run_trash_max_age)
    if purged_runs or purged_projects:
        with db.write() as conn:
            forget_orphans(conn)
    unattached, unattached_bytes = _delete_unattached(db, store, now - config.unattached_max_age)
    result = Collected(
        staged, staged_bytes, unattached, unattached_bytes, purged, purged_runs, purged_projects, expired
    )
    if staged or unattached or purged or purged_runs or purged_projects or expired:
        _log.info("expiry: %s", result)
    return result
