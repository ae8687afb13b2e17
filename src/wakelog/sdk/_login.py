"""API keys: ``wakelog.login()`` and where the SDK finds a key.

Lookup order: ``WAKELOG_API_KEY`` (or ``WANDB_API_KEY``), then the key stored for the server's
URL by ``wakelog login`` in ``<config dir>/credentials`` (a JSON file only the user can read).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from wakelog.errors import UsageError
from wakelog.sdk._settings import config_dir, resolve_settings

_KEY = re.compile(r"^[A-Za-z0-9_\-]{16,256}$")


def credentials_file() -> Path:
    return config_dir() / "credentials"


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
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = stored_keys()
    keys[_normal_host(host)] = key
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(keys, f, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


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
    return stored_keys().get(_normal_host(host))


def login(
    key: str | None = None,
    host: str | None = None,
    relogin: bool | None = None,
    anonymous: str | None = None,
    timeout: float | None = None,
    verify: bool = False,
) -> bool:
    """Store an API key for ``host`` (default: the configured base URL). Returns True."""
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
    store_key(host, check_key(key))
    return True
