"""The fd-level half of ``ConsoleCapture(mode="redirect")``: pipes on fds 1/2, a helper process, a reader.

Fds 1 and 2 are pointed at pipes that the helper process (``_tee_helper.py``, see its docstring for why a
process) copies to the original descriptors and forwards here in frames; a daemon thread reads the frames
and feeds the capture's line assemblers. ``stop`` puts fds 1/2 back and asks the helper to forward
everything written before that; if the helper dies, the reader puts them back itself.
"""

from __future__ import annotations

import atexit
import codecs
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wakelog._threads import start_background

if TYPE_CHECKING:
    from wakelog.monitor.console import ConsoleCapture

_log = logging.getLogger("wakelog.monitor.console")  # console capture logs under one name

_HELPER = Path(__file__).with_name("_tee_helper.py")
_STREAM_NAMES = {1: "stdout", 2: "stderr"}
_SYNC_ACK = 255  # the helper's frame saying "everything before your sync request is forwarded"
_HEADER = 5  # frame header: stream id (1 byte) + payload length (uint32 LE)


class FdRedirect:
    """Pipes on fds 1/2 drained by the helper process, whose reports a reader thread feeds to ``cap``."""

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
            start_background(self._reader)
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
            _close_quietly(opened)
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
        _close_quietly(fd for fd in (self._ctrl_w, self._report_r, *self._data_r.values()) if fd >= 0)
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
        self._sync_and_let_go()
        if self._reader is not None:
            self._reader.join(1.0)
        _close_quietly((*self._saved.values(), *self._data_r.values()))
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

    def _sync_and_let_go(self) -> None:
        """Ask the helper to forward what the pipes hold and wait for its ack, then to stop forwarding."""
        # Bytes written before the restore are in the pipes; the helper forwards them all, then acks.
        try:
            os.write(self._ctrl_w, b"S")
            self._synced.wait(2.0)
            # Stop forwarding (the helper closes its report end, so our reader ends); it keeps teeing for
            # child processes that still hold the pipes.
            os.write(self._ctrl_w, b"Q")
        except OSError:
            pass
        _close_quietly((self._ctrl_w,))
        self._ctrl_w = -1

    def _read_reports(self) -> None:
        """Reader thread: decode the helper's frames and feed the line assemblers."""
        decoders = {
            1: codecs.getincrementaldecoder("utf-8")("replace"),
            2: codecs.getincrementaldecoder("utf-8")("replace"),
        }
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
                self._take_frames(buf, decoders)
        except Exception as exc:
            _log.debug("wakelog: console reader stopped: %s", exc)
        finally:
            _close_quietly((fd,))
            if not self._restored:
                # The helper died under us (killed?): put the original fds back, then pass on what it left
                # unread in the pipes.
                self._restore_fds()
                self._drain_leftovers(decoders)
                _log.warning("wakelog: console capture helper exited; console capture stopped")
            self._synced.set()

    def _take_frames(self, buf: bytearray, decoders: dict[int, Any]) -> None:
        """Handle and remove every complete frame at the start of ``buf``; a partial one stays."""
        while len(buf) >= _HEADER:
            stream = buf[0]
            size = int.from_bytes(buf[1:_HEADER], "little")
            if len(buf) < _HEADER + size:
                return
            payload = bytes(buf[_HEADER : _HEADER + size])
            del buf[: _HEADER + size]
            if stream == _SYNC_ACK:
                self._synced.set()
            elif stream in decoders:
                text = decoders[stream].decode(payload)
                if text:
                    try:
                        self.cap._feed(_STREAM_NAMES[stream], text)
                    except Exception:
                        pass

    def _drain_leftovers(self, decoders: dict[int, Any]) -> None:
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
                        self.cap._feed(_STREAM_NAMES[target], text)
            except Exception as exc:
                _log.debug("wakelog: console leftovers lost: %s", exc)


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


def _close_quietly(fds: Iterable[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
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
