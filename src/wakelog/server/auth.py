"""Authentication: API keys (HTTP Basic ``api:<key>`` like wandb, or Bearer) and browser sessions.

Keys are random (``wk_`` + 40 URL-safe characters), stored as sha256 hashes and compared in
constant time; passwords are hashed with scrypt. The first start creates an admin with a random
password and key and writes them to 0600 files in the data directory. A failed check answers 401
with nothing that says why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from fastapi import HTTPException, Request

from wakelog.store.database import Database
from wakelog.store.schema import api_keys, sessions, users

KEY_PREFIX = "wk_"
SESSION_COOKIE = "wakelog_session"
CSRF_HEADER = "x-csrf-token"
_PREFIX_LENGTH = len(KEY_PREFIX) + 8
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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
    if not key.startswith(KEY_PREFIX) or len(key) < _PREFIX_LENGTH + 8:
        return None
    wanted = hash_key(key)
    rows = conn.execute(
        sa.select(
            api_keys.c.id,
            api_keys.c.key_hash,
            users.c.id.label("user_id"),
            users.c.username,
            users.c.is_admin,
        )
        .join(users, users.c.id == api_keys.c.user_id)
        .where(api_keys.c.prefix == key[:_PREFIX_LENGTH], api_keys.c.revoked_at.is_(None))
    ).all()
    for row in rows:
        if hmac.compare_digest(row.key_hash, wanted):
            return User(row.user_id, row.username, row.is_admin)
    return None


def user_for_session(conn: sa.Connection, token: str) -> tuple[User, str] | None:
    row = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.is_admin, sessions.c.csrf_token)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == hash_key(token), sessions.c.expires_at > time.time())
    ).first()
    return (User(row.id, row.username, row.is_admin), row.csrf_token) if row else None


def bootstrap_admin(db: Database, data_dir: Path) -> Path | None:
    """On the first start: an admin with a random password and key, written to 0600 files."""
    with db.write() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(users)).scalar():
            return None
        password = secrets.token_urlsafe(18)
        user_id = create_user(conn, "admin", password, is_admin=True)
        key = create_key(conn, user_id, "admin (created at first start)")
    data_dir.mkdir(parents=True, exist_ok=True)
    _write_private(data_dir / "admin.key", key + "\n")
    credentials = data_dir / "admin-credentials.txt"
    _write_private(credentials, f"username: admin\npassword: {password}\napi key: {key}\n")
    return credentials


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
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
        return key
    return None


def unauthorized() -> HTTPException:
    return HTTPException(
        401, "authentication required", headers={"WWW-Authenticate": 'Basic realm="wakelog"'}
    )


def authenticate(request: Request) -> User:
    """The user behind the request, or 401. Cookie sessions must send the CSRF token to write."""
    db: Database = request.app.state.db
    header = request.headers.get("authorization")
    with db.read() as conn:
        if header:
            key = _key_from_header(header)
            user = user_for_key(conn, key) if key else None
            if user is None:
                raise unauthorized()
            return user
        token = request.cookies.get(SESSION_COOKIE)
        found = user_for_session(conn, token) if token else None
    if found is None:
        raise unauthorized()
    user, csrf = found
    if request.method not in _SAFE_METHODS and not hmac.compare_digest(
        request.headers.get(CSRF_HEADER, ""), csrf
    ):
        raise HTTPException(403, "missing or wrong CSRF token")
    return user
