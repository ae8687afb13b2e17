"""Which content a manifest may name: the blob store's per-user attach rule, for artifacts.

A user may name content they uploaded whole (a holder, ``usable_blobs``) or content they can
read already: a file of a run, or of a live artifact version, under an entity they may read (a
new version drafted from someone else's keeps its files without uploading them again). Anything
else counts as missing, whether it is stored or not: knowing a hash gives nothing away.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from wakelog.server.auth import User
from wakelog.server.permissions import readable_entities, usable_blobs
from wakelog.store.chunks import chunked
from wakelog.store.schema import (
    artifact_files,
    artifact_versions,
    artifacts,
    blobs,
    entities,
    projects,
    run_files,
    runs,
)


def _readable(conn: sa.Connection, user: User, hashes: list[str]) -> set[str]:
    readable = readable_entities(user)
    in_runs = (
        sa.select(run_files.c.sha256)
        .join(runs, runs.c.id == run_files.c.run_pk)
        .join(projects, projects.c.id == runs.c.project_id)
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(readable, run_files.c.sha256.in_(hashes))
    )
    in_artifacts = (
        sa.select(artifact_files.c.sha256)
        .join(artifact_versions, artifact_versions.c.id == artifact_files.c.version_pk)
        .join(artifacts, artifacts.c.id == artifact_versions.c.artifact_pk)
        .join(projects, projects.c.id == artifacts.c.project_id)
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(readable, artifact_versions.c.deleted_at.is_(None), artifact_files.c.sha256.in_(hashes))
    )
    return set(conn.execute(in_runs.union(in_artifacts)).scalars())


def stored(conn: sa.Connection, hashes: Iterable[str]) -> set[str]:
    """Those of ``hashes`` the blob store has whole (expired content's rows are gone first)."""
    found: set[str] = set()
    for some in chunked(set(hashes)):
        found.update(conn.execute(sa.select(blobs.c.sha256).where(blobs.c.sha256.in_(some))).scalars())
    return found


def missing(conn: sa.Connection, user: User, hashes: Iterable[str]) -> list[str]:
    """Those of ``hashes`` the user may not name (sorted): to upload before the version is made."""
    wanted = set(hashes)
    allowed = usable_blobs(conn, user, wanted)
    rest = sorted(wanted - allowed)
    for some in chunked(rest, 400):  # appears twice in the statement
        allowed |= _readable(conn, user, some)
    return sorted(wanted - (allowed & stored(conn, wanted)))
