"""Discussion threads and their markdown comments, on runs, on reports and on a report's panels.

A thread belongs to a target named generically, ``target_kind`` + ``target_id`` (``run`` or
``report`` and its primary key, so a thread follows its run when the run moves); a report thread
may name one of the report's panels (``panel_id``). It starts with a comment and is resolved or
reopened as a whole. Whoever may read the target reads its threads (a report's draft is not there
for readers, nor its threads). Members of the target's entity write: start a thread, reply,
resolve, reopen, edit or delete their own comments; an entity admin (or a server admin) may delete
anyone's. A thread whose last comment goes is gone too. Comments are stored as written (markdown;
the web app renders them without raw HTML). Creating, editing and deleting comments and resolving
threads are audited; ``@name`` mentions notify (``notify/mentions.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from wakelog.server import audit
from wakelog.server.auth import User
from wakelog.server.errors import Forbidden, InvalidRequest
from wakelog.server.http import not_found
from wakelog.server.notify import mentions
from wakelog.server.notify.events import ReportRef, RunRef
from wakelog.server.notify.fanout import Delivered
from wakelog.server.permissions import entity_access
from wakelog.server.query.runs import LIVE, project_id_subquery
from wakelog.server.reports import store as report_store
from wakelog.server.reports.spec import panel_ids
from wakelog.store.database import Database
from wakelog.store.schema import comment_threads, comments, entities, entity_members, reports, runs, users

RUN, REPORT = "run", "report"
#: A comment's markdown at most, in characters.
MAX_BODY = 65536
MAX_MENTIONABLE = 20


@dataclass
class Changed:
    """A write's answer and the mention notifications it made (to push live)."""

    answer: dict[str, Any]
    delivered: Delivered = field(default_factory=Delivered)


@dataclass(frozen=True)
class Target:
    """What a request's threads are on, as its path names it: a run or a report (``key``: the run
    id or report id)."""

    kind: str
    entity: str
    project: str
    key: str


@dataclass(frozen=True)
class Place:
    """The run or report a request addresses, and what the caller may do there."""

    kind: str
    pk: int  # the run's or report's row id: the threads' target_id
    about: RunRef | ReportRef  # what mention notifications are about
    moderator: bool  # may delete anyone's comment
    panels: frozenset[str] = frozenset()  # a report's panel ids (a thread may attach to one)

    @property
    def path(self) -> str:
        return self.about.path

    @property
    def entity(self) -> str:
        return self.about.entity

    @property
    def project(self) -> str:
        return self.about.project

    def target(self, panel_id: str | None) -> dict[str, Any]:
        """How a thread shows what it is on."""
        if isinstance(self.about, RunRef):
            return {"kind": RUN, "run_id": self.about.run_id}
        return {"kind": REPORT, "report_id": self.about.report_id, "panel_id": panel_id}

    def about_panel(self, panel_id: str | None) -> RunRef | ReportRef:
        if isinstance(self.about, ReportRef) and panel_id is not None:
            return ReportRef(**{**self.about.__dict__, "panel_id": panel_id})
        return self.about


def _place(conn: sa.Connection, user: User, target: Target) -> Place:
    entity, project = target.entity, target.project
    moderator = entity_access(conn, user, entity).allows(user, "admin")
    if target.kind == REPORT:
        row, shown = report_store.comment_target(conn, user, entity, project, target.key)
        ref = ReportRef(row.project_id, entity, project, target.key, shown["title"])
        return Place(REPORT, row.id, ref, moderator, frozenset(panel_ids(shown["spec"])))
    row = conn.execute(
        sa.select(runs.c.id, runs.c.project_id, runs.c.created_by, runs.c.name).where(
            runs.c.project_id == project_id_subquery(entity, project), runs.c.run_id == target.key, LIVE
        )
    ).first()
    if row is None:
        raise not_found(f"run {entity}/{project}/{target.key}")
    return Place(
        RUN,
        row.id,
        RunRef(row.id, row.project_id, row.created_by, entity, project, target.key, row.name),
        moderator,
    )


def _body(text: str) -> str:
    if not text.strip():
        raise InvalidRequest("a comment needs some text")
    return text


def _comment(row: Any, user: User, place: Place) -> dict[str, Any]:
    mine = row.author_id == user.id
    return {
        "id": row.id,
        "thread_id": row.thread_id,
        "author": row.author,
        "body": row.body,
        "created_at": row.created_at,
        "edited_at": row.edited_at,
        "can_edit": mine,
        "can_delete": mine or place.moderator,
    }


def _threads(conn: sa.Connection, user: User, place: Place, only: int | None = None) -> list[dict[str, Any]]:
    t = comment_threads.c
    query = sa.select(comment_threads, users.c.username.label("resolver")).outerjoin(
        users, users.c.id == t.resolved_by
    )
    query = query.where(t.target_kind == place.kind, t.target_id == place.pk)
    if only is not None:
        query = query.where(t.id == only)
    found = {row.id: row for row in conn.execute(query.order_by(t.id))}
    listed: dict[int, list[dict[str, Any]]] = {tid: [] for tid in found}
    if found:
        rows = conn.execute(
            sa.select(comments).where(comments.c.thread_id.in_(list(found))).order_by(comments.c.id)
        )
        for row in rows:
            listed[row.thread_id].append(_comment(row, user, place))
    return [
        {
            "id": tid,
            "target": place.target(row.panel_id),
            "created_at": row.created_at,
            "resolved_at": row.resolved_at,
            "resolved_by": row.resolver if row.resolved_at is not None else None,
            "comments": listed[tid],
        }
        for tid, row in found.items()
    ]


def threads(db: Database, user: User, target: Target) -> list[dict[str, Any]]:
    """The target's threads, oldest first, each with its comments oldest first."""
    with db.read() as conn:
        return _threads(conn, user, _place(conn, user, target))


def _add(
    conn: sa.Connection, user: User, place: Place, thread_id: int, body: str, now: float, panel_id: str | None
) -> Changed:
    row = {
        "thread_id": thread_id,
        "author_id": user.id,
        "author": user.username,
        "body": body,
        "created_at": now,
    }
    cid = conn.execute(comments.insert().values(**row).returning(comments.c.id)).scalar_one()
    after = {"thread": thread_id, "comment": cid, "body": body}
    audit.record(conn, user, "comment.create", place.path, entity=place.entity, after=after)
    mentioned = mentions.readers(conn, mentions.named(body), place.entity, place.project)
    delivered = mentions.notify(conn, user, place.about_panel(panel_id), body, mentioned, now)
    made = conn.execute(sa.select(comments).where(comments.c.id == cid)).one()
    return Changed(_comment(made, user, place), delivered)


def start(db: Database, user: User, target: Target, body: str, panel_id: str | None = None) -> Changed:
    """A new thread on the target (on one of a report's panels with ``panel_id``), opened with
    ``body``; answers the thread."""
    body, now = _body(body), time.time()
    with db.write() as conn:
        place = _place(conn, user, target)
        if panel_id is not None and panel_id not in place.panels:
            where = "a run" if place.kind == RUN else f"report {place.path}"
            raise InvalidRequest(f"panel_id {panel_id!r} names no panel of {where}")
        values = {"target_kind": place.kind, "target_id": place.pk, "created_by": user.id, "created_at": now}
        tid = conn.execute(
            comment_threads.insert().values(**values, panel_id=panel_id).returning(comment_threads.c.id)
        ).scalar_one()
        added = _add(conn, user, place, tid, body, now, panel_id)
        return Changed(_threads(conn, user, place, tid)[0], added.delivered)


def _thread_row(conn: sa.Connection, place: Place, thread_id: int) -> Any:
    t = comment_threads.c
    row = conn.execute(
        sa.select(comment_threads)
        .where(t.id == thread_id, t.target_kind == place.kind, t.target_id == place.pk)
        .with_for_update()
    ).first()
    if row is None:
        raise not_found(f"thread {thread_id} on {place.kind} {place.path}")
    return row


def reply(db: Database, user: User, target: Target, thread_id: int, body: str) -> Changed:
    """A comment added to the thread; answers the comment."""
    body = _body(body)
    with db.write() as conn:
        place = _place(conn, user, target)
        thread = _thread_row(conn, place, thread_id)
        return _add(conn, user, place, thread_id, body, time.time(), thread.panel_id)


def resolve(db: Database, user: User, target: Target, thread_id: int, resolved: bool) -> dict[str, Any]:
    """Resolve or reopen the thread; answers it."""
    with db.write() as conn:
        place = _place(conn, user, target)
        row = _thread_row(conn, place, thread_id)
        if (row.resolved_at is not None) != resolved:
            values = {"resolved_at": time.time(), "resolved_by": user.id} if resolved else {}
            values = values or {"resolved_at": None, "resolved_by": None}
            conn.execute(comment_threads.update().where(comment_threads.c.id == thread_id).values(**values))
            action = "thread.resolve" if resolved else "thread.reopen"
            audit.record(conn, user, action, place.path, entity=place.entity, after={"thread": thread_id})
        return _threads(conn, user, place, thread_id)[0]


def _comment_row(conn: sa.Connection, place: Place, comment_id: int) -> Any:
    t = comment_threads.c
    row = conn.execute(
        sa.select(comments)
        .join(comment_threads, t.id == comments.c.thread_id)
        .where(comments.c.id == comment_id, t.target_kind == place.kind, t.target_id == place.pk)
        .with_for_update()
    ).first()
    if row is None:
        raise not_found(f"comment {comment_id} on {place.kind} {place.path}")
    return row


def edit(db: Database, user: User, target: Target, comment_id: int, body: str) -> Changed:
    """Replace the text of your own comment; users it newly mentions are notified."""
    body, now = _body(body), time.time()
    entity, project = target.entity, target.project
    with db.write() as conn:
        place = _place(conn, user, target)
        row = _comment_row(conn, place, comment_id)
        if row.author_id != user.id:
            raise Forbidden("only its author can edit a comment")
        conn.execute(comments.update().where(comments.c.id == comment_id).values(body=body, edited_at=now))
        before, after = {"comment": comment_id, "body": row.body}, {"comment": comment_id, "body": body}
        audit.record(conn, user, "comment.edit", place.path, entity=entity, before=before, after=after)
        old = set(mentions.named(row.body))
        fresh = [name for name in mentions.named(body) if name not in old]
        panel_id = conn.execute(
            sa.select(comment_threads.c.panel_id).where(comment_threads.c.id == row.thread_id)
        ).scalar()
        mentioned = mentions.readers(conn, fresh, entity, project)
        delivered = mentions.notify(conn, user, place.about_panel(panel_id), body, mentioned, now)
        made = conn.execute(sa.select(comments).where(comments.c.id == comment_id)).one()
        return Changed(_comment(made, user, place), delivered)


def remove(db: Database, user: User, target: Target, comment_id: int) -> None:
    """Delete a comment (your own; an entity admin anyone's), and its thread if it was the last."""
    entity = target.entity
    with db.write() as conn:
        place = _place(conn, user, target)
        row = _comment_row(conn, place, comment_id)
        if row.author_id != user.id and not place.moderator:
            raise Forbidden(f"only its author or an admin of entity {entity!r} can delete a comment")
        conn.execute(comments.delete().where(comments.c.id == comment_id))
        left = conn.execute(sa.select(comments.c.id).where(comments.c.thread_id == row.thread_id)).first()
        if left is None:
            conn.execute(comment_threads.delete().where(comment_threads.c.id == row.thread_id))
        before = {"thread": row.thread_id, "comment": comment_id, "author": row.author, "body": row.body}
        audit.record(conn, user, "comment.delete", place.path, entity=entity, before=before)


def mentionable(db: Database, entity: str, prefix: str) -> list[str]:
    """Usernames of the entity's members starting with ``prefix`` (case-insensitive), sorted."""
    escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        sa.select(users.c.username)
        .join(entity_members, entity_members.c.user_id == users.c.id)
        .join(entities, entities.c.id == entity_members.c.entity_id)
        .where(entities.c.name == entity, sa.func.lower(users.c.username).like(f"{escaped}%", escape="\\"))
        .order_by(users.c.username)
        .limit(MAX_MENTIONABLE)
    )
    with db.read() as conn:
        return list(conn.execute(query).scalars())


def forget_orphans(conn: sa.Connection) -> int:
    """Delete the threads whose run or report is gone (purged from the trash, deleted, or its
    entity deleted)."""
    t, deleted = comment_threads.c, 0
    for kind, table in ((RUN, runs), (REPORT, reports)):
        gone = ~sa.exists().where(table.c.id == t.target_id)
        deleted += conn.execute(comment_threads.delete().where(t.target_kind == kind, gone)).rowcount
    return deleted
