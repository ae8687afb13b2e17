"""Scale-out: several stateless ``wakelog server`` replicas on one PostgreSQL and one S3 bucket.

Two server processes on loopback share a database and a blob prefix, the way a team runs them
behind a load balancer. A run's batches may arrive through either replica, retries may race each
other across replicas, and live events published by one replica reach the subscribers of the
other through PostgreSQL LISTEN/NOTIFY (tested on the SSE route and on ``PostgresLiveHub``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.harness import wait_until
from tests.server.conftest import (
    S3Server,
    ServerProcess,
    db_upgrade,
    fresh_database,
    post_records,
    query,
    start_server,
)
from wakelog.server.live_pg import MAX_PAYLOAD_BYTES, PostgresLiveHub
from wakelog.server.live_relay import COALESCE_SECONDS
from wakelog.store import series as codec
from wakelog.store.ingest import IngestResult

T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def replicas(
    postgres_url: str, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    database = fresh_database(postgres_url)
    db_upgrade(database)
    tmp = tmp_path_factory.mktemp("replicas")
    root = ("--artifact-root", f"s3://{s3_server.bucket}/replicas-{uuid.uuid4().hex[:8]}")
    first = start_server(tmp, *root, env=s3_server.env, backend="postgres", database_url=database)
    second = start_server(
        tmp, *root, env=s3_server.env, backend="postgres", database_url=database, admin_key=first.key
    )
    yield first, second
    first.stop()
    second.stop()


def history(seq: int, step: int | None = None, **values: Any) -> list[Any]:
    return [seq, "history", T0 + seq, {"_step": seq if step is None else step, **values}]


def new_run() -> str:
    return f"team/replicas/{uuid.uuid4().hex[:10]}"


def stored_series(server: ServerProcess, run: str, key: str) -> list[tuple[int, float]]:
    run_id = run.rsplit("/", 1)[1]
    rows = query(
        server,
        "SELECT c.data FROM series_chunks c JOIN runs r ON r.id = c.run_pk "
        "WHERE r.run_id = :run AND c.key = :key ORDER BY c.chunk",
        run=run_id,
        key=key,
    )
    points = []
    for row in rows:
        chunk = codec.decode(bytes(row.data))
        points += list(zip(chunk.steps.tolist(), chunk.values.tolist(), strict=True))
    return points


def summary_count(server: ServerProcess, run: str, key: str) -> int:
    return query(
        server,
        "SELECT s.count FROM summaries s JOIN runs r ON r.id = s.run_pk "
        "WHERE r.run_id = :run AND s.key = :key",
        run=run.rsplit("/", 1)[1],
        key=key,
    )[0].count


@pytest.mark.process  # replicas: server processes sharing one database
def test_a_run_sent_half_through_each_replica_is_complete(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = replicas
    run = new_run()
    batches = [[history(b * 25 + i, loss=float(b * 25 + i)) for i in range(25)] for b in range(8)]
    with first.client() as a, second.client() as b:
        for number, batch in enumerate(batches):
            response = post_records(a if number % 2 == 0 else b, run, batch)
            assert response.json() == {"ack": batch[-1][0], "applied": 25}
        # A lost answer: the uploader resends the last batch through the other replica.
        assert post_records(a, run, batches[-1]).json() == {"ack": 199, "applied": 0}
        for client in (a, b):
            assert client.get(f"/api/v1/runs/{run}/ack").json() == {"ack": 199}
    assert stored_series(first, run, "loss") == [(i, float(i)) for i in range(200)]
    assert summary_count(first, run, "loss") == 200


@pytest.mark.process  # replicas: server processes sharing one database
def test_the_same_batches_through_both_replicas_at_once_apply_once(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    """Retries racing across replicas: the run row lock makes every record land exactly once."""
    run = new_run()
    batches = [[history(b * 10 + i, v=float(b * 10 + i)) for i in range(10)] for b in range(20)]
    applied: list[int] = []
    failures: list[str] = []
    start = threading.Barrier(4)

    def send(server: ServerProcess) -> None:
        with server.client() as client:
            start.wait()
            for batch in batches:
                response = post_records(client, run, batch)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")
                    return
                applied.append(response.json()["applied"])

    threads = [threading.Thread(target=send, args=(server,)) for server in (*replicas, *replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert sum(applied) == 200
    assert stored_series(replicas[0], run, "v") == [(i, float(i)) for i in range(200)]
    assert summary_count(replicas[0], run, "v") == 200


@pytest.mark.process  # replicas: server processes sharing one database
def test_runs_created_through_both_replicas_at_once(replicas: tuple[ServerProcess, ServerProcess]) -> None:
    """Eight ranks starting runs in a new project, spread over the replicas by the balancer."""
    entity = f"crowd{uuid.uuid4().hex[:6]}"
    statuses: list[int] = []
    start = threading.Barrier(8)

    def create(index: int) -> None:
        with replicas[index % 2].client() as client:
            start.wait()
            response = post_records(client, f"{entity}/shared/rank{index}", [history(0, x=float(index))])
            statuses.append(response.status_code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    rows = query(
        replicas[0],
        "SELECT count(DISTINCT r.id) AS runs, count(DISTINCT p.id) AS projects FROM runs r "
        "JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id WHERE e.name = :e",
        e=entity,
    )
    assert (rows[0].runs, rows[0].projects) == (8, 1)


@pytest.mark.process  # replicas: server processes sharing one database
def test_an_upload_started_on_one_replica_finishes_on_the_other(
    replicas: tuple[ServerProcess, ServerProcess], s3_server: S3Server
) -> None:
    content = os.urandom(120_000)
    sha = hashlib.sha256(content).hexdigest()
    first, second = replicas
    with first.client() as a, second.client() as b:
        put = "/api/v1/runs/admin/up/r1/blobs/" + sha
        assert (
            a.put(put, params={"offset": 0, "total": len(content)}, content=content[:70_000]).status_code
            == 200
        )
        assert b.get(put).json() == {"complete": False, "received": 70_000}
        response = b.put(put, params={"offset": 70_000, "total": len(content)}, content=content[70_000:])
        assert response.json() == {"received": len(content), "complete": True}
        assert a.get(put).json() == {"complete": True, "received": len(content)}


# -- live events across replicas ------------------------------------------------------------------


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(event, data)`` pairs from a text/event-stream response."""
    name, data = "message", []
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            yield name, json.loads("\n".join(data))
            name, data = "message", []


@pytest.mark.process  # replicas: server processes sharing one database
def test_an_ingest_on_one_replica_reaches_a_live_subscriber_on_the_other(
    replicas: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = replicas
    run = new_run()
    entity, project, run_id = run.split("/")
    with (
        second.client() as listener,
        first.client() as sender,
        listener.stream(
            "GET", f"/api/v1/projects/{entity}/{project}/events", timeout=httpx.Timeout(30, read=15)
        ) as stream,
    ):
        assert stream.status_code == 200
        events = sse_events(stream)
        assert next(events)[0] == "ready"  # subscribed, and listening to the other replicas
        assert post_records(sender, run, [history(0, loss=1.0), history(1, loss=0.5)]).status_code == 200
        seen: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 15
        for name, data in events:
            seen[name] = data
            if "points" in seen or time.monotonic() > deadline:
                break
    assert seen["run_created"] == {"run_id": run_id}
    assert seen["points"] == {"run_id": run_id, "keys": ["loss"], "points": 2, "ack": 1}


@pytest.fixture(scope="module")
def live_database(postgres_url: str) -> str:
    return fresh_database(postgres_url)


@contextlib.asynccontextmanager
async def two_hubs(url: str) -> AsyncIterator[tuple[PostgresLiveHub, PostgresLiveHub]]:
    """Two replicas' live hubs on one database, closed at the end."""
    a, b = PostgresLiveHub(url), PostgresLiveHub(url)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def next_event(queue: asyncio.Queue, timeout: float = 10) -> dict[str, Any]:
    return await asyncio.wait_for(queue.get(), timeout)


def test_live_hubs_on_one_database_share_events(live_database: str) -> None:
    async def scenario() -> None:
        async with (
            two_hubs(live_database) as (a, b),
            a.subscribe("run:e/p/r") as on_a,
            b.subscribe("run:e/p/r") as on_b,
            b.subscribe("run:e/p/other") as elsewhere,
        ):
            a.publish("run:e/p/r", {"type": "run_updated", "n": 1})
            assert await next_event(on_b) == {"type": "run_updated", "n": 1}
            assert await next_event(on_a) == {"type": "run_updated", "n": 1}
            # Published from a worker thread (a sync route): handed to the loop.
            await asyncio.get_running_loop().run_in_executor(
                None, b.publish, "run:e/p/r", {"type": "run_updated", "n": 2}
            )
            assert await next_event(on_a) == {"type": "run_updated", "n": 2}
            assert await next_event(on_b) == {"type": "run_updated", "n": 2}
            await asyncio.sleep(0.3)
            # Each replica delivers its own events once, and only on their channel.
            assert on_a.empty() and on_b.empty() and elsewhere.empty()

    asyncio.run(scenario())


def test_an_event_too_big_for_notify_is_trimmed(live_database: str) -> None:
    keys = [f"metric/number_{i:05d}" for i in range(2000)]

    async def scenario() -> None:
        async with two_hubs(live_database) as (a, b), b.subscribe("project:e/p") as on_b:
            event = {"type": "run_updated", "run_id": "r", "points": 2000, "keys": keys, "ack": 5}
            payload = a.encode(("project:e/p",), event)
            assert payload is not None and len(payload.encode()) <= MAX_PAYLOAD_BYTES
            a.publish("project:e/p", event)
            got = await next_event(on_b)
            assert got["keys_truncated"] is True
            assert 0 < len(got["keys"]) < len(keys)
            assert got["keys"] == keys[: len(got["keys"])]
            assert {k: got[k] for k in ("type", "run_id", "points", "ack")} == {
                "type": "run_updated",
                "run_id": "r",
                "points": 2000,
                "ack": 5,
            }
            a.publish("project:e/p", {"type": "run_updated", "note": "ü" * 9000, "ack": 6})
            got = await next_event(on_b)
            assert got == {"type": "run_updated", "ack": 6, "truncated": True}

    asyncio.run(scenario())


def test_a_runs_events_reach_other_replicas_merged_and_their_own_at_once(live_database: str) -> None:
    """A busy run's many ingests: every one for the replica's own subscribers, one merged
    notification per interval for the others, whatever the request rate."""

    async def scenario() -> None:
        async with (
            two_hubs(live_database) as (a, b),
            a.subscribe("project:e/p") as on_a,
            b.subscribe("project:e/p") as on_b,
            b.subscribe("run:e/p/r2") as other_run,
        ):
            for i in range(50):
                keys = {f"k{i % 3}"}
                result = IngestResult(i, 1, 1, points=2, new_run=i == 0, state="running", keys=keys)
                a.publish_ingest(("e", "p", "r1"), result)
            a.publish_ingest(("e", "p", "r2"), IngestResult(0, 2, 1, points=1, keys={"x"}))
            own = [await next_event(on_a) for _ in range(51)]
            assert [e["ack"] for e in own if e["run_id"] == "r1"] == list(range(50))
            merged = await next_event(on_b)
            assert merged == {
                "type": "run_created",
                "run_id": "r1",
                "ack": 49,
                "points": 100,
                "keys": ["k0", "k1", "k2"],
                "state": "running",
            }
            assert (await next_event(on_b))["run_id"] == "r2"
            assert (await next_event(other_run))["run_id"] == "r2", "one notification, both channels"
            await asyncio.sleep(3 * COALESCE_SECONDS)
            assert on_b.empty() and other_run.empty()

    asyncio.run(scenario())


def test_a_replica_leaves_undecoded_what_nobody_there_watches(live_database: str) -> None:
    async def scenario() -> None:
        async with two_hubs(live_database) as (a, b), b.subscribe("project:e/watched") as on_b:
            a.publish("project:e/unwatched", {"type": "access", "username": "x"})
            a.publish("project:e/watched", {"type": "access", "username": "y"})
            assert await next_event(on_b) == {"type": "access", "username": "y"}
            assert b.ignored == 1

    asyncio.run(scenario())


def test_a_hub_reconnects_when_its_listen_connection_drops(live_database: str) -> None:
    async def scenario() -> None:
        a = PostgresLiveHub(live_database, min_backoff=0.05)
        b = PostgresLiveHub(live_database, min_backoff=0.05)
        try:
            async with b.subscribe("run:e/p/r") as on_b:
                async with await psycopg.AsyncConnection.connect(live_database, autocommit=True) as admin:
                    await admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'wakelog-live-listen' AND datname = current_database()"
                    )
                deadline = time.monotonic() + 10
                while b.reconnects == 0 and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                assert b.reconnects == 1
                assert await b.wait_listening()
                a.publish("run:e/p/r", {"type": "run_updated", "after": "reconnect"})
                assert await next_event(on_b) == {"type": "run_updated", "after": "reconnect"}
        finally:
            await a.close()
            await b.close()
        # close() stops both connections.
        assert all(task is None for task in (a._sender, a._listener, b._sender, b._listener))

    asyncio.run(scenario())
    with psycopg.connect(live_database, autocommit=True) as conn:

        def none_left() -> bool:
            left = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'wakelog-live-%' "
                "AND datname = current_database()"
            ).fetchone()[0]
            return left == 0

        wait_until(none_left, 5, interval=0.05, what="the hubs' connections to close")


def test_the_postgres_server_uses_the_postgres_hub(live_database: str, tmp_path: Path) -> None:
    from wakelog.server.app import create_app
    from wakelog.server.config import ServerConfig
    from wakelog.server.live import LiveHub

    db_upgrade(live_database)
    app = create_app(ServerConfig(data_dir=tmp_path, backend_store=live_database))
    assert isinstance(app.state.live, PostgresLiveHub)
    app.state.db.dispose()
    (tmp_path / "sqlite").mkdir()
    app = create_app(ServerConfig(data_dir=tmp_path / "sqlite"))
    assert type(app.state.live) is LiveHub
    app.state.db.dispose()
