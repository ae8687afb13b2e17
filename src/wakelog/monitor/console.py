"""Console capture: tee stdout/stderr to the terminal unchanged and to the run log as whole lines.

Two modes (settings ``console="wrap"|"redirect"``; the SDK maps ``"auto"`` to ``"wrap"`` and ``"off"`` to no
capture at all):

``wrap`` (default)
    ``sys.stdout``/``sys.stderr`` are replaced by thin proxies that pass every call to the original stream
    first (same bytes, same ``isatty()``, ``fileno()``, ``encoding``, ``buffer``...) and then feed the text
    to a line assembler. Cheap and side-effect free, but it only sees Python-level writes.
``redirect``
    File descriptors 1 and 2 are pointed at pipes drained by a small helper *process*
    (``_tee_helper.py``) that copies every byte to the original descriptors and forwards it here. This also
    catches C/C++ output (Paddle's glog lines, ``printf``) and subprocess output. A process, not a thread,
    so that C code writing while holding the GIL can never deadlock on a full pipe, and so that a crash's
    last words still reach the terminal. Costs: one extra process (spawned in a few ms), and C-level
    ``isatty(1)`` becomes false (the Python proxies still answer ``isatty()`` like the original).

Lines: ``emit(stream, line, timestamp)`` is called once per complete line, without the newline. ``\\r\\n``
counts as a newline; otherwise only the text after the last ``\\r`` of a line is kept, so ``\\r`` progress
bars collapse to their final state. A line longer than ``max_line`` characters is emitted in pieces. Lines
are emitted in the order they were completed; ``emit`` is never called with our lock held, exceptions from
it are swallowed (logged once), and in ``wrap`` mode output written *by* ``emit`` itself is passed to the
terminal but not captured (no feedback loops).

The parts: ``_lines`` (fragments to lines), ``_wrap`` (the ``sys.stdout``/``sys.stderr`` stand-ins),
``_redirect`` (fds 1/2 through the helper process); this module owns the lifecycle and the line path.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import TextIO

from wakelog.monitor._lines import MAX_LINE, LineAssembler
from wakelog.monitor._redirect import FdRedirect
from wakelog.monitor._wrap import Tee

__all__ = ["ConsoleCapture", "LineAssembler"]

_log = logging.getLogger(__name__)

Emit = Callable[[str, str, float], None]

_get_ident = threading.get_ident


class ConsoleCapture:
    """Captures this process's console output as lines; see the module docstring for the two modes.

    ``start()`` and ``stop()`` are idempotent and never raise; a mode that cannot start (e.g. ``redirect``
    where the helper process cannot be spawned) falls back to ``wrap`` with a warning.
    """

    def __init__(self, emit: Emit, *, mode: str = "wrap", max_line: int = MAX_LINE) -> None:
        if mode not in ("wrap", "redirect"):
            _log.warning("wakelog: unknown console mode %r; using 'wrap'", mode)
            mode = "wrap"
        self.mode = mode
        self._emit = emit
        self._lock = threading.RLock()  # re-entrant: a signal handler may print while we hold it
        self._bufs = {"stdout": LineAssembler(max_line), "stderr": LineAssembler(max_line)}
        self._queue: list[tuple[str, str, float]] = []
        self._feeding = 0  # ident of the thread inside _feed (re-entrancy through signal handlers)
        self._drainer = 0  # ident of the thread currently calling emit
        self._active = False
        self._closed = False
        self._started = False
        self._redirected = False
        self._emit_failed = False
        self._proxies: dict[str, Tee] = {}
        self._origs: dict[str, TextIO] = {}
        self._fd: FdRedirect | None = None
        _instances.add(self)

    # ------------------------------------------------------------------ lifecycle

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        """Install the proxies (and in redirect mode the fd pipes); no-op when already started."""
        if self._started:
            return
        self._started = True
        try:
            if self.mode == "redirect":
                self._fd = FdRedirect(self)
                if not self._fd.start():
                    self._fd = None
                    self.mode = "wrap"
            capture_py = self.mode == "wrap"
            for name in ("stdout", "stderr"):
                orig = getattr(sys, name)
                if orig is None:  # pythonw, some daemons
                    continue
                tty = self._fd.tty[name] if self._fd is not None else None
                proxy = Tee(orig, self, name, capture=capture_py, tty=tty)
                self._origs[name] = orig
                self._proxies[name] = proxy
            self._active = True
            for name, proxy in self._proxies.items():
                setattr(sys, name, proxy)
        except Exception as exc:
            _log.warning("wakelog: console capture disabled: %s", exc)
            self._active = False

    def stop(self) -> None:
        """Emit any partial lines, then restore ``sys.stdout``/``sys.stderr`` if they are still ours."""
        if not self._started or self._closed:
            return
        try:
            for stream in self._proxies.values():
                try:
                    stream.flush()
                except Exception:
                    pass
            if self._fd is not None:
                self._fd.stop()  # forwards everything written so far, then restores fds 1 and 2
            with self._lock:
                self._active = False
                for name, buf in self._bufs.items():
                    rest = buf.flush()
                    if rest is not None:
                        self._queue.append((name, rest, time.time()))
            self._drain_or_wait()
            self._closed = True
            for name, proxy in self._proxies.items():
                if getattr(sys, name, None) is proxy:
                    setattr(sys, name, self._origs[name])
                # else: the user (or another tool) installed its own stream on top; leave it. Our proxy
                # keeps passing writes through to the original.
        except Exception as exc:
            _log.warning("wakelog: console capture did not stop cleanly: %s", exc)
        finally:
            self._active = False
            self._closed = True

    # ------------------------------------------------------------------ line path

    def _feed(self, stream: str, text: str) -> None:
        """Hot path: called on every write while installed."""
        me = _get_ident()
        if me == self._drainer or not self._active:
            return  # written by emit itself (terminal only), or after stop: pass-through
        lock = self._lock
        lock.acquire()
        try:
            if self._feeding == me or not self._active:
                return  # a signal handler printing in the middle of our own _feed
            self._feeding = me
            try:
                lines = self._bufs[stream].feed(text)
            finally:
                self._feeding = 0
            if not lines:
                return
            ts = time.time()
            if len(lines) == 1:
                self._queue.append((stream, lines[0], ts))
            else:
                self._queue.extend([(stream, line, ts) for line in lines])
            if self._drainer:
                return  # another thread is emitting and will pick these up, in order
            self._drainer = me
        finally:
            lock.release()
        self._drain()

    def _drain(self) -> None:
        """Emit queued lines outside the lock; only the thread that set ``_drainer`` runs this."""
        try:
            while True:
                with self._lock:
                    items = self._queue
                    if not items:
                        self._drainer = 0
                        return
                    self._queue = []
                if self._closed:
                    continue
                for stream, line, ts in items:
                    try:
                        self._emit(stream, line, ts)
                    except Exception as exc:
                        if not self._emit_failed:
                            self._emit_failed = True
                            _log.warning(
                                "wakelog: console capture callback failed (%s); further errors hidden", exc
                            )
        except BaseException:
            with self._lock:
                self._drainer = 0
            raise

    def _drain_or_wait(self, timeout: float = 1.0) -> None:
        """Emit what is queued; if another thread is mid-emit, wait (bounded) so that nothing follows stop."""
        me = _get_ident()
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._drainer:
                    if not self._queue:
                        return
                    self._drainer = me
                    break
                if self._drainer == me:
                    return
            if time.monotonic() > deadline:
                return
            time.sleep(0.001)
        self._drain()

    def _after_fork_in_child(self) -> None:
        """A forked child (e.g. a DataLoader worker) inherits our proxies but not our threads: our lock may
        be held by a thread that no longer exists, and the emit callback belongs to the parent's run. The
        child's proxies therefore just pass through."""
        self._lock = threading.RLock()
        self._active = False
        self._closed = True
        self._queue = []
        self._drainer = self._feeding = 0
        if self._fd is not None:
            self._fd.close_in_child()


_instances: weakref.WeakSet[ConsoleCapture] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for cap in list(_instances):
        cap._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
