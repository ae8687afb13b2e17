"""Run-file upload URLs for the wandb client, and the uploads to them.

wandb uploads files with plain PUTs to URLs the server hands out (``createRunFiles``), without
its API key: on W&B they are presigned storage URLs. Here a URL names the run file and the
API key it was handed to, and is signed with that key's stored hash (only the server holds it)
until it expires. An upload is checked against the key as it is then (revoked: refused) and
against the key's user's ``member`` role on the entity, then stored like any run file: as
content-addressed blobs, the user recorded as its holder, the run's file pointed at it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wakelog._names import check_file_name
from wakelog.runlog import RecordType
from wakelog.server.auth import User
from wakelog.server.body import Spooled
from wakelog.server.errors import Forbidden, InvalidRequest
from wakelog.server.permissions import require_writer
from wakelog.server.routes.ingest import record_blobs
from wakelog.server.wandb_compat.mapping import metadata
from wakelog.server.wandb_compat.records import apply_in_thread
from wakelog.store.ingest import ensure_run
from wakelog.store.schema import api_keys, run_files, users
from wakelog.store.upsert import upsert

#: How long an upload URL stays good: the client uploads at once, and retries for a while.
URL_LIFETIME = 24 * 3600.0
#: The most one PUT to an upload URL may carry. The client sends each file in one PUT (the server
#: hands out no multipart URLs, so it uses none, whatever the size); the body streams to disk,
#: and the quotas and the disk guard bound it further.
MAX_UPLOAD = 1 << 40
UPLOAD_ROUTE = "/wandb/uploads/"
#: The client's environment record; it becomes the run's metadata as well as a file.
METADATA_FILE = "wandb-metadata.json"


@dataclass(frozen=True)
class Target:
    entity: str
    project: str
    run_id: str
    name: str
    #: An artifact file's content must have this digest (wandb's base64 md5): checked on upload.
    md5: str | None = None


def _signature(key_hash: str, purpose: str, payload: str) -> str:
    """The payload's HMAC under the key's hash; the purpose keeps an upload's token from serving as
    a download's and the other way round."""
    return hmac.new(key_hash.encode(), f"{purpose}:{payload}".encode(), hashlib.sha256).hexdigest()


def sign(base_url: str, route: str, key_id: int, key_hash: str, fields: list[Any], now: float) -> str:
    """A URL under ``route`` standing for ``fields`` and the key's user until ``URL_LIFETIME``."""
    payload = base64.urlsafe_b64encode(json.dumps([key_id, int(now + URL_LIFETIME), *fields]).encode())
    text = payload.decode().rstrip("=")
    return f"{base_url.rstrip('/')}{route}{text}.{_signature(key_hash, route, text)}"


def verify(conn: sa.Connection, route: str, token: str, now: float) -> tuple[User, list[Any]]:
    """The user and the fields a token ``sign`` made for ``route`` stands for; 403 for anything else
    (damaged, expired, its key revoked)."""
    payload, _, signature = token.partition(".")
    try:
        padded = payload + "=" * (-len(payload) % 4)
        key_id, expires, *fields = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, RecursionError):
        raise refused() from None
    if type(key_id) is not int or type(expires) is not int or expires < now:
        raise refused()
    row = conn.execute(
        sa.select(api_keys.c.key_hash, users.c.id, users.c.username, users.c.is_admin)
        .join(users, users.c.id == api_keys.c.user_id)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
    ).first()
    if row is None or not hmac.compare_digest(_signature(row.key_hash, route, payload), signature):
        raise refused()
    return User(row.id, row.username, row.is_admin), fields


def upload_url(base_url: str, key_id: int, key_hash: str, target: Target, now: float) -> str:
    """A URL that uploads ``target`` as the key's user until ``URL_LIFETIME`` from ``now``."""
    fields = [target.entity, target.project, target.run_id, target.name]
    return sign(
        base_url, UPLOAD_ROUTE, key_id, key_hash, fields if target.md5 is None else [*fields, target.md5], now
    )


def refused() -> Forbidden:
    return Forbidden("this URL is not valid (expired, damaged or its API key revoked); the client asks again")


def check_token(conn: sa.Connection, token: str, now: float) -> tuple[User, Target]:
    """The user and run file a signed upload token stands for; 403 for anything else."""
    user, fields = verify(conn, UPLOAD_ROUTE, token, now)
    if len(fields) not in (4, 5) or not all(isinstance(part, str) for part in fields):
        raise refused()
    return user, Target(*fields)


def key_of(conn: sa.Connection, key_hash: str | None) -> int:
    """The id of the API key the request came with (uploads are signed per key)."""
    found = None
    if key_hash is not None:
        found = conn.execute(
            sa.select(api_keys.c.id).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
        ).scalar()
    if found is None:
        raise InvalidRequest(
            "run files are uploaded with an API key (HTTP Basic api:<key>), not a browser session"
        )
    return int(found)


def check_upload(state: Any, token: str, declared: int | None) -> tuple[User, Target]:
    """Before the body is read: the token, the role, the file's name, and the quota for the
    size the request declares (the body is checked again once it is in)."""
    with state.db.read() as conn:
        user, target = check_token(conn, token, time.time())
        require_writer(conn, user, target.entity)
    try:
        check_file_name(target.name)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    if declared:
        state.quotas.check(user.username, target.entity, new_bytes=declared)
    return user, target


def store_upload(state: Any, user: User, target: Target, body: Spooled) -> None:
    """Store the streamed ``body`` and point the run's file at it (``check_upload`` passed)."""
    db, store = state.db, state.blobs
    if target.md5 is not None and body.md5 != target.md5:
        raise InvalidRequest(
            f"the content's md5 is {body.md5}, not {target.md5} as the artifact's manifest says"
        )
    state.quotas.check(user.username, target.entity, new_bytes=body.size)
    content = _small_content(body, target.name)
    store.put_file(body.sha256, body.path)
    record_blobs(db, [(body.sha256, body.size)], user.id)
    with db.write() as conn:
        run, _ = ensure_run(conn, target.entity, target.project, target.run_id, user.id)
        row = {
            "run_pk": run.id,
            "name": target.name,
            "sha256": body.sha256,
            "size": body.size,
            "policy": "end",
            "updated_at": time.time(),
        }
        upsert(conn, run_files, [row], ["run_pk", "name"], update=["sha256", "size", "updated_at"])
    state.quotas.count(user.username, target.entity, new_bytes=body.size)
    found = metadata(content) if content is not None else None
    if found is not None:
        path = (target.entity, target.project, target.run_id)
        apply_in_thread(state, path, user, lambda _c, _r: [(RecordType.METADATA, time.time(), found)])


#: wandb-metadata.json is a few KB; a bigger one is kept as a file only.
_MAX_METADATA = 2**20


def _small_content(body: Spooled, name: str) -> bytes | None:
    """The content of the client's environment record, read before the file is stored away."""
    if name != METADATA_FILE or body.size > _MAX_METADATA:
        return None
    with open(body.path, "rb") as f:
        return f.read()
