"""The Alembic migrations build exactly the schema the code declares, on both backends, and
keep the data of older databases working."""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.harness import InProcessServer
from tests.server.conftest import BACKENDS, fresh_database, post_records, zlib_chunk
from wakelog.server.auth import create_key, create_user
from wakelog.store.database import Database
from wakelog.store.schema import (
    blob_holders,
    blobs,
    entities,
    entity_members,
    metadata,
    project_keys,
    projects,
    run_files,
    runs,
    series_chunks,
    sessions,
    users,
)


def empty_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a new, empty database of ``backend``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return fresh_database(request.getfixturevalue("postgres_url"))


def old_run(conn: sa.Connection, entity: str, project: str, run_id: str) -> int:
    """A run as any older schema holds it: only the columns every revision has (today's
    ``ensure_run`` would name columns an old database lacks); its entity and project made if new."""
    now = time.time()
    entity_id = conn.execute(sa.text("SELECT id FROM entities WHERE name = :n"), {"n": entity}).scalar()
    if entity_id is None:
        entity_id = conn.execute(
            sa.text("INSERT INTO entities (name, created_at) VALUES (:n, :t) RETURNING id"),
            {"n": entity, "t": now},
        ).scalar_one()
    project_id = conn.execute(
        sa.text("SELECT id FROM projects WHERE entity_id = :e AND name = :n"), {"e": entity_id, "n": project}
    ).scalar()
    if project_id is None:
        project_id = conn.execute(
            sa.text(
                "INSERT INTO projects (entity_id, name, created_at, updated_at) "
                "VALUES (:e, :n, :t, :t) RETURNING id"
            ),
            {"e": entity_id, "n": project, "t": now},
        ).scalar_one()
    return conn.execute(
        sa.text(
            "INSERT INTO runs (project_id, run_id, state, tags, config, summary, run_metadata, metric_defs, "
            "created_at, updated_at, heartbeat_at, last_step, last_seq) "
            "VALUES (:p, :r, 'running', '[]', '{}', '{}', '{}', '{}', :t, :t, :t, -1, -1) RETURNING id"
        ),
        {"p": project_id, "r": run_id, "t": now},
    ).scalar_one()


def series_from_before(db: Database, run_id: str, steps: list[int]) -> None:
    """A run of ``team/p`` with the series ``a`` (its value each step) written by today's series
    code under an older schema (the rest of today's ingest names columns an old database lacks)."""
    from wakelog.store.ingest._series import write_series
    from wakelog.store.schema import STREAM_HISTORY

    with db.write() as conn:
        run_pk = old_run(conn, "team", "p", run_id)
        write_series(conn, run_pk, {(STREAM_HISTORY, "a"): (steps, [float(s) for s in steps])})


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_declared_schema(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = Database(empty_database(backend, tmp_path, request))
    try:
        db.upgrade()
        assert db.current_revision() == db.head_revision()
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        db.dispose()
    assert differences == [], "a schema change needs a migration in store/migrations/versions/"


@pytest.mark.parametrize("backend", BACKENDS)
def test_0003_keeps_existing_users_working(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A deployment from the open model: every non-admin user becomes a member of every entity,
    and administers their personal one; the upgraded server lets them on as before."""
    url = empty_database(backend, tmp_path, request)
    db = Database(url)
    try:
        db.upgrade("0002")
        now = time.time()
        with db.write() as conn:
            root = create_user(conn, "root", None, is_admin=True)
            alice = create_user(conn, "alice", None)
            olga = create_user(conn, "olga", None)  # no personal entity yet
            keys = {
                "alice": create_key(conn, alice),
                "olga": create_key(conn, olga),
                "root": create_key(conn, root),
            }
            team = conn.execute(entities.insert().values(name="team", created_at=now)).inserted_primary_key[0]
            conn.execute(entities.insert().values(name="alice", created_at=now))
            project = conn.execute(
                projects.insert().values(entity_id=team, name="p", created_at=now, updated_at=now)
            ).inserted_primary_key[0]
            run = conn.execute(
                runs.insert().values(
                    project_id=project, run_id="r1", created_by=alice, created_at=now, updated_at=now,
                    heartbeat_at=now, tags=[], config={}, summary={}, run_metadata={}, metric_defs={},
                    last_step=-1, last_seq=-1, state="running",
                )
            ).inserted_primary_key[0]  # fmt: skip
            conn.execute(blobs.insert().values(sha256="a" * 64, size=1, created_at=now))
            conn.execute(
                run_files.insert().values(run_pk=run, name="f.txt", sha256="a" * 64, size=1, updated_at=now)
            )
        db.upgrade()
        with db.read() as conn:
            roles = conn.execute(
                sa.select(users.c.username, entities.c.name, entity_members.c.role)
                .join(users, users.c.id == entity_members.c.user_id)
                .join(entities, entities.c.id == entity_members.c.entity_id)
            ).all()
            holders = conn.execute(sa.select(blob_holders.c.sha256, blob_holders.c.user_id)).all()
    finally:
        db.dispose()
    assert sorted(map(tuple, roles)) == [
        ("alice", "alice", "admin"),
        ("alice", "team", "member"),
        ("olga", "alice", "member"),
        ("olga", "team", "member"),
    ], "server admins need no membership"
    assert [tuple(h) for h in holders] == [("a" * 64, alice)]

    with InProcessServer(tmp_path / "data", database_url=url) as server:
        with server.client(keys["alice"]) as client:
            assert client.get("/api/v1/runs/team/p/r1").status_code == 200
            assert post_records(client, "team/p/r1", [[0, "run", 1.0, {"name": "after"}]]).status_code == 200
        with server.client(keys["olga"]) as client:
            assert post_records(client, "olga/p/r", [[0, "run", 1.0, {}]]).status_code == 200
            assert {"entity": "olga", "role": "admin"} in client.get("/api/v1/auth/me").json()["memberships"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_0004_ties_personal_entities_to_their_owner_and_keeps_every_row(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A database made at 0003: rebuilding tables on SQLite must not fire the cascades of the rows
    that refer to them; personal entities get their owner; old sessions end; the keys go on."""
    url = empty_database(backend, tmp_path, request)
    db = Database(url)
    try:
        db.upgrade("0003")
        now = time.time()
        with db.write() as conn:
            create_user(conn, "root", None, is_admin=True)
            alice = create_user(conn, "alice", None)
            key = create_key(conn, alice)
            personal = conn.execute(
                entities.insert().values(name="alice", created_at=now)
            ).inserted_primary_key[0]
            team = conn.execute(entities.insert().values(name="team", created_at=now)).inserted_primary_key[0]
            for entity, role in ((personal, "admin"), (team, "member")):
                conn.execute(
                    entity_members.insert().values(entity_id=entity, user_id=alice, role=role, created_at=now)
                )
            conn.execute(
                projects.insert().values(entity_id=personal, name="p", created_at=now, updated_at=now)
            )
            conn.execute(
                sessions.insert().values(
                    token_hash="t" * 64, user_id=alice, csrf_token="c", created_at=now, expires_at=now + 60
                )
            )
        db.upgrade()
        with db.write() as conn:
            gone = create_user(conn, "gone", None)  # the newest user: SQLite reused the id of such a one
            conn.execute(users.delete().where(users.c.id == gone))
            owners = dict(conn.execute(sa.select(entities.c.name, entities.c.owner_id)).all())
            members = conn.execute(sa.select(sa.func.count()).select_from(entity_members)).scalar()
            open_sessions = conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar()
            newcomer = create_user(conn, "newcomer", None)
    finally:
        db.dispose()
    assert owners == {"alice": alice, "team": None}
    assert members == 2, "the rebuilt users table kept its memberships"
    assert open_sessions == 0, "a session from before cannot say which key opened it"
    assert newcomer > gone, "ids are never handed out twice"

    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client(key) as client:
        assert client.get("/api/v1/projects/alice/p/runs").status_code == 200
        assert post_records(client, "team/p/r", [[0, "run", 1.0, {}]]).status_code == 200


def database_with_an_old_run(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, revision: str
) -> str:
    """A database made at ``revision`` holding one run, ``team/p/r1``, then upgraded to the head."""
    url = empty_database(backend, tmp_path, request)
    db = Database(url)
    try:
        db.upgrade(revision)
        with db.write() as conn:
            old_run(conn, "team", "p", "r1")
        db.upgrade()
    finally:
        db.dispose()
    return url


def downgrade_and_back(url: str, revision: str) -> tuple[set[str], list[str]]:
    """Downgrade to ``revision`` and say which tables and run names are left there; then upgrade
    to the head again, which must work."""
    from alembic import command

    db = Database(url)
    try:
        command.downgrade(db._alembic_config(), revision)
        with db.read() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            names = list(conn.execute(sa.select(runs.c.name)).scalars())
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()
    return tables, names


@pytest.mark.parametrize("backend", BACKENDS)
def test_0007_adds_artifacts_to_a_database_with_runs_and_goes_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Runs and their files from before artifacts keep working, their content can be named by a
    new artifact version, and the downgrade drops only the artifact tables."""
    from tests.server.test_artifacts_api import entry, upload

    url = database_with_an_old_run(backend, tmp_path, request, "0006")
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        assert post_records(client, "team/p/r1", [[0, "run", 1.0, {"name": "before"}]]).status_code == 200
        upload(client, "team/p/r1", b"weights")
        body = {
            "name": "m",
            "type": "model",
            "run_id": "r1",
            "manifest": {"version": 1, "entries": {"w": entry(b"weights")}},
        }
        made = client.post("/api/v1/projects/team/p/artifacts", json=body)
        assert made.status_code == 201 and made.json()["run"] == "r1", made.text
    tables, names = downgrade_and_back(url, "0006")
    assert names == ["before"]
    assert "artifact_versions" not in tables and "registry_links" not in tables and "runs" in tables


@pytest.mark.parametrize("backend", BACKENDS)
def test_0008_adds_the_trash_settings_and_audit_log_and_goes_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Projects and runs from before keep working (members-only, nothing in the trash), can be
    edited and deleted after the upgrade, and the downgrade keeps them."""
    url = database_with_an_old_run(backend, tmp_path, request, "0007")
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        detail = client.get("/api/v1/projects/team/p").json()
        assert (detail["visibility"], detail["runs"], detail["pinned_runs"]) == ("members", 1, [])
        assert client.patch("/api/v1/runs/team/p/r1", json={"name": "kept"}).status_code == 200
        assert client.get("/api/v1/audit").json()["entries"][0]["action"] == "run.edit"
    tables, names = downgrade_and_back(url, "0007")
    assert names == ["kept"] and "audit_log" not in tables


@pytest.mark.parametrize("backend", BACKENDS)
def test_0012_adds_reports_keeps_run_threads_and_goes_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A run's thread from before keeps its comments (on no panel); reports work after the
    upgrade, and the downgrade drops them and keeps the thread."""
    url = empty_database(backend, tmp_path, request)
    db = Database(url)
    try:
        db.upgrade("0011")
        with db.write() as conn:
            old_run(conn, "team", "p", "r1")
            run_pk = conn.execute(sa.text("SELECT id FROM runs")).scalar_one()
            thread = conn.execute(
                sa.text(
                    "INSERT INTO comment_threads (target_kind, target_id, created_at) "
                    "VALUES ('run', :r, 1.0) RETURNING id"
                ),
                {"r": run_pk},
            ).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO comments (thread_id, author, body, created_at) VALUES (:t, 'a', 'hi', 1.0)"
                ),
                {"t": thread},
            )
        db.upgrade()
    finally:
        db.dispose()
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        threads = client.get("/api/v1/runs/team/p/r1/threads").json()
        assert [(t["target"], t["comments"][0]["body"]) for t in threads] == [
            ({"kind": "run", "run_id": "r1"}, "hi")
        ]
        made = client.post("/api/v1/projects/team/p/reports", json={"title": "after"})
        assert made.status_code == 201, made.text
        assert client.post(f"/api/v1/reports/team/p/{made.json()['id']}/pin").json()["pinned"] is True
    tables, _ = downgrade_and_back(url, "0011")
    assert "reports" not in tables and "report_revisions" not in tables
    db = Database(url)
    try:
        with db.read() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM comments")).scalar_one() == 1
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_0014_adds_the_stop_request_to_runs_from_before_and_goes_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A run from before is not stopped, can be stopped after the upgrade, and the downgrade
    keeps it."""
    url = database_with_an_old_run(backend, tmp_path, request, "0013")
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        assert post_records(client, "team/p/r1", [[0, "run", 1.0, {"name": "before"}]]).status_code == 200
        assert client.post("/api/v1/runs/team/p/r1/stop").status_code == 204
    tables, names = downgrade_and_back(url, "0013")
    assert names == ["before"] and "runs" in tables


@pytest.mark.parametrize("backend", BACKENDS)
def test_0013_adds_saved_views_to_a_database_with_runs_and_goes_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A project from before saved views gets views (one default) after the upgrade; the downgrade
    drops only the views table and keeps the runs."""
    url = database_with_an_old_run(backend, tmp_path, request, "0012")
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        assert post_records(client, "team/p/r1", [[0, "run", 1.0, {"name": "before"}]]).status_code == 200
        views = "/api/v1/projects/team/p/views"
        for name in ("a", "b"):
            made = client.post(views, json={"name": name, "state": {"params": {}}, "is_default": True})
            assert made.status_code == 201, made.text
        assert [v["is_default"] for v in client.get(views).json()] == [False, True]
    tables, names = downgrade_and_back(url, "0012")
    assert names == ["before"] and "saved_views" not in tables and "reports" in tables


def sql_rows(url: str, statement: str) -> list[Any]:
    """The rows of one SQL statement on ``url``'s database, in a connection of their own."""
    db = Database(url)
    try:
        with db.read() as conn:
            return list(conn.execute(sa.text(statement)).all())
    finally:
        db.dispose()


def chunk_storage(url: str) -> tuple[dict[str, str], list[tuple[bool, bool]]]:
    """PostgreSQL's storage of ``series_chunks.sketch`` and ``data`` (``x`` extended, ``e``
    external), and for each chunk row whether its sketch and its data are stored compressed."""
    kinds = sql_rows(
        url,
        "SELECT attname, attstorage FROM pg_attribute "
        "WHERE attrelid = 'series_chunks'::regclass AND attname IN ('sketch', 'data')",
    )
    rows = sql_rows(
        url,
        "SELECT pg_column_compression(sketch) IS NOT NULL, "
        "pg_column_compression(data) IS NOT NULL FROM series_chunks ORDER BY run_pk, key, chunk",
    )
    return {str(name): str(kind) for name, kind in kinds}, [tuple(row) for row in rows]


def test_an_evenly_spaced_chunks_sketch_stays_in_its_row_on_postgresql(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """An evenly spaced chunk's sketch (min, max and last per bucket: 1.5 KB) stays in the table's
    row, where a chart reads it, while its data goes to TOAST; an unevenly spaced chunk's full
    sketch (3 KB) goes out of line too: a TOAST lookup per sketch read. Counted in the TOAST table
    as each run is written (noisy values: the data does not compress to fit in the row)."""
    url = empty_database("postgres", tmp_path, request)
    db = Database(url)
    try:
        db.upgrade()
    finally:
        db.dispose()

    def toasted_values() -> int:
        toast = "SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = 'series_chunks'"
        ((table,),) = sql_rows(url, toast)
        return int(sql_rows(url, f"SELECT count(DISTINCT chunk_id) FROM {table}")[0][0])

    spacing = {"even": [2 * i for i in range(4096)], "uneven": [2 * i + (i % 3 == 0) for i in range(4096)]}
    counted = []
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        for run, steps in spacing.items():
            noise = [math.sin(i * 1.7) * 1e6 + i for i in range(len(steps))]
            points = [[1 + i, "history", 1.0, {"a": noise[i], "_step": s}] for i, s in enumerate(steps)]
            assert post_records(client, f"team/p/{run}", [[0, "run", 1.0, {}], *points]).status_code == 200
            counted.append(toasted_values())
    assert counted == [1, 3], "even: its data alone; uneven: its data and its sketch"


@pytest.mark.parametrize("backend", BACKENDS)
def test_0018_stores_new_chunks_uncompressed_on_postgresql_and_goes_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A chunk written before the upgrade reads back as before; one written after is stored as it
    is on PostgreSQL (its sketch compresses, so the old storage would have); the downgrade brings
    compression back for what is written then. On SQLite the migration changes nothing. (The
    steps are unevenly spaced: an evenly spaced chunk's sketch is half the size and stays in the
    row uncompressed either way.)"""

    url = empty_database(backend, tmp_path, request)
    steps = [2 * i + (i % 3 == 0) for i in range(1000)]
    points = [[1 + i, "history", 1.0, {"a": float(s), "_step": s}] for i, s in enumerate(steps)]
    db = Database(url)
    try:
        db.upgrade("0017")
        series_from_before(db, "old", steps)
        db.upgrade()
    finally:
        db.dispose()
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        assert post_records(client, "team/p/new", [[0, "run", 1.0, {}], *points]).status_code == 200
        for run in ("old", "new"):
            answer = client.get(f"/api/v1/runs/team/p/{run}/history", params={"keys": ["a"]})
            (series,) = answer.json()["series"]
            assert series["steps"] == steps and series["values"] == [float(s) for s in steps]
    if backend == "sqlite":
        return
    kinds, compressed = chunk_storage(url)
    assert kinds == {"sketch": "e", "data": "e"}
    assert compressed == [(True, False), (False, False)], "old: sketch pglz-compressed; new: as it is"
    from alembic import command

    db = Database(url)
    try:
        command.downgrade(db._alembic_config(), "0017")
        assert chunk_storage(url)[0] == {"sketch": "x", "data": "x"}
        series_from_before(db, "older", steps)
        db.upgrade()
    finally:
        db.dispose()
    assert chunk_storage(url) == (kinds, [(True, False), (False, False), (True, False)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_0017_counts_the_runs_from_before_and_goes_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A project's runs from before are counted by the upgrade (the trash apart in the live count),
    the counts follow what happens after it, every run's keys are in the project's key registry,
    and the downgrade keeps the runs."""
    url = empty_database(backend, tmp_path, request)
    db = Database(url)
    try:
        db.upgrade("0015")
        with db.write() as conn:
            old_run(conn, "team", "p", "r1")
            conn.execute(sa.text("UPDATE runs SET deleted_at = 1.0"))
            pid = conn.execute(sa.text("SELECT project_id FROM runs")).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO runs (project_id, run_id, state, tags, config, summary, run_metadata, "
                    "metric_defs, created_at, updated_at, heartbeat_at, last_step, last_seq) "
                    "VALUES (:p, 'r2', 'running', '[]', '{}', '{}', '{}', '{}', 1, 1, 1, -1, -1)"
                ),
                {"p": pid},
            )
            conn.execute(
                sa.text("UPDATE runs SET config = :c, metric_defs = :d WHERE run_id = 'r2'"),
                {"c": '{"opt": {"lr": 0.1}, "seed": 1}', "d": '{"acc": {"step_metric": "epoch"}}'},
            )
            conn.execute(
                sa.text("INSERT INTO summaries (run_pk, key, total, count) SELECT id, 'loss', 0, 1 FROM runs")
            )
        db.upgrade()
        with db.write() as conn:
            keys = sa.select(project_keys.c.kind, project_keys.c.key, project_keys.c.step_metric)
            assert sorted(conn.execute(keys).all()) == [
                ("config", "opt.lr", None),
                ("config", "seed", None),
                ("step", "acc", "epoch"),
                ("summary", "loss", None),
            ]
            counts = sa.select(projects.c.run_count, projects.c.live_run_count)
            assert tuple(conn.execute(counts).one()) == (2, 1)
            conn.execute(runs.update().values(deleted_at=None))
            assert tuple(conn.execute(counts).one()) == (2, 2)
    finally:
        db.dispose()
    tables, _ = downgrade_and_back(url, "0015")
    assert "runs" in tables


@pytest.mark.parametrize("backend", BACKENDS)
def test_0020_indexes_a_key_at_its_first_sort_and_goes_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """After the upgrade no key is indexed: the first sort by one is the general sort, and indexes
    it; a move takes the run's rows along. The downgrade puts back 0019's index on ``summaries``,
    drops the "filling" and "sorted" entries, and its move trigger still carries the summaries."""
    from alembic import command

    url = database_with_an_old_run(backend, tmp_path, request, "0019")
    held = "SELECT run_pk, project_id FROM sorted_summaries ORDER BY run_pk"
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        for run_id, acc in (("r1", 0.2), ("r2", 0.7)):
            records = [[0, "history", 1.0, {"_step": 0, "acc": acc}], [1, "exit", 2.0, {"exit_code": 0}]]
            assert post_records(client, f"team/p/{run_id}", records).status_code == 200
        with server.app.state.db.read() as conn:
            assert conn.exec_driver_sql(held).all() == []
        page = client.get("/api/v1/projects/team/p/runs", params={"order": "-summary.acc"})
        assert [run["id"] for run in page.json()["runs"]] == ["r2", "r1"]
        body = {"action": "move", "runs": ["r2"], "to": "team/q"}
        assert client.post("/api/v1/projects/team/p/runs/bulk", json=body).status_code == 200
        with server.app.state.db.read() as conn:
            p, q = (
                conn.execute(sa.select(projects.c.id).where(projects.c.name == n)).scalar_one() for n in "pq"
            )
            assert [row.project_id for row in conn.exec_driver_sql(held)] == [p]  # q sorts by nothing
    db = Database(url)
    try:
        command.downgrade(db._alembic_config(), "0019")
        with db.write() as conn:
            assert "sorted_summaries" not in sa.inspect(conn).get_table_names()
            indexes = {index["name"] for index in sa.inspect(conn).get_indexes("summaries")}
            assert "ix_summaries_project_key_last" in indexes
            kinds = set(conn.execute(sa.select(project_keys.c.kind)).scalars())
            assert kinds <= {"config", "summary", "step"}, kinds
            conn.execute(sa.text("UPDATE runs SET project_id = :q WHERE run_id = 'r1'"), {"q": q})
        with db.read() as conn:
            moved = sa.text(
                "SELECT s.project_id FROM summaries s JOIN runs ON runs.id = s.run_pk WHERE run_id = 'r1'"
            )
            assert conn.execute(moved).scalar_one() == q
        db.upgrade()
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_0021_reads_zlib_chunks_from_before_and_goes_back_to_zlib(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Chunks stored before the upgrade (zlib's) read as they did, beside Zstandard's written after.
    The downgrade rewrites every Zstandard chunk (more rows than one of its statements takes) in
    zlib's format, which is all the code before reads; staged rows (raw) stay as they are."""
    from alembic import command

    from wakelog.store import series as codec

    url = empty_database(backend, tmp_path, request)
    steps = list(range(0, 3000, 3))
    db = Database(url)
    try:
        db.upgrade("0020")
        series_from_before(db, "old", steps)
        with db.write() as conn:  # its one chunk as the code before stored it
            (data,) = conn.execute(sa.select(series_chunks.c.data)).scalars().all()
            chunk = codec.decode(bytes(data))
            conn.execute(series_chunks.update().values(data=zlib_chunk(chunk.steps, chunk.values)))
        db.upgrade()
    finally:
        db.dispose()
    keys = [f"k{i}" for i in range(12)]
    records = [
        [1 + i, "history", 1.0, {**dict.fromkeys(keys, float(s)), "_step": s}] for i, s in enumerate(steps)
    ]
    staged = [[len(steps) + 1, "history", 1.0, {"k0": 1.0, "_step": 3000}]]  # a later batch: raw

    def read(client: httpx.Client, run: str, key: str) -> list[float]:
        (series,) = client.get(f"/api/v1/runs/team/p/{run}/history", params={"keys": [key]}).json()["series"]
        return [float(step) for step in series["steps"]] + series["values"]

    whole = [float(s) for s in steps] * 2
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        for run in range(50):  # 600 Zstandard chunks: the downgrade rewrites them in two statements
            for batch in ([[0, "run", 1.0, {}], *records], staged):
                assert post_records(client, f"team/p/new{run}", batch).status_code == 200
        assert read(client, "old", "a") == whole
        assert read(client, "new7", "k3") == whole
    db = Database(url)
    try:
        with db.read() as conn:
            flags = [
                int.from_bytes(bytes(d)[:4], "little")
                for d in conn.execute(sa.select(series_chunks.c.data)).scalars()
            ]
        assert sum(1 for flag in flags if flag & codec.ZSTD_FLAG) == 600
        assert any(flag & codec.RAW_FLAG for flag in flags)
        command.downgrade(db._alembic_config(), "0020")
        with db.read() as conn:
            stored = conn.execute(sa.select(series_chunks.c.data)).scalars().all()
        for data in map(bytes, stored):
            header = int.from_bytes(data[:4], "little")
            assert not header & codec.ZSTD_FLAG
            if not header & codec.RAW_FLAG:  # what the code before read: zlib's bytes after the count
                assert len(zlib.decompress(data[4:])) == 16 * header
        db.upgrade()
    finally:
        db.dispose()
    with InProcessServer(tmp_path / "data", database_url=url) as server, server.client() as client:
        assert read(client, "new7", "k3") == whole
        assert read(client, "old", "a") == whole


def sorted_by_acc_from(revision: str, db: Database, logged: Callable[[float, int], object]) -> None:
    """``db`` at ``revision``, a run that ``logged`` acc, its project's run table sorted by acc
    (``store/sort_index.py``); then upgraded to the head."""
    from wakelog.store import sort_index

    db.upgrade(revision)
    logged(0.1, 0)
    with db.read() as conn:
        project_id = conn.execute(sa.select(projects.c.id)).scalar_one()
    assert sort_index.add(db, project_id, "acc")
    db.upgrade()


@pytest.mark.parametrize("backend", BACKENDS)
def test_0022_indexes_the_sorted_keys_and_goes_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The upgrade indexes a key already sorted by; the sort index's triggers go on keeping its rows
    through the new index, and without it after the downgrade."""
    from alembic import command

    from wakelog.store.ingest import apply_batch, validate

    db = Database(empty_database(backend, tmp_path, request))

    def logged(acc: float, seq: int) -> tuple[float | None, set[str]]:
        """``acc`` logged by the run; then the run's row in the sort index, and the indexes of
        ``project_keys``."""
        apply_batch(db, "team", "p", "r", validate([[seq, "history", 1.0, {"_step": seq, "acc": acc}]]))
        with db.read() as conn:
            last = conn.exec_driver_sql("SELECT last FROM sorted_summaries").scalar()
            indexes = {index["name"] for index in sa.inspect(conn).get_indexes("project_keys")}
        return last, indexes

    try:
        sorted_by_acc_from("0021", db, logged)
        assert logged(0.2, 1) == (0.2, {"ix_project_keys_sorted"})
        command.downgrade(db._alembic_config(), "0021")
        assert logged(0.3, 2) == (0.3, set())
        db.upgrade()
        assert logged(0.4, 3) == (0.4, {"ix_project_keys_sorted"})
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_0023_sqlite_triggers_look_keys_up_in_the_sorted_keys_index_and_go_back(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """On SQLite the upgrade makes the sort index's triggers name the index of sorted keys, the
    downgrade takes it out again; either way they keep the sorted key's rows and only its."""
    from alembic import command

    from wakelog.store.ingest import apply_batch, validate

    db = Database(empty_database(backend, tmp_path, request))

    def logged(value: float, seq: int) -> dict[str, float]:
        """``acc`` and ``loss`` logged by the run; then the run's rows in the sort index."""
        row = {"_step": seq, "acc": value, "loss": -value}
        apply_batch(db, "team", "p", "r", validate([[seq, "history", 1.0, row]]))
        with db.read() as conn:
            return dict(conn.exec_driver_sql("SELECT key, last FROM sorted_summaries").all())

    def named_index() -> set[bool]:
        """Whether each trigger on ``summaries`` names the index (none: PostgreSQL's are functions)."""
        if backend != "sqlite":
            return set()
        with db.read() as conn:
            found = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'summaries'"
            ).scalars()
            return {"INDEXED BY ix_project_keys_sorted" in sql for sql in found}

    try:
        sorted_by_acc_from("0022", db, logged)
        assert named_index() == ({True} if backend == "sqlite" else set())
        assert logged(0.2, 1) == {"acc": 0.2}
        command.downgrade(db._alembic_config(), "0022")
        assert named_index() == ({False} if backend == "sqlite" else set())
        assert logged(0.3, 2) == {"acc": 0.3}
        db.upgrade()
        assert logged(0.4, 3) == {"acc": 0.4}
    finally:
        db.dispose()
