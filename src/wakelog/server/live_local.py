"""Live push across the worker processes of one machine: ``wakelog server --workers N`` on SQLite.

Each worker binds a Unix datagram socket in one private folder (mode 0700) and sends the events it
publishes to the other sockets there (a run's merged per interval: ``live_relay``); what arrives is
handed to its own subscribers that want it. No broker and no
database writes: SQLite has one writer at a time, and events must not compete with ingests for it.
A socket whose worker died refuses datagrams, and its file is then removed. Events are best-effort, as
in one process: a full receive buffer drops the event, and a client that missed some refetches.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import stat
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from wakelog.server.live_relay import Item, RelayingHub, frame

log = logging.getLogger("wakelog.server.live")

#: Datagrams stay well below Linux's default socket buffer (about 208 KiB).
MAX_DATAGRAM_BYTES = 60_000
#: How long the list of peer sockets is reused before the folder is read again.
PEERS_TTL = 1.0
#: A Unix socket path must fit in ``sockaddr_un.sun_path`` (108 bytes on Linux, 104 on macOS).
MAX_SOCKET_PATH = 100


def socket_folder(data_dir: Path) -> Path:
    """``<data_dir>/live``, or a private folder in the temp dir when that path is too long for sockets."""
    folder = Path(data_dir) / "live"
    if len(str(folder)) + 40 <= MAX_SOCKET_PATH:
        return folder
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"wakelog-live-{digest}"


class LocalLiveHub(RelayingHub):
    """A ``LiveHub`` whose events reach the subscribers of every worker sharing ``folder``."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.path = self.folder / f"{self.origin}.sock"
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._peers: list[str] = []
        self._peers_read_at = -PEERS_TTL
        self._failed = False

    def _send(self, items: list[Item]) -> None:
        sock = self._socket()
        if sock is None:
            return
        for channels, event in items:
            text = frame(self.origin, channels, event, MAX_DATAGRAM_BYTES)
            if text is None:
                log.warning(
                    "live events: an event for %s is too large to send to other workers", str(channels)[:300]
                )
                continue
            self._send_datagram(sock, text.encode())

    def _send_datagram(self, sock: socket.socket, data: bytes) -> None:
        for peer in self._peer_paths():
            try:
                sock.sendto(data, peer)
            except (ConnectionRefusedError, FileNotFoundError):
                # The worker that bound it is gone (or going): forget its socket.
                with contextlib.suppress(OSError):
                    os.unlink(peer)
                self._peers_read_at = -PEERS_TTL
            except BlockingIOError:
                log.debug("live events: a worker's queue is full; it misses one event")
            except OSError as exc:
                log.warning("live events: cannot reach another worker (%s)", exc)

    # -- receiving ----------------------------------------------------------------------------
    def _on_readable(self) -> None:
        sock = self._sock
        while sock is not None:
            try:
                data = sock.recv(MAX_DATAGRAM_BYTES + 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("live events: cannot read from other workers (%s)", exc)
                return
            self.receive(data.decode(errors="replace"))

    # -- plumbing -----------------------------------------------------------------------------
    def _socket(self) -> socket.socket | None:
        """This worker's socket, bound and read on the running loop; None if that cannot be done."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if self._loop is loop and self._sock is not None:
            return self._sock
        if self._failed:
            return None
        self._close_socket()
        try:
            _private_folder(self.folder)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.setblocking(False)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            sock.bind(str(self.path))
            loop.add_reader(sock.fileno(), self._on_readable)
        except (OSError, NotImplementedError) as exc:
            self._failed = True
            log.warning("live events will not cross worker processes: %s", exc)
            return None
        self._sock, self._loop = sock, loop
        return sock

    def _peer_paths(self) -> list[str]:
        now = time.monotonic()
        if now - self._peers_read_at >= PEERS_TTL:
            try:
                names = os.listdir(self.folder)
            except OSError:
                names = []
            own = self.path.name
            self._peers = [str(self.folder / n) for n in names if n.endswith(".sock") and n != own]
            self._peers_read_at = now
        return self._peers

    def _close_socket(self) -> None:
        sock, loop = self._sock, self._loop
        self._sock = self._loop = None
        if sock is None:
            return
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(Exception):
                loop.remove_reader(sock.fileno())
        sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        self._socket()  # bound now, so a subscriber hears other workers from its first moment
        async with super().subscribe(*channels) as queue:
            yield queue

    async def close(self) -> None:
        self._close_socket()
        self._stop_relaying()


def _private_folder(folder: Path) -> None:
    """Create ``folder`` (0700) or check that it is ours and private: other users must not inject events."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{folder} is not a private folder of this user")
