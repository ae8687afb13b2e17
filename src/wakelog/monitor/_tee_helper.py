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


def main(argv: list[str]) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        # Ctrl-C or a job scheduler's SIGTERM hits the whole process group; we must outlive the trainer so
        # its last words still reach the terminal, and we exit by ourselves when the pipes close.
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    out_r, err_r, out_orig, err_orig, report_w, ctrl_r = (int(a) for a in argv[1:7])
    targets = {out_r: (1, out_orig), err_r: (2, err_orig)}
    alive_targets = {out_orig: True, err_orig: True}
    for fd in (out_r, err_r, report_w, ctrl_r):
        os.set_blocking(fd, False)

    sel = selectors.DefaultSelector()
    for fd in targets:
        sel.register(fd, selectors.EVENT_READ)
    sel.register(ctrl_r, selectors.EVENT_READ)
    open_data = set(targets)
    outbox = bytearray()
    state = {"forwarding": True, "report_registered": False}

    def forward(stream: int, data: bytes) -> None:
        if state["forwarding"] and len(outbox) + len(data) <= _OUTBOX_CAP:
            outbox.extend(struct.pack("<BI", stream, len(data)))
            outbox.extend(data)

    def stop_forwarding() -> None:
        if state["report_registered"]:
            sel.unregister(report_w)
            state["report_registered"] = False
        if state["forwarding"]:
            state["forwarding"] = False
            outbox.clear()
            os.close(report_w)  # the parent's reader sees EOF and ends

    def pump(fd: int) -> bool:
        """Tee what one data pipe holds right now; False once it reached EOF (and was closed)."""
        while True:
            try:
                data = os.read(fd, _CHUNK)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                data = b""
            if not data:
                open_data.discard(fd)
                sel.unregister(fd)
                os.close(fd)
                return False
            stream, orig = targets[fd]
            if alive_targets[orig] and not _write_all(orig, data):
                alive_targets[orig] = False  # terminal gone: keep draining so writers never block
            forward(stream, data)
            if len(data) < _CHUNK:
                return True

    while open_data or (state["forwarding"] and outbox):
        want_write = state["forwarding"] and bool(outbox)
        if want_write != state["report_registered"]:
            if want_write:
                sel.register(report_w, selectors.EVENT_WRITE)
            else:
                sel.unregister(report_w)
            state["report_registered"] = want_write
        for key, _ in sel.select():
            fd = key.fd
            if fd in open_data:
                pump(fd)
            elif fd == ctrl_r:
                try:
                    req = os.read(ctrl_r, 64)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    req = b""
                if not req:  # the parent stopped listening, or died
                    sel.unregister(ctrl_r)
                    os.close(ctrl_r)
                    stop_forwarding()
                    continue
                if b"S" in req:
                    # Everything the parent wrote before asking is already in the pipes: forward it all,
                    # then acknowledge.
                    for dfd in list(open_data):
                        pump(dfd)
                    forward(_ACK, b"")
                if b"Q" in req:  # the parent is done listening (its forked children may keep CTRL open)
                    sel.unregister(ctrl_r)
                    os.close(ctrl_r)
                    stop_forwarding()
            elif fd == report_w and state["forwarding"]:
                try:
                    n = os.write(report_w, outbox)
                    del outbox[:n]
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    stop_forwarding()
    if state["forwarding"]:
        stop_forwarding()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
