"""Helper process for ``ConsoleCapture(mode="redirect")``: tee the training process's fd 1/2 pipes.

Run as ``python -I -S _tee_helper.py OUT_R ERR_R OUT_ORIG ERR_ORIG REPORT_W CTRL_R`` (file descriptors).

Why a separate process and not a thread: a reader thread needs the GIL, and C/C++ code that writes to
stdout while holding the GIL (or a crash that kills the interpreter) would then block on, or lose, whatever
sits in the pipe. This process drains the pipes independently of the training process, copies every byte to
the original terminal/file at once, keeps copying after the training process dies (so a segfault trace or a
glog FATAL line still reaches the terminal), and forwards the bytes to the parent over REPORT_W, buffering
in its own memory (capped) when the parent is slow to read.

Frames on REPORT_W: 1 byte stream id (1 = stdout, 2 = stderr, 255 = sync acknowledgement) + uint32 LE length
+ payload. On CTRL_R the parent writes ``S`` to ask for a sync: every byte already in the pipes is forwarded,
then an acknowledgement frame. ``Q`` (or EOF on CTRL_R, e.g. when the parent died) means the parent stopped
listening: forwarding ends and REPORT_W is closed; the tee to the original descriptors goes on until every
writer has closed the pipes.

Standard library only, and no imports from wakelog: it starts in milliseconds with ``-I -S``.
"""

from __future__ import annotations

import os
import select
import selectors
import signal
import struct
import sys

_CHUNK = 65536
_OUTBOX_CAP = 32 * 1024 * 1024  # bytes held for a parent that does not read; beyond this, forwarding drops
_ACK = 255


def _write_all(fd: int, data: bytes) -> bool:
    """Blocking write of everything; False when the descriptor is gone (EPIPE, EIO, EBADF)."""
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        except BlockingIOError:  # someone set O_NONBLOCK on the terminal: wait, never drop
            select.select([], [fd], [], 1.0)
            continue
        except OSError:
            return False
        view = view[n:]
    return True


class _Helper:
    """The helper's state: the data pipes it tees, the frames waiting for the parent, its selector."""

    def __init__(
        self, out_r: int, err_r: int, out_orig: int, err_orig: int, report_w: int, ctrl_r: int
    ) -> None:
        self.targets = {out_r: (1, out_orig), err_r: (2, err_orig)}
        self.alive_targets = {out_orig: True, err_orig: True}
        self.report_w, self.ctrl_r = report_w, ctrl_r
        for fd in (out_r, err_r, report_w, ctrl_r):
            os.set_blocking(fd, False)
        self.sel = selectors.DefaultSelector()
        for fd in self.targets:
            self.sel.register(fd, selectors.EVENT_READ)
        self.sel.register(ctrl_r, selectors.EVENT_READ)
        self.open_data = set(self.targets)
        self.outbox = bytearray()
        self.forwarding = True
        self.report_registered = False

    def run(self) -> None:
        """Until every writer closed the pipes and the parent has every frame (or stopped listening)."""
        while self.open_data or (self.forwarding and self.outbox):
            self._watch_report()
            for key, _ in self.sel.select():
                fd = key.fd
                if fd in self.open_data:
                    self.pump(fd)
                elif fd == self.ctrl_r:
                    self._control()
                elif fd == self.report_w and self.forwarding:
                    self._send()
        if self.forwarding:
            self.stop_forwarding()

    def _watch_report(self) -> None:
        """Wait for REPORT_W to take data only while there is something to send."""
        want_write = self.forwarding and bool(self.outbox)
        if want_write != self.report_registered:
            if want_write:
                self.sel.register(self.report_w, selectors.EVENT_WRITE)
            else:
                self.sel.unregister(self.report_w)
            self.report_registered = want_write

    def forward(self, stream: int, data: bytes) -> None:
        if self.forwarding and len(self.outbox) + len(data) <= _OUTBOX_CAP:
            self.outbox.extend(struct.pack("<BI", stream, len(data)))
            self.outbox.extend(data)

    def stop_forwarding(self) -> None:
        if self.report_registered:
            self.sel.unregister(self.report_w)
            self.report_registered = False
        if self.forwarding:
            self.forwarding = False
            self.outbox.clear()
            os.close(self.report_w)  # the parent's reader sees EOF and ends

    def pump(self, fd: int) -> bool:
        """Tee what one data pipe holds right now; False once it reached EOF (and was closed)."""
        while True:
            try:
                data = os.read(fd, _CHUNK)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                data = b""
            if not data:
                self.open_data.discard(fd)
                self.sel.unregister(fd)
                os.close(fd)
                return False
            stream, orig = self.targets[fd]
            if self.alive_targets[orig] and not _write_all(orig, data):
                self.alive_targets[orig] = False  # terminal gone: keep draining so writers never block
            self.forward(stream, data)
            if len(data) < _CHUNK:
                return True

    def _control(self) -> None:
        """A request from the parent on CTRL_R: ``S`` (sync), ``Q`` (stop listening), or EOF (it died)."""
        try:
            req = os.read(self.ctrl_r, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            req = b""
        if not req:  # the parent stopped listening, or died
            self._close_control()
            return
        if b"S" in req:
            # Everything the parent wrote before asking is already in the pipes: forward it all, then
            # acknowledge.
            for dfd in list(self.open_data):
                self.pump(dfd)
            self.forward(_ACK, b"")
        if b"Q" in req:  # the parent is done listening (its forked children may keep CTRL open)
            self._close_control()

    def _close_control(self) -> None:
        self.sel.unregister(self.ctrl_r)
        os.close(self.ctrl_r)
        self.stop_forwarding()

    def _send(self) -> None:
        try:
            n = os.write(self.report_w, self.outbox)
            del self.outbox[:n]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.stop_forwarding()


def main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        # Ctrl-C or a job scheduler's SIGTERM hits the whole process group; we must outlive the trainer so
        # its last words still reach the terminal, and we exit by ourselves when the pipes close.
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    out_r, err_r, out_orig, err_orig, report_w, ctrl_r = (int(a) for a in argv[1:7])
    _Helper(out_r, err_r, out_orig, err_orig, report_w, ctrl_r).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
