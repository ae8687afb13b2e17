"""Finish open runs when the process ends, and record how it ended.

Normal exit → ``finished`` (atexit). An uncaught exception → ``failed`` with the traceback (a
wrapped ``sys.excepthook``). ``KeyboardInterrupt`` or ``SIGTERM`` → ``killed``. The user's own
hooks and handlers keep working: ours call through to what was installed before.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

FinishAll = Callable[[int, str, "str | None"], None]
_installed = False


def install(finish_all: FinishAll) -> None:
    """Install the hooks once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(finish_all, 0, "finished", None)
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        import traceback

        try:
            if issubclass(kind, KeyboardInterrupt):
                finish_all(255, "killed", None)
            elif not issubclass(kind, SystemExit):
                finish_all(1, "failed", "".join(traceback.format_exception(kind, exc, tb)))
        finally:
            previous_hook(kind, exc, tb)

    sys.excepthook = excepthook
    if threading.current_thread() is threading.main_thread():
        _install_sigterm(finish_all)


def _install_sigterm(finish_all: FinishAll) -> None:
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (ValueError, OSError):
        return
    if previous not in (signal.SIG_DFL, None):
        return  # the program handles SIGTERM itself; it decides how to exit

    def on_sigterm(signum: int, frame: Any) -> None:
        try:
            finish_all(143, "killed", None)
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, OSError):
        pass
