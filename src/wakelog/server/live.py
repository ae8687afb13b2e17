"""Live push: events about new points, new runs and state changes, fanned out to SSE clients.

Events are small dicts on channels named ``project:<entity>/<project>`` and
``run:<entity>/<project>/<run_id>``; ``access`` says whose access may have been withdrawn (a key
revoked, a session ended, a member removed), so their open streams check it again at once.
Within one server process they go straight to the subscribers' queues; a slow subscriber drops
events rather than holding the others up (clients refetch on reconnect).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

QUEUE_SIZE = 1000
#: The channel of access changes: ``{"type": "access", "username": …}``.
ACCESS_CHANNEL = "access"


class LiveHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._home: asyncio.AbstractEventLoop | None = None  # where the subscribers wait

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        self.publish_to((channel,), event)

    def publish_to(self, channels: tuple[str, ...], event: dict[str, Any]) -> None:
        """``event`` for the listeners of any of ``channels`` (each listener gets it once). From a
        worker thread (a sync route) it is handed to the event loop the subscribers wait on."""
        home = self._home
        if home is not None and running_loop() is not home and home.is_running() and not home.is_closed():
            home.call_soon_threadsafe(self._publish_here, channels, event)
            return
        self._publish_here(channels, event)

    def _publish_here(self, channels: tuple[str, ...], event: dict[str, Any]) -> None:
        """Publish on the subscribers' event loop (or where none runs)."""
        self.deliver(channels, event)

    def deliver(self, channels: Iterable[str], event: dict[str, Any]) -> None:
        """Hand ``event`` to this process's own subscribers of ``channels``."""
        queues = {queue for channel in channels for queue in self._subscribers.get(channel, ())}
        for queue in queues:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    def listened(self, channels: Iterable[str]) -> list[str]:
        """Those of ``channels`` someone in this process subscribes to."""
        return [channel for channel in channels if channel in self._subscribers]

    def publish_ingest(self, path: tuple[str, str, str], result: Any) -> None:
        """Tell the run's and the project's listeners what an ingest batch changed."""
        entity, project, run_id = path
        event = {
            "type": "run_created" if result.new_run else "run_updated",
            "run_id": run_id,
            "ack": result.ack,
            "points": result.points,
            "keys": sorted(result.keys),
            "state": result.state,
        }
        self.publish_to((f"project:{entity}/{project}", f"run:{entity}/{project}/{run_id}"), event)

    def publish_runs_changed(self, entity: str, project: str, run_ids: list[str]) -> None:
        """Tell listeners that people changed these runs (edited, deleted, restored, moved away):
        a ``run_updated`` without new points, so open pages load them again."""
        for run_id in run_ids:
            event = {"type": "run_updated", "run_id": run_id, "ack": None}
            self.publish_to((f"project:{entity}/{project}", f"run:{entity}/{project}/{run_id}"), event)

    def publish_rewound(self, entity: str, project: str, run_id: str, keys: set[str], cut: int) -> None:
        """Tell listeners that a rewind cut ``cut`` history points of ``keys`` from the run: a
        ``points`` event (``rewound``), so open charts load the run's series again as for new ones."""
        if not cut:
            self.publish_runs_changed(entity, project, [run_id])
            return
        event = {
            "type": "run_updated",
            "run_id": run_id,
            "ack": None,
            "points": cut,
            "keys": sorted(keys),
            "rewound": True,
        }
        self.publish_to((f"project:{entity}/{project}", f"run:{entity}/{project}/{run_id}"), event)

    def publish_access_change(self, username: str) -> None:
        """Tell open streams that ``username``'s access may be less than it was."""
        self.publish(ACCESS_CHANNEL, {"type": "access", "username": username})

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """One queue that receives the events of every one of ``channels``."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._home = asyncio.get_running_loop()
        for channel in channels:
            self._subscribers[channel].add(queue)
        try:
            yield queue
        finally:
            for channel in channels:
                self._subscribers[channel].discard(queue)
                if not self._subscribers[channel]:
                    del self._subscribers[channel]

    async def close(self) -> None:
        """Release resources (the PostgreSQL hub closes its LISTEN connection)."""


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def encode_event(event: dict[str, Any], max_bytes: int) -> str | None:
    """``event`` as compact JSON of at most ``max_bytes`` UTF-8 bytes; None if even the smallest
    form is larger.

    A transport between processes has a size limit; the ``keys`` list is what grows, so it is cut
    first (``keys_truncated``), then everything but short scalar fields (``truncated``).
    """

    def fitting(e: dict[str, Any]) -> str | None:
        text = json.dumps(e, separators=(",", ":"), ensure_ascii=False, default=str)
        return text if len(text.encode()) <= max_bytes else None

    text = fitting(event)
    if text is not None:
        return text
    keys = event.get("keys")
    if isinstance(keys, list) and keys:
        low, high = 0, len(keys) - 1  # the most keys that fit lies in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            if fitting({**event, "keys": keys[:middle], "keys_truncated": True}) is not None:
                low = middle
            else:
                high = middle - 1
        text = fitting({**event, "keys": keys[:low], "keys_truncated": True})
        if text is not None:
            return text
    scalars = {
        name: value
        for name, value in event.items()
        if isinstance(value, (int, float, bool, type(None))) or (isinstance(value, str) and len(value) < 256)
    }
    return fitting({**scalars, "truncated": True})
