"""The test session's fake home, and the environment every child process a test starts gets.

Importing this module (``tests/conftest.py`` does it first) moves the whole session into one temp
folder: ``HOME``, the per-user ``XDG_*`` folders, ``WAKELOG_CONFIG_DIR`` and
``WAKELOG_SERVER_DATA_DIR`` point into it, and every ``WAKELOG_*``/``WANDB_*`` variable inherited
from the developer's shell but the suite's own ``WAKELOG_TEST_*`` knobs is dropped. A run of
``wakelog demo`` or ``wakelog login`` on this machine (an ``admin.key``, stored keys, settings)
then cannot change what the tests see, and the tests cannot write into the developer's folders.
``tests/_hermetic.py`` checks both at session end.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

#: Set in the session's environment, so every process it starts (inherited by grandchildren and
#: detached uploaders too) can be found at the end. Not ``WAKELOG_*``: ``isolated_env`` clears those.
SESSION_MARK = "TESTS_WAKELOG_SESSION"

#: Settings of the test suite itself (``WAKELOG_TEST_NO_POSTGRES=1``, ...), kept from the shell.
TEST_KNOBS = "WAKELOG_TEST_"

#: The per-user folders (the XDG base directories). The system-wide search lists
#: (``XDG_CONFIG_DIRS``, ``XDG_DATA_DIRS``) stay: they are read-only and Chromium finds fonts there.
_XDG = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_DATA_HOME": ".local/share",
    "XDG_CACHE_HOME": ".cache",
    "XDG_STATE_HOME": ".local/state",
}


def user_folders(environ: dict[str, str]) -> list[Path]:
    """Where wakelog keeps per-user state under ``environ``: its config and data folders (as
    platformdirs finds them, and at their usual Linux places), the server's default data folder,
    and ``~/wakelog`` (the run root of a script started from the home folder)."""
    home = Path(environ.get("HOME") or Path.home())
    xdg_config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    xdg_data = Path(environ.get("XDG_DATA_HOME") or home / ".local/share")
    found = [
        home / ".config" / "wakelog",
        home / ".local" / "share" / "wakelog",
        home / "wakelog",
        xdg_config / "wakelog",
        xdg_data / "wakelog",
    ]
    found += [
        Path(environ[name]) for name in ("WAKELOG_CONFIG_DIR", "WAKELOG_SERVER_DATA_DIR") if environ.get(name)
    ]
    return sorted(set(found))


def _enter_fake_home() -> Path:
    root = Path(tempfile.mkdtemp(prefix="wakelog-tests-"))
    home = root / "home"
    for name, relative in _XDG.items():
        (home / relative).mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(home / relative)
    runtime = root / "runtime"
    runtime.mkdir(mode=0o700)
    for name in list(os.environ):
        if name.startswith(("WAKELOG_", "WANDB_")) and not name.startswith(TEST_KNOBS):
            del os.environ[name]
    os.environ.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(runtime),
        WAKELOG_CONFIG_DIR=str(root / "config"),
        WAKELOG_SERVER_DATA_DIR=str(root / "server-data"),
        **{SESSION_MARK: root.name},
    )
    return root


#: The developer's environment as the session found it (used to find their folders).
REAL_ENVIRON = dict(os.environ)
#: The session's fake home; one per process, so a nested pytest gets its own. Removed when the
#: process ends, also when a bench script imported it for a helper rather than pytest.
FAKE_ROOT = _enter_fake_home()
atexit.register(shutil.rmtree, FAKE_ROOT, ignore_errors=True)


def child_env(**changes: str | None) -> dict[str, str]:
    """The environment for a child process: the session's (fake home, ``PATH``, ``PYTHONPATH``,
    locale, the current test's ``WAKELOG_*``) with ``changes`` applied; ``None`` removes a name."""
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def pythonpath(*first: str | Path) -> str:
    """A child's ``PYTHONPATH``: ``first``, then the session's own (which may put a checkout's
    sources ahead of the installed package; a child must import the same wakelog as the tests)."""
    inherited = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([*(str(p) for p in first), *([inherited] if inherited else [])])
