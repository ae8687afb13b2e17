"""Discussion threads and their markdown comments, on runs (reports and report panels later).

A thread belongs to a target named generically, ``target_kind`` + ``target_id`` (``run`` and the
run's primary key, so a thread follows its run when the run moves); it starts with a comment and
is resolved or reopened as a whole. Members of the run's entity write: start a thread, reply,
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
from wakelog.server.notify.events import RunRef
from wakelog.server.notify.fanout import Delivered
from wakelog.server.permissions import entity_access
from wakelog.server.query.runs import LIVE, project_id_subquery
from wakelog.store.database import Database
from wakelog.store.schema import comment_threads, comments, entities, entity_members, runs, users

RUN = "run"
#: A comment's markdown at most, in characters.
MAX_BODY = 65536
MAX_MENTIONABLE = 20


@dataclass
class Changed:
    """A write's answer and the mention notifications it made (to push live)."""

    answer: dict[str, Any]
    delivered: Delivered = field(default_factory=Delivered)


@dataclass(frozen=True)
class Place:
    """The run a request addresses, and what the caller may do there."""

    run: RunRef
    moderator: bool  # may delete anyone's comment

    @property
    def path(self) -> str:
        return self.run.path


def _place(conn: sa.Connection, user: User, entity: str, project: str, run_id: str) -> Place:
    row = conn.execute(
        sa.select(runs.c.id, runs.c.project_id, runs.c.created_by, runs.c.name).where(
            runs.c.project_id == project_id_subquery(entity, project), runs.c.run_id == run_id, LIVE
        )
    ).first()
    if row is None:
        raise not_found(f"run {entity}/{project}/{run_id}")
    ref = RunRef(row.id, row.project_id, row.created_by, entity, project, run_id, row.name)
    return Place(ref, entity_access(conn, user, entity).allows(user, "admin"))


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
    query = query.where(t.target_kind == RUN, t.target_id == place.run.pk)
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
            "target": {"kind": RUN, "run_id": place.run.run_id},
            "created_at": row.created_at,
            "resolved_at": row.resolved_at,
            "resolved_by": row.resolver if row.resolved_at is not None else None,
            "comments": listed[tid],
        }
        for tid, row in found.items()
    ]


def threads(db: Database, user: User, entity: str, project: str, run_id: str) -> list[dict[str, Any]]:
    """The run's threads, oldest first, each with its comments oldest first."""
    with db.read() as conn:
        return _threads(conn, user, _place(conn, user, entity, project, run_id))


def _add(conn: sa.Connection, user: User, place: Place, thread_id: int, body: str, now: float) -> Changed:
    row = {
        "thread_id": thread_id,
        "author_id": user.id,
        "author": user.username,
        "body": body,
        "created_at": now,
    }
    cid = conn.execute(comments.insert().values(**row).returning(comments.c.id)).scalar_one()
    after = {"thread": thread_id, "comment": cid, "body": body}
    audit.record(conn, user, "comment.create", place.path, entity=place.run.entity, after=after)
    mentioned = mentions.readers(conn, mentions.named(body), place.run.entity, place.run.project)
    delivered = mentions.notify(conn, user, place.run, body, mentioned, now)
    made = conn.execute(sa.select(comments).where(comments.c.id == cid)).one()
    return Changed(_comment(made, user, place), delivered)


def start(db: Database, user: User, entity: str, project: str, run_id: str, body: str) -> Changed:
    """A new thread on the run, opened with ``body``; answers the thread."""
    body, now = _body(body), time.time()
    with db.write() as conn:
        place = _place(conn, user, entity, project, run_id)
        values = {"target_kind": RUN, "target_id": place.run.pk, "created_by": user.id, "created_at": now}
        tid = conn.execute(
            comment_threads.insert().values(**values).returning(comment_threads.c.id)
        ).scalar_one()
        added = _add(conn, user, place, tid, body, now)
        return Changed(_threads(conn, user, place, tid)[0], added.delivered)


def _thread_row(conn: sa.Connection, place: Place, thread_id: int) -> Any:
    t = comment_threads.c
    row = conn.execute(
        sa.select(comment_threads)
        .where(t.id == thread_id, t.target_kind == RUN, t.target_id == place.run.pk)
        .with_for_update()
    ).first()
    if row is None:
        raise not_found(f"thread {thread_id} on run {place.path}")
    return row


def reply(
    db: Database, user: User, entity: str, project: str, run_id: str, thread_id: int, body: str
) -> Changed:
    """A comment added to the thread; answers the comment."""
    body = _body(body)
    with db.write() as conn:
        place = _place(conn, user, entity, project, run_id)
        _thread_row(conn, place, thread_id)
        return _add(conn, user, place, thread_id, body, time.time())


def resolve(
    db: Database, user: User, entity: str, project: str, run_id: str, thread_id: int, resolved: bool
) -> dict[str, Any]:
    """Resolve or reopen the thread; answers it."""
    with db.write() as conn:
        place = _place(conn, user, entity, project, run_id)
        row = _thread_row(conn, place, thread_id)
        if (row.resolved_at is not None) != resolved:
            values = {"resolved_at": time.time(), "resolved_by": user.id} if resolved else {}
            values = values or {"resolved_at": None, "resolved_by": None}
            conn.execute(comment_threads.update().where(comment_threads.c.id == thread_id).values(**values))
            action = "thread.resolve" if resolved else "thread.reopen"
            audit.record(conn, user, action, place.path, entity=entity, after={"thread": thread_id})
        return _threads(conn, user, place, thread_id)[0]


def _comment_row(conn: sa.Connection, place: Place, comment_id: int) -> Any:
    t = comment_threads.c
    row = conn.execute(
        sa.select(comments)
        .join(comment_threads, t.id == comments.c.thread_id)
        .where(comments.c.id == comment_id, t.target_kind == RUN, t.target_id == place.run.pk)
        .with_for_update()
    ).first()
    if row is None:
        raise not_found(f"comment {comment_id} on run {place.path}")
    return row


def edit(
    db: Database, user: User, entity: str, project: str, run_id: str, comment_id: int, body: str
) -> Changed:
    """Replace the text of your own comment; users it newly mentions are notified."""
    body, now = _body(body), time.time()
    with db.write() as conn:
        place = _place(conn, user, entity, project, run_id)
        row = _comment_row(conn, place, comment_id)
        if row.author_id != user.id:
            raise Forbidden("only its author can edit a comment")
        conn.execute(comments.update().where(comments.c.id == comment_id).values(body=body, edited_at=now))
        before, after = {"comment": comment_id, "body": row.body}, {"comment": comment_id, "body": body}
        audit.record(conn, user, "comment.edit", place.path, entity=entity, before=before, after=after)
        old = set(mentions.named(row.body))
        fresh = [name for name in mentions.named(body) if name not in old]
        delivered = mentions.notify(
            conn, user, place.run, body, mentions.readers(conn, fresh, entity, project), now
        )
        made = conn.execute(sa.select(comments).where(comments.c.id == comment_id)).one()
        return Changed(_comment(made, user, place), delivered)


def remove(db: Database, user: User, entity: str, project: str, run_id: str, comment_id: int) -> None:
    """Delete a comment (your own; an entity admin anyone's), and its thread if it was the last."""
    with db.write() as conn:
        place = _place(conn, user, entity, project, run_id)
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
    """Delete the threads whose run is gone (purged from the trash, or its entity deleted)."""
    gone = ~sa.exists().where(runs.c.id == comment_threads.c.target_id)
    t = comment_threads.c
    return conn.execute(comment_threads.delete().where(t.target_kind == RUN, gone)).rowcount
