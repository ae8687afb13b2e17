"""Live push between the worker processes of one machine (SQLite with ``--workers N``)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.server.conftest import post_records, start_server
from tests.server.test_query_events import Listener
from wakelog.server.live_local import LocalLiveHub, socket_folder
from wakelog.server.live_relay import COALESCE_SECONDS, frame, read_header

API = "/api/v1"


async def next_event(queue: asyncio.Queue, timeout: float = 5) -> dict[str, Any]:
    return await asyncio.wait_for(queue.get(), timeout)


def short_folder(tmp_path: Path) -> Path:
    """A socket folder with a path short enough for sun_path, whatever pytest's tmp path is."""
    return socket_folder(tmp_path / "data")


def test_an_event_reaches_the_other_workers_subscribers_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        folder = short_folder(tmp_path)
        a, b = LocalLiveHub(folder), LocalLiveHub(folder)
        try:
            async with a.subscribe("project:e/p") as on_a, b.subscribe("project:e/p") as on_b:
                a.publish("project:e/p", {"type": "run_created", "run_id": "r1"})
                assert await next_event(on_b) == {"type": "run_created", "run_id": "r1"}
                assert await next_event(on_a) == {"type": "run_created", "run_id": "r1"}
                await asyncio.sleep(0.1)
                assert on_a.empty() and on_b.empty(), "a worker hears its own event once, not echoed"
                b.publish("run:e/p/r1", {"type": "run_updated"})  # nobody listens there: nothing arrives
                await asyncio.sleep(0.1)
                assert on_a.empty()
        finally:
            await a.close()
            await b.close()
        assert sorted(os.listdir(folder)) == [], "closed hubs remove their sockets"
        assert oct(folder.stat().st_mode & 0o777) == "0o700"

    asyncio.run(scenario())


def test_a_dead_workers_socket_is_removed(tmp_path: Path) -> None:
    async def scenario() -> None:
        folder = short_folder(tmp_path)
        folder.mkdir(mode=0o700, parents=True)
        dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        dead.bind(str(folder / "999-dead.sock"))
        dead.close()  # the file stays, as after kill -9
        hub = LocalLiveHub(folder)
        try:
            async with hub.subscribe("project:e/p") as mine:
                hub.publish("project:e/p", {"type": "notification", "ids": [1]})  # sent at once
                assert await next_event(mine) == {"type": "notification", "ids": [1]}
        finally:
            await hub.close()
        assert not (folder / "999-dead.sock").exists()

    asyncio.run(scenario())


def test_an_event_too_big_for_a_datagram_is_trimmed(tmp_path: Path) -> None:
    async def scenario() -> None:
        folder = short_folder(tmp_path)
        a, b = LocalLiveHub(folder), LocalLiveHub(folder)
        keys = [f"metric/{'x' * 40}/{i:05d}" for i in range(5000)]  # about 270 kB of keys
        try:
            async with b.subscribe("project:e/p") as on_b:
                a.publish("project:e/p", {"type": "points", "run_id": "r1", "keys": keys, "points": 5000})
                event = await next_event(on_b)
        finally:
            await a.close()
            await b.close()
        assert event["keys_truncated"] is True and 0 < len(event["keys"]) < len(keys)
        assert event["keys"] == keys[: len(event["keys"])] and event["points"] == 5000

    asyncio.run(scenario())


def test_a_folder_others_can_write_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> dict[str, Any]:
        folder = short_folder(tmp_path)
        folder.mkdir(parents=True)
        folder.chmod(0o777)
        hub = LocalLiveHub(folder)
        try:
            async with hub.subscribe("project:e/p") as mine:
                hub.publish("project:e/p", {"type": "run_created", "run_id": "r1"})
                return await next_event(mine)  # still delivered inside this worker
        finally:
            await hub.close()

    with caplog.at_level(logging.WARNING, logger="wakelog.server.live"):
        assert asyncio.run(scenario()) == {"type": "run_created", "run_id": "r1"}
    assert "not a private folder" in caplog.text


def test_a_long_data_dir_gets_a_private_temp_folder(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    folder = socket_folder(deep)
    assert len(str(folder / "12345-0123456789ab.sock")) < 104
    assert folder == socket_folder(deep) != socket_folder(tmp_path / ("e" * 120))
    assert socket_folder(Path("/srv/wakelog")) == Path("/srv/wakelog/live")


@pytest.mark.process  # two uvicorn worker processes
def test_every_sse_client_of_a_two_worker_sqlite_server_sees_an_ingest(tmp_path: Path) -> None:
    """Which worker accepts a connection is the kernel's choice: with eight listeners, both serve some."""
    server = start_server(tmp_path, "--workers", "2")
    listeners = [Listener(server, f"{API}/projects/multi/proj/events") for _ in range(8)]
    try:
        for listener in listeners:
            assert listener.next() == ("status", 200)
            assert listener.next()[0] == "ready"
        with server.client() as http:
            records = [[0, "run", 1.0, {"id": "r1"}], [1, "history", 1.0, {"_step": 0, "loss": 1.0}]]
            assert post_records(http, "multi/proj/r1", records).status_code == 200
        for listener in listeners:
            assert listener.next() == ("run_created", {"run_id": "r1"})
            assert listener.next() == ("points", {"run_id": "r1", "keys": ["loss"], "points": 1, "ack": 1})
    finally:
        for listener in listeners:
            listener.close()
        server.stop()


def test_a_runs_events_reach_the_other_workers_merged(tmp_path: Path) -> None:
    """Ten ingests of one run: the worker's own subscribers get ten events, the others one merged,
    also when the events come from a worker thread (a sync route)."""

    async def scenario() -> None:
        folder = short_folder(tmp_path)
        a, b = LocalLiveHub(folder), LocalLiveHub(folder)
        try:
            async with a.subscribe("run:e/p/r1") as on_a, b.subscribe("run:e/p/r1") as on_b:
                loop = asyncio.get_running_loop()
                for i in range(10):
                    event = {"type": "run_updated", "run_id": "r1", "ack": i, "points": 1, "keys": [f"k{i}"]}
                    await loop.run_in_executor(None, a.publish, "run:e/p/r1", event)
                assert [(await next_event(on_a))["ack"] for _ in range(10)] == list(range(10))
                merged = await next_event(on_b)
                assert merged == {
                    "type": "run_updated",
                    "run_id": "r1",
                    "ack": 9,
                    "points": 10,
                    "keys": [f"k{i}" for i in range(10)],
                }
                await asyncio.sleep(3 * COALESCE_SECONDS)
                assert on_b.empty()
        finally:
            await a.close()
            await b.close()

    asyncio.run(scenario())


@given(
    origin=st.text(max_size=20),
    channels=st.lists(st.text(max_size=40), max_size=4),
    event=st.dictionaries(st.text(max_size=10), st.one_of(st.none(), st.integers(), st.text(max_size=50))),
)
def test_a_message_frame_reads_back(origin: str, channels: list[str], event: dict[str, Any]) -> None:
    message = frame(origin, tuple(channels), event, 60_000)
    assert message is not None
    got_origin, got_channels, body = read_header(message)
    assert (got_origin, got_channels, json.loads(body)) == (origin, channels, event)


@pytest.mark.parametrize(
    "message", ["", "{}", "not json\n{}", '["o", "c"]\n{}', "[1, []]\n{}", '["o", [1]]\n{}']
)
def test_a_message_that_is_not_wakelogs_is_refused(message: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        read_header(message)
