"""Authentication: API keys (HTTP Basic ``api:<key>`` like wandb, or Bearer) and browser sessions.

Keys are random (``wk_`` + 40 URL-safe characters), stored as sha256 hashes and compared in
constant time; passwords are hashed with scrypt. The first start creates an admin with a random
password and key and writes them to 0600 files in the data directory. A failed check answers 401
with nothing that says why. A key's ``last_used_at`` is written at most once a minute. A key checked
lately is not looked up again for a few seconds (``keycache.py``: revocation takes that long on other
replicas).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from wakelog.server.errors import CsrfFailed, Unauthorized
from wakelog.server.keycache import KeyCache
from wakelog.server.limits import client_address, too_many
from wakelog.store.database import Database
from wakelog.store.members import ensure_personal_entity
from wakelog.store.schema import api_keys, sessions, users

KEY_PREFIX = "wk_"
#: The stock wandb client refuses keys whose part after the first ``-`` is under 40 characters,
#: which about half of wakelog's keys are (``token_urlsafe`` makes dashes). ``local-<key>`` (the
#: shape of W&B's own self-hosted keys) passes its check; the server reads the key behind it.
WANDB_KEY_PREFIX = "local-"
SESSION_COOKIE = "wakelog_session"
CSRF_HEADER = "x-csrf-token"
_PREFIX_LENGTH = len(KEY_PREFIX) + 8
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_KEY_CHARS = re.compile(r"^[A-Za-z0-9_\-]{1,256}$")  # what token_urlsafe makes, after the prefix
#: ``api_keys.last_used_at`` is written at most this often per key.
TOUCH_INTERVAL = 60.0
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def create_user(conn: sa.Connection, username: str, password: str | None, *, is_admin: bool = False) -> int:
    return conn.execute(
        users.insert().values(
            username=username,
            password_hash=hash_password(password) if password else None,
            is_admin=is_admin,
            created_at=time.time(),
        )
    ).inserted_primary_key[0]


def create_key(conn: sa.Connection, user_id: int, name: str = "") -> str:
    """A new API key for ``user_id``; the only time the key itself is seen."""
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    conn.execute(
        api_keys.insert().values(
            user_id=user_id,
            name=name,
            prefix=key[:_PREFIX_LENGTH],
            key_hash=hash_key(key),
            created_at=time.time(),
        )
    )
    return key


def user_for_key(conn: sa.Connection, key: str) -> User | None:
    found = lookup_key(conn, key)
    return found[0] if found else None


def lookup_key(conn: sa.Connection, key: str) -> tuple[User, int, float | None] | None:
    """``(user, key id, last used)`` for a valid, unrevoked key; None for anything else."""
    if not key.startswith(KEY_PREFIX) or not _KEY_CHARS.match(key) or len(key) < _PREFIX_LENGTH + 8:
        return None  # also keeps NUL and the like away from the database (PostgreSQL refuses them)
    wanted = hash_key(key)
    rows = conn.execute(
        sa.select(
            api_keys.c.id,
            api_keys.c.key_hash,
            api_keys.c.last_used_at,
            users.c.id.label("user_id"),
            users.c.username,
            users.c.is_admin,
        )
        .join(users, users.c.id == api_keys.c.user_id)
        .where(api_keys.c.prefix == key[:_PREFIX_LENGTH], api_keys.c.revoked_at.is_(None))
    ).all()
    for row in rows:
        if hmac.compare_digest(row.key_hash, wanted):
            return User(row.user_id, row.username, row.is_admin), row.id, row.last_used_at
    return None


_touched: dict[tuple[str, int], float] = {}
_touched_lock = threading.Lock()


def touch_key(db: Database, key_id: int, last_used: float | None) -> None:
    """Record that a key was used, unless that was recorded in the last minute (by any process)."""
    now = time.time()
    if last_used is not None and now - last_used < TOUCH_INTERVAL:
        return
    with _touched_lock:
        if now - _touched.get((db.url, key_id), 0.0) < TOUCH_INTERVAL:
            return
        if len(_touched) > 100_000:
            _touched.clear()
        _touched[(db.url, key_id)] = now
    try:
        with db.write() as conn:
            conn.execute(
                api_keys.update()
                .where(
                    api_keys.c.id == key_id,
                    sa.or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < now - TOUCH_INTERVAL),
                )
                .values(last_used_at=now)
            )
    except sa.exc.SQLAlchemyError as exc:  # bookkeeping only: never fail the request for it
        _log.warning("could not record the use of API key %s: %s", key_id, exc)


def user_for_session(conn: sa.Connection, token: str) -> tuple[User, str] | None:
    row = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.is_admin, sessions.c.csrf_token)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == hash_key(token), sessions.c.expires_at > time.time())
    ).first()
    return (User(row.id, row.username, row.is_admin), row.csrf_token) if row else None


def bootstrap_admin(db: Database, data_dir: Path) -> Path | None:
    """On the first start: an admin with a random password and key, written to 0600 files."""
    try:
        with db.write() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(users)).scalar():
                return None
            password = secrets.token_urlsafe(18)
            user_id = create_user(conn, "admin", password, is_admin=True)
            ensure_personal_entity(conn, user_id, "admin")
            key = create_key(conn, user_id, "admin (created at first start)")
    except sa.exc.IntegrityError:
        return None  # another replica starting at the same moment created the admin
    data_dir.mkdir(parents=True, exist_ok=True)
    _write_private(data_dir / "admin.key", key + "\n")
    credentials = data_dir / "admin-credentials.txt"
    _write_private(credentials, f"username: admin\npassword: {password}\napi key: {key}\n")
    return credentials


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: narrow it before writing
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    path.chmod(0o600)


def _key_from_header(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        _user, _, key = decoded.partition(":")
        return key.removeprefix(WANDB_KEY_PREFIX) if key.startswith(WANDB_KEY_PREFIX + KEY_PREFIX) else key
    return None


def unauthorized(request: Request | None = None) -> Unauthorized:
    """401. The Basic challenge is left out for the web app's own requests (``X-Requested-With``,
    event streams): it would make the browser pop up its password dialog over the sign-in page."""
    headers = request.headers if request is not None else {}
    quiet = "x-requested-with" in headers or "text/event-stream" in headers.get("accept", "")
    challenge = None if quiet else {"WWW-Authenticate": 'Basic realm="wakelog"'}
    return Unauthorized("authentication required", headers=challenge)


async def authenticate(request: Request) -> User:
    """The user behind the request, or 401 (the dependency every authenticated route takes).
    Cookie sessions must send the CSRF token to write.

    Sets ``request.state.user``; for a cookie session, ``request.state.csrf_token`` holds the
    session's CSRF token. Failed key checks are throttled per address, and writes per user (429,
    ``limits.py``). A key checked lately (``keycache.py``) is answered here on the event loop;
    anything that needs the database goes to the thread pool (a live run's uploader sends the same
    key every second: each trip costs about as much as the rest of the check).
    """
    header = request.headers.get("authorization")
    user = _cached_key_user(request, header) if header else None
    if user is None:
        user = await run_in_threadpool(_identify, request)
    _limit_writes(request, user)
    return user


def authenticate_now(request: Request) -> User:
    """``authenticate`` for code already in the thread pool (an event stream checking again)."""
    user = _identify(request)
    _limit_writes(request, user)
    return user


def _limit_writes(request: Request, user: User) -> None:
    if request.method not in _SAFE_METHODS:
        wait = request.app.state.limits.writes.take(user.id)
        if wait > 0:
            raise too_many(wait, f"{user.username} is writing faster than this server allows")


def _user_for_key(request: Request, key: str, *, cached_only: bool = False) -> User | None:
    """The key's user, from the key cache or (unless ``cached_only``) the database; notes the
    key's hash in ``request.state.key_hash``, under which permission checks are cached too."""
    cache: KeyCache = request.app.state.key_cache
    key_hash = hash_key(key)
    cached = cache.user(key_hash)
    if cached is None:
        if cached_only:
            return None
        db: Database = request.app.state.db
        with db.read() as conn:
            found = lookup_key(conn, key)
        if found is None:
            return None
        user, key_id, last_used = found
        touch_key(db, key_id, last_used)
        cache.remember(key_hash, user, key_id)
    else:
        user = cached[0]
    request.state.key_hash = key_hash
    return user


def _cached_key_user(request: Request, header: str) -> User | None:
    """The user of the request's API key if the key cache knows it (no database); None when
    ``_key_user`` must decide. A throttled address is refused here too (429), as there."""
    _throttled(request)
    key = _key_from_header(header)
    user = _user_for_key(request, key, cached_only=True) if key else None
    if user is not None:
        request.state.user = user  # lets the body be read in full (server/body.py)
    return user


def _key_user(request: Request, header: str) -> User:
    """The user of the request's API key, or 401 (counted against the address)."""
    address = _throttled(request)
    key = _key_from_header(header)
    user = _user_for_key(request, key) if key else None
    if user is None:
        request.app.state.limits.key_failures.failure(address)
        raise unauthorized(request)
    request.state.user = user  # lets the body be read in full (server/body.py)
    return user


def _throttled(request: Request) -> str:
    """429 while the request's address has failed too many key checks; else the address."""
    address = client_address(request)
    wait = request.app.state.limits.key_failures.retry_after(address)
    if wait > 0:
        raise too_many(wait, "too many failed API key checks from this address")
    return address


def _identify(request: Request) -> User:
    db: Database = request.app.state.db
    header = request.headers.get("authorization")
    if header:
        return _key_user(request, header)
    token = request.cookies.get(SESSION_COOKIE)
    with db.read() as conn:
        found = user_for_session(conn, token) if token else None
    if found is None:
        raise unauthorized(request)
    user, csrf = found
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a 500, not a 403).
    if request.method not in _SAFE_METHODS and not hmac.compare_digest(
        request.headers.get(CSRF_HEADER, "").encode(), csrf.encode()
    ):
        raise CsrfFailed("missing or wrong CSRF token")
    request.state.csrf_token = csrf
    request.state.user = user
    return user
