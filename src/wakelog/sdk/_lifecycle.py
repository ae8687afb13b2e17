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
_exiting = False


class Terminated(BaseException):
    """Raised in the main thread by SIGTERM's handler, as Ctrl-C raises ``KeyboardInterrupt``: the
    stack unwinds first (locks the interrupted code held are let go, the program's ``finally``
    blocks run), then the run is finished ``killed`` and the signal ends the process. Finishing
    inside the handler would wait forever for a lock the interrupted code holds (``log()``, a
    ``print`` being captured)."""


def install(finish_all: FinishAll) -> None:
    """Install the hooks once per process."""
    global _installed
    if _installed:
        return
    _installed = True

    def at_exit() -> None:
        global _exiting
        _exiting = True  # a SIGTERM from now on ends the process at once (nothing left to unwind)
        finish_all(0, "finished", None)

    atexit.register(at_exit)
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        import traceback

        if issubclass(kind, Terminated):
            try:
                finish_all(143, "killed", None)
            finally:
                _die_by_sigterm()
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
        if _exiting:
            _die_by_sigterm()
        raise Terminated("SIGTERM")

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, OSError):
        pass


def _die_by_sigterm() -> None:
    """End the process by SIGTERM itself, so its parent sees what ended it."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
