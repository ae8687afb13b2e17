"""Reports in the database: create, save a revision, publish, history, revert, duplicate, pin,
delete, share links. Every function runs in one transaction, so a refused change leaves nothing.

Who sees what: the entity's members and admins ("writers") see drafts and every revision; readers
(viewers, and every signed-in user of a project open to them) see only the published revision of
published reports, and a report that was never published does not exist for them (404). The
route decides the role needed to call; ``_Place`` says what the caller holds there.

Changes of state are audited (``report.create``, ``report.publish``, ``report.unpublish``,
``report.delete``, ``report.revert``, ``report.share``, ``report.unshare``, ``report.pin``); plain
saves are not, the revision history records them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wakelog.server import audit
from wakelog.server.auth import User
from wakelog.server.errors import Conflict, Forbidden, InvalidRequest
from wakelog.server.http import not_found
from wakelog.server.permissions import entity_access, require_writer
from wakelog.server.query.runs import project_id
from wakelog.server.reports.spec import check_description, check_spec, check_title
from wakelog.store.database import Database
from wakelog.store.schema import comment_threads, entities, projects, report_revisions, reports

#: Share tokens: 32 random bytes, url-safe; the first characters look the row up.
SHARE_PREFIX = 8
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_REPORT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def check_report_id(report_id: str) -> str:
    if not _REPORT_ID.match(report_id):
        raise InvalidRequest(f"report id {report_id!r} is invalid: 1-32 characters of A-Z a-z 0-9 _ -")
    return report_id


@dataclass(frozen=True)
class _Place:
    """A report as addressed, and what the caller holds in its entity."""

    entity: str
    project: str
    project_pk: int
    writer: bool  # member or admin: drafts, every revision
    admin: bool  # may delete anyone's report

    def path(self, report_id: str) -> str:
        return f"{self.entity}/{self.project}/reports/{report_id}"


def _place(conn: sa.Connection, user: User, entity: str, project: str) -> _Place:
    pid = project_id(conn, entity, project)
    if pid is None:
        raise not_found(f"project {entity}/{project}")
    access = entity_access(conn, user, entity)
    return _Place(entity, project, pid, access.allows(user, "member"), access.allows(user, "admin"))


def _row(conn: sa.Connection, place: _Place, report_id: str, *, lock: bool = False) -> Any:
    query = sa.select(reports).where(
        reports.c.project_id == place.project_pk, reports.c.report_id == report_id
    )
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None or (not place.writer and row.published_version is None):
        raise not_found(f"report {place.entity}/{place.project}/{report_id}")
    return row


def _revision(conn: sa.Connection, report_pk: int, version: int) -> Any:
    return conn.execute(
        sa.select(report_revisions).where(
            report_revisions.c.report_pk == report_pk, report_revisions.c.version == version
        )
    ).first()


def _shown_version(place: _Place, row: Any, version: int | None) -> int:
    if version is None:
        return row.version if place.writer else row.published_version
    if not place.writer:
        raise Forbidden("only members of the entity may read a report's other revisions")
    return version


def _report(place: _Place, row: Any, revision: Any) -> dict[str, Any]:
    share = None
    if place.writer and row.share_hash is not None:
        share = {"prefix": row.share_prefix, "created_at": row.share_created_at}
    return {
        "id": row.report_id,
        "entity": place.entity,
        "project": place.project,
        "title": revision.title,
        "description": revision.description,
        "spec": revision.spec,
        "status": "published" if row.published_version is not None else "draft",
        "version": revision.version,
        "published_version": row.published_version,
        "pinned": row.pinned,
        "created_by": row.created_by_name,
        "created_at": row.created_at,
        "updated_by": revision.saved_by_name,
        "updated_at": revision.saved_at,
        "share": share,
    }


def _shown(conn: sa.Connection, place: _Place, row: Any, version: int | None = None) -> dict[str, Any]:
    wanted = _shown_version(place, row, version)
    revision = _revision(conn, row.id, wanted)
    if revision is None:
        raise not_found(f"version {wanted} of report {place.entity}/{place.project}/{row.report_id}")
    return _report(place, row, revision)


def _add_revision(
    conn: sa.Connection, user: User, report_pk: int, version: int, content: dict[str, Any], now: float
) -> None:
    conn.execute(
        report_revisions.insert().values(
            report_pk=report_pk,
            version=version,
            title=content["title"],
            description=content["description"],
            spec=content["spec"],
            saved_by=user.id,
            saved_by_name=user.username,
            saved_at=now,
        )
    )


def content(title: Any, description: Any, spec: Any) -> dict[str, Any]:
    """A revision's content, checked (400 naming what is wrong)."""
    return {
        "title": check_title(title),
        "description": check_description(description),
        "spec": check_spec(spec),
    }


# -- reading -------------------------------------------------------------------------------------
def listing(db: Database, user: User, entity: str, project: str) -> list[dict[str, Any]]:
    """The project's reports newest first: published ones, and for writers drafts too."""
    with db.read() as conn:
        place = _place(conn, user, entity, project)
        r, v = reports.c, report_revisions.c
        shown = r.version if place.writer else r.published_version
        query = (
            sa.select(reports, v.title, v.description, v.saved_by_name, v.saved_at)
            .join(report_revisions, sa.and_(v.report_pk == r.id, v.version == shown))
            .where(r.project_id == place.project_pk)
            .order_by(v.saved_at.desc(), r.id.desc())
        )
        return [
            {
                "id": row.report_id,
                "title": row.title,
                "description": row.description,
                "status": "published" if row.published_version is not None else "draft",
                "pinned": row.pinned,
                "version": row.version if place.writer else row.published_version,
                "published_version": row.published_version,
                "updated_by": row.saved_by_name,
                "updated_at": row.saved_at,
            }
            for row in conn.execute(query)
        ]


def get(
    db: Database, user: User, entity: str, project: str, report_id: str, version: int | None = None
) -> dict[str, Any]:
    with db.read() as conn:
        place = _place(conn, user, entity, project)
        return _shown(conn, place, _row(conn, place, report_id), version)


def comment_target(
    conn: sa.Connection, user: User, entity: str, project: str, report_id: str
) -> tuple[Any, dict[str, Any]]:
    """The report's row and the revision ``user`` sees (404 as for reading it): its threads are
    there for whoever reads it."""
    place = _place(conn, user, entity, project)
    row = _row(conn, place, report_id)
    return row, _shown(conn, place, row)


def dashboard(db: Database, user: User, entity: str, project: str) -> dict[str, Any]:
    """The project's pinned report, its published revision (for writers too: it is what the team sees)."""
    with db.read() as conn:
        place = _place(conn, user, entity, project)
        row = conn.execute(
            sa.select(reports).where(
                reports.c.project_id == place.project_pk,
                reports.c.pinned,
                reports.c.published_version.is_not(None),
            )
        ).first()
        if row is None:
            raise not_found(f"a published pinned report (dashboard) of project {entity}/{project}")
        return _shown(conn, place, row, None if not place.writer else row.published_version)


def history(db: Database, user: User, entity: str, project: str, report_id: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        place = _place(conn, user, entity, project)
        row = _row(conn, place, report_id)
        v = report_revisions.c
        rows = conn.execute(
            sa.select(v.version, v.title, v.saved_by_name, v.saved_at)
            .where(v.report_pk == row.id)
            .order_by(v.version.desc())
        )
        return [
            {
                "version": r.version,
                "title": r.title,
                "saved_by": r.saved_by_name,
                "saved_at": r.saved_at,
                "published": r.version == row.published_version,
            }
            for r in rows
        ]


def revisions(
    db: Database, user: User, entity: str, project: str, report_id: str, versions: tuple[int, int]
) -> list[dict[str, Any]]:
    """The given revisions as ``{title, spec}`` (for a diff); 404 naming one that does not exist."""
    with db.read() as conn:
        place = _place(conn, user, entity, project)
        row = _row(conn, place, report_id)
        found = []
        for version in versions:
            revision = _revision(conn, row.id, version)
            if revision is None:
                raise not_found(f"version {version} of report {entity}/{project}/{report_id}")
            found.append({"title": revision.title, "spec": revision.spec})
        return found


# -- writing -------------------------------------------------------------------------------------
def _insert(conn: sa.Connection, user: User, place: _Place, made: dict[str, Any], now: float) -> Any:
    values = {
        "report_id": "".join(secrets.choice(_ID_ALPHABET) for _ in range(10)),
        "project_id": place.project_pk,
        "version": 1,
        "published_version": None,
        "pinned": False,
        "created_by": user.id,
        "created_by_name": user.username,
        "created_at": now,
    }
    pk = conn.execute(reports.insert().values(**values).returning(reports.c.id)).scalar_one()
    _add_revision(conn, user, pk, 1, made, now)
    return conn.execute(sa.select(reports).where(reports.c.id == pk)).one()


def create(db: Database, user: User, entity: str, project: str, made: dict[str, Any]) -> dict[str, Any]:
    """A new draft, version 1, of ``made`` (from ``content``)."""
    now = time.time()
    with db.write() as conn:
        place = _place(conn, user, entity, project)
        row = _insert(conn, user, place, made, now)
        audit.record(
            conn,
            user,
            "report.create",
            place.path(row.report_id),
            entity=entity,
            after={"title": made["title"]},
        )
        return _shown(conn, place, row)


def save(
    db: Database,
    user: User,
    entity: str,
    project: str,
    report_id: str,
    made: dict[str, Any],
    base_version: int,
) -> dict[str, Any]:
    """A new revision; 409 (naming the current version) if someone saved since ``base_version``."""
    now = time.time()
    with db.write() as conn:
        place = _place(conn, user, entity, project)
        row = _row(conn, place, report_id, lock=True)
        if base_version != row.version:
            raise Conflict(
                f"report {entity}/{project}/{report_id} is at version {row.version}, not {base_version}: "
                "someone else saved it meanwhile; reload it and apply your changes again",
                version=row.version,
            )
        return _new_version(conn, user, place, row, made, now)


def _new_version(
    conn: sa.Connection, user: User, place: _Place, row: Any, made: dict[str, Any], now: float
) -> dict[str, Any]:
    version = row.version + 1
    _add_revision(conn, user, row.id, version, made, now)
    conn.execute(reports.update().where(reports.c.id == row.id).values(version=version))
    return _shown(conn, place, conn.execute(sa.select(reports).where(reports.c.id == row.id)).one())


def revert(
    db: Database, user: User, entity: str, project: str, report_id: str, version: int
) -> dict[str, Any]:
    """A new revision whose title, description and spec are those of ``version``."""
    now = time.time()
    with db.write() as conn:
        place = _place(conn, user, entity, project)
        row = _row(conn, place, report_id, lock=True)
        old = _revision(conn, row.id, version)
        if old is None:
            raise not_found(f"version {version} of report {entity}/{project}/{report_id}")
        made = {"title": old.title, "description": old.description, "spec": old.spec}
        answer = _new_version(conn, user, place, row, made, now)
        after = {"version": answer["version"], "from_version": version}
        audit.record(
            conn,
            user,
            "report.revert",
            place.path(report_id),
            entity=entity,
            before={"version": row.version},
            after=after,
        )
        return answer


def set_published(
    db: Database, user: User, entity: str, project: str, report_id: str, publish: bool
) -> dict[str, Any]:
    """Publish the current version, or take the report back to draft-only."""
    with db.write() as conn:
        place = _place(conn, user, entity, project)
        row = _row(conn, place, report_id, lock=True)
        wanted = row.version if publish else None
        if wanted != row.published_version:
            conn.execute(reports.update().where(reports.c.id == row.id).values(published_version=wanted))
            action = "report.publish" if publish else "report.unpublish"
            before, after = {"published_version": row.published_version}, {"published_version": wanted}
            audit.record(conn, user, action, place.path(report_id), entity=entity, before=before, after=after)
        return _shown(conn, place, conn.execute(sa.select(reports).where(reports.c.id == row.id)).one())


def duplicate(
    db: Database,
    user: User,
    entity: str,
    project: str,
    report_id: str,
    title: str | None,
    target: tuple[str, str],
) -> dict[str, Any]:
    """A new draft with the current revision's content, in ``target`` (a project ``user`` may
    write: 403 otherwise), with its own history."""
    now = time.time()
    with db.write() as conn:
        place = _place(conn, user, entity, project)
        row = _row(conn, place, report_id)
        revision = _revision(conn, row.id, _shown_version(place, row, None))
        require_writer(conn, user, target[0])  # 403 where the user is a viewer or a stranger
        there = _place(conn, user, *target)
        made = {
            "title": check_title(title if title is not None else f"Copy of {revision.title}"[:200]),
            "description": revision.description,
            "spec": revision.spec,
        }
        copy = _insert(conn, user, there, made, now)
        after = {"title": made["title"], "from": place.path(report_id)}
        audit.record(conn, user, "report.create", there.path(copy.report_id), entity=target[0], after=after)
        return _shown(conn, there, copy)


def set_pinned(
    db: Database, user: User, entity: str, project: str, report_id: str, pin: bool
) -> dict[str, Any]:
    """Pin the report as the project's dashboard (unpinning the one pinned before), or unpin it."""
    with db.write() as conn:
        place = _place(conn, user, entity, project)
        # pins of one project one at a time: two at once would both find none pinned, and the
        # second would break the one-pinned index (a 500) instead of unpinning the first
        conn.execute(sa.select(projects.c.id).where(projects.c.id == place.project_pk).with_for_update())
        row = _row(conn, place, report_id, lock=True)
        r = reports.c
        was = conn.execute(sa.select(r.report_id).where(r.project_id == place.project_pk, r.pinned)).scalar()
        now_pinned = report_id if pin else (None if was == report_id else was)
        if now_pinned != was:
            conn.execute(
                reports.update().where(r.project_id == place.project_pk, r.pinned).values(pinned=False)
            )
            if pin:
                conn.execute(reports.update().where(r.id == row.id).values(pinned=True))
            before, after = {"pinned": was}, {"pinned": now_pinned}
            audit.record(
                conn,
                user,
                "report.pin",
                f"{entity}/{project}/dashboard",
                entity=entity,
                before=before,
                after=after,
            )
        return _shown(conn, place, conn.execute(sa.select(reports).where(r.id == row.id)).one())


def delete(db: Database, user: User, entity: str, project: str, report_id: str) -> None:
    """Delete the report with its revisions and comment threads (its author, or an admin)."""
    with db.write() as conn:
        place = _place(conn, user, entity, project)
        row = _row(conn, place, report_id, lock=True)
        if row.created_by != user.id and not place.admin:
            raise Forbidden(f"only its author or an admin of entity {entity!r} can delete a report")
        title = _revision(conn, row.id, row.version).title
        conn.execute(reports.delete().where(reports.c.id == row.id))
        t = comment_threads.c  # no foreign key (a thread's target is generic): its comments cascade
        conn.execute(comment_threads.delete().where(t.target_kind == "report", t.target_id == row.id))
        before = {"title": title, "version": row.version, "published_version": row.published_version}
        audit.record(conn, user, "report.delete", place.path(report_id), entity=entity, before=before)


# -- share links ---------------------------------------------------------------------------------
def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share(db: Database, user: User, entity: str, project: str, report_id: str) -> dict[str, Any]:
    """A new read-only link (replacing any earlier one, which stops working at once)."""
    token, now = secrets.token_urlsafe(32), time.time()
    with db.write() as conn:
        place = _place(conn, user, entity, project)
        row = _row(conn, place, report_id, lock=True)
        values = {
            "share_prefix": token[:SHARE_PREFIX],
            "share_hash": hash_token(token),
            "share_created_at": now,
        }
        conn.execute(reports.update().where(reports.c.id == row.id).values(**values))
        before = {"prefix": row.share_prefix} if row.share_prefix else None
        after = {"prefix": token[:SHARE_PREFIX]}
        audit.record(
            conn, user, "report.share", place.path(report_id), entity=entity, before=before, after=after
        )
    return {"token": token, "url": f"/share/{token}", "created_at": now}


def unshare(db: Database, user: User, entity: str, project: str, report_id: str) -> None:
    with db.write() as conn:
        place = _place(conn, user, entity, project)
        row = _row(conn, place, report_id, lock=True)
        if row.share_hash is None:
            return
        values = {"share_prefix": None, "share_hash": None, "share_created_at": None}
        conn.execute(reports.update().where(reports.c.id == row.id).values(**values))
        before = {"prefix": row.share_prefix}
        audit.record(conn, user, "report.unshare", place.path(report_id), entity=entity, before=before)


def shared(db: Database, token: str) -> dict[str, Any] | None:
    """The published revision the token opens (as a reader sees it, without ``share``), or None
    (no such token, revoked, never or no longer published, or its project in the trash)."""
    if not _TOKEN.match(token):
        return None
    wanted = hash_token(token)
    with db.read() as conn:
        rows = conn.execute(
            sa.select(reports, entities.c.name.label("entity_name"), projects.c.name.label("project_name"))
            .join(projects, projects.c.id == reports.c.project_id)
            .join(entities, entities.c.id == projects.c.entity_id)
            .where(reports.c.share_prefix == token[:SHARE_PREFIX], projects.c.deleted_at.is_(None))
        ).all()
        for row in rows:
            # compared in constant time, like API keys: the prefix lookup is not the check
            if row.share_hash and hmac.compare_digest(row.share_hash, wanted) and row.published_version:
                place = _Place(row.entity_name, row.project_name, row.project_id, writer=False, admin=False)
                return _shown(conn, place, row)
    return None


def check_version(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**31 - 1:
        raise InvalidRequest(f"{name} must be a revision number (1, 2, …)")
    return value
