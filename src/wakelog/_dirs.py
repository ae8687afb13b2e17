"""Where wakelog keeps things on this machine, shared by the SDK, the server and the CLI.

* ``config_dir()``: the user's settings file and stored API keys (``WAKELOG_CONFIG_DIR``, else
  the platform's user config folder).
* ``server_data_dir()``: the default data folder of ``wakelog server`` (``WAKELOG_SERVER_DATA_DIR``,
  else ``<user data folder>/server``): its SQLite database, blobs and the ``admin.key`` its first
  start writes.
* ``read_admin_key()``: that key, read as the SDK may trust it (a regular file of this user's that
  nobody else can read).

Standard library only (``platformdirs`` is imported on first use), so every layer may import it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

ADMIN_KEY_FILE = "admin.key"


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The user's wakelog configuration folder (settings file, stored API keys)."""
    environ = os.environ if environ is None else environ
    explicit = environ.get("WAKELOG_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    import platformdirs

    return Path(platformdirs.user_config_dir("wakelog", appauthor=False))


def server_data_dir() -> Path:
    """The data folder ``wakelog server`` uses when not given ``--data-dir``."""
    explicit = os.environ.get("WAKELOG_SERVER_DATA_DIR")
    if explicit:
        return Path(explicit)
    import platformdirs

    return Path(platformdirs.user_data_dir("wakelog", appauthor=False)) / "server"


def read_admin_key(data_dir: Path | None = None) -> str | None:
    """The ``admin.key`` in ``data_dir`` (default: ``server_data_dir()``), stripped; None when it is
    missing, not a regular file, larger than 1 KiB, or (on POSIX) not this user's own and private."""
    path = (server_data_dir() if data_dir is None else data_dir) / ADMIN_KEY_FILE
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > 1024:
            return None
        if os.name == "posix" and (info.st_uid != os.getuid() or info.st_mode & 0o077):
            return None
        return os.read(fd, 1024).decode("utf-8", "replace").strip()
    except OSError:
        return None
    finally:
        os.close(fd)
