"""Artifacts: versioned sets of files per project and name, as wandb's ``log_artifact`` makes them.

``POST /api/v1/projects/{entity}/{project}/artifacts`` creates a version from a manifest whose
content was uploaded first (the run-scoped blob routes); the same content again answers the
version that has it. Versions are read by number or alias (``/artifacts/{e}/{p}/{name}:{v}``),
with their manifest, files, a diff against another version and their lineage; runs record the
versions they used; the registry links versions into collections per entity. Reading needs the
entity's ``viewer`` role, writing ``member``. docs/artifacts.md ("HTTP API") has the shapes.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from wakelog._artifacts import check_artifact_name
from wakelog.server.artifacts import audited, content, lineage, manifest, registry, store
from wakelog.server.auth import User
from wakelog.server.body import MAX_JSON_BODY, check_json, json_body_schema, read_body, read_json
from wakelog.server.errors import ArtifactIncomplete, InvalidArtifact, NotFound
from wakelog.server.http import entity_name, json_response, not_found, project_path, refuse_nul, run_path
from wakelog.server.permissions import Viewer, Writer, may_read, require
from wakelog.server.quotas import new_content_bytes
from wakelog.server.routes.files import blob_response

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
#: A manifest of a few hundred thousand entries fits (10k files take about 2 MiB).
MAX_MANIFEST_BODY = 32 * 1024 * 1024
MAX_DESCRIPTION = 64 * 1024
#: Lineage: how far out, and how many nodes at most (a graph that stays readable).
MAX_DEPTH = 10
MAX_LINEAGE_NODES = 500
VERSION = "/artifacts/{entity}/{project}/{name}:{version}"


class ArtifactVersionOut(BaseModel):
    id: int
    entity: str
    project: str
    name: str
    type: str
    version: str = Field(description='"v0", "v1", …')
    aliases: list[str]
    tags: list[str] = Field(default_factory=list, description="wandb's artifact tags")
    ttl: int | None = Field(
        None, description="seconds kept after creation, then moved to the trash; null: until deleted"
    )
    digest: str = Field(description="wandb's manifest digest")
    description: str | None
    metadata: dict[str, Any]
    size: int = Field(description="bytes, references included")
    file_count: int
    created_at: float
    created_by: str | None
    run: str | None = Field(description="the run that created it")
    state: str = Field(description="always committed: a version is visible only when complete")
    existing: bool | None = Field(None, description="creation only: the same content was there")


class EntryIn(BaseModel):
    digest: str = Field(description="base64 md5 of the content, as wandb")
    sha256: str | None = Field(None, description="the content in the blob store (uploaded first)")
    size: int = 0
    ref: str | None = Field(None, description="a reference's URI, stored and never fetched")
    extra: dict[str, Any] = Field(default_factory=dict)


class ManifestIn(BaseModel):
    version: int = 1
    entries: dict[str, EntryIn]


class VersionIn(BaseModel):
    name: str
    type: str
    description: str | None = None
    metadata: dict[str, Any] | None = None
    aliases: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="wandb's artifact tags")
    ttl: int | None = Field(None, description="seconds to keep it after creation; null: until deleted")
    manifest: ManifestIn
    digest: str | None = Field(None, description="the client's manifest digest, checked if given")
    run_id: str | None = Field(None, description="the creating run")
    distributed_id: str | None = None


class CollectionOut(BaseModel):
    name: str
    type: str
    versions: int
    latest: str
    updated_at: float
    size: int


class DiffOut(BaseModel):
    added: list[str]
    removed: list[str]
    changed: list[str]


class AliasesIn(BaseModel):
    aliases: list[str] = Field(max_length=1000)


class UseIn(BaseModel):
    artifact: str = Field(description="entity/project/name:version_or_alias", max_length=600)


class RunArtifactsOut(BaseModel):
    logged: list[ArtifactVersionOut]
    used: list[ArtifactVersionOut]


class NodeOut(BaseModel):
    id: str = Field(description='"run:e/p/run_id" or "artifact:e/p/name:v3"')
    kind: str = Field(description="run | artifact")
    label: str


class EdgeOut(BaseModel):
    model_config = {"populate_by_name": True}
    from_: str = Field(alias="from")
    to: str


class LineageOut(BaseModel):
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    truncated: bool = Field(description="more nodes were there than the graph shows")


class LinkIn(BaseModel):
    artifact: str = Field(description="entity/project/name:version_or_alias", max_length=600)
    aliases: list[str] = Field(default_factory=list, max_length=1000)


class RegistryCollectionOut(BaseModel):
    name: str
    versions: int
    created_at: float
    updated_at: float


class LinkedVersionOut(ArtifactVersionOut):
    registry_aliases: list[str]
    linked_at: float


# -- creating ---------------------------------------------------------------------------------------
def _text(body: dict[str, Any], key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        raise InvalidArtifact(f"'{key}' must be a text of at most {limit} characters")
    return value


def _aliases(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > 1000:
        raise InvalidArtifact("'aliases' must be a list of at most 1000 aliases")
    return store.user_aliases(value, allow_latest=True)


def _parse_version(data: bytes, entity: str, project: str, user: User) -> store.NewVersion:
    """The body of a create request, checked: the manifest first, so an entry path is refused by
    name (also one with NUL, which the generic JSON check would refuse without saying where)."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidArtifact("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidArtifact("the body must be a JSON object")
    entries = manifest.parse(body.get("manifest"))
    check_json(body)
    try:
        name = check_artifact_name(body.get("name"))  # type: ignore[arg-type]
        type_ = check_artifact_name(body.get("type"), "artifact type")  # type: ignore[arg-type]
    except ValueError as exc:
        raise InvalidArtifact(str(exc)) from None
    digest = manifest.digest(entries)
    claimed = body.get("digest")
    if claimed is not None and claimed != digest:
        raise InvalidArtifact(
            f"the manifest's digest is {digest}, not {claimed!r}: the manifest changed on the way"
        )
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InvalidArtifact("'metadata' must be an object")
    run_id = body.get("run_id")
    if run_id is not None:
        if not isinstance(run_id, str):
            raise InvalidArtifact("'run_id' must be the creating run's id")
        run_id = run_path(entity, project, run_id)[2]
    tags = body.get("tags") or []
    if not isinstance(tags, list):
        raise InvalidArtifact("'tags' must be a list of tags")
    return store.NewVersion(
        entity, project, name, type_, _text(body, "description", MAX_DESCRIPTION), metadata,
        _aliases(body.get("aliases") or []), entries, digest, run_id, user.id,
        store.check_tags(tags), store.check_ttl(body.get("ttl")),
    )  # fmt: skip


def store_version(state: Any, new: store.NewVersion, user: User) -> tuple[dict[str, Any], bool]:
    """Make the version (or find the one with its content) once its content is uploaded and fits
    the quota; also for the wandb client's ``commitArtifact``."""
    hashes = {e.sha256 for e in new.entries if e.sha256 is not None}
    with state.db.read() as conn:
        missing = content.missing(conn, user, hashes)
        new_bytes = 0 if missing else new_content_bytes(conn, new.entity, hashes)
    if missing:
        raise ArtifactIncomplete(
            f"{len(missing)} of the manifest's files are not uploaded yet: upload them and send it again",
            details={"missing": missing},
        )
    # content new to the entity counts toward its quota, as run files do (the uploader's counts already)
    state.quotas.check(None, new.entity, new_bytes=new_bytes)

    def still_stored(conn: Any) -> None:  # content expired since the check is missing again
        gone = sorted(hashes - content.stored(conn, hashes))
        if gone:
            raise ArtifactIncomplete(
                f"{len(gone)} of the manifest's files expired: upload them again", details={"missing": gone}
            )

    version_pk, existed = store.create(state.db, new, time.time(), still_stored)
    if not existed:
        state.quotas.count(None, new.entity, new_bytes=new_bytes)
    with state.db.read() as conn:
        version = store.by_pks(conn, [version_pk])[0]
    return version.public(existing=existed), existed


@router.post(
    "/projects/{entity}/{project}/artifacts",
    status_code=201,
    response_model=ArtifactVersionOut,
    openapi_extra=json_body_schema(VersionIn),
)
async def create_version(entity: str, project: str, request: Request, user: Writer) -> Any:
    """Create the next version of an artifact from its manifest (201), or answer the version with
    the same content (200, ``existing``; the aliases move to it). Content the manifest names must
    be uploaded first: 409 ``artifact_incomplete`` lists what is missing, and nothing is made."""
    entity, project = project_path(entity, project)
    state = request.app.state
    state.disk_guard.check()
    data = await read_body(request, MAX_MANIFEST_BODY)
    new = await run_in_threadpool(_parse_version, data, entity, project, user)
    answer, existed = await run_in_threadpool(store_version, state, new, user)
    return json_response(answer, status_code=200 if existed else 201)


# -- reading ---------------------------------------------------------------------------------------
def _name(entity: str, project: str, name: str) -> tuple[str, str, str]:
    entity, project = project_path(entity, project)
    try:
        return entity, project, check_artifact_name(name)
    except ValueError as exc:
        raise InvalidArtifact(str(exc)) from None


@router.get("/projects/{entity}/{project}/artifacts", response_model=list[CollectionOut])
def list_collections(
    entity: str,
    project: str,
    request: Request,
    user: Viewer,
    type: Annotated[str | None, Query(description="only artifacts of this type", max_length=128)] = None,
) -> Any:
    """The project's artifacts (names with live versions), by name."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        return json_response([c.public() for c in store.collections(conn, entity, project, type)])


@router.get("/artifacts/{entity}/{project}/{name}/versions", response_model=list[ArtifactVersionOut])
def list_versions(entity: str, project: str, name: str, request: Request, user: Viewer) -> Any:
    """Every live version of the artifact, newest first."""
    entity, project, name = _name(entity, project, name)
    with request.app.state.db.read() as conn:
        return json_response([v.public() for v in store.versions(conn, entity, project, name)])


def _version(request: Request, entity: str, project: str, name: str, version: str) -> store.Version:
    entity, project, name = _name(entity, project, name)
    with request.app.state.db.read() as conn:
        return store.resolve(conn, entity, project, name, version)


@router.get(VERSION, response_model=ArtifactVersionOut)
def get_version(entity: str, project: str, name: str, version: str, request: Request, user: Viewer) -> Any:
    """One version, by ``v<N>`` or alias."""
    return json_response(_version(request, entity, project, name, version).public())


@router.get(VERSION + "/manifest")
def get_manifest(entity: str, project: str, name: str, version: str, request: Request, user: Viewer) -> Any:
    """The version's manifest, as the SDK sent it: ``{"version": 1, "entries": {path: entry}}``."""
    found = _version(request, entity, project, name, version)
    with request.app.state.db.read() as conn:
        return json_response(manifest.document(store.entries(conn, found.pk)))


@router.get(
    VERSION + "/files/{path:path}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_entry(
    entity: str,
    project: str,
    name: str,
    version: str,
    path: str,
    request: Request,
    user: Viewer,
    download: Annotated[bool, Query(description="always as an attachment")] = False,
) -> Any:
    """A file of the version (``Range`` honoured, like run files). A reference has no content
    here: 404 names its URI."""
    found = _version(request, entity, project, name, version)
    with request.app.state.db.read() as conn:
        entry = store.entry(conn, found.pk, path)
    if entry is None:
        raise not_found(f"file {path!r} of {found.label}")
    if entry.sha256 is None:
        raise NotFound(
            f"file {path!r} of {found.label} is a reference to {entry.ref}; the server does not fetch it"
        )
    return blob_response(request, entry.sha256, path, download)


@router.get(VERSION + "/diff", response_model=DiffOut)
def diff_versions(
    entity: str,
    project: str,
    name: str,
    version: str,
    request: Request,
    user: Viewer,
    against: Annotated[str, Query(description="the version (or alias) to compare with", max_length=128)],
) -> Any:
    """Paths added, removed and changed from ``against`` to this version."""
    entity, project, name = _name(entity, project, name)
    with request.app.state.db.read() as conn:
        new = store.resolve(conn, entity, project, name, version)
        old = store.resolve(conn, entity, project, name, against)
        return json_response(manifest.diff(store.entries(conn, old.pk), store.entries(conn, new.pk)))


@router.get(VERSION + "/lineage", response_model=LineageOut)
def version_lineage(
    entity: str,
    project: str,
    name: str,
    version: str,
    request: Request,
    user: Viewer,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 2,
    max_nodes: Annotated[int, Query(ge=1, le=MAX_LINEAGE_NODES)] = MAX_LINEAGE_NODES,
) -> Any:
    """Runs and versions around this one: run → version it logged, version → run that used it."""
    entity, project, name = _name(entity, project, name)
    with request.app.state.db.read() as conn:
        start = store.resolve(conn, entity, project, name, version)
        return json_response(lineage.lineage(conn, user, start, depth, max_nodes))


# -- changing --------------------------------------------------------------------------------------
@router.put(
    VERSION + "/aliases", response_model=ArtifactVersionOut, openapi_extra=json_body_schema(AliasesIn)
)
async def set_aliases(
    entity: str, project: str, name: str, version: str, request: Request, user: Writer
) -> Any:
    """Make these the version's aliases: each moves here from another version of the name, and
    aliases the version had that are not listed go. ``latest`` is the server's (400)."""
    entity, project, name = _name(entity, project, name)
    body = await read_json(request, AliasesIn, MAX_JSON_BODY)
    aliases = store.user_aliases(body.aliases, allow_latest=False)
    db = request.app.state.db

    def apply() -> dict[str, Any]:
        with db.write() as conn:
            found = store.resolve(conn, entity, project, name, version)
            store.set_aliases(conn, found, aliases)
            audited.edited(conn, user, found)
        with db.read() as conn:
            return store.by_pks(conn, [found.pk])[0].public()

    return json_response(await run_in_threadpool(apply))


@router.delete(VERSION, status_code=204)
def delete_version(
    entity: str, project: str, name: str, version: str, request: Request, user: Writer
) -> Response:
    """Delete the version: gone at once (its aliases too, ``latest`` moves back), its files purged
    with it after the trash period; content nothing else uses is then collected."""
    entity, project, name = _name(entity, project, name)
    with request.app.state.db.write() as conn:
        found = store.resolve(conn, entity, project, name, version)
        store.soft_delete(conn, found, time.time())
        audited.deleted(conn, user, found)
    return Response(status_code=204)


def _other_version(conn: Any, user: User, path: str) -> store.Version:
    """The version an ``entity/project/name:alias`` names, if the user may read its entity."""
    entity, project, name, label = store.parse_path(path)
    where = f"artifact {entity}/{project}/{name}:{label}"
    require(conn, user, entity, "viewer", missing=where)
    return store.resolve(conn, entity, project, name, label)


@router.post("/runs/{entity}/{project}/{run_id}/artifacts/used", openapi_extra=json_body_schema(UseIn))
async def use_artifact(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Any:
    """Record that the run used a version (any the caller can read); answers the version."""
    entity, project, run_id = run_path(entity, project, run_id)
    body = await read_json(request, UseIn, MAX_JSON_BODY)
    db = request.app.state.db

    def apply() -> dict[str, Any]:
        with db.write() as conn:
            found = _other_version(conn, user, body.artifact)
            store.use(conn, found, entity, project, run_id, user.id, time.time())
        return found.public()

    return json_response(await run_in_threadpool(apply))


@router.get("/runs/{entity}/{project}/{run_id}/artifacts", response_model=RunArtifactsOut)
def run_artifacts(entity: str, project: str, run_id: str, request: Request, user: Viewer) -> Any:
    """The versions the run logged and used; a used version of a project the caller may not read
    (the run's user could) is left out."""
    entity, project, run_id = run_path(entity, project, run_id)
    with request.app.state.db.read() as conn:
        found = store.run_artifacts(conn, entity, project, run_id)
        found["used"] = [v for v in found["used"] if may_read(conn, user, v.entity, v.project)]
    return json_response({kind: [v.public() for v in listed] for kind, listed in found.items()})


# -- the registry ------------------------------------------------------------------------------------
def _collection(entity: str, collection: str) -> tuple[str, str]:
    try:
        return entity_name(entity), check_artifact_name(collection, "registry collection")
    except ValueError as exc:
        raise InvalidArtifact(str(exc)) from None


@router.post(
    "/registry/{entity}/{collection}/links",
    response_model=list[LinkedVersionOut],
    openapi_extra=json_body_schema(LinkIn),
)
async def link_version(entity: str, collection: str, request: Request, user: Writer) -> Any:
    """Link a version into the entity's registry collection (made if new), with aliases that move
    to it from other versions of the collection; answers the collection's versions."""
    entity, collection = _collection(entity, collection)
    body = await read_json(request, LinkIn, MAX_JSON_BODY)
    aliases = store.user_aliases(body.aliases, allow_latest=False)
    db = request.app.state.db

    def apply() -> list[dict[str, Any]]:
        with db.write() as conn:
            found = _other_version(conn, user, body.artifact)
            before = audited.link_state(conn, registry.find(conn, entity, collection), found)
            collection_pk = registry.link(conn, entity, collection, found, aliases, user.id, time.time())
            audited.link_changed(conn, user, collection_pk, found, before)
        with db.read() as conn:
            return registry.linked(conn, entity, collection)

    return json_response(await run_in_threadpool(apply))


@router.get("/registry/{entity}", response_model=list[RegistryCollectionOut])
def registry_collections(entity: str, request: Request, user: Viewer) -> Any:
    """The entity's registry collections, by name."""
    entity = entity_name(entity)
    with request.app.state.db.read() as conn:
        return json_response(registry.collections(conn, entity))


@router.get("/registry/{entity}/{collection}", response_model=list[LinkedVersionOut])
def registry_collection(entity: str, collection: str, request: Request, user: Viewer) -> Any:
    """The collection's linked versions, newest link first, with their registry aliases."""
    entity, collection = _collection(entity, collection)
    with request.app.state.db.read() as conn:
        return json_response(registry.linked(conn, entity, collection))
