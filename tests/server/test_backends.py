"""Ingest through HTTP on every backend: the same tests on SQLite and on PostgreSQL.

Batches are MessagePack lists of ``[seq, type, time, data]`` records; the server applies each
record once and in order, answers the highest applied seq, and refuses what it cannot store
whole (400), a batch that skips ahead (409 with the ack to resend from) and bodies over the
limit (413). Every check also looks at the rows the server wrote.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import sqlalchemy as sa

from tests.harness import InProcessServer, wait_until
from tests.server.conftest import (
    BACKENDS,
    free_port,
    fresh_database,
    pack,
    post_records,
    query,
    wakelog_command,
)
from wakelog.store import series as codec
from wakelog.store.database import Database, normalise_url

T0 = 1_700_000_000.0


def new_run() -> str:
    return f"team/backends/{uuid.uuid4().hex[:10]}"


def history(seq: int, step: int, **values: Any) -> list[Any]:
    return [seq, "history", T0 + seq, {"_step": step, **values}]


def run_row(server: InProcessServer, run: str) -> Any:
    _entity, project, run_id = run.split("/")
    rows = query(
        server,
        "SELECT r.* FROM runs r JOIN projects p ON p.id = r.project_id WHERE p.name = :p AND r.run_id = :r",
        p=project,
        r=run_id,
    )
    return rows[0] if rows else None


def series(server: InProcessServer, run: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    run_pk = run_row(server, run).id
    chunks = query(
        server,
        "SELECT data FROM series_chunks WHERE run_pk = :pk AND key = :key AND stream = 0 ORDER BY chunk",
        pk=run_pk,
        key=key,
    )
    decoded = [codec.decode(bytes(row.data)) for row in chunks]
    if not decoded:
        return np.array([], dtype=np.int64), np.array([])
    return np.concatenate([c.steps for c in decoded]), np.concatenate([c.values for c in decoded])


def as_json(value: Any) -> Any:
    """JSON columns come back parsed on PostgreSQL and as text or parsed on SQLite."""
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture
def client(server: InProcessServer) -> httpx.Client:
    with server.client() as c:
        yield c


def test_a_batch_creates_the_run_and_is_acknowledged(server: InProcessServer, client: httpx.Client) -> None:
    run = new_run()
    records = [
        [0, "run", T0, {"name": "first", "tags": ["a", "b"], "group": "g", "start_time": T0}],
        [1, "config", T0, {"update": {"lr": 0.1, "opt": {"name": "adam"}}}],
        *[history(2 + i, i, loss=1 / (i + 1), acc=i / 10) for i in range(5)],
        [7, "output", T0, {"lines": [[T0, "stdout", "hello"], [T0, "stderr", "oops"]]}],
    ]
    response = post_records(client, run, records)
    assert response.status_code == 200, response.text
    assert response.json() == {"ack": 7, "applied": 8}
    assert client.get(f"/api/v1/runs/{run}/ack").json() == {"ack": 7}

    row = run_row(server, run)
    assert (row.name, row.group_name, row.state, row.last_seq, row.last_step) == (
        "first",
        "g",
        "running",
        7,
        4,
    )
    assert as_json(row.tags) == ["a", "b"]
    assert as_json(row.config) == {"lr": 0.1, "opt": {"name": "adam"}}
    steps, values = series(server, run, "loss")
    assert steps.tolist() == [0, 1, 2, 3, 4]
    assert values.tolist() == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    summary = query(server, "SELECT * FROM summaries WHERE run_pk = :pk AND key = 'loss'", pk=row.id)[0]
    assert (summary.count, summary.first, summary.last, summary.min, summary.max) == pytest.approx(
        (5, 1.0, 0.2, 0.2, 1.0)
    )
    lines = query(
        server, "SELECT stream, text FROM console_lines WHERE run_pk = :pk ORDER BY line", pk=row.id
    )
    assert [tuple(line) for line in lines] == [("stdout", "hello"), ("stderr", "oops")]


def test_resending_a_batch_changes_nothing(server: InProcessServer, client: httpx.Client) -> None:
    run = new_run()
    batch = [history(i, i, loss=float(i)) for i in range(4)]
    assert post_records(client, run, batch).json() == {"ack": 3, "applied": 4}
    for _ in range(2):  # a retry after a lost answer, then a replay
        assert post_records(client, run, batch).json() == {"ack": 3, "applied": 0}
    # A batch that overlaps what was applied: only the new tail counts.
    overlapping = [history(i, i, loss=float(i)) for i in range(2, 7)]
    assert post_records(client, run, overlapping).json() == {"ack": 6, "applied": 3}
    steps, values = series(server, run, "loss")
    assert steps.tolist() == list(range(7))
    assert values.tolist() == [float(i) for i in range(7)]
    count = query(
        server, "SELECT count FROM summaries WHERE run_pk = :pk AND key = 'loss'", pk=run_row(server, run).id
    )
    assert count[0].count == 7


def test_a_batch_that_skips_ahead_is_409_with_the_ack(server: InProcessServer, client: httpx.Client) -> None:
    run = new_run()
    assert post_records(client, run, [history(0, 0, x=1.0), history(1, 1, x=2.0)]).status_code == 200
    response = post_records(client, run, [history(3, 3, x=4.0)])
    assert response.status_code == 409
    assert response.json()["ack"] == 1
    # Nothing of the refused batch was applied; resending from ack + 1 works.
    assert series(server, run, "x")[0].tolist() == [0, 1]
    assert post_records(client, run, [history(2, 2, x=3.0), history(3, 3, x=4.0)]).json() == {
        "ack": 3,
        "applied": 2,
    }
    # A brand-new run must start at seq 0.
    fresh = new_run()
    response = post_records(client, fresh, [history(5, 0, x=1.0)])
    assert (response.status_code, response.json()["ack"]) == (409, -1)
    assert run_row(server, fresh) is None


MALFORMED = {
    "not msgpack": b"\xc1\xc1\xc1",
    "not a list": pack({"seq": 0}),
    "three fields": pack([[0, "history", T0]]),
    "seq goes back": pack([history(1, 1, x=1.0), history(0, 0, x=1.0)]),
    "negative seq": pack([history(-1, 0, x=1.0)]),
    "seq past int64": pack([history(2**63, 0, x=1.0)]),
    "history without _step": pack([[0, "history", T0, {"x": 1.0}]]),
    "step past int64": pack([[0, "history", T0, {"_step": 2**63, "x": 1.0}]]),
    "empty key": pack([[0, "history", T0, {"_step": 0, "": 1.0}]]),
    "key too long once flattened": pack([[0, "history", T0, {"_step": 0, "a": {"b" * 255: 1.0}}]]),
    "non-string nested key": pack([[0, "history", T0, {"_step": 0, "a": {1: 1.0}}]]),
    "binary value": pack([[0, "history", T0, {"_step": 0, "a": b"\x00"}]]),
    "time not finite": pack([[0, "history", math.inf, {"_step": 0}]]),
    "data not a map": pack([[0, "config", T0, [1, 2]]]),
    "config update not a map": pack([[0, "config", T0, {"update": [1]}]]),
    "bad output line": pack([[0, "output", T0, {"lines": [["x", "stdout", "a"]]}]]),
    # (a file name that escapes refuses that file only: tests/transport/test_delivery.py)
    "declared gap without its end": pack([[0, "lost", T0, {"reason": "x"}]]),
    "declared gap ending before it starts": pack([history(0, 0, x=1.0), [5, "lost", T0, {"last": 4}]]),
    "record inside a declared gap": pack([[1, "lost", T0, {"last": 3}], history(2, 2, x=1.0)]),
    "exit code too big": pack([[0, "exit", T0, {"exit_code": 2**40}]]),
    "name not a string": pack([[0, "run", T0, {"name": {"a": 1}}]]),
}


@pytest.mark.parametrize("body", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_batch_is_400_and_applies_nothing(
    server: InProcessServer, client: httpx.Client, body: bytes
) -> None:
    run = new_run()
    assert post_records(client, run, [history(0, 0, good=1.0)]).status_code == 200
    # The good first record makes seq 1 the next one; a malformed batch must not move it.
    response = post_records(client, run, body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert client.get(f"/api/v1/runs/{run}/ack").json() == {"ack": 0}


def test_a_malformed_record_refuses_the_whole_batch(server: InProcessServer, client: httpx.Client) -> None:
    run = new_run()
    batch = [history(0, 0, x=1.0), history(1, 1, x=2.0), [2, "config", T0, {"update": "oops"}]]
    response = post_records(client, run, batch)
    assert response.status_code == 400
    assert "record 2" in response.json()["detail"]
    assert run_row(server, run) is None


def test_a_refused_history_row_is_named_by_its_place_and_seq(client: httpx.Client) -> None:
    run = new_run()
    rows = [history(0, 0, x=1.0), [1, "history", T0, {"_step": 1, "": 1.0}]]
    response = post_records(client, run, rows)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("record 1 (seq 1): bad metric key ''")


@functools.cache
def gzip_bomb(size: int) -> bytes:
    return gzip.compress(b"\x00" * size, compresslevel=6)


def test_bodies_over_the_limit_are_413(server: InProcessServer, client: httpx.Client) -> None:
    run = new_run()
    limit = 64 * 1024 * 1024
    # A body that declares its size …
    response = client.post(f"/api/v1/runs/{run}/records", content=b"\x90" * (limit + 1))
    assert response.status_code == 413
    # … one that arrives in chunks with no declared size …

    def chunks():
        for _ in range(limit // (4 * 1024 * 1024) + 1):
            yield b"\x90" * (4 * 1024 * 1024)

    response = client.post(f"/api/v1/runs/{run}/records", content=chunks())
    assert response.status_code == 413
    # … and a small gzip body that inflates past the limit.
    bomb = gzip_bomb(limit + 1024)
    assert len(bomb) < 200_000
    response = client.post(f"/api/v1/runs/{run}/records", content=bomb, headers={"content-encoding": "gzip"})
    assert response.status_code == 413
    response = client.post(
        f"/api/v1/runs/{run}/records", content=b"not gzip", headers={"content-encoding": "gzip"}
    )
    assert response.status_code == 400
    assert run_row(server, run) is None


def test_a_gzip_body_is_applied(server: InProcessServer, client: httpx.Client) -> None:
    run = new_run()
    batch = [history(i, i, loss=float(i), tag="x" * 100) for i in range(200)]
    response = post_records(client, run, batch, gzipped=True)
    assert response.json() == {"ack": 199, "applied": 200}
    assert series(server, run, "loss")[0].tolist() == list(range(200))


def test_ingest_needs_a_key(server: InProcessServer) -> None:
    run = new_run()
    with server.anonymous() as anonymous:
        assert post_records(anonymous, run, [history(0, 0, x=1.0)]).status_code == 401
    with server.client(key="wk_" + "x" * 40) as wrong:
        assert post_records(wrong, run, [history(0, 0, x=1.0)]).status_code == 401
    assert run_row(server, run) is None


def test_the_ack_of_an_unknown_run_is_minus_one(client: httpx.Client) -> None:
    assert client.get(f"/api/v1/runs/{new_run()}/ack").json() == {"ack": -1}


def test_nan_infinity_and_nul_are_stored(server: InProcessServer, client: httpx.Client) -> None:
    """A diverged loss and stray NUL bytes: fine for SQLite, impossible in PostgreSQL's JSONB/text."""
    run = new_run()
    batch = [
        [0, "config", T0, {"update": {"lr": math.nan, "name": "a\x00b"}}],
        history(1, 0, loss=1.0, grad=math.inf),
        history(2, 1, loss=math.nan, grad=-math.inf),
        [3, "output", T0, {"lines": [[T0, "stdout", "bin\x00ary"]]}],
        [4, "run", T0, {"name": "n" * 300, "notes": "nul\x00"}],
    ]
    response = post_records(client, run, batch)
    assert response.json() == {"ack": 4, "applied": 5}, response.text
    steps, values = series(server, run, "loss")
    assert steps.tolist() == [0, 1]
    assert values[0] == 1.0 and math.isnan(values[1])
    assert series(server, run, "grad")[1].tolist() == [math.inf, -math.inf]
    row = run_row(server, run)
    assert as_json(row.config) == {"lr": "NaN", "name": "ab"}
    assert as_json(row.summary) == {"loss": "NaN", "grad": "-Infinity"}
    assert row.name == "n" * 256
    assert row.notes == "nul"
    text = query(server, "SELECT text FROM console_lines WHERE run_pk = :pk", pk=row.id)[0].text
    assert text == "binary"
    loss = query(server, "SELECT * FROM summaries WHERE run_pk = :pk AND key = 'loss'", pk=row.id)[0]
    assert (loss.count, loss.min, loss.max, loss.first, loss.last) == (2, 1.0, 1.0, 1.0, None)


def test_the_exit_record_finishes_the_run(server: InProcessServer, client: httpx.Client) -> None:
    run = new_run()
    batch = [
        history(0, 0, acc=0.5),
        [1, "summary", T0, {"update": {"best": 0.9}, "remove": []}],
        [2, "exit", T0 + 60, {"state": "finished", "exit_code": 0, "runtime": 60.0}],
    ]
    assert post_records(client, run, batch).json() == {"ack": 2, "applied": 3}
    row = run_row(server, run)
    assert (row.state, row.exit_code, row.runtime, row.finished_at) == ("finished", 0, 60.0, T0 + 60)
    assert as_json(row.summary) == {"acc": 0.5, "best": 0.9}


def test_new_runs_in_a_new_project_at_once(server: InProcessServer) -> None:
    """Several uploaders creating runs (and their entity and project) at the same moment."""
    project = f"crowd{uuid.uuid4().hex[:6]}/p"
    results: list[int] = []

    def create(index: int) -> None:
        with server.client() as c:
            results.append(
                post_records(c, f"{project}/r{index}", [history(0, 0, x=float(index))]).status_code
            )

    threads = [threading.Thread(target=create, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 12
    counts = query(
        server,
        "SELECT count(*) AS n, count(DISTINCT r.project_id) AS projects FROM runs r "
        "JOIN projects p ON p.id = r.project_id JOIN entities e ON e.id = p.entity_id WHERE e.name = :e",
        e=project.split("/", maxsplit=1)[0],
    )[0]
    assert (counts.n, counts.projects) == (12, 1)


def test_the_same_batches_from_several_senders_apply_once(server: InProcessServer) -> None:
    """Uploader retries racing each other: every record lands exactly once."""
    run = new_run()
    batches = [[history(b * 10 + i, b * 10 + i, v=float(b * 10 + i)) for i in range(10)] for b in range(15)]
    applied: list[int] = []
    errors: list[str] = []

    def send() -> None:
        with server.client() as c:
            for batch in batches:
                response = post_records(c, run, batch)
                if response.status_code != 200:
                    errors.append(response.text)
                    return
                applied.append(response.json()["applied"])

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(applied) == 150
    steps, values = series(server, run, "v")
    assert steps.tolist() == list(range(150))
    assert values.tolist() == [float(i) for i in range(150)]
    row = run_row(server, run)
    assert row.last_seq == 149
    assert query(server, "SELECT count FROM summaries WHERE run_pk = :pk", pk=row.id)[0].count == 150


def test_the_server_runs_on_the_backend_it_says(server: InProcessServer) -> None:
    assert server.database_url.startswith("postgresql" if server.backend == "postgres" else "sqlite")
    assert "--backend-store" in server.args if server.backend == "postgres" else not server.args
    dialect = "postgresql" if server.backend == "postgres" else "sqlite"
    assert query(server, "SELECT 1 AS one")[0].one == 1
    assert dialect in server.database_url


# -- schema checks at start ---------------------------------------------------------------------


def run_wakelog(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(wakelog_command(*args), capture_output=True, text=True, timeout=60, check=False)


def test_a_server_on_an_unmigrated_postgres_says_to_run_db_upgrade(postgres_url: str, tmp_path: Path) -> None:
    database = fresh_database(postgres_url)
    done = run_wakelog(
        "server", "--port", str(free_port()), "--data-dir", str(tmp_path), "--backend-store", database
    )
    assert done.returncode != 0
    assert "wakelog db upgrade" in done.stderr
    assert "Traceback" not in done.stderr
    # (The `server` fixture shows that the documented fix works: it upgrades, then starts.)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_from_a_newer_wakelog_is_refused(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    if backend == "postgres":
        database = fresh_database(request.getfixturevalue("postgres_url"))
        where = ["--backend-store", database]
    else:
        data_dir.mkdir()  # `wakelog db upgrade` does not create it (`wakelog server` does)
        database = f"sqlite:///{data_dir / 'wakelog.db'}"
        where = ["--data-dir", str(data_dir)]
    upgraded = Database(database)
    upgraded.upgrade()
    upgraded.dispose()
    engine = sa.create_engine(normalise_url(database), poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dfeedcafe'"))
    engine.dispose()
    for command in (
        ["server", "--port", str(free_port()), "--data-dir", str(data_dir), *where],
        ["db", "upgrade", *where],
    ):
        done = run_wakelog(*command)
        assert done.returncode != 0, command
        assert "'f00dfeedcafe' is newer than this wakelog knows" in done.stderr
        assert "Traceback" not in done.stderr
    with engine.connect() as conn:  # and left alone
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "f00dfeedcafe"
    engine.dispose()


def test_an_empty_batch_is_a_heartbeat(server: InProcessServer) -> None:
    """The uploader of an idle run sends empty batches so the run is not reported as crashed."""
    with server.client() as http:
        first = http.post(
            "/api/v1/runs/admin/beat/r1/records",
            content=pack([[0, "run", 1.0, {"name": "idle"}]]),
            headers={"Content-Type": "application/msgpack"},
        )
        assert first.json()["ack"] == 0
        before = http.get("/api/v1/runs/admin/beat/r1").json()["heartbeat_at"]

        def beat() -> bool:
            empty = http.post("/api/v1/runs/admin/beat/r1/records", content=pack([]))
            assert empty.json() == {"ack": 0, "applied": 0}
            return http.get("/api/v1/runs/admin/beat/r1").json()["heartbeat_at"] > before

        # The answer may round the time: beat until it has moved past the first one (no fixed sleep).
        wait_until(beat, timeout=10, interval=0.1, what="an empty batch to move the heartbeat")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects?entity=a%00b",
        "/api/v1/runs/admin/p%00q/r/ack",
        "/api/v1/projects/admin/p/runs?filter=%00",
    ],
)
def test_nul_anywhere_in_the_url_is_a_400_not_a_500(server: InProcessServer, url: str) -> None:
    with server.client() as http:
        response = http.get(url)
    assert response.status_code == 400 and "NUL" in response.json()["detail"]


def test_db_upgrade_on_a_missing_data_dir_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [*wakelog_command(), "db", "upgrade", "--data-dir", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (
        result.returncode == 1 and "no server data in" in result.stderr and "Traceback" not in result.stderr
    )
