"""``termlog``, ``termwarn`` and ``termerror``: wandb's one-line messages on stderr.

They print ``wakelog: …`` (``wakelog: WARNING …``, ``wakelog: ERROR …``) to stderr, every line of
a multi-line message prefixed. With the ``silent`` setting they go to the ``wakelog`` logger
instead, as wandb's go to its log file; ``quiet`` does not touch them (it only quiets the run's own
start and end lines), as in wandb. ``setup()`` and ``init()`` tell this module the settings; before
either, the environment decides (``WAKELOG_SILENT`` / ``WANDB_SILENT``).
"""

from __future__ import annotations

import logging
import sys
import threading

from wakelog.sdk._settings import Settings, env_settings

_log = logging.getLogger("wakelog")
_lock = threading.Lock()
_silent: bool | None = None  # None: not told yet, read the environment
_said: set[str] = set()  # messages printed with repeat=False


def termsetup(settings: Settings | None) -> None:
    """Follow ``settings.silent`` from now on (None: the environment again)."""
    global _silent
    _silent = None if settings is None else bool(settings.silent)


def termlog(string: str = "", newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    """Print an informational message to stderr."""
    _say(string, "", logging.INFO, newline=newline, repeat=repeat, prefix=prefix)


def termwarn(string: str, newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    """Print a warning to stderr."""
    _say(string, "WARNING ", logging.WARNING, newline=newline, repeat=repeat, prefix=prefix)


def termerror(string: str, newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    """Print an error to stderr."""
    _say(string, "ERROR ", logging.ERROR, newline=newline, repeat=repeat, prefix=prefix)


def _say(string: str, label: str, level: int, *, newline: bool, repeat: bool, prefix: bool) -> None:
    with _lock:
        if not repeat:
            if string in _said:
                return
            _said.add(string)
    silent = _silent if _silent is not None else bool(env_settings().get("silent"))
    if silent:
        _log.log(level, "%s", string)
        return
    head = f"wakelog: {label}" if prefix else label
    text = "\n".join(head + line for line in str(string).split("\n"))
    sys.stderr.write(text + ("\n" if newline else ""))
    sys.stderr.flush()
