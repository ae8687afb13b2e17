"""Audit entries (``server/audit.py``) for the changes people make to artifact versions and links.

* ``artifact.delete`` — a version to the trash; target its label (``entity/project/name:vN``),
  before: the aliases, tags and digest it had.
* ``artifact.edit`` — its description, metadata, tags, TTL or aliases changed; before → after:
  the fields that changed (an alias moved here from another version shows on this one).
* ``artifact.link``, ``artifact.unlink`` — a version into or out of a registry collection, or the
  collection's aliases on it changed; target ``entity/registry/collection``, before → after: the
  ``version`` and its ``aliases`` there (``null``: not linked).

A version's TTL running out is the server's doing, not a person's: only the TTL's edit is recorded.
Each function is called inside the change's transaction, after the change.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wakelog.server import audit
from wakelog.server.artifacts import registry, store
from wakelog.server.auth import User

#: A link as an audit entry shows it: the version's label and its aliases in the collection.
Link = dict[str, Any]

#: What ``artifact.edit`` compares (the rest of a version never changes).
EDITABLE = ("description", "metadata", "tags", "ttl", "aliases")


def deleted(conn: sa.Connection, actor: User, version: store.Version) -> None:
    kept = {"aliases": list(version.aliases), "tags": list(version.tags), "digest": version.digest}
    audit.record(conn, actor, "artifact.delete", version.label, entity=version.entity, before=kept)


def edited(conn: sa.Connection, actor: User, before: store.Version) -> None:
    """Record what changed since ``before`` (read before the change); nothing if nothing did."""
    (after,) = store.by_pks(conn, [before.pk])
    old, new = before.public(), after.public()
    changed = [field for field in EDITABLE if old[field] != new[field]]
    if changed:
        audit.record(
            conn,
            actor,
            "artifact.edit",
            before.label,
            entity=before.entity,
            before={field: old[field] for field in changed},
            after={field: new[field] for field in changed},
        )


def link_state(conn: sa.Connection, collection_pk: int | None, version: store.Version) -> Link | None:
    """The version's link into the collection; None if it is not linked there (or no collection)."""
    if collection_pk is None or registry.link_index(conn, collection_pk, version) is None:
        return None
    return {"version": version.label, "aliases": registry.aliases_of(conn, collection_pk, version)}


def link_changed(
    conn: sa.Connection, actor: User, collection_pk: int, version: store.Version, before: Link | None
) -> None:
    """Record a link made, changed or taken away (``before``: ``link_state`` before the change)."""
    after = link_state(conn, collection_pk, version)
    names = registry.names_of(conn, collection_pk)
    if after == before or names is None:
        return
    entity, collection = names
    action = "artifact.unlink" if after is None else "artifact.link"
    audit.record(
        conn, actor, action, f"{entity}/registry/{collection}", entity=entity, before=before, after=after
    )
