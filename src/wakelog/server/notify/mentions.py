"""@mentions in comments: which users a markdown text names, and their notifications.

``@name`` counts where ``name`` is a user who can read the project the comment is in; any other
``@word`` (an unknown name, someone outside the team, an e-mail address) stays plain text. Code
(fenced blocks and inline spans) mentions nobody. A mention is an in-app notification addressed to
that user whatever their subscription settings, pushed live like every other (``inbox.tell``).
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from wakelog.server.auth import User
from wakelog.server.notify.events import Event, ReportRef, RunRef
from wakelog.server.notify.fanout import Delivered, notify_users
from wakelog.server.permissions import entity_access, open_to_signed_in
from wakelog.store.schema import users

_CODE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]*`", re.DOTALL)
# not after a word character (so user@example.com mentions nobody); usernames are word characters,
# '.' and '-' (a trailing '.' ends the sentence, not the name)
_MENTION = re.compile(r"(?<![\w@])@([\w.\-]*[\w\-])", re.UNICODE)
#: Names looked up per comment at most (the rest stay text).
MAX_MENTIONS = 50


def named(text: str) -> list[str]:
    """The ``@names`` of ``text`` outside code, in order, each once."""
    names = _MENTION.findall(_CODE.sub(" ", text))
    return list(dict.fromkeys(names))[:MAX_MENTIONS]


def readers(conn: sa.Connection, names: list[str], entity: str, project: str) -> list[User]:
    """The users of ``names`` who can read ``entity/project``."""
    if not names:
        return []
    rows = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.is_admin).where(users.c.username.in_(names))
    ).all()
    open_project = open_to_signed_in(conn, entity, project)
    found = [User(row.id, row.username, row.is_admin) for row in rows]
    return [u for u in found if open_project or entity_access(conn, u, entity).allows(u, "viewer")]


def notify(
    conn: sa.Connection,
    author: User,
    about: RunRef | ReportRef,
    body: str,
    mentioned: list[User],
    when: float,
) -> Delivered:
    """A ``mention`` notification for each of ``mentioned`` but the author."""
    targets = [u.id for u in mentioned if u.id != author.id]
    if not targets:
        return Delivered()
    title = f"{author.username} mentioned you on {about.label}"
    text = body if len(body) <= 500 else body[:499] + "…"
    event = Event("mention", "INFO", title, text, about, when)
    return notify_users(conn, event, targets)
