"""Changes the wandb client makes to a logged artifact version, onto wakelog's artifact store.

``artifact.aliases.append(…)`` / ``.remove(…)`` then ``artifact.save()`` send ``addAliases`` and
``deleteAliases`` (one alias list per collection), then ``updateArtifact`` (description,
metadata, TTL, tags); ``run.link_artifact(artifact, "portfolio")`` and ``artifact.link(…)``
send ``linkArtifact``, ``linked.unlink()`` (or ``delete()`` of a linked artifact)
``unlinkArtifact``, and ``artifact.delete(delete_aliases=…)`` ``deleteArtifact``: the same soft
delete as wakelog's ``DELETE /api/v1/artifacts/…`` (the trash, then expiry). A link goes into
wakelog's model registry: the entity's registry collection named like the portfolio (wakelog's
registry is per entity, as its own SDK's ``link_artifact`` makes it), its aliases the
collection's. Each checks the role the REST routes
check for the same change (``member`` of the entity that changes, ``viewer`` of a linked version's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wakelog._artifacts import check_artifact_name
from wakelog.server.artifacts import audited, registry, store
from wakelog.server.errors import Conflict, InvalidArtifact, InvalidRequest, NotFound
from wakelog.server.http import project_path
from wakelog.server.permissions import require, require_writer
from wakelog.server.wandb_compat.artifacts import (
    alias_names,
    artifact_node,
    described,
    node_id,
    portfolio_pk,
    project_info,
    tag_names,
    ttl_of,
    version_of,
)
from wakelog.server.wandb_compat.reads import iso

#: The most aliases one request changes.
MAX_ALIASES = 1000


def _input(args: dict[str, Any], operation: str) -> dict[str, Any]:
    given = args.get("input")
    if not isinstance(given, dict):
        raise InvalidRequest(f"{operation} needs an input object")
    return given


def update_artifact(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """``artifact.save()`` of a logged version: its description and metadata, tags added and
    taken off, and its TTL (sent only when the script changed it: a number of seconds, or
    -1/-2 for none)."""
    given = _input(args, "updateArtifact")
    description, metadata = described(given)
    add, remove = tag_names(given.get("tagsToAdd")), tag_names(given.get("tagsToDelete"))
    ttl_given = given.get("ttlDurationSeconds") is not None
    ttl = ttl_of(given.get("ttlDurationSeconds"))
    with ctx.state.db.write() as conn:
        version = version_of(conn, given.get("artifactID"))
        require_writer(conn, ctx.user, version.entity)
        store.describe(
            conn,
            version,
            version.description if description is None else description,
            version.metadata if metadata is None else metadata,
        )
        if add or remove:
            store.set_tags(conn, version, add, remove)
        if ttl_given:
            store.set_ttl(conn, version, ttl)
        audited.edited(conn, ctx.user, version)
        (changed,) = store.by_pks(conn, [version.pk])
    return {"artifact": artifact_node(ctx, changed)}


@dataclass(frozen=True)
class _Target:
    """The collection an alias input names: the version's own (``registry_pk`` None) or a
    registry collection of ``entity`` the version is linked into."""

    entity: str
    registry_pk: int | None


def _target(conn: sa.Connection, version: store.Version, item: Any) -> _Target:
    if not isinstance(item, dict):
        raise InvalidArtifact("aliases must be a list of {alias, artifactCollectionName, …} objects")
    entity = item.get("entityName") or version.entity
    project = item.get("projectName") or version.project
    name = item.get("artifactCollectionName") or version.name
    if not all(isinstance(part, str) for part in (entity, project, name)):
        raise InvalidArtifact("an alias's entityName, projectName and artifactCollectionName are strings")
    if (entity, project, name) == (version.entity, version.project, version.name):
        return _Target(version.entity, None)
    found = registry.find(conn, entity, name)
    if found is None or registry.link_index(conn, found, version) is None:
        raise InvalidArtifact(f"{version.label} is not in the artifact collection {entity}/{project}/{name}")
    return _Target(entity, found)


def _aliases(conn: sa.Connection, version: store.Version, given: Any) -> dict[_Target, list[str]]:
    """The input's aliases by the collection they are in, checked (``latest`` is the server's)."""
    if not isinstance(given, list) or not 0 < len(given) <= MAX_ALIASES:
        raise InvalidArtifact(f"aliases must be a list of 1 to {MAX_ALIASES} alias objects")
    grouped: dict[_Target, list[str]] = {}
    for item in given:
        target = _target(conn, version, item)
        grouped.setdefault(target, []).extend(store.user_aliases([item.get("alias")], allow_latest=False))
    return grouped


def _edit_aliases(ctx: Any, args: dict[str, Any], operation: str, adding: bool) -> dict[str, Any]:
    given = _input(args, operation)
    with ctx.state.db.write() as conn:
        version = version_of(conn, given.get("artifactID"))
        require(conn, ctx.user, version.entity, "viewer", missing=f"artifact {version.label}")
        for target, aliases in _aliases(conn, version, given.get("aliases")).items():
            require_writer(conn, ctx.user, target.entity)
            if target.registry_pk is None and adding:
                store.move_aliases(conn, version.artifact_pk, version.pk, aliases)
            elif target.registry_pk is None:
                store.drop_aliases(conn, version, aliases)
            else:
                before = audited.link_state(conn, target.registry_pk, version)
                change = registry.move_aliases if adding else registry.drop_aliases
                change(conn, target.registry_pk, version, aliases)
                audited.link_changed(conn, ctx.user, target.registry_pk, version, before)
        audited.edited(conn, ctx.user, version)
    return {"success": True}


def add_aliases(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Aliases added to a logged version (or to its link): each moves from another version."""
    return _edit_aliases(ctx, args, "addAliases", adding=True)


def delete_aliases(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Aliases taken off a logged version (or off its link)."""
    return _edit_aliases(ctx, args, "deleteAliases", adding=False)


def link_artifact(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Link a version into the registry collection named like the portfolio, under the entity
    the input names, with the input's aliases; answers the link as wandb's membership."""
    given = _input(args, "linkArtifact")
    if given.get("artifactID") is None:
        raise InvalidArtifact("linkArtifact needs the artifactID (a link by client id is not supported)")
    entity = given.get("entityName") or ctx.user.username
    project = given.get("projectName") or "uncategorized"
    if not isinstance(entity, str) or not isinstance(project, str):
        raise InvalidArtifact("linkArtifact's entityName and projectName are strings")
    entity, project = project_path(entity, project)
    try:
        portfolio = check_artifact_name(given.get("artifactPortfolioName"), "registry collection")  # type: ignore[arg-type]
    except ValueError as exc:
        raise InvalidArtifact(str(exc)) from None
    names = alias_names(given.get("aliases"))
    now = time.time()
    with ctx.state.db.write() as conn:
        version = version_of(conn, given["artifactID"])
        require(conn, ctx.user, version.entity, "viewer", missing=f"artifact {version.label}")
        require_writer(conn, ctx.user, entity)
        before = audited.link_state(conn, registry.find(conn, entity, portfolio), version)
        collection_pk = registry.link(conn, entity, portfolio, version, names, ctx.user.id, now)
        audited.link_changed(conn, ctx.user, collection_pk, version, before)
        index = registry.link_index(conn, collection_pk, version)
        held = registry.aliases_of(conn, collection_pk, version)
        (version,) = store.by_pks(conn, [version.pk])
    collection = {
        "__typename": "ArtifactPortfolio",
        "name": portfolio,
        "project": project_info(entity, project),
    }
    membership = {
        "__typename": "ArtifactCollectionMembership",
        "id": node_id("ArtifactCollectionMembership:", f"{collection_pk}:{version.pk}"),
        "versionIndex": index,
        "createdAt": iso(now),
        "aliases": [
            {"__typename": "ArtifactAlias", "id": node_id("RegistryAlias:", f"{collection_pk}:{a}"),
             "alias": a, "artifactCollection": collection}
            for a in held
        ],
        "artifactCollection": collection,
        "artifact": artifact_node(ctx, version),
    }  # fmt: skip
    return {"versionIndex": index, "artifactMembership": membership}


def delete_artifact(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """``artifact.delete()``: the version goes to the trash as wakelog's own delete puts it
    (``store.soft_delete``: hidden at once, ``latest`` moves back, purged after the trash period).
    A version that holds aliases (``latest`` too, as on W&B) is deleted only with
    ``delete_aliases=True`` (``deleteAliases``); otherwise 409 names them and nothing changes."""
    given = _input(args, "deleteArtifact")
    with_aliases = given.get("deleteAliases")
    if with_aliases is not None and not isinstance(with_aliases, bool):
        raise InvalidArtifact("deleteAliases must be true or false")
    with ctx.state.db.write() as conn:
        version = version_of(conn, given.get("artifactID"))
        require_writer(conn, ctx.user, version.entity)
        if version.aliases and not with_aliases:
            raise Conflict(
                f"cannot delete {version.label}: it has aliases ({', '.join(version.aliases)}); "
                "take them off first or delete it with delete_aliases=True"
            )
        store.soft_delete(conn, version, time.time())
        audited.deleted(conn, ctx.user, version)
    return {"artifact": {"id": node_id("Artifact:", str(version.pk))}}


def unlink_artifact(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """``linked.unlink()`` (and ``delete()`` of a linked artifact): the version leaves the registry
    collection with the collection's aliases that named it; the version itself stays. Needs the
    ``member`` role of the collection's entity, as linking does."""
    given = _input(args, "unlinkArtifact")
    collection_pk = portfolio_pk(given.get("artifactPortfolioID"))
    with ctx.state.db.write() as conn:
        version = version_of(conn, given.get("artifactID"))
        require(conn, ctx.user, version.entity, "viewer", missing=f"artifact {version.label}")
        names = registry.names_of(conn, collection_pk)
        if names is None:
            raise NotFound("the artifact collection was not found (deleted?)")
        require_writer(conn, ctx.user, names[0])
        before = audited.link_state(conn, collection_pk, version)
        if not registry.unlink(conn, collection_pk, version, time.time()):
            raise NotFound(f"{version.label} is not linked into that collection")
        audited.link_changed(conn, ctx.user, collection_pk, version, before)
    return {"success": True}
