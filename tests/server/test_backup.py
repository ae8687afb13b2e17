"""``wakelog server backup`` and ``restore``: a backup taken while a run streams in restores every
point the server acknowledged before it, with its files intact; a damaged backup or an occupied
target is refused with what is wrong, and nothing is written.

Each command runs as its own process, as an operator runs it, against real servers on loopback.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._env import child_env
from tests.harness import InProcessServer
from tests.server.conftest import (
    ServerProcess,
    db_upgrade,
    free_port,
    fresh_database,
    post_records,
    start_backend_server,
    start_server,
    wakelog_command,
)
from wakelog.store.database import Database

T0 = 1_700_000_000.0
BATCH = 50


def wakelog(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        wakelog_command(*args),
        env=child_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def upload(client: httpx.Client, run: str, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    response = client.put(
        f"/api/v1/runs/{run}/blobs/{sha}", params={"offset": 0, "total": len(content)}, content=content
    )
    assert response.status_code == 200, response.text
    return sha


class Ingest(threading.Thread):
    """Streams one run's history, with a file every few batches, and remembers what the server
    acknowledged: the highest applied seq and the files it attached."""

    def __init__(self, server: ServerProcess | InProcessServer, run: str) -> None:
        super().__init__(daemon=True)
        self.server, self.run_path = server, run
        self.acked = -1
        self.files: dict[str, bytes] = {}
        self.error: BaseException | None = None
        self._halt = threading.Event()
        self._changed = threading.Condition()

    def wait_for(self, condition: Callable[[], bool], timeout: float = 120) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: condition() or self.error is not None, timeout), (
                "ingest stalled"
            )
        assert self.error is None, self.error

    def acknowledged(self) -> tuple[int, dict[str, bytes]]:
        with self._changed:
            return self.acked, dict(self.files)

    def stop(self) -> None:
        self._halt.set()
        self.join(60)

    def run(self) -> None:
        try:
            with self.server.client() as client:
                self._stream(client)
        except BaseException as exc:
            self.error = exc
            with self._changed:
                self._changed.notify_all()

    def _stream(self, client: httpx.Client) -> None:
        self._post(client, [[0, "run", T0, {"name": "streaming"}]])
        seq = 1
        while not self._halt.is_set():
            # seq s carries step s - 1
            self._post(
                client,
                [
                    [s, "history", T0 + s, {"_step": s - 1, "loss": (s - 1) / 2}]
                    for s in range(seq, seq + BATCH)
                ],
            )
            if seq % (5 * BATCH) == 1:
                name, content = f"files/{seq}.txt", f"content of {seq}\n".encode() * 64
                listing = [
                    {"name": name, "sha256": upload(client, self.run_path, content), "size": len(content)}
                ]
                response = client.post(f"/api/v1/runs/{self.run_path}/files", json={"files": listing})
                assert response.status_code == 200, response.text
                with self._changed:
                    self.files[name] = content
            seq += BATCH

    def _post(self, client: httpx.Client, records: list[Any]) -> None:
        response = post_records(client, self.run_path, records)
        assert response.status_code == 200, response.text
        with self._changed:
            self.acked = response.json()["ack"]
            self._changed.notify_all()


def history_rows(client: httpx.Client, run: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"page_size": 100_000}
    while True:
        page = client.get(f"/api/v1/runs/{run}/history/rows", params=params).json()
        rows.extend(page["rows"])
        if page["next_step"] is None:
            return rows
        params["min_step"] = page["next_step"]


def server_options(server: ServerProcess | InProcessServer) -> list[str]:
    """The options that point a command at ``server``'s data."""
    return ["--data-dir", str(server.data_dir), *server.args]


@pytest.mark.parametrize("backend, blobs", [("sqlite", "local"), ("postgres", "local"), ("sqlite", "s3")])
def test_a_backup_taken_mid_ingest_restores_every_acknowledged_point_and_file(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, blobs: str
) -> None:
    s3 = request.getfixturevalue("s3_server") if blobs == "s3" else None
    source = start_backend_server(request, tmp_path, backend, s3=s3)
    run = f"admin/backup/{uuid.uuid4().hex[:8]}"
    ingest = Ingest(source, run)
    dest = tmp_path / "backup"
    try:
        ingest.start()
        ingest.wait_for(lambda: ingest.acked >= 10 * BATCH and len(ingest.files) >= 2)
        acked_before, files_before = ingest.acknowledged()
        done = wakelog("server", "backup", str(dest), *server_options(source), env=s3.env if s3 else None)
        assert done.returncode == 0, done.stdout + done.stderr
        acked_after = ingest.acked
        ingest.wait_for(lambda: ingest.acked > acked_after)  # the server went on taking points
    finally:
        ingest.stop()
        source.close()
    assert not ingest.is_alive()
    assert ingest.error is None, ingest.error
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["database_kind"] == ("sqlite" if backend == "sqlite" else "postgresql")
    assert set(manifest["blobs"]) >= {hashlib.sha256(c).hexdigest() for c in files_before.values()}

    options = ["--data-dir", str(tmp_path / "restored")]
    database_url = None
    if backend == "postgres":
        database_url = fresh_database(request.getfixturevalue("postgres_url"))
        options += ["--backend-store", database_url]
    done = wakelog("server", "restore", str(dest), *options)
    assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    restored = ServerProcess(
        f"http://127.0.0.1:{port}",
        tmp_path / "restored",
        port,
        options[2:],
        backend=backend,
        database_url=database_url or "",
        admin_key=source.key,  # admin.key is not in a backup; the key itself still works
    )
    try:
        restored.start()
        with restored.client() as client:
            ack = client.get(f"/api/v1/runs/{run}/ack").json()["ack"]
            assert acked_before <= ack < ingest.acked
            rows = history_rows(client, run)
            assert [row["_step"] for row in rows] == list(range(ack))
            assert [row["loss"] for row in rows] == [step / 2 for step in range(ack)]
            listed = client.get(f"/api/v1/runs/{run}/files", params={"limit": 10_000}).json()["files"]
            assert set(files_before) <= {f["name"] for f in listed}
            for entry in listed:
                assert (
                    client.get(f"/api/v1/runs/{run}/files/{entry['name']}").content
                    == ingest.files[entry["name"]]
                )
    finally:
        restored.stop()


# -- refusals, on one small backup -----------------------------------------------------------------


@pytest.fixture(scope="module")
def backup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A backup of a server with one run and two files, and the server's data folder."""
    tmp = tmp_path_factory.mktemp("backup")
    server = start_server(tmp)
    try:
        with server.client() as client:
            records = [
                [0, "run", T0, {}],
                *[[s, "history", T0, {"_step": s - 1, "x": 1.0}] for s in range(1, 11)],
            ]
            assert post_records(client, "admin/small/r1", records).status_code == 200
            listing = [
                {"name": name, "sha256": upload(client, "admin/small/r1", content), "size": len(content)}
                for name, content in {"a.txt": b"alpha" * 100, "b.bin": bytes(range(256)) * 8}.items()
            ]
            assert (
                client.post("/api/v1/runs/admin/small/r1/files", json={"files": listing}).status_code == 200
            )
        done = wakelog("server", "backup", str(tmp / "backup"), "--data-dir", str(server.data_dir))
        assert done.returncode == 0, done.stderr
        yield tmp / "backup", server.data_dir
    finally:
        server.stop()


@pytest.fixture
def copy(backup: tuple[Path, Path], tmp_path: Path) -> Path:
    return Path(shutil.copytree(backup[0], tmp_path / "copy"))


def a_blob(backup: Path) -> Path:
    return next(p for p in (backup / "blobs").glob("??/*") if p.is_file())


def edit_manifest(backup: Path, **changes: Any) -> None:
    path = backup / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "no manifest": (lambda b: (b / "manifest.json").unlink(), "manifest.json is missing"),
    "manifest not JSON": (
        lambda b: (b / "manifest.json").write_text('{"format": 1,'),
        "manifest.json is damaged",
    ),
    "manifest lacks a field": (lambda b: edit_manifest(b, blobs=None), "manifest.json is damaged"),
    "newer schema": (lambda b: edit_manifest(b, schema_revision="9999"), "'9999' is newer than this wakelog"),
    "database changed": (
        lambda b: flip_a_byte(b / "database.sqlite"),
        "database.sqlite does not match its sha256",
    ),
    "blob missing": (lambda b: a_blob(b).unlink(), "is missing from blobs/"),
    "blob changed": (lambda b: flip_a_byte(a_blob(b)), "is damaged: the content of blob"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_restore_refuses_a_damaged_backup_and_writes_no_database(
    copy: Path, tmp_path: Path, damage: str
) -> None:
    spoil, message = DAMAGES[damage]
    spoil(copy)
    done = wakelog("server", "restore", str(copy), "--data-dir", str(tmp_path / "target"))
    assert done.returncode == 1
    assert message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "target" / "wakelog.db").exists()


def test_restore_refuses_a_non_empty_target_unless_forced(backup: tuple[Path, Path], tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "wakelog.db").write_bytes(b"someone's database")
    done = wakelog("server", "restore", str(backup[0]), "--data-dir", str(target))
    assert done.returncode == 1
    assert f"{target} is not empty" in done.stderr and "--force" in done.stderr
    assert (target / "wakelog.db").read_bytes() == b"someone's database"

    done = wakelog("server", "restore", str(backup[0]), "--data-dir", str(target), "--force")
    assert done.returncode == 0, done.stderr
    database = Database(f"sqlite:///{target / 'wakelog.db'}")
    try:
        with database.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM run_files").scalar() == 2
    finally:
        database.dispose()


def test_a_second_backup_into_the_same_folder_copies_only_new_blobs(
    backup: tuple[Path, Path], copy: Path
) -> None:
    done = wakelog("server", "backup", str(copy), "--data-dir", str(backup[1]))
    assert done.returncode == 0, done.stderr
    assert "(0 copied, 2 already there)" in done.stdout


def test_backup_refuses_a_folder_that_holds_something_else(tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "thesis.tex").write_text("mine")
    done = wakelog("server", "backup", str(tmp_path / "dest"), "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 1
    assert "holds other things than a wakelog backup (thesis.tex)" in done.stderr


def test_a_backup_from_an_older_schema_is_migrated_on_restore(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    old = Database(f"sqlite:///{tmp_path / 'old' / 'wakelog.db'}")
    try:
        old.upgrade("0002")
    finally:
        old.dispose()
    done = wakelog("server", "backup", str(tmp_path / "backup"), "--data-dir", str(tmp_path / "old"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "backup" / "manifest.json").read_text())["schema_revision"] == "0002"
    done = wakelog("server", "restore", str(tmp_path / "backup"), "--data-dir", str(tmp_path / "new"))
    assert done.returncode == 0, done.stderr
    restored = Database(f"sqlite:///{tmp_path / 'new' / 'wakelog.db'}")
    try:
        assert restored.current_revision() == restored.head_revision()
    finally:
        restored.dispose()
    assert f"migrated to {restored.head_revision()}" in done.stdout


def test_a_postgresql_restore_refuses_a_database_with_tables_unless_forced(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = fresh_database(request.getfixturevalue("postgres_url"))
    db_upgrade(url)
    options = ["--data-dir", str(tmp_path / "data"), "--backend-store", url]
    done = wakelog("server", "backup", str(tmp_path / "backup"), *options)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "backup" / "database.pgdump").is_file()

    done = wakelog("server", "restore", str(tmp_path / "backup"), *options)
    assert done.returncode == 1
    assert "is not empty" in done.stderr and "--force" in done.stderr
    done = wakelog("server", "restore", str(tmp_path / "backup"), *options, "--force")
    assert done.returncode == 0, done.stderr
    database = Database(url)
    try:
        assert database.current_revision() == database.head_revision()
    finally:
        database.dispose()


def test_a_backup_leaves_out_unattached_blobs_gone_from_the_store_but_not_attached_ones(
    backup: tuple[Path, Path], tmp_path: Path
) -> None:
    data = Path(shutil.copytree(backup[1], tmp_path / "data"))
    gone = "ab" * 32  # an upload never attached, deleted since (the database still names it)
    with contextlib.closing(sqlite3.connect(data / "wakelog.db")) as conn, conn:
        conn.execute("INSERT INTO blobs (sha256, size, created_at) VALUES (?, 10, 0)", (gone,))
    done = wakelog("server", "backup", str(tmp_path / "one"), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert "left out 1 never attached" in done.stdout
    assert gone not in json.loads((tmp_path / "one" / "manifest.json").read_text())["blobs"]

    attached = a_blob(data)
    attached.unlink()
    done = wakelog("server", "backup", str(tmp_path / "two"), "--data-dir", str(data))
    assert done.returncode == 1
    assert f"blob {attached.name} is missing from" in done.stderr
    assert not (tmp_path / "two" / "manifest.json").exists()
