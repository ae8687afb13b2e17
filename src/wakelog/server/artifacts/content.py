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
from wakelog.store.content_refs import content_refs
from wakelog.store.schema import blobs


def _readable(conn: sa.Connection, user: User, hashes: list[str]) -> set[str]:
    refs = content_refs(readable_entities(user), hashes, trashed_artifacts=False)
    return set(conn.execute(refs).scalars())


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
