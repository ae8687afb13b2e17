"""``wandb.Api()``'s artifact listings, onto wakelog's artifact store.

``api.artifact_types(project)`` / ``artifact_type(type, project)`` read ``project.artifactTypes``
and ``project.artifactType(name:)``; ``api.artifact_collections(project, type)`` (and
``project.collections()``) ``artifactType.artifactCollections`` (``project.artifactCollections``);
``api.artifacts(type, "entity/project/name")`` and ``collection.artifacts()`` the versions of
``artifactType.artifactCollection(name:).artifacts``; ``collection.aliases`` the top-level
``artifactCollection(id:).aliases``; ``run.logged_artifacts()`` / ``used_artifacts()`` a run's
``outputArtifacts`` / ``inputArtifacts``. Every list comes from ``store`` (live versions only: a
trashed one never shows) and is paged as W&B pages (``first``/``after``, ``pageInfo``,
``totalCount``); a cursor is the sort key of the last item sent, so a version deleted between two
pages moves nothing. Reading needs the ``viewer`` role under the entity, like the REST routes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa

from wakelog.server.artifacts import registry, store
from wakelog.server.errors import InvalidRequest, NotFound
from wakelog.server.permissions import may_read, require
from wakelog.server.wandb_compat.artifacts import (
    PORTFOLIO,
    SEQUENCE,
    artifact_node,
    collection_node,
    decode_id,
    node_id,
    typed_collection,
)
from wakelog.server.wandb_compat.graphql import Field, Strict
from wakelog.server.wandb_compat.reads import iso

#: A page holds this many items when the client names no size (W&B's default), at most ``MAX_PAGE``.
DEFAULT_PAGE, MAX_PAGE = 50, 1000
#: The only version filter the client sends (its default): every version wakelog keeps is committed.
COMMITTED = {"state": "COMMITTED"}

T = TypeVar("T")
Key = tuple[Any, ...]


def _cursor(key: Key) -> str:
    return base64.b64encode(json.dumps(list(key)).encode()).decode()


def _after(given: Any) -> Key | None:
    if given is None:
        return None
    try:
        found = json.loads(base64.b64decode(given, validate=True)) if isinstance(given, str) else None
    except (binascii.Error, ValueError, RecursionError):
        found = None
    if not isinstance(found, list):
        raise InvalidRequest("after must be the endCursor of the page before")
    return tuple(found)


def connection(
    typename: str,
    items: Sequence[T],
    key: Callable[[T], Key],
    edge: Callable[[T], dict[str, Any]],
    args: dict[str, Any],
) -> Strict:
    """One page of ``items`` (in ``key`` order) after the cursor ``args["after"]``, ``args["first"]``
    of them, as a W&B connection."""
    first = args.get("first")
    first = DEFAULT_PAGE if first is None else first
    if isinstance(first, bool) or not isinstance(first, int) or not 0 < first <= MAX_PAGE:
        raise InvalidRequest(f"first must be a whole number from 1 to {MAX_PAGE}")
    after = _after(args.get("after"))
    ordered = sorted(items, key=key)
    try:
        rest = ordered if after is None else [i for i in ordered if key(i) > after]
    except TypeError:
        raise InvalidRequest("after must be the endCursor of the page before") from None
    page = rest[:first]
    end = _cursor(key(page[-1])) if page else args.get("after")
    return Strict(
        typename,
        {
            "totalCount": len(ordered),
            "pageInfo": Strict("PageInfo", {"__typename": "PageInfo", "endCursor": end,
                                            "hasNextPage": len(rest) > first}),
            "edges": [Strict(typename.replace("Connection", "Edge"), {**edge(i), "cursor": _cursor(key(i))})
                      for i in page],
        },
    )  # fmt: skip


def _unfiltered(args: dict[str, Any], what: str) -> None:
    """Refuse, by name, the filters and orders wakelog does not apply (the client sends its
    default version filter, ``state: COMMITTED``, which every kept version passes)."""
    filters = args.get("filters")
    try:
        given = json.loads(filters) if isinstance(filters, str) else filters
    except (ValueError, RecursionError):
        raise InvalidRequest("filters must be a JSON object") from None
    if given not in (None, {}, COMMITTED):
        raise InvalidRequest(f"wakelog does not filter {what} (filters {str(filters)[:200]}); list them all")
    if args.get("order") is not None:
        raise InvalidRequest(f"wakelog does not order {what} (order {str(args['order'])[:100]!r})")


@contextmanager
def _read(ctx: Any, entity: str, project: str) -> Iterator[sa.Connection]:
    """A read transaction on the project, once the caller's ``viewer`` role is checked."""
    with ctx.state.db.read() as conn:
        require(conn, ctx.user, entity, "viewer", missing=f"project {entity}/{project}", project=project)
        yield conn


def _versions(ctx: Any, versions: Sequence[store.Version], args: dict[str, Any]) -> Strict:
    """A collection's versions, newest first, each with its ``version`` on the edge."""
    _unfiltered(args, "artifact versions")
    return connection(
        "VersionedArtifactConnection",
        versions,
        lambda v: (-v.version,),
        lambda v: {"version": f"v{v.version}", "node": artifact_node(ctx, v)},
        args,
    )


def _sequence(ctx: Any, entity: str, project: str, node: dict[str, Any]) -> dict[str, Any]:
    """A collection with its versions (``artifacts``); a registry collection's are not listed."""

    def listed(args: dict[str, Any]) -> Strict:
        if node["__typename"] != "ArtifactSequence":
            raise InvalidRequest(
                f"wakelog does not list the versions of the registry collection {node['name']!r} through "
                "wandb.Api; use wakelog.Api().registry or the registry page"
            )
        with _read(ctx, entity, project) as conn:
            try:
                found = store.versions(conn, entity, project, node["name"])
            except NotFound:
                found = []
        return _versions(ctx, found, args)

    return {**node, "artifacts": Field(listed)}


def _collections(ctx: Any, entity: str, project: str, type_: str | None, args: dict[str, Any]) -> Strict:
    _unfiltered(args, "artifact collections")
    with _read(ctx, entity, project) as conn:
        found = store.collections(conn, entity, project, type_)
    nodes = [
        _sequence(ctx, entity, project, collection_node("ArtifactSequence", c.pk, c.name, c.type, entity,
                                                        project, c.created_at, c.updated_at))
        for c in found
    ]  # fmt: skip
    return connection("ArtifactCollectionConnection", nodes, lambda n: (n["name"],),
                      lambda n: {"node": n}, args)  # fmt: skip


def _type_node(ctx: Any, entity: str, project: str, name: str, created: float | None) -> dict[str, Any]:
    def collection(args: dict[str, Any]) -> dict[str, Any] | None:
        found = typed_collection(ctx, entity, project, name, args.get("name"))
        return None if found is None else _sequence(ctx, entity, project, found)

    return {
        "__typename": "ArtifactType",
        "id": node_id("ArtifactType:", f"{entity}/{project}/{name}"),
        "name": name,
        "description": None,
        "createdAt": iso(created),
        "artifactCollection": Field(collection),
        "artifactCollections": Field(lambda a: _collections(ctx, entity, project, name, a)),
    }


def _types(ctx: Any, entity: str, project: str) -> dict[str, float]:
    """The project's artifact types with live versions, each with its first artifact's creation."""
    with _read(ctx, entity, project) as conn:
        found = store.collections(conn, entity, project, None)
    types: dict[str, float] = {}
    for c in found:
        types[c.type] = min(types.get(c.type, c.created_at), c.created_at)
    return types


def project_fields(ctx: Any, entity: str, project: str) -> dict[str, Any]:
    """The project's artifact listings: its types, a type, its collections."""

    def artifact_type(args: dict[str, Any]) -> dict[str, Any] | None:
        name = args.get("name")
        if not isinstance(name, str):
            raise InvalidRequest("artifactType needs a type name")
        types = _types(ctx, entity, project)
        if name not in types:
            # a type the project has no artifact of is none, unless the entity's registry
            # (whose collections take versions of any type) may hold a collection of it
            with _read(ctx, entity, project) as conn:
                if not registry.collections(conn, entity):
                    return None
        return _type_node(ctx, entity, project, name, types.get(name))

    def artifact_types(args: dict[str, Any]) -> Strict:
        nodes = [_type_node(ctx, entity, project, n, t) for n, t in _types(ctx, entity, project).items()]
        by_name: Callable[[dict[str, Any]], Key] = lambda n: (n["name"],)  # noqa: E731
        return connection("ArtifactTypeConnection", nodes, by_name, lambda n: {"node": n}, args)

    return {
        "artifactType": Field(artifact_type),
        "artifactTypes": Field(artifact_types),
        "artifactCollections": Field(lambda a: _collections(ctx, entity, project, None, a)),
    }


def run_fields(ctx: Any, entity: str, project: str, run_id: str) -> dict[str, Any]:
    """A run's ``outputArtifacts`` (the versions it logged) and ``inputArtifacts`` (used); a used
    version of an entity the caller cannot read is left out."""

    def listed(relation: str, args: dict[str, Any]) -> Strict:
        with _read(ctx, entity, project) as conn:
            found = store.run_artifacts(conn, entity, project, run_id)[relation]
            readable = [v for v in found if may_read(conn, ctx.user, v.entity, v.project)]
        return connection(
            "ArtifactConnection", readable, lambda v: (v.name, v.version, v.pk),
            lambda v: {"node": artifact_node(ctx, v)}, args,
        )  # fmt: skip

    return {
        "outputArtifacts": Field(lambda a: listed("logged", a)),
        "inputArtifacts": Field(lambda a: listed("used", a)),
    }


def collection_by_id(ctx: Any, args: dict[str, Any]) -> dict[str, Any] | None:
    """``artifactCollection(id:)``: a project's collection, for its ``aliases`` (those of its live
    versions, ``latest`` too, as on W&B); None if there is none the caller may read."""
    node = args.get("id")
    pk = decode_id(node, SEQUENCE)
    if pk is None or not pk.isdigit():
        if decode_id(node, PORTFOLIO) is not None:
            raise InvalidRequest(
                "wakelog does not list a registry collection's aliases through wandb.Api; "
                "use wakelog.Api().registry or the registry page"
            )
        raise InvalidRequest(f"{str(node)[:100]!r} is not the id of an artifact collection")
    with ctx.state.db.read() as conn:
        found = store.sequence(conn, int(pk))
        if not found:
            return None
        if not may_read(conn, ctx.user, found[0].entity, found[0].project):
            return None
    aliases = sorted({(a, v.pk) for v in found for a in v.aliases})

    def edge(alias: tuple[str, int]) -> dict[str, Any]:
        name, pk = alias
        return {"node": {"__typename": "ArtifactAlias", "id": node_id("ArtifactAlias:", f"{pk}:{name}"),
                         "alias": name}}  # fmt: skip

    def listed(args: dict[str, Any]) -> Strict:
        return connection("ArtifactAliasConnection", aliases, lambda a: (a[0],), edge, args)

    return {"__typename": "ArtifactSequence", "id": node, "name": found[0].name, "aliases": Field(listed)}
