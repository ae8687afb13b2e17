"""Live push across replicas through PostgreSQL LISTEN/NOTIFY (no other broker).

Every replica delivers its own events to its own subscribers at once, and also sends them with
``pg_notify`` on one fixed PostgreSQL channel, a run's events merged per interval and the wakelog
channels in the payload's header (``live_relay``). One connection per replica LISTENs there and
hands what other replicas sent to the local subscribers that want it; a replica ignores its own
notifications. Both connections are opened on first
use and reopened with backoff when they drop. Events are best-effort, as in one process: a
client that missed some refetches on reconnect.

PostgreSQL caps a payload below 8000 bytes, so an event's ``keys`` list is cut short (and
``keys_truncated`` set) when it would not fit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa

from wakelog.server.live import running_loop
from wakelog.server.live_relay import Item, RelayingHub, frame

log = logging.getLogger("wakelog.server.live")

CHANNEL = "wakelog_events"
#: PostgreSQL refuses payloads of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7999
#: Notifications waiting to be sent; beyond this new events are dropped (and logged).
OUTBOX_SIZE = 10_000
#: Notifications sent in one round trip.
SEND_BATCH = 200
#: How long ``subscribe`` waits for the LISTEN connection before going on without it.
READY_TIMEOUT = 5.0
#: How often an idle LISTEN connection is checked.
HEALTH_INTERVAL = 15.0


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg's own ``connect`` takes it."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresLiveHub(RelayingHub):
    """A ``LiveHub`` whose events reach the subscribers of every replica on the same database."""

    def __init__(
        self,
        url: str,
        *,
        channel: str = CHANNEL,
        min_backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        super().__init__()
        self.conninfo = libpq_url(url)
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        #: Times the LISTEN connection was re-established after a drop.
        self.reconnects = 0
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._listening: asyncio.Event | None = None
        self._sender: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    # -- publishing ---------------------------------------------------------------------------
    def _send(self, items: list[Item]) -> None:
        loop = asyncio.get_running_loop()
        if self._closed:
            return
        self._bind(loop)
        assert self._outbox is not None
        for channels, event in items:
            payload = self.encode(channels, event)
            if payload is None:
                continue
            try:
                self._outbox.put_nowait(payload)
            except asyncio.QueueFull:
                log.warning(
                    "live events: %d notifications waiting; dropping one for %s", OUTBOX_SIZE, channels
                )
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send_loop(), name="wakelog-live-notify")

    def encode(self, channels: tuple[str, ...], event: dict[str, Any]) -> str | None:
        """The notification payload for ``event``, cut down to PostgreSQL's size limit."""
        text = frame(self.origin, channels, event, MAX_PAYLOAD_BYTES)
        if text is None:
            log.warning(
                "live events: an event for %s is too large to send to other replicas", str(channels)[:300]
            )
        return text

    async def _send_loop(self) -> None:
        import psycopg

        assert self._outbox is not None
        conn: psycopg.AsyncConnection | None = None
        delay = self.min_backoff
        try:
            while True:
                payloads = [await self._outbox.get()]
                while len(payloads) < SEND_BATCH and not self._outbox.empty():
                    payloads.append(self._outbox.get_nowait())
                for attempt in range(3):
                    try:
                        if conn is None or conn.closed:
                            conn = await self._connect("wakelog-live-notify")
                        await conn.execute(
                            "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p",
                            (self.channel, payloads),
                        )
                        delay = self.min_backoff
                        break
                    except psycopg.Error as exc:
                        log.warning("live events: cannot notify other replicas (%s); retrying", exc)
                        if conn is not None:
                            await _close_quietly(conn)
                            conn = None
                        if attempt == 2:
                            log.warning("live events: dropped %d events for other replicas", len(payloads))
                        else:
                            await asyncio.sleep(delay)
                            delay = min(delay * 2, self.max_backoff)
        finally:
            if conn is not None:
                await _close_quietly(conn)

    def _send_without_loop(self, items: list[Item]) -> None:
        """Send notifications without an event loop (scripts, tests)."""
        import psycopg

        payloads = [p for p in (self.encode(c, e) for c, e in items) if p is not None]
        if not payloads or self._closed:
            return
        try:
            with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
                conn.execute("SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (self.channel, payloads))
        except psycopg.Error as exc:
            log.warning("live events: cannot notify other replicas (%s)", exc)

    # -- listening ----------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        async with super().subscribe(*channels) as queue:
            if not self._closed:
                await self.wait_listening()
            yield queue

    async def wait_listening(self, timeout: float = READY_TIMEOUT) -> bool:
        """Start the LISTEN connection if needed; True once it listens (False after ``timeout``)."""
        loop = asyncio.get_running_loop()
        self._bind(loop)
        assert self._listening is not None
        if self._listener is None or self._listener.done():
            self._listener = loop.create_task(self._listen_loop(), name="wakelog-live-listen")
        try:
            await asyncio.wait_for(self._listening.wait(), timeout)
        except asyncio.TimeoutError:
            log.warning("live events: not listening to other replicas yet; going on without them")
            return False
        return True

    async def _listen_loop(self) -> None:
        import psycopg
        from psycopg import sql

        assert self._listening is not None
        delay = self.min_backoff
        connected_before = False
        while not self._closed:
            try:
                conn = await self._connect("wakelog-live-listen")
                try:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    if connected_before:
                        self.reconnects += 1
                        log.warning("live events: listening to other replicas again")
                    connected_before = True
                    self._listening.set()
                    delay = self.min_backoff
                    while True:
                        async for note in conn.notifies(timeout=HEALTH_INTERVAL):
                            self.receive(note.payload)
                        await conn.execute("SELECT 1")  # still there?
                finally:
                    self._listening.clear()
                    await _close_quietly(conn)
            except psycopg.Error as exc:
                log.warning("live events: lost the connection to PostgreSQL (%s); reconnecting", exc)
            except OSError as exc:
                log.warning("live events: cannot reach PostgreSQL (%s); reconnecting", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    # -- plumbing -----------------------------------------------------------------------------
    async def _connect(self, name: str):
        import psycopg

        return await psycopg.AsyncConnection.connect(
            self.conninfo,
            autocommit=True,
            application_name=name,
            connect_timeout=10,
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Queues and tasks belong to one event loop; a new loop (tests) starts afresh."""
        if self._loop is loop:
            return
        self._loop = loop
        self._outbox = asyncio.Queue(OUTBOX_SIZE)
        self._listening = asyncio.Event()
        self._sender = self._listener = None

    async def close(self) -> None:
        self._closed = True
        loop = running_loop()
        tasks = [t for t in (self._sender, self._listener) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        if loop is not None and loop is self._loop:
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._sender = self._listener = None
        self._stop_relaying()


async def _close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        await conn.close()
