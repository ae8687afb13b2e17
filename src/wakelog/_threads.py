"""Starting wakelog's background threads so that the program's signals reach its main thread.

A signal sent to the process (SIGTERM from a scheduler preempting the job, SIGINT from Ctrl-C) is
taken by whichever of its threads that does not block it gets there first, and Python runs the
handler only in the main thread, the next time that thread runs Python code. When one of our
threads took it while the main thread sat in ``time.sleep`` or another blocking call, the kernel's
wake-up of the main thread was for nothing: it went back to sleep, and the ``KeyboardInterrupt``
or the preemption's ``Terminated`` (``sdk/_lifecycle.py``) waited until the call returned. Our
threads therefore block both signals.

A thread inherits the signal mask of the thread that starts it, and so do child processes across
``exec``: the few our threads start (``git``, ``uname``) run with both signals blocked, and end by
themselves or by their timeouts (``SIGKILL``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

#: The signals Python programs handle in their main thread (``KeyboardInterrupt``, ``Terminated``).
MAIN_THREAD_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def start_background(thread: threading.Thread) -> None:
    """``thread.start()``, the new thread blocking ``MAIN_THREAD_SIGNALS`` from its first
    instruction (a mask set inside it would leave a window after the start)."""
    with _blocked():
        thread.start()


@contextlib.contextmanager
def _blocked() -> Iterator[None]:
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process-directed signals to steal
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, MAIN_THREAD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
