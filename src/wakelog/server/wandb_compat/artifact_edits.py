"""Changes the wandb client makes to a logged artifact version, onto wakelog's artifact store.

``artifact.aliases.append(…)`` / ``.remove(…)`` then ``artifact.save()`` send ``addAliases`` and
``deleteAliases`` (one alias list per collection), then ``updateArtifact`` (description,
metadata, TTL, tags); ``run.link_artifact(artifact, "portfolio")`` and ``artifact.link(…)``
send ``linkArtifact``. A link goes into wakelog's model registry: the entity's registry
collection named like the portfolio (wakelog's registry is per entity, as its own SDK's
``link_artifact`` makes it), its aliases the collection's. Each checks the role the REST routes
check for the same change (``member`` of the entity that changes, ``viewer`` of a linked version's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wakelog._artifacts import check_artifact_name
from wakelog.server.artifacts import registry, store
from wakelog.server.errors import InvalidArtifact, InvalidRequest
from wakelog.server.http import project_path
from wakelog.server.permissions import require, require_writer
from wakelog.server.wandb_compat.artifacts import (
    alias_names,
    artifact_node,
    described,
    node_id,
    project_info,
    version_of,
)
from wakelog.server.wandb_compat.reads import iso

#: The client's TTL values that mean "none" (wakelog keeps versions until they are deleted).
_NO_TTL = (None, -1, -2)
#: The most aliases one request changes.
MAX_ALIASES = 1000


def _input(args: dict[str, Any], operation: str) -> dict[str, Any]:
    given = args.get("input")
    if not isinstance(given, dict):
        raise InvalidRequest(f"{operation} needs an input object")
    return given


def update_artifact(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """``artifact.save()`` of a logged version: its description and metadata. TTLs and tags,
    which wakelog does not keep, are refused by name when set (the client sends none unless
    the script set them)."""
    given = _input(args, "updateArtifact")
    for field in ("tagsToAdd", "tagsToDelete"):
        if given.get(field):
            raise InvalidArtifact(f"wakelog does not keep artifact tags ({field}); see docs/wandb-client.md")
    if given.get("ttlDurationSeconds") not in _NO_TTL:
        raise InvalidArtifact(
            "wakelog keeps artifact versions until they are deleted: a TTL (ttlDurationSeconds) "
            "is not supported"
        )
    description, metadata = described(given)
    with ctx.state.db.write() as conn:
        version = version_of(conn, given.get("artifactID"))
        require_writer(conn, ctx.user, version.entity)
        store.describe(
            conn,
            version,
            version.description if description is None else description,
            version.metadata if metadata is None else metadata,
        )
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
            elif adding:
                registry.move_aliases(conn, target.registry_pk, version, aliases)
            else:
                registry.drop_aliases(conn, target.registry_pk, version, aliases)
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
        registry.link(conn, entity, portfolio, version, names, ctx.user.id, now)
        collection_pk = registry.find(conn, entity, portfolio)
        assert collection_pk is not None  # link made it
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
