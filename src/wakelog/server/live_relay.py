"""What the hubs that carry live events to other processes share: coalescing and the message frame.

A busy cluster ingests several small batches per live run per second, and each batch is an event.
A hub's own subscribers get every event at once. Other processes (replicas through PostgreSQL,
workers through datagrams) get a run's events merged over ``COALESCE_SECONDS``: at most one message
per run and channel set per interval, whatever the request rate, so the traffic between processes
and each receiver's work grow with the number of live runs, not with the number of requests. Events
that are not about a run (access changes, notifications) go at once.

A message is a header line, ``[origin, [channels…]]`` as JSON, then the event as JSON. One message
carries an event to all its channels (an ingest's project and run channel). A receiver reads the
header only, and decodes the event only when one of its own subscribers listens on one of the
channels: the events of runs nobody watches on that replica cost it one small parse each.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from wakelog.server.live import LiveHub, encode_event

log = logging.getLogger("wakelog.server.live")

#: How long a run's events wait to be merged before they go to other processes; the web app's
#: "new points within 2 s" leaves room for it.
COALESCE_SECONDS = 0.25
#: Event types merged per run: an ingest's, and people's changes to runs (``publish_runs_changed``).
_MERGED_TYPES = ("run_created", "run_updated")

Item = tuple[tuple[str, ...], dict[str, Any]]


def merge(held: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two events of one run as one: created if either says so, the points added up, the keys
    joined, the highest ack and the latest state."""
    merged = {**held, **new}
    if "run_created" in (held.get("type"), new.get("type")):
        merged["type"] = "run_created"
    if "points" in merged:
        merged["points"] = (held.get("points") or 0) + (new.get("points") or 0)
    if "keys" in merged:
        merged["keys"] = sorted(set(held.get("keys") or ()) | set(new.get("keys") or ()))
    if held.get("keys_truncated") or new.get("keys_truncated"):
        merged["keys_truncated"] = True
    if "ack" in merged:
        acks = [a for a in (held.get("ack"), new.get("ack")) if isinstance(a, int)]
        merged["ack"] = max(acks) if acks else None
    if "state" in merged:
        merged["state"] = new.get("state") or held.get("state")
    return merged


def frame(origin: str, channels: tuple[str, ...], event: dict[str, Any], max_bytes: int) -> str | None:
    """The message for ``event`` in at most ``max_bytes`` UTF-8 bytes (the event cut down to fit);
    None when even its smallest form does not fit."""
    header = json.dumps([origin, list(channels)], separators=(",", ":"), ensure_ascii=False)
    body = encode_event(event, max_bytes - len(header.encode()) - 1)
    return None if body is None else f"{header}\n{body}"


def read_header(message: str) -> tuple[str, list[str], str]:
    """(origin, channels, the event's JSON, not decoded); ValueError for anything else."""
    header, newline, body = message.partition("\n")
    if not newline:
        raise ValueError("no header line")
    origin, channels = json.loads(header)
    if not isinstance(origin, str) or not isinstance(channels, list):
        raise ValueError("not a wakelog header")
    if not all(isinstance(channel, str) for channel in channels):
        raise ValueError("not a wakelog header")
    return origin, channels, body


class RelayingHub(LiveHub):
    """A ``LiveHub`` that also sends its events to other processes (``_send``) and hands theirs
    to its own subscribers (``receive``)."""

    origin: str

    def __init__(self) -> None:
        super().__init__()
        #: Messages from other processes that no subscriber here wanted (not decoded).
        self.ignored = 0
        self._relay_loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[tuple[tuple[str, ...], str], dict[str, Any]] = {}
        self._flush_handle: asyncio.TimerHandle | None = None

    def _publish_here(self, channels: tuple[str, ...], event: dict[str, Any]) -> None:
        super()._publish_here(channels, event)
        self._relay(tuple(channels), event)

    # -- sending --------------------------------------------------------------------------------
    def _send(self, items: list[Item]) -> None:
        """Send ``items`` to the other processes, from the event loop."""
        raise NotImplementedError

    def _send_without_loop(self, items: list[Item]) -> None:
        """Send ``items`` when no event loop runs here (scripts, tests); by default they are not."""

    def _relay(self, channels: tuple[str, ...], event: dict[str, Any]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._send_without_loop([(channels, event)])
            return
        self._bind_relay(loop)
        run_id = event.get("run_id")
        if not isinstance(run_id, str) or event.get("type") not in _MERGED_TYPES:
            self._send([(channels, event)])
            return
        key = (channels, run_id)
        held = self._pending.get(key)
        self._pending[key] = event if held is None else merge(held, event)
        if self._flush_handle is None:
            self._flush_handle = loop.call_later(COALESCE_SECONDS, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        pending, self._pending = self._pending, {}
        if pending:
            self._send([(channels, event) for (channels, _), event in pending.items()])

    def _bind_relay(self, loop: asyncio.AbstractEventLoop) -> None:
        """Held events belong to one event loop; a new loop (tests) starts afresh."""
        if self._relay_loop is not loop:
            self._relay_loop, self._pending, self._flush_handle = loop, {}, None

    def _stop_relaying(self) -> None:
        """Drop what waits to be merged (``close``): live events are best-effort."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._flush_handle, self._pending = None, {}

    # -- receiving ------------------------------------------------------------------------------
    def receive(self, message: str) -> None:
        """A message from another process, for this process's subscribers."""
        try:
            origin, channels, body = read_header(message)
        except (ValueError, TypeError):
            log.warning("live events: ignoring a message that is not wakelog's: %.100r", message)
            return
        if origin == self.origin:
            return
        wanted = self.listened(channels)
        if not wanted:
            self.ignored += 1
            return
        try:
            event = json.loads(body)
        except ValueError:
            log.warning("live events: ignoring a message that is not wakelog's: %.100r", message)
            return
        if isinstance(event, dict):
            self.deliver(wanted, event)
