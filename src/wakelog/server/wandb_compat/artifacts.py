"""The artifact operations the wandb client sends, onto wakelog's own artifact store.

The client (wandb-core) logs an artifact in steps: ``createArtifact`` (name, type, aliases, the
manifest's digest), ``createArtifactManifest`` and ``createArtifactFiles`` (upload URLs, one per
file, by md5), the PUTs, the manifest's PUT, then ``commitArtifact``. wakelog makes the version at
the commit, in one transaction, with ``routes/artifacts.store_version`` like its own SDK does.

Until then nothing is kept in the database but the uploads themselves: the pending artifact's
id carries what ``createArtifact`` said (the commit checks the role again, so a forged id gains
nothing), and each upload is stored as a run file under ``STAGING`` (the file by its md5, the
manifest by the artifact's digest), which the commit reads and then deletes. A version with the
same content found at ``createArtifact`` answers ``COMMITTED`` at once: the client uploads nothing
(its aliases move, and the run is recorded as logging it), as wakelog's SDK deduplicates.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

import sqlalchemy as sa

from wakelog._artifacts import check_artifact_name
from wakelog.server.artifacts import manifest, registry, store
from wakelog.server.errors import InvalidArtifact, InvalidRequest, NotFound
from wakelog.server.http import run_path
from wakelog.server.permissions import require, require_writer, usable_blobs
from wakelog.server.routes.artifacts import MAX_DESCRIPTION, store_version
from wakelog.server.wandb_compat import uploads
from wakelog.server.wandb_compat.graphql import Field
from wakelog.server.wandb_compat.mapping import loads
from wakelog.server.wandb_compat.reads import iso
from wakelog.store.chunks import chunked
from wakelog.store.ingest import ensure_run
from wakelog.store.schema import artifact_files, run_files

#: Where a run's artifact uploads wait for their commit, as run files (under wakelog's own staging name).
STAGING = "artifacts/staging/wandb/"
PENDING = "PendingArtifact:"
VERSION = "Artifact:"
#: The most files one ``createArtifactFiles`` asks for (the client sends batches of a few hundred).
MAX_FILES = 10_000


def node_id(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}{value}".encode()).decode()


def decode_id(node_id: Any, kind: str) -> str | None:
    """The value of an id ``node_id(kind, …)`` made; None for another kind or a damaged one."""
    if not isinstance(node_id, str):
        return None
    try:
        text = base64.b64decode(node_id, validate=True).decode()
    except (binascii.Error, ValueError):
        return None
    return text[len(kind) :] if text.startswith(kind) else None


def version_id(pk: int) -> str:
    return node_id(VERSION, str(pk))


def version_of(conn: sa.Connection, node_id: Any) -> store.Version:
    """The committed version an id names: a version's own id, or the id ``createArtifact`` gave
    while the client logged it (the client goes on using that one: ``wait()``, alias edits,
    links), which names the version of its name with its digest. 404 if there is none (yet)."""
    value = decode_id(node_id, VERSION)
    if value is not None and value.isdigit():
        found = store.by_pks(conn, [int(value)])
    else:
        if decode_id(node_id, PENDING) is None:
            raise InvalidArtifact(f"{str(node_id)[:100]!r} is not the id of an artifact version")
        pending = _from_id(node_id)
        entity, project, _ = run_path(*pending["path"])
        try:
            listed = store.versions(conn, entity, project, pending["name"])
            found = [v for v in listed if v.digest == pending["digest"]]
        except NotFound:
            found = []
    if not found:
        raise NotFound(f"artifact version {str(node_id)[:100]!r} not found (deleted, or not committed)")
    return found[0]


def _text(given: dict[str, Any], name: str) -> str | None:
    value = given.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidArtifact(f"{name} must be a string")
    return value


def alias_names(given: Any) -> list[str]:
    """The distinct aliases of a list of ``{alias}`` objects (``latest`` left to the server)."""
    if given is None:
        return []
    if not isinstance(given, list) or len(given) > 1000:
        raise InvalidArtifact("aliases must be a list of at most 1000 {alias} objects")
    names = [a.get("alias") if isinstance(a, dict) else None for a in given]
    return store.user_aliases(names, allow_latest=True)  # type: ignore[arg-type]


def _pending(ctx: Any, given: dict[str, Any]) -> dict[str, Any]:
    """What ``createArtifact`` says, checked: the pending version its id carries."""
    entity, project = _text(given, "entityName") or ctx.user.username, _text(given, "projectName")
    path = run_path(entity, project or "uncategorized", _text(given, "runName") or "")
    try:
        name = check_artifact_name(given.get("artifactCollectionName"))  # type: ignore[arg-type]
        type_ = check_artifact_name(given.get("artifactTypeName"), "artifact type")  # type: ignore[arg-type]
    except ValueError as exc:
        raise InvalidArtifact(str(exc)) from None
    if given.get("digestAlgorithm") not in (None, "MANIFEST_MD5"):
        raise InvalidArtifact(f"digestAlgorithm {given['digestAlgorithm']!r}: wakelog takes MANIFEST_MD5")
    digest = _text(given, "digest")
    if not digest or len(digest) > manifest.MAX_DIGEST:
        raise InvalidArtifact("createArtifact needs the manifest's digest")
    description, metadata = described(given)
    return {
        "path": list(path),
        "name": name,
        "type": type_,
        "digest": digest,
        "aliases": alias_names(given.get("aliases")),
        "description": description,
        "metadata": metadata or {},
        "tags": tag_names(given.get("tags")),
        "ttl": ttl_of(given.get("ttlDurationSeconds")),
    }


#: The client's TTL values that mean "none": INHERIT (-1; wakelog has no collection TTL policy to
#: inherit, so none) and DISABLED (-2).
NO_TTL = (-1, -2)


def ttl_of(given: Any) -> int | None:
    """A TTL the client sends (``ttlDurationSeconds``), in seconds; None for none."""
    return None if given is None or given in NO_TTL else store.check_ttl(given)


def tag_names(given: Any) -> list[str]:
    """The distinct tags of a list of ``{tagName}`` objects, checked as wandb's client does."""
    if given is None:
        return []
    if not isinstance(given, list) or len(given) > store.MAX_TAGS:
        raise InvalidArtifact(f"tags must be a list of at most {store.MAX_TAGS} {{tagName}} objects")
    return store.check_tags(t.get("tagName") if isinstance(t, dict) else None for t in given)


def described(given: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The description and metadata (a JSON string) an input gives, checked; None if not given."""
    description = _text(given, "description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidArtifact(f"description must be at most {MAX_DESCRIPTION} characters")
    metadata = loads(given["metadata"], "metadata") if given.get("metadata") else None
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidArtifact("metadata must be a JSON object")
    return description, metadata


def _from_id(node_id: Any) -> dict[str, Any]:
    value = decode_id(node_id, PENDING)
    try:
        found = json.loads(value) if value is not None else None
    except ValueError:
        found = None
    if not isinstance(found, dict) or not isinstance(found.get("path"), list) or len(found["path"]) != 3:
        raise InvalidArtifact(f"{str(node_id)[:100]!r} is not the id of an artifact being logged")
    return found


def _new_version(ctx: Any, pending: dict[str, Any], entries: list[manifest.Entry]) -> store.NewVersion:
    entity, project, run_id = run_path(*pending["path"])
    return store.NewVersion(
        entity, project, pending["name"], pending["type"], pending["description"], pending["metadata"],
        pending["aliases"], entries, pending["digest"], run_id, ctx.user.id,
        pending.get("tags") or [], pending.get("ttl"),
    )  # fmt: skip


def _answer(pk: int, state: str) -> dict[str, Any]:
    node = {"id": version_id(pk), "state": state}
    return {"artifact": {**node, "artifactSequence": {"latestArtifact": {"id": version_id(pk)}}}}


def create_artifact(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    given = args.get("input")
    if not isinstance(given, dict):
        raise InvalidRequest("createArtifact needs an input object")
    pending = _pending(ctx, given)
    entity, project, _ = pending["path"]
    with ctx.state.db.read() as conn:
        require_writer(conn, ctx.user, entity)
        try:
            existing = store.versions(conn, entity, project, pending["name"])
        except NotFound:  # no version of the name yet: nothing to deduplicate
            existing = []
        same = next((v for v in existing if v.digest == pending["digest"]), None)
        entries = store.entries(conn, same.pk) if same is not None else []
    if same is not None:  # the same content again: the aliases move, the run logged it, nothing uploads
        answer, _ = store_version(ctx.state, _new_version(ctx, pending, entries), ctx.user)
        return _answer(answer["id"], "COMMITTED")
    token = node_id(PENDING, json.dumps(pending, separators=(",", ":")))
    return {"artifact": {"id": token, "state": "PENDING", "artifactSequence": {"latestArtifact": None}}}


def _md5_hex(digest: Any) -> str:
    try:
        raw = base64.b64decode(digest, validate=True) if isinstance(digest, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise InvalidArtifact(f"{str(digest)[:100]!r} is not a file's md5 (16 bytes, base64)")
    return raw.hex()


def _staged(conn: sa.Connection, run_pk: int, names: list[str]) -> dict[str, tuple[str, int]]:
    """The run's staged uploads among ``names``: name → (sha256, size)."""
    f = run_files.c
    found: dict[str, tuple[str, int]] = {}
    for some in chunked(names):
        query = sa.select(f.name, f.sha256, f.size).where(f.run_pk == run_pk, f.name.in_(some))
        found.update(
            (row.name, (row.sha256, row.size)) for row in conn.execute(query.where(f.sha256.is_not(None)))
        )
    return found


def _known(conn: sa.Connection, user: Any, digests: set[str]) -> dict[str, tuple[str, int]]:
    """Content the user uploaded whole before, found by an artifact entry's digest (md5): not sent
    again. Only their own: md5 collides on purpose, so content of others is never named by it."""
    f = artifact_files.c
    found: dict[str, list[tuple[str, int]]] = {}
    for some in chunked(sorted(digests)):
        query = sa.select(f.digest, f.sha256, f.size).where(f.digest.in_(some), f.sha256.is_not(None))
        for row in conn.execute(query.distinct()):
            found.setdefault(row.digest, []).append((row.sha256, row.size))
    held = usable_blobs(conn, user, {sha for options in found.values() for sha, _ in options})
    return {
        d: next(o for o in options if o[0] in held)
        for d, options in found.items()
        if any(o[0] in held for o in options)
    }


def _run_pk(ctx: Any, path: tuple[str, str, str]) -> int:
    with ctx.state.db.write() as conn:
        require_writer(conn, ctx.user, path[0])
        return int(ensure_run(conn, *path, ctx.user.id)[0].id)


def _upload(ctx: Any, path: tuple[str, str, str], name: str, md5: str | None) -> dict[str, Any]:
    with ctx.state.db.read() as conn:
        key_id = uploads.key_of(conn, ctx.key_hash)
    assert ctx.key_hash is not None  # key_of found the key by it
    target = uploads.Target(*path, name, md5)
    return {"uploadUrl": uploads.upload_url(ctx.base_url, key_id, ctx.key_hash, target, time.time())}


def _manifest_name(pending: dict[str, Any]) -> str:
    return f"{STAGING}{pending['name']}-{pending['digest']}.manifest.json"


def _manifest_file(ctx: Any, node_id: Any, include_upload: Any) -> dict[str, Any]:
    pending = _from_id(node_id)
    path = run_path(*pending["path"])
    _run_pk(ctx, path)
    file: dict[str, Any] = {"id": node_id, "uploadHeaders": []}
    if include_upload is not False:
        file.update(_upload(ctx, path, _manifest_name(pending), None))
    return {"artifactManifest": {"id": node_id, "file": file}}


def create_manifest(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """An upload URL for the manifest (the manifest's id is the pending artifact's)."""
    given = args.get("input")
    if not isinstance(given, dict):
        raise InvalidRequest("createArtifactManifest needs an input object")
    return _manifest_file(ctx, given.get("artifactID"), True)


def update_manifest(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    given = args.get("input")
    if not isinstance(given, dict):
        raise InvalidRequest("updateArtifactManifest needs an input object")
    return _manifest_file(ctx, given.get("artifactManifestID"), True)


def create_files(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """An upload URL per file the server does not have yet (none for content it has: dedup)."""
    given = args.get("input")
    files = given.get("artifactFiles") if isinstance(given, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files) or len(files) > MAX_FILES:
        raise InvalidRequest(f"createArtifactFiles needs an input with artifactFiles (at most {MAX_FILES})")
    groups: dict[str, list[int]] = {}  # the files of each pending artifact (the client sends one)
    for index, file in enumerate(files):
        groups.setdefault(str(file.get("artifactID")), []).append(index)
    edges: list[dict[str, Any]] = [{} for _ in files]
    for node_id, indexes in groups.items():
        path = run_path(*_from_id(node_id)["path"])
        run_pk = _run_pk(ctx, path)
        md5s = {i: files[i].get("md5") for i in indexes}
        names = {i: STAGING + _md5_hex(md5) for i, md5 in md5s.items()}
        with ctx.state.db.read() as conn:
            staged = _staged(conn, run_pk, sorted(set(names.values())))
            known = _known(conn, ctx.user, {md5s[i] for i in indexes if names[i] not in staged})
        for i in indexes:
            node: dict[str, Any] = {"storagePath": names[i], "uploadHeaders": [], "uploadMultipartUrls": None}
            have = names[i] in staged or md5s[i] in known
            node.update({"uploadUrl": None} if have else _upload(ctx, path, names[i], md5s[i]))
            edges[i] = {"node": {**node, "artifact": {"id": files[i].get("artifactID")}}}
    return {"files": {"edges": edges}}


def _entries(ctx: Any, run_pk: int, document: Any) -> tuple[list[manifest.Entry], list[str]]:
    """The client's manifest as wakelog's entries (content found by md5), and the staged names."""
    contents = document.get("contents") if isinstance(document, dict) else None
    if not isinstance(contents, dict) or document.get("version") != 1:
        raise InvalidArtifact("the uploaded manifest is not a wandb manifest (version 1 with contents)")
    raw: dict[str, Any] = {}
    names: dict[str, str] = {}
    for path, entry in contents.items():
        if not isinstance(entry, dict):
            raise InvalidArtifact(f"manifest entry {str(path)[:200]!r} must be an object")
        raw[path] = {k: entry.get(k) for k in ("digest", "size", "ref", "extra") if entry.get(k) is not None}
        if entry.get("ref") is None:
            names[path] = STAGING + _md5_hex(entry.get("digest"))
    with ctx.state.db.read() as conn:
        staged = _staged(conn, run_pk, sorted(set(names.values())))
        known = _known(conn, ctx.user, {raw[p]["digest"] for p in names if names[p] not in staged})
    for path, name in names.items():
        sha256, size = staged.get(name) or known.get(raw[path]["digest"]) or (None, None)
        if sha256 is None:
            raise InvalidArtifact(f"manifest entry {path!r}: its content was not uploaded")
        if raw[path].get("size", size) != size:
            raise InvalidArtifact(f"manifest entry {path!r}: size {raw[path]['size']}, uploaded {size} bytes")
        raw[path]["sha256"] = sha256
    return manifest.parse({"version": manifest.MANIFEST_VERSION, "entries": raw}), sorted(staged)


def commit_artifact(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Make the version from the uploaded manifest and files, as wakelog's SDK would, in one go."""
    node_id = (args.get("input") or {}).get("artifactID") if isinstance(args.get("input"), dict) else None
    pending = _from_id(node_id)
    path = run_path(*pending["path"])
    run_pk = _run_pk(ctx, path)
    with ctx.state.db.read() as conn:
        found = _staged(conn, run_pk, [_manifest_name(pending)]).get(_manifest_name(pending))
    if found is None:
        raise InvalidArtifact(
            f"artifact {pending['name']!r}: its manifest was not uploaded before the commit"
        )
    try:
        document = json.loads(b"".join(ctx.state.blobs.open(found[0])))
    except (ValueError, RecursionError):
        raise InvalidArtifact("the uploaded manifest is not JSON") from None
    entries, staged = _entries(ctx, run_pk, document)
    if manifest.digest(entries) != pending["digest"]:
        raise InvalidArtifact(
            f"the uploaded manifest's digest is {manifest.digest(entries)}, not {pending['digest']} "
            "as createArtifact said"
        )
    answer, _ = store_version(ctx.state, _new_version(ctx, pending, entries), ctx.user)
    with ctx.state.db.write() as conn:  # the uploads are the version's now
        done = [_manifest_name(pending), *staged]
        conn.execute(sa.delete(run_files).where(run_files.c.run_pk == run_pk, run_files.c.name.in_(done)))
    return {"artifact": {"id": version_id(answer["id"]), "digest": answer["digest"]}}


def use_artifact(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Record that the run used a version (lineage), as ``run.use_artifact`` of wakelog's SDK does."""
    given = args.get("input")
    if not isinstance(given, dict):
        raise InvalidRequest("useArtifact needs an input object")
    path = run_path(
        _text(given, "entityName") or ctx.user.username,
        _text(given, "projectName") or "uncategorized",
        _text(given, "runName") or "",
    )
    with ctx.state.db.write() as conn:
        require_writer(conn, ctx.user, path[0])
        found = version_of(conn, given.get("artifactID"))
        require(conn, ctx.user, found.entity, "viewer", missing=f"artifact {found.label}")
        store.use(conn, found, *path, ctx.user.id, time.time())
    return {"artifact": {"id": version_id(found.pk)}}


# -- reading: use_artifact, download ---------------------------------------------------------------
DOWNLOAD_ROUTE = "/wandb/downloads/"
#: A page of ``files`` holds at most this many (the client asks for 5000 by default).
MAX_PAGE = 10_000


def _download_url(ctx: Any, fields: list[Any]) -> str:
    with ctx.state.db.read() as conn:
        key_id = uploads.key_of(conn, ctx.key_hash)
    assert ctx.key_hash is not None  # key_of found the key by it
    return uploads.sign(ctx.base_url, DOWNLOAD_ROUTE, key_id, ctx.key_hash, fields, time.time())


def project_info(entity: str, project: str) -> dict[str, Any]:
    node = node_id("Project:", f"{entity}/{project}")
    return {"id": node, "internalId": node, "name": project, "entity": {"name": entity}}


def _collection(v: store.Version) -> dict[str, Any]:
    return {"__typename": "ArtifactSequence", "name": v.name, "project": project_info(v.entity, v.project)}


PORTFOLIO = "ArtifactPortfolio:"
SEQUENCE = "ArtifactSequence:"


def portfolio_pk(node: Any) -> int:
    """The registry collection a portfolio id (``artifactCollection``'s, below) names."""
    value = decode_id(node, PORTFOLIO)
    if value is None or not value.isdigit():
        raise InvalidArtifact(
            f"{str(node)[:100]!r} is not the id of an artifact collection that links versions"
        )
    return int(value)


def collection_node(
    kind: str,
    pk: int,
    name: str,
    type_: str,
    entity: str,
    project: str,
    created: float,
    updated: float | None,
) -> dict[str, Any]:
    """A collection (``ArtifactSequence``: a project's artifact; ``ArtifactPortfolio``: a registry
    collection) as the client's ``ArtifactCollectionFragment`` reads it."""
    return {
        "__typename": kind,
        "id": node_id(PORTFOLIO if kind == "ArtifactPortfolio" else SEQUENCE, str(pk)),
        "name": name,
        "description": None,
        "createdAt": iso(created),
        "updatedAt": None if updated is None else iso(updated),
        "project": project_info(entity, project),
        "defaultArtifactType": {"name": type_},
        "tags": {"edges": []},
    }


def typed_collection(ctx: Any, entity: str, project: str, type_: Any, name: Any) -> dict[str, Any] | None:
    """``project.artifactType(name).artifactCollection(name)`` (what the client reads for a linked
    artifact's ``collection``, before ``unlink()``, and for ``api.artifact_collection``): the
    project's own artifact of that name and type (a sequence), else the entity's registry
    collection of that name (a portfolio: wakelog's registry is per entity, under every project).
    None if neither exists."""
    if not isinstance(type_, str) or not isinstance(name, str):
        raise InvalidRequest("an artifact collection is named by its type and name")
    with ctx.state.db.read() as conn:
        require(conn, ctx.user, entity, "viewer", missing=f"project {entity}/{project}", project=project)
        own = store.collections(conn, entity, project, type_, name)
        if own:
            kind, pk, created, updated = "ArtifactSequence", own[0].pk, own[0].created_at, own[0].updated_at
        else:
            found = registry.find(conn, entity, name)
            if found is None:
                return None
            created, updated = registry.times(conn, found)
            kind, pk = "ArtifactPortfolio", found
    return collection_node(kind, pk, name, type_, entity, project, created, updated)


def _aliases_of(v: store.Version) -> list[dict[str, Any]]:
    return [
        {"__typename": "ArtifactAlias", "id": node_id("ArtifactAlias:", f"{v.pk}:{a}"), "alias": a,
         "artifactCollection": _collection(v)}
        for a in v.aliases
    ]  # fmt: skip


def _linked_aliases(ctx: Any, v: store.Version) -> list[dict[str, Any]]:
    """The registry aliases naming the version, each under its collection as a portfolio of the
    version's project (wakelog's registry is per entity; the client links into the run's
    project by default). The client keeps those of the collection it holds the version as."""
    with ctx.state.db.read() as conn:
        found = registry.aliases_pointing_at(conn, v)
    return [
        {"__typename": "ArtifactAlias", "id": node_id("RegistryAlias:", f"{entity}/{name}:{a}"), "alias": a,
         "artifactCollection": {"__typename": "ArtifactPortfolio", "name": name,
                                "project": project_info(entity, v.project)}}
        for entity, name, a in found
    ]  # fmt: skip


def artifact_node(ctx: Any, v: store.Version) -> dict[str, Any]:
    """A version as the client's ``ArtifactFragment`` reads it."""
    return {
        "__typename": "Artifact",
        "id": version_id(v.pk),
        "artifactSequence": _collection(v),
        "versionIndex": v.version,
        "artifactType": {"__typename": "ArtifactType", "name": v.type},
        "description": v.description,
        "metadata": json.dumps(v.metadata),
        # no TTL: inherited from the collection (wakelog has no collection policy: kept until deleted)
        "ttlDurationSeconds": -1 if v.ttl is None else v.ttl,
        "ttlIsInherited": v.ttl is None,
        "tags": [{"__typename": "Tag", "id": node_id("Tag:", t), "name": t} for t in v.tags],
        "historyStep": None,
        "state": "COMMITTED",
        "size": v.size,
        "digest": v.digest,
        "digestAlgorithm": "MANIFEST_MD5",
        "commitHash": None,
        "fileCount": v.file_count,
        "createdAt": iso(v.created_at),
        "updatedAt": iso(v.created_at),
        "aliases": _aliases_of(v) + _linked_aliases(ctx, v),
        "currentManifest": {"file": {"directUrl": _download_url(ctx, ["manifest", v.pk])}},
    }


def _files(ctx: Any, v: store.Version, args: dict[str, Any]) -> dict[str, Any]:
    """A page of the version's files with signed download URLs; the cursor is the last path."""
    first = args.get("first") or MAX_PAGE
    after = args.get("after")
    if isinstance(first, bool) or not isinstance(first, int) or not 0 < first <= MAX_PAGE:
        raise InvalidRequest(f"first must be a whole number from 1 to {MAX_PAGE}")
    if after is not None and not isinstance(after, str):
        raise InvalidRequest("after must be the endCursor of the page before")
    with ctx.state.db.read() as conn:
        entries = [e for e in store.entries(conn, v.pk) if after is None or e.path > after]
    page = entries[:first]
    edges = [
        {
            "node": {
                "__typename": "File",
                "name": e.path,
                "directUrl": _download_url(ctx, ["file", v.pk, e.path]),
            }
        }
        for e in page
        if e.sha256 is not None  # a reference is fetched by the client from where it points
    ]
    return {
        "pageInfo": {"__typename": "PageInfo", "endCursor": page[-1].path if page else after,
                     "hasNextPage": len(entries) > first},
        "edges": edges,
    }  # fmt: skip


def _version(ctx: Any, entity: str, project: str, name: Any, label: Any) -> store.Version | None:
    """The version ``name:label`` names, None if there is none (the client then says so)."""
    if not isinstance(name, str) or not isinstance(label, str):
        raise InvalidRequest("an artifact is named name:version or name:alias")
    try:
        check_artifact_name(name)
    except ValueError as exc:
        raise InvalidArtifact(str(exc)) from None
    with ctx.state.db.read() as conn:
        require(conn, ctx.user, entity, "viewer", missing=f"project {entity}/{project}", project=project)
        try:
            return store.resolve(conn, entity, project, name, label)
        except NotFound:
            return None


def _split(full: Any) -> tuple[Any, str]:
    name, _, label = full.partition(":") if isinstance(full, str) else (full, "", "")
    return name, label or "latest"


def project_fields(ctx: Any, entity: str, project: str) -> dict[str, Any]:
    """The project's artifact fields: a version by ``name:alias``, a collection's membership, files."""

    def membership(v: store.Version | None) -> dict[str, Any] | None:
        if v is None:
            return None
        return {
            "__typename": "ArtifactCollectionMembership",
            "id": version_id(v.pk),
            "versionIndex": v.version,
            "createdAt": iso(v.created_at),
            "aliases": _aliases_of(v),
            "artifactCollection": _collection(v),
            "artifact": artifact_node(ctx, v),
            "files": Field(lambda a: _files(ctx, v, a)),
        }

    def by_name(args: dict[str, Any]) -> dict[str, Any] | None:
        found = _version(ctx, entity, project, *_split(args.get("name")))
        return None if found is None else artifact_node(ctx, found)

    def collection(args: dict[str, Any]) -> dict[str, Any]:
        name = args.get("name")
        by_alias = Field(lambda a: membership(_version(ctx, entity, project, name, a.get("aliasName"))))
        return {"__typename": "ArtifactSequence", "name": name, "artifactMembership": by_alias}

    return {
        "artifact": Field(by_name),
        "artifactCollectionMembership": Field(
            lambda a: membership(_version(ctx, entity, project, *_split(a.get("name"))))
        ),
        "artifactCollection": Field(collection),
    }


def artifact_by_id(ctx: Any, args: dict[str, Any]) -> dict[str, Any] | None:
    """``artifact(id:)``: a version the caller may read, by the id the client got for it."""
    with ctx.state.db.read() as conn:
        try:
            found = version_of(conn, args.get("id"))
        except NotFound:
            return None
        require(conn, ctx.user, found.entity, "viewer", missing=f"artifact {found.label}")
    return artifact_node(ctx, found)


def download(state: Any, token: str) -> tuple[str, str] | dict[str, Any]:
    """What a signed download URL serves: a file's (sha256, path), or a manifest in wandb's form."""
    with state.db.read() as conn:
        user, fields = uploads.verify(conn, DOWNLOAD_ROUTE, token, time.time())
        kind, pk, *path = fields if len(fields) in (2, 3) else ("", None)
        if (kind, len(path)) not in (("manifest", 0), ("file", 1)) or type(pk) is not int:
            raise uploads.refused()
        found = store.by_pks(conn, [pk])
        if not found:
            raise NotFound("the artifact version is gone (deleted)")
        require(conn, user, found[0].entity, "viewer", missing=f"artifact {found[0].label}")
        if kind == "manifest":
            return wandb_manifest(store.entries(conn, pk))
        entry = store.entry(conn, pk, str(path[0]))
    if entry is None or entry.sha256 is None:
        raise NotFound(f"file {path[0]!r} of {found[0].label} not found")
    return entry.sha256, entry.path


def wandb_manifest(entries: list[manifest.Entry]) -> dict[str, Any]:
    """A version's manifest as the wandb client reads it (its own storage policy's)."""
    contents = {}
    for e in entries:
        item: dict[str, Any] = {"digest": e.digest, "size": e.size}
        if e.ref is not None:
            item["ref"] = e.ref
        if e.extra:
            item["extra"] = e.extra
        contents[e.path] = item
    policy = {"storageLayout": "V2"}
    return {"version": 1, "storagePolicy": "wandb-storage-policy-v1", "storagePolicyConfig": policy,
            "contents": contents}  # fmt: skip
