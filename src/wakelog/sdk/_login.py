"""API keys: ``wakelog.login()`` and where the SDK finds a key.

Lookup order: ``WAKELOG_API_KEY`` (or ``WANDB_API_KEY``), then the key stored for the server's
URL by ``wakelog login`` in ``<config dir>/credentials`` (a JSON file only the user can read),
then, for a server on this machine (a loopback URL), the ``admin.key`` its first start wrote in
the default server data directory, if that file is the user's own and only they can read it.

The key's user is its default entity (where a run without ``entity`` goes). Whenever a server says
who a key belongs to (``wakelog login``, an uploader's first contact), ``remember_entity`` notes it
in ``<config dir>/entities`` under a hash of the server and key, so that ``init()`` fills
``run.entity`` without asking the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

from wakelog._dirs import config_dir, read_admin_key
from wakelog._http import is_loopback
from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.sdk._settings import resolve_settings

_KEY = re.compile(r"^[A-Za-z0-9_\-]{16,256}$")


def credentials_file() -> Path:
    return config_dir() / "credentials"


def entities_file() -> Path:
    return config_dir() / "entities"


def _normal_host(host: str) -> str:
    host = host.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", host):
        raise UsageError(f"host must be an http:// or https:// URL, got {host!r}")
    return host


def stored_keys() -> dict[str, str]:
    try:
        data = json.loads(credentials_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def store_key(host: str, key: str) -> Path:
    """Save ``key`` for ``host`` in a file readable by the user alone (0600)."""
    check_key(key)
    path = credentials_file()
    keys = stored_keys()
    keys[_normal_host(host)] = key
    _write_private(path, keys)
    return path


def _write_private(path: Path, data: dict[str, str]) -> None:
    """Replace ``path`` with ``data`` as JSON, readable by the user alone (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _key_id(host: str, key: str) -> str:
    """What ``entities`` files a key's user under: a hash, so the file holds no key."""
    return hashlib.sha256(f"{host.strip().rstrip('/')}\n{key.strip()}".encode()).hexdigest()[:32]


def known_entity(host: str, key: str) -> str | None:
    """The default entity a server last named for ``key`` (see ``remember_entity``), if any."""
    try:
        data = json.loads(entities_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = data.get(_key_id(host, key)) if isinstance(data, dict) else None
    return found if isinstance(found, str) and found else None


def remember_entity(host: str, key: str, entity: str) -> None:
    """Note that the server at ``host`` names ``entity`` as ``key``'s user. Best effort: a config
    folder that cannot be written only means the next ``init()`` leaves the entity to the uploader."""
    if not entity or known_entity(host, key) == entity:
        return
    try:
        data = json.loads(entities_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data = data if isinstance(data, dict) else {}
    data[_key_id(host, key)] = entity
    try:
        _write_private(entities_file(), data)
    except OSError:
        pass


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key.strip()):
        raise UsageError(
            "that does not look like a wakelog API key (16-256 letters, digits, '-' or '_'); "
            "create one with `wakelog key create` on the server"
        )
    return key.strip()


def api_key_for(host: str) -> str | None:
    settings = resolve_settings()
    if settings.api_key:
        return settings.api_key
    host = _normal_host(host)
    return stored_keys().get(host) or local_admin_key(host)


def local_admin_key(host: str) -> str | None:
    """For a loopback ``host``: the ``admin.key`` a server on this machine wrote at its first start
    (in the default server data directory; see ``wakelog._dirs.read_admin_key``)."""
    if not is_loopback(host):
        return None
    text = read_admin_key()
    return text if text and _KEY.match(text) else None


def verify_key(host: str, key: str, timeout: float = 5.0) -> tuple[bool | None, str]:
    """Ask the server whether it accepts ``key``: ``(True, "")``, ``(False, why)`` when it answers
    401, ``(None, why)`` when it could not tell (unreachable, not a wakelog server, no httpx).
    An accepted key's user is remembered as its default entity (``remember_entity``)."""
    try:
        import httpx
    except ImportError:
        return None, "httpx is not installed"
    from wakelog._http import client_options, not_the_server, redirect

    try:
        response = httpx.get(
            f"{_normal_host(host)}/api/v1/auth/me", auth=("api", key), timeout=timeout, **client_options(host)
        )
    except httpx.HTTPError as exc:
        return None, f"cannot reach it: {exc}"
    except ValueError as exc:  # a CA bundle variable naming no bundle
        return None, str(exc)
    stranger = redirect(response) or not_the_server(response)
    if stranger:
        return None, stranger
    if response.status_code == 200:
        try:
            username = response.json().get("username")
        except (ValueError, AttributeError):
            username = None  # a 200 that is not a wakelog answer: the key is fine, the user unknown
        if isinstance(username, str):
            remember_entity(_normal_host(host), key, username)
        return True, ""
    if response.status_code == 401:
        return False, "it answered 401"
    return None, f"it answered {response.status_code}"


def login(
    key: str | None = None,
    host: str | None = None,
    relogin: bool | None = None,
    anonymous: str | None = None,
    timeout: float | None = None,
    verify: bool = False,
) -> bool:
    """Store an API key for ``host`` (default: the configured base URL). Returns True.

    With ``verify=True`` the key is first checked with the server: a key it rejects raises
    ``UsageError`` and is not stored; when the server cannot tell, the key is stored with a warning.
    """
    host = _normal_host(host or resolve_settings().base_url or "")
    if key is None and not relogin:
        existing = api_key_for(host)
        if existing:
            return True
    if key is None:
        if not sys.stdin or not sys.stdin.isatty():
            raise UsageError(
                f"no API key for {host}: pass key=…, set WAKELOG_API_KEY, or run `wakelog login`"
            )
        import getpass

        key = getpass.getpass(f"wakelog API key for {host}: ")
    key = check_key(key)
    if verify:
        accepted, why = verify_key(host, key, timeout or 5.0)
        if accepted is False:
            raise UsageError(
                f"the server at {host} rejected this API key ({why}): check it, or create one with "
                "`wakelog key create` on the server"
            )
        if accepted is None:
            warn(f"could not check the API key with {host} ({why}); storing it anyway")
    store_key(host, key)
    return True
