"""Artifact versions in the database: found by version or alias, created once per digest, aliased,
deleted softly.

A version is written whole in one transaction (its row, its files, its aliases, its run), so a
reader never sees part of one. Versions of a name are numbered densely: the creator locks the
name's row (PostgreSQL; SQLite's writers queue anyway) and takes the next number; the unique
``(artifact_pk, version)`` constraint is the backstop, and a creator that loses on it starts over
(``create``), finding then the version another one just made if the content is the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from wakelog._artifacts import LATEST, check_alias, check_artifact_name, version_index
from wakelog._names import check_path_part
from wakelog.server.artifacts.manifest import Entry
from wakelog.server.errors import Conflict, InvalidArtifact
from wakelog.server.http import not_found
from wakelog.store.chunks import chunked
from wakelog.store.database import Database
from wakelog.store.ingest import ensure_project, ensure_run
from wakelog.store.schema import (
    artifact_aliases,
    artifact_files,
    artifact_runs,
    artifact_versions,
    artifacts,
    entities,
    projects,
    runs,
    users,
)
from wakelog.store.upsert import insert_missing, upsert

#: Attempts at creating a version when concurrent creators keep taking the number first.
CREATE_ATTEMPTS = 20
#: wandb's tag rule (its client checks the same before sending).
TAG = re.compile(r"[-\w]+( [-\w]+)*")
MAX_TAG, MAX_TAGS = 128, 100
#: A TTL of at most about 1000 years.
MAX_TTL = 1000 * 366 * 86400
_v = artifact_versions.c


@dataclass(frozen=True)
class Version:
    pk: int
    artifact_pk: int
    entity: str
    project: str
    name: str
    type: str
    version: int
    digest: str
    description: str | None
    metadata: dict[str, Any]
    size: int
    file_count: int
    created_at: float
    created_by: str | None
    run: str | None
    aliases: tuple[str, ...]
    tags: tuple[str, ...] = ()
    #: Seconds the version is kept after its creation; None: until it is deleted.
    ttl: int | None = None

    @property
    def label(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}:v{self.version}"

    def public(self, **more: Any) -> dict[str, Any]:
        return {
            "id": self.pk,
            "entity": self.entity,
            "project": self.project,
            "name": self.name,
            "type": self.type,
            "version": f"v{self.version}",
            "aliases": list(self.aliases),
            "tags": list(self.tags),
            "ttl": self.ttl,
            "digest": self.digest,
            "description": self.description,
            "metadata": self.metadata,
            "size": self.size,
            "file_count": self.file_count,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "run": self.run,
            "state": "committed",
            **more,
        }


def _version_query() -> sa.Select[Any]:
    return (
        sa.select(
            _v.id,
            _v.artifact_pk,
            entities.c.name.label("entity"),
            projects.c.name.label("project"),
            artifacts.c.name,
            artifacts.c.type,
            _v.version,
            _v.digest,
            _v.description,
            _v.artifact_metadata,
            _v.size,
            _v.file_count,
            _v.created_at,
            users.c.username,
            runs.c.run_id,
            _v.tags,
            _v.ttl_seconds,
        )
        .select_from(
            artifact_versions.join(artifacts, artifacts.c.id == _v.artifact_pk)
            .join(projects, projects.c.id == artifacts.c.project_id)
            .join(entities, entities.c.id == projects.c.entity_id)
            .outerjoin(users, users.c.id == _v.created_by)
            .outerjoin(runs, runs.c.id == _v.run_pk)
        )
        .where(_v.deleted_at.is_(None))
    )


def _versions(conn: sa.Connection, query: sa.Select[Any]) -> list[Version]:
    rows = conn.execute(query).all()
    aliases: dict[int, list[str]] = {}
    for some in chunked([row.id for row in rows]):
        found = sa.select(artifact_aliases.c.version_pk, artifact_aliases.c.alias).where(
            artifact_aliases.c.version_pk.in_(some)
        )
        for pk, alias in conn.execute(found.order_by(artifact_aliases.c.alias)):
            aliases.setdefault(pk, []).append(alias)
    return [
        Version(
            row.id,
            row.artifact_pk,
            row.entity,
            row.project,
            row.name,
            row.type,
            row.version,
            row.digest,
            row.description,
            row.artifact_metadata or {},
            row.size,
            row.file_count,
            row.created_at,
            row.username,
            row.run_id,
            tuple(aliases.get(row.id, ())),
            tuple(row.tags or ()),
            row.ttl_seconds,
        )
        for row in rows
    ]


def _in_project(entity: str, project: str) -> sa.ColumnElement[bool]:
    return sa.and_(entities.c.name == entity, projects.c.name == project)


def by_pks(conn: sa.Connection, pks: Iterable[int]) -> list[Version]:
    found: list[Version] = []
    for some in chunked(set(pks)):
        found += _versions(conn, _version_query().where(_v.id.in_(some)))
    return found


def resolve(conn: sa.Connection, entity: str, project: str, name: str, label: str) -> Version:
    """The version ``label`` (``v3`` or an alias) of ``name``; 404 if there is none (or it was deleted)."""
    query = _version_query().where(_in_project(entity, project), artifacts.c.name == name)
    index = version_index(label)
    if index is not None:
        query = query.where(_v.version == index)
    else:
        aliased = sa.select(artifact_aliases.c.version_pk).where(
            artifact_aliases.c.artifact_pk == artifacts.c.id, artifact_aliases.c.alias == label
        )
        query = query.where(_v.id.in_(aliased.scalar_subquery()))
    found = _versions(conn, query)
    if not found:
        raise not_found(f"artifact {entity}/{project}/{name}:{label}")
    return found[0]


def versions(conn: sa.Connection, entity: str, project: str, name: str) -> list[Version]:
    """Every live version of ``name``, newest first; 404 if the name has none."""
    query = _version_query().where(_in_project(entity, project), artifacts.c.name == name)
    found = _versions(conn, query.order_by(_v.version.desc()))
    if not found:
        raise not_found(f"artifact {entity}/{project}/{name}")
    return found


def sequence(conn: sa.Connection, artifact_pk: int) -> list[Version]:
    """Every live version of the artifact with this primary key, newest first (none: empty)."""
    return _versions(conn, _version_query().where(_v.artifact_pk == artifact_pk).order_by(_v.version.desc()))


@dataclass(frozen=True)
class Collection:
    """An artifact name of a project with live versions (a W&B artifact sequence)."""

    pk: int
    name: str
    type: str
    versions: int
    latest: int
    size: int
    created_at: float
    updated_at: float

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "versions": self.versions,
            "latest": f"v{self.latest}",
            "updated_at": self.updated_at,
            "size": self.size,
        }


def collections(
    conn: sa.Connection, entity: str, project: str, type_: str | None, name: str | None = None
) -> list[Collection]:
    """The project's artifact names with live versions, by name: counts, latest, size, last change
    (of ``type_`` only, and only ``name``, when given)."""
    live = _v.deleted_at.is_(None)
    query = (
        sa.select(
            artifacts.c.id,
            artifacts.c.name,
            artifacts.c.type,
            artifacts.c.created_at,
            sa.func.count(_v.id).label("versions"),
            sa.func.max(_v.version).label("latest"),
            sa.func.sum(_v.size).label("size"),
            sa.func.max(_v.created_at).label("updated_at"),
        )
        .select_from(
            artifacts.join(projects, projects.c.id == artifacts.c.project_id)
            .join(entities, entities.c.id == projects.c.entity_id)
            .join(artifact_versions, sa.and_(_v.artifact_pk == artifacts.c.id, live))
        )
        .where(_in_project(entity, project))
        .group_by(artifacts.c.id, artifacts.c.name, artifacts.c.type, artifacts.c.created_at)
        .order_by(artifacts.c.name)
    )
    if type_ is not None:
        query = query.where(artifacts.c.type == type_)
    if name is not None:
        query = query.where(artifacts.c.name == name)
    return [
        Collection(
            int(row.id),
            row.name,
            row.type,
            row.versions,
            int(row.latest),
            int(row.size or 0),
            float(row.created_at),
            float(row.updated_at),
        )
        for row in conn.execute(query)
    ]


def entries(conn: sa.Connection, version_pk: int) -> list[Entry]:
    f = artifact_files.c
    rows = conn.execute(
        sa.select(f.path, f.digest, f.sha256, f.size, f.ref, f.extra)
        .where(f.version_pk == version_pk)
        .order_by(f.path)
    )
    return [Entry(r.path, r.digest, r.sha256, r.size, r.ref, r.extra or {}) for r in rows]


def entry(conn: sa.Connection, version_pk: int, path: str) -> Entry | None:
    f = artifact_files.c
    row = conn.execute(
        sa.select(f.path, f.digest, f.sha256, f.size, f.ref, f.extra).where(
            f.version_pk == version_pk, f.path == path
        )
    ).first()
    return (
        None if row is None else Entry(row.path, row.digest, row.sha256, row.size, row.ref, row.extra or {})
    )


# -- aliases ---------------------------------------------------------------------------------------
def user_aliases(aliases: Iterable[str], *, allow_latest: bool) -> list[str]:
    """The distinct user aliases of a request; ``latest`` is the server's: dropped when the SDK
    sends it with a new version (wandb's default), refused when set by hand."""
    wanted: list[str] = []
    for alias in aliases:
        if alias == LATEST:
            if allow_latest:
                continue
            raise InvalidArtifact("'latest' always names the newest version; the server moves it")
        try:
            wanted.append(check_alias(alias))
        except ValueError as exc:
            raise InvalidArtifact(str(exc)) from None
    return list(dict.fromkeys(wanted))


def move_aliases(conn: sa.Connection, artifact_pk: int, version_pk: int, aliases: list[str]) -> None:
    """Point ``aliases`` at the version, taking them from any other version of the name."""
    rows = [{"artifact_pk": artifact_pk, "alias": a, "version_pk": version_pk} for a in aliases]
    upsert(conn, artifact_aliases, rows, ["artifact_pk", "alias"], update=["version_pk"])


def set_aliases(conn: sa.Connection, version: Version, aliases: list[str]) -> None:
    """Make ``aliases`` the version's user aliases: the listed ones move here, others it had go."""
    a = artifact_aliases.c
    conn.execute(
        sa.delete(artifact_aliases).where(
            a.version_pk == version.pk, a.alias != LATEST, a.alias.not_in(aliases or [""])
        )
    )
    move_aliases(conn, version.artifact_pk, version.pk, aliases)


def drop_aliases(conn: sa.Connection, version: Version, aliases: list[str]) -> None:
    """Take ``aliases`` off the version (those it does not hold are left where they are)."""
    a = artifact_aliases.c
    conn.execute(sa.delete(artifact_aliases).where(a.version_pk == version.pk, a.alias.in_(aliases or [""])))


def describe(
    conn: sa.Connection, version: Version, description: str | None, metadata: dict[str, Any]
) -> None:
    """Replace the version's description and metadata (its content and digest stay)."""
    conn.execute(
        sa.update(artifact_versions)
        .where(_v.id == version.pk)
        .values(description=description, artifact_metadata=metadata)
    )


def set_tags(conn: sa.Connection, version: Version, add: Iterable[str], remove: Iterable[str]) -> None:
    """Add ``add`` to the version's tags and take ``remove`` off (kept in the order first given)."""
    gone = set(remove)
    tags = [t for t in dict.fromkeys([*version.tags, *check_tags(add)]) if t not in gone]
    conn.execute(sa.update(artifact_versions).where(_v.id == version.pk).values(tags=tags or None))


def set_ttl(conn: sa.Connection, version: Version, ttl: int | None) -> None:
    """Keep the version ``ttl`` seconds after its creation (then expiry moves it to the trash);
    None: until it is deleted. A TTL already past sends it to the trash at expiry's next pass."""
    expires = None if ttl is None else version.created_at + ttl
    conn.execute(
        sa.update(artifact_versions).where(_v.id == version.pk).values(ttl_seconds=ttl, expires_at=expires)
    )


def check_tags(tags: Iterable[Any]) -> list[str]:
    """Tags as wandb allows them (letters, digits, ``-``, ``_``, single spaces between words), distinct."""
    found: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not TAG.fullmatch(tag) or len(tag) > MAX_TAG:
            raise InvalidArtifact(
                f"artifact tag {str(tag)[:100]!r}: letters, digits, '-' and '_', words separated by "
                f"single spaces, at most {MAX_TAG} characters"
            )
        found.append(tag)
    found = list(dict.fromkeys(found))
    if len(found) > MAX_TAGS:
        raise InvalidArtifact(f"an artifact version has at most {MAX_TAGS} tags")
    return found


def check_ttl(ttl: Any) -> int | None:
    """A TTL in whole seconds (positive), or None for none."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 < ttl <= MAX_TTL:
        raise InvalidArtifact(f"an artifact's TTL is a whole number of seconds from 1 to {MAX_TTL}")
    return ttl


def _move_latest(conn: sa.Connection, artifact_pk: int) -> None:
    newest = conn.execute(
        sa.select(_v.id)
        .where(_v.artifact_pk == artifact_pk, _v.deleted_at.is_(None))
        .order_by(_v.version.desc())
        .limit(1)
    ).scalar()
    if newest is None:
        a = artifact_aliases.c
        conn.execute(sa.delete(artifact_aliases).where(a.artifact_pk == artifact_pk, a.alias == LATEST))
    else:
        move_aliases(conn, artifact_pk, newest, [LATEST])


# -- creating ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewVersion:
    entity: str
    project: str
    name: str
    type: str
    description: str | None
    metadata: dict[str, Any]
    aliases: list[str]
    entries: list[Entry]
    digest: str
    run_id: str | None
    user_id: int | None
    tags: list[str] = field(default_factory=list)
    ttl: int | None = None


def create(db: Database, new: NewVersion, now: float, check: Any = None) -> tuple[int, bool]:
    """Store ``new`` as the next version of its name, or find the live version with its digest;
    returns (version pk, existed). ``check(conn)`` runs first in the transaction (content still stored)."""
    for _ in range(CREATE_ATTEMPTS):
        try:
            with db.write() as conn:
                if check is not None:
                    check(conn)
                return _create(conn, new, now)
        except sa.exc.IntegrityError:
            continue  # another creator took the number: look again
    raise Conflict(f"artifact {new.name!r}: too many versions created at once; try again")


def _artifact_pk(conn: sa.Connection, new: NewVersion, project_id: int, now: float) -> int:
    identity = {"project_id": project_id, "name": new.name}
    insert_missing(
        conn, artifacts, {**identity, "type": new.type, "created_at": now, "updated_at": now}, list(identity)
    )
    row = conn.execute(
        sa.select(artifacts.c.id, artifacts.c.type)
        .where(artifacts.c.project_id == project_id, artifacts.c.name == new.name)
        .with_for_update()  # creators of one name take turns (PostgreSQL; SQLite's writers do anyway)
    ).one()
    if row.type != new.type:
        raise InvalidArtifact(f"artifact {new.name!r} has type {row.type!r}, not {new.type!r}")
    return int(row.id)


def _log_run(conn: sa.Connection, run_pk: int | None, version_pk: int, relation: str, now: float) -> None:
    if run_pk is not None:
        row = {"run_pk": run_pk, "version_pk": version_pk, "relation": relation, "created_at": now}
        upsert(conn, artifact_runs, [row], ["run_pk", "version_pk", "relation"])


def _create(conn: sa.Connection, new: NewVersion, now: float) -> tuple[int, bool]:
    project_id = ensure_project(conn, new.entity, new.project, new.user_id)
    artifact_pk = _artifact_pk(conn, new, project_id, now)
    run_pk = None
    if new.run_id is not None:
        run_pk = ensure_run(conn, new.entity, new.project, new.run_id, new.user_id)[0].id
    existing = conn.execute(
        sa.select(_v.id)
        .where(_v.artifact_pk == artifact_pk, _v.digest == new.digest, _v.deleted_at.is_(None))
        .order_by(_v.version)
        .limit(1)
    ).scalar()
    if existing is not None:  # its tags gain the new ones; its TTL stays (a TTL is set on purpose)
        if new.tags:
            (found,) = by_pks(conn, [existing])
            set_tags(conn, found, new.tags, ())
        move_aliases(conn, artifact_pk, existing, new.aliases)
        _log_run(conn, run_pk, existing, "logged", now)
        return existing, True
    number = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(_v.version) + 1, 0)).where(_v.artifact_pk == artifact_pk)
    ).scalar_one()
    version_pk: int = conn.execute(
        artifact_versions.insert().values(
            artifact_pk=artifact_pk,
            version=number,
            digest=new.digest,
            description=new.description,
            artifact_metadata=new.metadata,
            size=sum(e.size for e in new.entries),
            file_count=len(new.entries),
            created_by=new.user_id,
            run_pk=run_pk,
            created_at=now,
            tags=new.tags or None,
            ttl_seconds=new.ttl,
            expires_at=None if new.ttl is None else now + new.ttl,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    if new.entries:
        conn.execute(
            artifact_files.insert(),
            [
                {
                    "version_pk": version_pk,
                    "path": e.path,
                    "digest": e.digest,
                    "sha256": e.sha256,
                    "size": e.size,
                    "ref": e.ref,
                    "extra": e.extra,
                }
                for e in new.entries
            ],
        )
    move_aliases(conn, artifact_pk, version_pk, new.aliases)
    _move_latest(conn, artifact_pk)
    _log_run(conn, run_pk, version_pk, "logged", now)
    conn.execute(sa.update(artifacts).where(artifacts.c.id == artifact_pk).values(updated_at=now))
    return version_pk, False


# -- using and deleting ------------------------------------------------------------------------------
def use(
    conn: sa.Connection, version: Version, entity: str, project: str, run_id: str, user_id: int, now: float
) -> None:
    """Record that the run used the version (a lineage edge; the run is made if new)."""
    run = ensure_run(conn, entity, project, run_id, user_id)[0]
    _log_run(conn, run.id, version.pk, "used", now)


def expire(conn: sa.Connection, now: float, limit: int) -> int:
    """Move up to ``limit`` live versions whose TTL ran out by ``now`` to the trash, as a delete
    does (``soft_delete``); returns how many."""
    doomed = _versions(
        conn,
        _version_query().where(_v.expires_at <= now).order_by(_v.expires_at).limit(limit),
    )
    for version in doomed:
        soft_delete(conn, version, now)
    return len(doomed)


def soft_delete(conn: sa.Connection, version: Version, now: float) -> None:
    """Hide the version (its aliases go; ``latest`` moves back); purged after the trash period."""
    conn.execute(sa.update(artifact_versions).where(_v.id == version.pk).values(deleted_at=now))
    conn.execute(sa.delete(artifact_aliases).where(artifact_aliases.c.version_pk == version.pk))
    _move_latest(conn, version.artifact_pk)


def purge(conn: sa.Connection, before: float, limit: int) -> int:
    """Delete up to ``limit`` versions soft-deleted before ``before`` (their files, aliases, links
    and lineage go with them); returns how many."""
    doomed = sa.select(_v.id).where(_v.deleted_at < before).limit(limit)
    pks = list(conn.execute(doomed).scalars())
    if pks:
        conn.execute(sa.delete(artifact_versions).where(_v.id.in_(pks)))
    return len(pks)


def run_artifacts(conn: sa.Connection, entity: str, project: str, run_id: str) -> dict[str, list[Version]]:
    """The versions the run logged and used."""
    r = artifact_runs.c
    edges = conn.execute(
        sa.select(r.version_pk, r.relation)
        .join(runs, runs.c.id == r.run_pk)
        .join(projects, projects.c.id == runs.c.project_id)
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(_in_project(entity, project), runs.c.run_id == run_id)
    ).all()
    found = {v.pk: v for v in by_pks(conn, (e.version_pk for e in edges))}
    out: dict[str, list[Version]] = {"logged": [], "used": []}
    for pk, relation in edges:
        if pk in found:
            out[relation].append(found[pk])
    for listed in out.values():
        listed.sort(key=lambda v: (v.name, v.version))
    return out


def parse_path(path: Any) -> tuple[str, str, str, str]:
    """``entity/project/name:version_or_alias`` → its four parts; ``InvalidArtifact`` otherwise."""
    parts = path.split("/") if isinstance(path, str) else []
    if len(parts) != 3 or ":" not in parts[2]:
        raise InvalidArtifact(f"an artifact is named entity/project/name:version_or_alias, not {path!r}")
    name, label = parts[2].split(":", 1)
    try:
        entity, project = check_path_part("entity", parts[0]), check_path_part("project", parts[1])
        check_artifact_name(name)
    except ValueError as exc:
        raise InvalidArtifact(str(exc)) from None
    return entity, project, name, label
