"""One event to its recipients, inside the transaction that made it: an in-app notification per
user, an outbox row per e-mail address and per webhook (each at most once per event)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from wakelog.server.auth import User
from wakelog.server.notify import settings as settings_
from wakelog.server.notify.events import Event
from wakelog.server.permissions import entity_access
from wakelog.store.schema import notification_settings, notifications, outbox, users


@dataclass
class Delivered:
    """What fanning out did: whom to tell live (user id → notification ids), how many sends queued."""

    users: dict[int, list[int]] = field(default_factory=dict)
    queued: int = 0

    def merge(self, other: Delivered) -> None:
        for user_id, ids in other.users.items():
            self.users.setdefault(user_id, []).extend(ids)
        self.queued += other.queued


def _documents(conn: sa.Connection, event: Event) -> list[tuple[int | None, list[settings_.Target]]]:
    """(the user a document belongs to or None for the project's own, its targets) that apply."""
    creator = event.run.created_by
    own = settings_.user_scope(creator) if creator is not None else None
    rows = conn.execute(
        sa.select(
            notification_settings.c.scope, notification_settings.c.user_id, notification_settings.c.targets
        )
        .where(
            sa.or_(
                notification_settings.c.project_id == event.run.project_id,
                notification_settings.c.scope == own,
            )
        )
        .order_by(notification_settings.c.scope)
    ).all()
    documents = [(row.user_id, settings_.stored_targets(row.targets)) for row in rows]
    if creator is not None and own not in {row.scope for row in rows}:
        documents.append((creator, settings_.stored_targets(settings_.DEFAULT_TARGETS)))
    return documents


def _may_read(conn: sa.Connection, user_id: int, entity: str, cache: dict[int, bool]) -> bool:
    """Whether the user can still read the run (a subscriber who left the team hears nothing)."""
    if user_id not in cache:
        row = conn.execute(sa.select(users.c.username, users.c.is_admin).where(users.c.id == user_id)).first()
        user = User(user_id, row.username, row.is_admin) if row is not None else None
        cache[user_id] = user is not None and entity_access(conn, user, entity).allows(user, "viewer")
    return cache[user_id]


def fan_out(conn: sa.Connection, event: Event, now: float, public_url: str | None = None) -> Delivered:
    """Notify and queue for ``event``; the sends are due at ``now``."""
    delivered, readers = Delivered(), dict[int, bool]()
    inapp: set[int] = set()
    sends: dict[tuple[str, str], dict[str, Any]] = {}
    for owner, targets in _documents(conn, event):
        if owner is not None and not _may_read(conn, owner, event.run.entity, readers):
            continue
        for target in targets:
            if event.kind not in target.events:
                continue
            if target.channel == "inapp" and owner is not None:
                inapp.add(owner)
            elif target.channel == "email" and target.address:
                sends.setdefault(("email", target.address.lower()), {"address": target.address})
            elif target.channel == "webhook" and target.url:
                webhook = {"url": target.url, "format": target.format, "secret": target.secret}
                sends.setdefault(("webhook", f"{target.format} {target.url}"), webhook)
    for user_id in sorted(inapp):
        delivered.users[user_id] = [_notify(conn, user_id, event)]
    message = event.message(public_url)
    for (channel, _), where in sends.items():
        row = {"channel": channel, "target": where, "message": message, "state": "pending", "attempts": 0}
        conn.execute(outbox.insert().values(**row, due_at=now, created_at=now))
        delivered.queued += 1
    return delivered


def notify_users(conn: sa.Connection, event: Event, user_ids: list[int]) -> Delivered:
    """An in-app notification of ``event`` for each of ``user_ids``, whatever their settings (a
    mention is addressed to them)."""
    return Delivered(users={user_id: [_notify(conn, user_id, event)] for user_id in dict.fromkeys(user_ids)})


def _notify(conn: sa.Connection, user_id: int, event: Event) -> int:
    row = {
        "user_id": user_id,
        "event": event.kind,
        "level": event.level,
        "title": event.title[:256],
        "text": event.text,
        "run_pk": event.run.pk,
        "subject": event.run.subject(),
        "created_at": event.time,
    }
    return int(conn.execute(notifications.insert().values(**row).returning(notifications.c.id)).scalar_one())
