"""A user's notifications under the bell: listing, the unread count, marking read, and the live
channel (``user:<id>``) that tells their open pages a new one arrived."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from wakelog.server.live import LiveHub
from wakelog.server.notify.fanout import Delivered
from wakelog.store.schema import notifications

MAX_PAGE = 200


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


def tell(live: LiveHub, delivered: Delivered) -> None:
    """Push ``{"type": "notification", "ids"}`` to each notified user's open pages."""
    for user_id, ids in delivered.users.items():
        live.publish(user_channel(user_id), {"type": "notification", "ids": ids})


def _json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "event": row.event,
        "level": row.level,
        "title": row.title,
        "text": row.text,
        "run": row.subject or None,
        "created_at": row.created_at,
        "read": row.read_at is not None,
    }


def unread(conn: sa.Connection, user_id: int) -> int:
    query = sa.select(sa.func.count()).where(
        notifications.c.user_id == user_id, notifications.c.read_at.is_(None)
    )
    return int(conn.execute(query).scalar_one())


def listing(
    conn: sa.Connection, user_id: int, *, only_unread: bool, before: int | None, limit: int
) -> dict[str, Any]:
    """Newest first; ``before`` (an id) pages back."""
    query = sa.select(notifications).where(notifications.c.user_id == user_id)
    if only_unread:
        query = query.where(notifications.c.read_at.is_(None))
    if before is not None:
        query = query.where(notifications.c.id < before)
    rows = conn.execute(query.order_by(notifications.c.id.desc()).limit(min(limit, MAX_PAGE))).all()
    return {"notifications": [_json(row) for row in rows], "unread": unread(conn, user_id)}


def mark_read(conn: sa.Connection, user_id: int, ids: list[int] | None) -> int:
    """Mark ``ids`` (None: all) of the user's notifications read; returns the unread count left."""
    query = notifications.update().where(
        notifications.c.user_id == user_id, notifications.c.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(notifications.c.id.in_(ids))
    conn.execute(query.values(read_at=time.time()))
    return unread(conn, user_id)
