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
"""

from __future__ import annotations

import atexit
import codecs
import io
import logging
import os
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

__all__ = ["ConsoleCapture", "LineAssembler"]

_log = logging.getLogger(__name__)

Emit = Callable[[str, str, float], None]

_MAX_LINE = 64 * 1024
_HELPER = Path(__file__).with_name("_tee_helper.py")
_get_ident = threading.get_ident


class LineAssembler:
    """Turns a stream of text fragments into complete lines, collapsing carriage-return overwrites.

    Not thread-safe by itself (ConsoleCapture holds a lock around it). Memory stays bounded even for a
    progress bar that redraws with ``\\r`` for hours without a newline: superseded text is dropped eagerly.
    """

    __slots__ = ("_max", "_parts", "_size")

    def __init__(self, max_line: int = _MAX_LINE) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._max = max(16, int(max_line))

    def feed(self, text: str) -> list[str]:
        """Add text; return the lines it completed (possibly none)."""
        if "\n" not in text:
            if not text:
                return []
            self._parts.append(text)
            self._size += len(text)
            if "\r" in text:
                self._collapse_pending()
            if self._size > self._max:
                return self._split_long()
            return []
        segments = text.split("\n")
        self._parts.append(segments[0])
        first = "".join(self._parts)
        lines = [_collapse(first)]
        lines.extend(_collapse(s) for s in segments[1:-1])
        tail = segments[-1]
        self._parts = [tail] if tail else []
        self._size = len(tail)
        if "\r" in tail:
            self._collapse_pending()
        if self._size > self._max:
            lines.extend(self._split_long())
        return lines

    def flush(self) -> str | None:
        """The pending partial line (collapsed), or None; the buffer is emptied."""
        if not self._parts:
            return None
        text = _collapse("".join(self._parts))
        self._parts, self._size = [], 0
        return text

    def _collapse_pending(self) -> None:
        pending = "".join(self._parts)
        body = pending.rstrip("\r")
        cut = body.rfind("\r")
        if cut >= 0:
            pending = pending[cut + 1 :]
        self._parts = [pending] if pending else []
        self._size = len(pending)

    def _split_long(self) -> list[str]:
        pending = "".join(self._parts)
        out = []
        while len(pending) > self._max:
            out.append(pending[: self._max])
            pending = pending[self._max :]
        self._parts = [pending] if pending else []
        self._size = len(pending)
        return out


def _collapse(line: str) -> str:
    """Keep what a terminal would leave visible after ``\\r`` redraws: the text after the last ``\\r``."""
    if "\r" not in line:
        return line
    body = line.rstrip("\r")  # a trailing "\r" ("\r\n" split across writes, or a bar's final return)
    return body[body.rfind("\r") + 1 :]


class _Tee:
    """Stand-in for ``sys.stdout``/``sys.stderr``: delegates everything to the original stream first.

    It stays usable after the capture stops (a ``logging.StreamHandler`` created during the run keeps a
    reference to it): it then just passes through.
    """

    def __init__(self, orig: TextIO, cap: ConsoleCapture, stream: str, *, capture: bool, tty: bool | None):
        d = self.__dict__
        d["_wl_orig"] = orig
        d["_wl_cap"] = cap
        d["_wl_stream"] = stream
        d["_wl_feed"] = cap._feed if capture else None
        d["_wl_tty"] = tty

    def write(self, s: str) -> int:
        n = self._wl_orig.write(s)  # the user's output first, exactly as it would have been
        feed = self._wl_feed
        if feed is not None:
            try:
                feed(self._wl_stream, s)
            except Exception:
                pass
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._wl_orig.flush()

    def isatty(self) -> bool:
        tty = self._wl_tty
        if tty is not None and self._wl_cap._redirected:
            return tty
        return self._wl_orig.isatty()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_wl_"):  # half-built (copy/pickle): no recursion through ourselves
            raise AttributeError(name)
        return getattr(self._wl_orig, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._wl_orig, name, value)

    def __iter__(self) -> Any:
        return iter(self._wl_orig)

    def __enter__(self) -> _Tee:
        return self

    def __exit__(self, *exc: object) -> None:
        self._wl_orig.__exit__(*exc)

    def __repr__(self) -> str:
        return f"<wakelog tee of {self._wl_orig!r}>"


# isinstance(sys.stdout, io.TextIOBase) keeps answering True while we are installed.
io.TextIOBase.register(_Tee)


class ConsoleCapture:
    """Captures this process's console output as lines; see the module docstring for the two modes.

    ``start()`` and ``stop()`` are idempotent and never raise; a mode that cannot start (e.g. ``redirect``
    where the helper process cannot be spawned) falls back to ``wrap`` with a warning.
    """

    def __init__(self, emit: Emit, *, mode: str = "wrap", max_line: int = _MAX_LINE) -> None:
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
        self._proxies: dict[str, _Tee] = {}
        self._origs: dict[str, TextIO] = {}
        self._fd: _FdRedirect | None = None
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
                self._fd = _FdRedirect(self)
                if not self._fd.start():
                    self._fd = None
                    self.mode = "wrap"
            capture_py = self.mode == "wrap"
            for name in ("stdout", "stderr"):
                orig = getattr(sys, name)
                if orig is None:  # pythonw, some daemons
                    continue
                tty = self._fd.tty[name] if self._fd is not None else None
                proxy = _Tee(orig, self, name, capture=capture_py, tty=tty)
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


class _FdRedirect:
    """The fd-level half of ``mode="redirect"``: pipes on fds 1/2, a helper process, a reader thread."""

    def __init__(self, cap: ConsoleCapture) -> None:
        self.cap = cap
        self.tty = {"stdout": False, "stderr": False}
        self._saved: dict[int, int] = {}
        self._data_r: dict[int, int] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctrl_w = -1
        self._report_r = -1
        self._reader: threading.Thread | None = None
        self._synced = threading.Event()
        self._restored = False
        self._lock = threading.Lock()

    def start(self) -> bool:
        if os.name != "posix" or not sys.executable or not _HELPER.is_file():
            _log.warning("wakelog: console='redirect' is not available here; using 'wrap'")
            return False
        opened: list[int] = []
        try:
            for name in ("stdout", "stderr"):
                stream = getattr(sys, name, None)
                if stream is not None:
                    self.tty[name] = _safe_isatty(stream)  # what the proxies keep answering
                    stream.flush()
            _flush_c_stdio()
            self._saved = {1: os.dup(1), 2: os.dup(2)}
            opened.extend(self._saved.values())
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            rep_r, rep_w = os.pipe()
            ctl_r, ctl_w = os.pipe()
            opened.extend([out_r, out_w, err_r, err_w, rep_r, rep_w, ctl_r, ctl_w])
            for w in (out_w, err_w):
                _grow_pipe(w)
            child_fds = (out_r, err_r, self._saved[1], self._saved[2], rep_w, ctl_r)
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(_HELPER), *map(str, child_fds)],
                pass_fds=child_fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._saved[2],
                close_fds=True,
            )
            # Our own copies of the read ends: never read while the helper lives, but if it is killed we
            # drain what it left in the pipes, and writers never see EPIPE in the meantime.
            self._data_r = {1: os.dup(out_r), 2: os.dup(err_r)}
            opened.extend(self._data_r.values())
            for fd in (out_r, err_r, rep_w, ctl_r):
                os.close(fd)
                opened.remove(fd)
            self._ctrl_w, self._report_r = ctl_w, rep_r
            self._reader = threading.Thread(target=self._read_reports, name="wakelog-console", daemon=True)
            self._reader.start()
            opened.remove(rep_r)  # the reader thread owns (and closes) it from here on
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.close(out_w)
            os.close(err_w)
            opened.remove(out_w)
            opened.remove(err_w)
            self.cap._redirected = True
            atexit.register(self.cap.stop)
            return True
        except Exception as exc:
            _log.warning("wakelog: console='redirect' failed to start (%s); using 'wrap'", exc)
            self._restore_fds()
            for fd in opened:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._saved = {}
            self._data_r = {}
            if self._proc is not None:
                _reap_later(self._proc)
                self._proc = None
            return False

    def close_in_child(self) -> None:
        """In a forked child: drop our private descriptors (control, report, spare read ends) so that the
        helper's view of the parent is not kept alive by workers. Fds 1/2 stay on the pipes: the child's
        output is still teed and recorded."""
        self._lock = threading.Lock()
        for fd in (self._ctrl_w, self._report_r, *self._data_r.values()):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._ctrl_w = self._report_r = -1
        self._data_r = {}
        self._restored = True  # nothing for the child to restore: 1/2 belong to its parent's setup

    def _restore_fds(self) -> None:
        with self._lock:
            if self._restored or not self._saved:
                return
            self._restored = True
            for target, saved in self._saved.items():
                try:
                    os.dup2(saved, target)
                except OSError:
                    pass
            self.cap._redirected = False

    def stop(self) -> None:
        """Restore fds 1/2, collect everything written before that, and let the helper wind down."""
        for name in ("stdout", "stderr"):
            stream = self.cap._origs.get(name)
            if stream is not None:
                try:
                    stream.flush()
                except Exception:
                    pass
        _flush_c_stdio()
        self._restore_fds()
        # Bytes written before the restore are in the pipes; ask the helper to forward them all and ack.
        try:
            os.write(self._ctrl_w, b"S")
            self._synced.wait(2.0)
            # Stop forwarding (the helper closes its report end, so our reader ends); it keeps teeing for
            # child processes that still hold the pipes.
            os.write(self._ctrl_w, b"Q")
        except OSError:
            pass
        try:
            os.close(self._ctrl_w)
        except OSError:
            pass
        self._ctrl_w = -1
        if self._reader is not None:
            self._reader.join(1.0)
        for fd in (*self._saved.values(), *self._data_r.values()):
            try:
                os.close(fd)
            except OSError:
                pass
        self._saved = {}
        self._data_r = {}
        if self._proc is not None:
            try:
                self._proc.wait(0.1)  # immediate unless a child process still holds the pipes
            except Exception:  # TimeoutExpired; ChildProcessError when SIGCHLD is ignored
                pass
            _reap_later(self._proc)
            self._proc = None
        try:
            atexit.unregister(self.cap.stop)
        except Exception:
            pass

    def _read_reports(self) -> None:
        """Reader thread: decode the helper's frames and feed the line assemblers."""
        cap = self.cap
        decoders = {
            1: codecs.getincrementaldecoder("utf-8")("replace"),
            2: codecs.getincrementaldecoder("utf-8")("replace"),
        }
        names = {1: "stdout", 2: "stderr"}
        buf = bytearray()
        fd = self._report_r
        try:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except InterruptedError:
                    continue
                if not chunk:
                    break
                buf.extend(chunk)
                while len(buf) >= 5:
                    stream = buf[0]
                    size = int.from_bytes(buf[1:5], "little")
                    if len(buf) < 5 + size:
                        break
                    payload = bytes(buf[5 : 5 + size])
                    del buf[: 5 + size]
                    if stream == 255:
                        self._synced.set()
                    elif stream in decoders:
                        text = decoders[stream].decode(payload)
                        if text:
                            try:
                                cap._feed(names[stream], text)
                            except Exception:
                                pass
        except Exception as exc:
            _log.debug("wakelog: console reader stopped: %s", exc)
        finally:
            try:
                os.close(fd)
            except OSError:
                pass
            if not self._restored:
                # The helper died under us (killed?): put the original fds back, then pass on what it left
                # unread in the pipes.
                self._restore_fds()
                self._drain_leftovers(decoders, names)
                _log.warning("wakelog: console capture helper exited; console capture stopped")
            self._synced.set()

    def _drain_leftovers(self, decoders: dict[int, Any], names: dict[int, str]) -> None:
        for target, fd in list(self._data_r.items()):
            try:
                os.set_blocking(fd, False)
                while True:
                    try:
                        data = os.read(fd, 65536)
                    except BlockingIOError:
                        break
                    if not data:
                        break
                    _write_all(self._saved[target], data)
                    text = decoders[target].decode(data)
                    if text:
                        self.cap._feed(names[target], text)
            except Exception as exc:
                _log.debug("wakelog: console leftovers lost: %s", exc)


_instances: weakref.WeakSet[ConsoleCapture] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for cap in list(_instances):
        cap._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


_lingering: list[subprocess.Popen[bytes]] = []


def _reap_later(proc: subprocess.Popen[bytes]) -> None:
    """Keep a helper that still tees for child processes referenced, and reap finished ones (no zombies)."""
    _lingering.append(proc)
    for p in list(_lingering):
        try:
            if p.poll() is not None:
                _lingering.remove(p)
        except Exception:
            pass


def _write_all(fd: int, data: bytes) -> None:
    import select

    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except (BlockingIOError, InterruptedError):
            select.select([], [fd], [], 1.0)


def _safe_isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except Exception:
        return False


def _grow_pipe(fd: int) -> None:
    """Ask for a 1 MiB pipe buffer so bursts of output rarely wait for the helper (Linux only)."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except Exception:
        pass


def _flush_c_stdio() -> None:
    """fflush(NULL): push C-level stdout buffers through before the fds change under them."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except Exception:
        pass
