"""Users, API keys, sign-in and browser sessions: the library behind ``/api/v1/auth``, ``/keys``,
``/users`` and the ``wakelog user`` / ``wakelog key`` commands.

Every function takes a :class:`~wakelog.store.database.Database` and raises :class:`AccountError`
(with a one-line message) for anything the caller did wrong; it is a server error
(``server/errors.py``), so the API answers with its ``status`` and ``code``. Keys and session
tokens are stored as sha256 hashes, passwords as scrypt hashes (see ``auth.py``); the clear text
of a key or generated password is returned once and never kept.
"""

from __future__ import annotations

import functools
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from wakelog.server import audit, errors
from wakelog.server.auth import (
    User,
    check_password,
    create_key,
    hash_key,
    hash_password,
    lookup_key,
    touch_key,
)
from wakelog.server.comments import forget_orphans
from wakelog.store.database import Database
from wakelog.store.members import ensure_personal_entity, name_taken, set_role
from wakelog.store.schema import api_keys, blob_holders, entities, entity_members, projects, sessions, users

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
_PREFIX = re.compile(r"^[A-Za-z0-9_\-]{1,16}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_KEY_NAME = 128


@functools.cache
def _dummy_hash() -> str:
    """A real scrypt hash of a random password, checked when the username is unknown so that a
    wrong username takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


class AccountError(errors.InvalidRequest):
    """A request about users, keys or sessions that cannot be done; the message says why."""


class NotFound(AccountError, errors.NotFound):
    """No such user, key or entity."""


class Conflict(AccountError, errors.Conflict):
    """A name already taken, the last admin, keys sharing a prefix."""


class Forbidden(AccountError, errors.Forbidden):
    """Someone else's key."""


@dataclass(frozen=True)
class UserInfo:
    username: str
    is_admin: bool
    created_at: float
    has_password: bool


@dataclass(frozen=True)
class KeyInfo:
    prefix: str
    name: str
    user: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


# -- database --------------------------------------------------------------------------------
def open_database(database_url: str) -> Database:
    """The server's database, for the command line; refuses to create one where none exists.

    Creating users in an empty database would skip the first-start admin, so an SQLite file that
    does not exist yet is an error that says to start the server once.
    """
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
        raise AccountError(
            f"no wakelog database at {url.database}: start `wakelog server` once with this data directory "
            "(it creates the admin), or pass --data-dir / --backend-store"
        )
    db = Database(database_url)
    try:
        db.check_schema(auto_upgrade=db.is_sqlite)
    except Exception:
        db.dispose()
        raise
    return db


# -- checks ----------------------------------------------------------------------------------
def check_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise AccountError(
            f"username {username!r} is invalid: use 1-64 lowercase letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return username


def check_new_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if password != password.strip():
        raise AccountError("a password cannot start or end with whitespace")
    return password


def random_password() -> str:
    return secrets.token_urlsafe(18)


def find_user(conn: sa.Connection, username: str) -> sa.Row:
    """The user's row; ``NotFound`` names the username."""
    row = None
    if isinstance(username, str) and _USERNAME.match(username):  # nothing odd reaches the database
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"no user {username!r}")
    return row


def _user_info(row: sa.Row) -> UserInfo:
    return UserInfo(row.username, bool(row.is_admin), row.created_at, row.password_hash is not None)


# -- users -----------------------------------------------------------------------------------
def add_user(
    db: Database,
    username: str,
    password: str | None = None,
    *,
    is_admin: bool = False,
    actor: User | None = None,
) -> tuple[UserInfo, str | None]:
    """Create a user, owner and admin of their new personal entity (named after them). A name a
    user or an entity holds already is refused (409). Without ``password`` a random one is made
    and returned (the only time). Audited as ``actor``'s change (None: the server's console)."""
    check_username(username)
    generated = None
    if password is None:
        password = generated = random_password()
    check_new_password(password)
    password_hash = hash_password(password)  # outside the write lock: scrypt takes a while
    with db.write() as conn:
        taken = name_taken(conn, username)
        if taken is not None:
            raise Conflict(f"the name {username!r} is taken by an existing {taken}")
        conn.execute(
            users.insert().values(
                username=username, password_hash=password_hash, is_admin=is_admin, created_at=time.time()
            )
        )
        row = find_user(conn, username)
        if not ensure_personal_entity(conn, row.id, username):  # an entity made at the same moment
            raise Conflict(f"the name {username!r} is taken by an existing entity")
        audit.record(conn, actor, "user.create", username, after={"is_admin": is_admin})
    return _user_info(row), generated


def list_users(db: Database) -> list[UserInfo]:
    with db.read() as conn:
        return [_user_info(row) for row in conn.execute(sa.select(users).order_by(users.c.username))]


def get_user(db: Database, username: str) -> UserInfo:
    with db.read() as conn:
        return _user_info(find_user(conn, username))


def set_password(
    db: Database, username: str, password: str, *, keep_session: str | None = None, actor: User | None = None
) -> None:
    """Replace ``username``'s password and end their browser sessions (but ``keep_session``);
    audited (never the password) as ``actor``'s change (None: the server's console)."""
    check_new_password(password)
    password_hash = hash_password(password)
    with db.write() as conn:
        row = find_user(conn, username)
        conn.execute(users.update().where(users.c.id == row.id).values(password_hash=password_hash))
        ended = sessions.delete().where(sessions.c.user_id == row.id)
        if keep_session:
            ended = ended.where(sessions.c.token_hash != hash_key(keep_session))
        conn.execute(ended)
        audit.record(conn, actor, "user.password", username)


def delete_user(
    db: Database,
    username: str,
    *,
    reassign_to: str | None = None,
    delete_runs: bool = False,
    actor: User | None = None,
) -> None:
    """Delete a user with their keys, sessions and memberships. The last admin cannot go.

    Their personal entity goes with them only if it is empty; otherwise the caller says which:
    ``delete_runs`` deletes it with every project and run in it, ``reassign_to`` hands it to
    another user as its admin (it keeps its name, which stays taken, and becomes a team entity).
    Runs they made in other entities stay.
    """
    if reassign_to is not None and delete_runs:
        raise AccountError("choose one: reassign their entity, or delete their runs")
    with db.write() as conn:
        row = find_user(conn, username)
        if row.is_admin:
            admins = conn.execute(
                sa.select(sa.func.count()).select_from(users).where(users.c.is_admin == sa.true())
            ).scalar()
            if admins <= 1:
                raise Conflict(f"{username!r} is the only admin; make another admin first")
        heir = find_user(conn, reassign_to).id if reassign_to is not None else None
        if heir == row.id:
            raise AccountError("a user's entity cannot be reassigned to themselves")
        _settle_personal_entity(conn, row, heir, delete_runs=delete_runs)
        # The foreign keys cascade on PostgreSQL and SQLite alike; deleting explicitly as well
        # keeps a database without enforced foreign keys consistent.
        for owned in (api_keys, sessions, entity_members, blob_holders):
            conn.execute(owned.delete().where(owned.c.user_id == row.id))
        conn.execute(users.delete().where(users.c.id == row.id))
        settled = {"reassign_to": reassign_to, "delete_runs": delete_runs}
        audit.record(conn, actor, "user.delete", username, before={"is_admin": row.is_admin}, after=settled)


def _settle_personal_entity(
    conn: sa.Connection, user: sa.Row, heir: int | None, *, delete_runs: bool
) -> None:
    """Delete or reassign the entity ``user`` owns, as the caller chose; refuse to guess."""
    entity = conn.execute(sa.select(entities).where(entities.c.owner_id == user.id)).first()
    if entity is None:
        return
    has_projects = conn.execute(sa.select(projects.c.id).where(projects.c.entity_id == entity.id)).first()
    if heir is not None:
        conn.execute(entities.update().where(entities.c.id == entity.id).values(owner_id=None))
        set_role(conn, entity.id, heir, "admin")
    elif delete_runs or not has_projects:
        conn.execute(entities.delete().where(entities.c.id == entity.id))
        forget_orphans(conn)
    else:
        raise Conflict(
            f"{user.username!r} has runs in their entity {entity.name!r}: say whether to reassign it to "
            "another user (`--reassign-to USER`) or delete it with its runs (`--delete-runs`)"
        )


# -- API keys --------------------------------------------------------------------------------
def _key_query():
    return sa.select(
        api_keys.c.id,
        api_keys.c.prefix,
        api_keys.c.name,
        api_keys.c.created_at,
        api_keys.c.last_used_at,
        api_keys.c.revoked_at,
        users.c.username,
    ).join(users, users.c.id == api_keys.c.user_id)


def _key_info(row: sa.Row) -> KeyInfo:
    return KeyInfo(row.prefix, row.name, row.username, row.created_at, row.last_used_at, row.revoked_at)


def create_api_key(
    db: Database, username: str, name: str = "", *, actor: User | None = None
) -> tuple[KeyInfo, str]:
    """A new key for ``username``: its listing entry and the key itself (shown this once);
    audited as ``actor``'s change (None: the server's console)."""
    name = (name or "").strip()
    if len(name) > MAX_KEY_NAME:
        raise AccountError(f"a key name has at most {MAX_KEY_NAME} characters")
    if not name.isprintable():
        raise AccountError("a key name cannot contain control characters")
    with db.write() as conn:
        row = find_user(conn, username)
        key = create_key(conn, row.id, name)
        created = conn.execute(_key_query().where(api_keys.c.key_hash == hash_key(key))).one()
        after = {"user": username, "name": name}
        audit.record(conn, actor, "key.create", created.prefix, after=after)
    return _key_info(created), key


def list_api_keys(db: Database, username: str | None = None) -> list[KeyInfo]:
    """Keys of ``username`` (everyone's when None), oldest first; never the key or its hash."""
    query = _key_query().order_by(api_keys.c.created_at, api_keys.c.id)
    with db.read() as conn:
        if username is not None:
            query = query.where(api_keys.c.user_id == find_user(conn, username).id)
        return [_key_info(row) for row in conn.execute(query)]


def revoke_api_key(
    db: Database, prefix: str, *, owner: str | None = None, actor: User | None = None
) -> KeyInfo:
    """Revoke the key with this prefix, ending the browser sessions opened with it. With
    ``owner``, only that user's key may be revoked.

    Revoking a revoked key changes nothing. A prefix two keys share is refused (ask for a
    listing); the key stays in the listing as revoked.
    """
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise NotFound(f"no API key with prefix {prefix!r}")
    with db.write() as conn:
        found = conn.execute(_key_query().where(api_keys.c.prefix == prefix)).all()
        if not found:
            raise NotFound(f"no API key with prefix {prefix!r}")
        if owner is not None:
            mine = [row for row in found if row.username == owner]
            if not mine:
                raise Forbidden("you can revoke only your own keys")
            found = mine
        if len(found) > 1:
            raise Conflict(f"{len(found)} keys share the prefix {prefix!r}; revoke them from the database")
        row = found[0]
        if row.revoked_at is None:
            now = time.time()
            conn.execute(api_keys.update().where(api_keys.c.id == row.id).values(revoked_at=now))
            before = {"user": row.username, "revoked_at": None}
            audit.record(
                conn, actor, "key.revoke", prefix, before=before, after={**before, "revoked_at": now}
            )
        conn.execute(sessions.delete().where(sessions.c.key_id == row.id))
        return _key_info(conn.execute(_key_query().where(api_keys.c.id == row.id)).one())


# -- sign-in ---------------------------------------------------------------------------------
def verify_password(db: Database, username: str, password: str) -> User | None:
    """The user if the password is theirs; None otherwise, in about the same time either way."""
    row = None
    if isinstance(username, str) and _USERNAME.match(username) and len(password) <= MAX_PASSWORD:
        with db.read() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    stored = row.password_hash if row is not None and row.password_hash else _dummy_hash()
    ok = check_password(password[:MAX_PASSWORD], stored)
    if row is None or not row.password_hash or not ok:
        return None
    return User(row.id, row.username, bool(row.is_admin))


def verify_key(db: Database, key: str) -> tuple[User, int] | None:
    """The key's user and the key's id, if the key is valid and not revoked."""
    with db.read() as conn:
        found = lookup_key(conn, key)
    if found is None:
        return None
    user, key_id, last_used = found
    touch_key(db, key_id, last_used)
    return user, key_id


def start_session(db: Database, user: User, seconds: float, *, key_id: int | None = None) -> tuple[str, str]:
    """A new browser session: ``(token, csrf_token)``. Expired sessions are swept at the same time.

    A session opened with an API key (``key_id``) ends when that key is revoked.
    """
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = time.time()
    with db.write() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires_at <= now))
        conn.execute(
            sessions.insert().values(
                token_hash=hash_key(token),
                user_id=user.id,
                key_id=key_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + seconds,
            )
        )
    return token, csrf


def end_session(db: Database, token: str) -> None:
    with db.write() as conn:
        conn.execute(sessions.delete().where(sessions.c.token_hash == hash_key(token)))
