"""The model registry: per entity, collections of linked artifact versions with their own aliases.

Linking puts a version (of any project the caller can read) into a collection, made on first
use; the link's aliases (``production``, ``staging``…) name one version of the collection each
and move to it from another. Deleted versions drop out of the listings.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wakelog.server.artifacts import store
from wakelog.server.http import not_found
from wakelog.store.members import create_entity
from wakelog.store.schema import (
    artifact_versions,
    entities,
    registry_aliases,
    registry_collections,
    registry_links,
)
from wakelog.store.upsert import insert_missing, upsert

_c, _l, _a = registry_collections.c, registry_links.c, registry_aliases.c


def link(
    conn: sa.Connection,
    entity: str,
    collection: str,
    version: store.Version,
    aliases: list[str],
    user_id: int,
    now: float,
) -> int:
    """Link the version into the entity's collection (made if new) with ``aliases``; returns the
    collection's primary key."""
    entity_id, _ = create_entity(conn, entity, user_id)
    identity = {"entity_id": entity_id, "name": collection}
    insert_missing(
        conn, registry_collections, {**identity, "created_at": now, "updated_at": now}, list(identity)
    )
    collection_pk = conn.execute(
        sa.select(_c.id).where(_c.entity_id == entity_id, _c.name == collection)
    ).scalar_one()
    row = {"collection_pk": collection_pk, "version_pk": version.pk, "created_by": user_id, "created_at": now}
    upsert(conn, registry_links, [row], ["collection_pk", "version_pk"])
    move_aliases(conn, collection_pk, version, aliases)
    conn.execute(sa.update(registry_collections).where(_c.id == collection_pk).values(updated_at=now))
    return int(collection_pk)


def find(conn: sa.Connection, entity: str, collection: str) -> int | None:
    """The primary key of the entity's registry collection, None if there is none."""
    found = conn.execute(
        sa.select(_c.id)
        .join(entities, entities.c.id == _c.entity_id)
        .where(entities.c.name == entity, _c.name == collection)
    ).scalar()
    return None if found is None else int(found)


def times(conn: sa.Connection, collection_pk: int) -> tuple[float, float]:
    """When the collection was made and last changed."""
    row = conn.execute(sa.select(_c.created_at, _c.updated_at).where(_c.id == collection_pk)).one()
    return float(row.created_at), float(row.updated_at)


def names_of(conn: sa.Connection, collection_pk: int) -> tuple[str, str] | None:
    """The (entity, name) of a registry collection; None if there is no such collection."""
    found = conn.execute(
        sa.select(entities.c.name, _c.name)
        .join(registry_collections, _c.entity_id == entities.c.id)
        .where(_c.id == collection_pk)
    ).first()
    return None if found is None else (str(found[0]), str(found[1]))


def unlink(conn: sa.Connection, collection_pk: int, version: store.Version, now: float) -> bool:
    """Take the version out of the collection, with the collection's aliases that named it (the
    version itself stays); False if it was not linked there."""
    drop = sa.delete(registry_aliases).where(_a.collection_pk == collection_pk, _a.version_pk == version.pk)
    conn.execute(drop)
    gone = conn.execute(
        sa.delete(registry_links).where(_l.collection_pk == collection_pk, _l.version_pk == version.pk)
    ).rowcount
    if gone:
        conn.execute(sa.update(registry_collections).where(_c.id == collection_pk).values(updated_at=now))
    return bool(gone)


def link_index(conn: sa.Connection, collection_pk: int, version: store.Version) -> int | None:
    """The version's place in the collection (0 for the first version linked), None if it is not
    linked there: wandb's ``versionIndex`` of a link (``collection:v<N>``)."""
    when = conn.execute(
        sa.select(_l.created_at).where(_l.collection_pk == collection_pk, _l.version_pk == version.pk)
    ).scalar()
    if when is None:
        return None
    earlier = sa.or_(_l.created_at < when, sa.and_(_l.created_at == when, _l.version_pk < version.pk))
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(registry_links)
            .where(_l.collection_pk == collection_pk, earlier)
        ).scalar_one()
    )


def aliases_of(conn: sa.Connection, collection_pk: int, version: store.Version) -> list[str]:
    return list(
        conn.execute(
            sa.select(_a.alias)
            .where(_a.collection_pk == collection_pk, _a.version_pk == version.pk)
            .order_by(_a.alias)
        ).scalars()
    )


def aliases_pointing_at(conn: sa.Connection, version: store.Version) -> list[tuple[str, str, str]]:
    """(entity, collection, alias) of every registry alias that names the version."""
    rows = conn.execute(
        sa.select(entities.c.name, _c.name, _a.alias)
        .join(registry_collections, registry_collections.c.id == _a.collection_pk)
        .join(entities, entities.c.id == _c.entity_id)
        .where(_a.version_pk == version.pk)
        .order_by(entities.c.name, _c.name, _a.alias)
    )
    return [(str(e), str(c), str(a)) for e, c, a in rows]


def move_aliases(conn: sa.Connection, collection_pk: int, version: store.Version, aliases: list[str]) -> None:
    """Point the collection's ``aliases`` at the (linked) version, from any other of its versions."""
    moved = [{"collection_pk": collection_pk, "alias": a, "version_pk": version.pk} for a in aliases]
    upsert(conn, registry_aliases, moved, ["collection_pk", "alias"], update=["version_pk"])


def drop_aliases(conn: sa.Connection, collection_pk: int, version: store.Version, aliases: list[str]) -> None:
    conn.execute(
        sa.delete(registry_aliases).where(
            _a.collection_pk == collection_pk, _a.version_pk == version.pk, _a.alias.in_(aliases or [""])
        )
    )


def _live_links() -> sa.Select[Any]:
    return sa.select(_l.collection_pk, _l.version_pk, _l.created_at).join(
        artifact_versions,
        sa.and_(artifact_versions.c.id == _l.version_pk, artifact_versions.c.deleted_at.is_(None)),
    )


def collections(conn: sa.Connection, entity: str) -> list[dict[str, Any]]:
    links = _live_links().subquery()
    query = (
        sa.select(_c.name, _c.created_at, _c.updated_at, sa.func.count(links.c.version_pk).label("versions"))
        .join(entities, entities.c.id == _c.entity_id)
        .outerjoin(links, links.c.collection_pk == _c.id)
        .where(entities.c.name == entity)
        .group_by(_c.id, _c.name, _c.created_at, _c.updated_at)
        .order_by(_c.name)
    )
    return [
        {"name": r.name, "versions": r.versions, "created_at": r.created_at, "updated_at": r.updated_at}
        for r in conn.execute(query)
    ]


def linked(conn: sa.Connection, entity: str, collection: str) -> list[dict[str, Any]]:
    """The collection's live versions, newest link first, each with its registry aliases; 404 if
    there is no such collection."""
    collection_pk = find(conn, entity, collection)
    if collection_pk is None:
        raise not_found(f"registry collection {entity}/{collection}")
    rows = conn.execute(
        _live_links().where(_l.collection_pk == collection_pk).order_by(_l.created_at.desc())
    ).all()
    aliases: dict[int, list[str]] = {}
    for version_pk, alias in conn.execute(
        sa.select(_a.version_pk, _a.alias).where(_a.collection_pk == collection_pk).order_by(_a.alias)
    ):
        aliases.setdefault(version_pk, []).append(alias)
    versions = {v.pk: v for v in store.by_pks(conn, (r.version_pk for r in rows))}
    return [
        versions[r.version_pk].public(registry_aliases=aliases.get(r.version_pk, []), linked_at=r.created_at)
        for r in rows
        if r.version_pk in versions
    ]
