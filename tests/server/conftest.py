"""Servers for the tests, on every backend the server supports.

The ``server`` fixture is parametrized: the same tests run against SQLite (``sqlite``) and
against a throwaway PostgreSQL cluster (``postgres``) that this file starts with ``initdb`` and
drops at the end of the session. It is the real app in this process (``tests.harness``): clients
reach it in memory, and ``server.url`` is a loopback listener for code that dials a URL itself.
``s3_server`` is moto's S3 in server mode on loopback, and ``s3_backed_server`` a server that
keeps its blobs there. ``start_server`` starts a real ``wakelog server`` process, for the tests
marked ``process`` (restarts, several replicas, worker processes).

PostgreSQL that cannot be started fails the PostgreSQL variants with the reason; set
``WAKELOG_TEST_NO_POSTGRES=1`` to skip them instead (and ``WAKELOG_TEST_NO_S3=1`` for S3).
``WAKELOG_TEST_POSTGRES_URL`` points the tests at an existing server instead of a throwaway one
(they create and use fresh databases in it).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest

from tests._env import child_env
from tests.harness import InProcessServer, wait_until
from wakelog.server.ingest_threads import IngestThreads

# Read once: the autouse ``isolated_env`` fixture clears WAKELOG_* variables for every test.
NO_POSTGRES = os.environ.get("WAKELOG_TEST_NO_POSTGRES") == "1"
NO_S3 = os.environ.get("WAKELOG_TEST_NO_S3") == "1"
EXTERNAL_POSTGRES = os.environ.get("WAKELOG_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wakelog_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "wakelog", *args]


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    port: int
    args: list[str]
    proc: subprocess.Popen | None = None
    #: Extra environment for the server process (S3 endpoint and credentials).
    env: dict[str, str] = field(default_factory=dict)
    #: "sqlite" or "postgres".
    backend: str = "sqlite"
    #: The metadata database the server uses (SQLAlchemy URL).
    database_url: str = ""
    #: The admin key, when another replica created the admin.
    admin_key: str | None = None

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'wakelog.db'}"

    @property
    def key(self) -> str:
        return self.admin_key or (self.data_dir / "admin.key").read_text().strip()

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"server-{self.port}.log"

    def client(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=("api", key or self.key), timeout=30)

    def start(self) -> None:
        # Live pacing follows the machine's CPU (server/pacing.py): off, so that answers and the
        # uploaders' timing do not depend on what else this machine runs, unless a test sets it.
        pacing = [] if "--max-send-interval" in self.args else ["--max-send-interval", "1"]
        log = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            wakelog_command(
                "server", "--port", str(self.port), "--data-dir", str(self.data_dir), *pacing, *self.args
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env(**{"WAKELOG_SILENT": "true", **self.env}),
        )
        log.close()
        wait_until(self._ready, 60, interval=0.1, what="the server to answer /api/v1/health")

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {self.proc.returncode}:\n{self.log.read_text(errors='replace')}"
            )
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def start_server(
    tmp: Path,
    *args: str,
    env: dict[str, str] | None = None,
    backend: str = "sqlite",
    database_url: str | None = None,
    admin_key: str | None = None,
) -> ServerProcess:
    """Start a server; with ``database_url`` it is passed as ``--backend-store``."""
    port = free_port()
    if database_url and not database_url.startswith("sqlite"):
        args = ("--backend-store", database_url, *args)
    server = ServerProcess(
        f"http://127.0.0.1:{port}",
        tmp / f"data-{port}",
        port,
        list(args),
        env=dict(env or {}),
        backend=backend,
        database_url=database_url or "",
        admin_key=admin_key,
    )
    server.start()
    return server


def db_upgrade(database_url: str) -> None:
    """``wakelog db upgrade``: the documented first step for a PostgreSQL server."""
    from click.testing import CliRunner

    from wakelog.cli import main

    done = CliRunner().invoke(main, ["db", "upgrade", "--backend-store", database_url])
    assert done.exit_code == 0, done.output


# -- talking to a server ----------------------------------------------------------------------------

_packer = None


def pack(records: list[Any]) -> bytes:
    """A record batch as the uploader sends it: MessagePack ``[[seq, type, time, data], …]``."""
    global _packer
    if _packer is None:
        import msgspec

        _packer = msgspec.msgpack.Encoder()
    return _packer.encode(records)


def post_records(
    client: httpx.Client, run: str, records: list[Any] | bytes, *, gzipped: bool = False
) -> httpx.Response:
    """POST a batch to ``/api/v1/runs/<entity>/<project>/<run_id>/records``."""
    body = records if isinstance(records, bytes) else pack(records)
    headers = {"content-type": "application/msgpack"}
    if gzipped:
        import gzip

        body = gzip.compress(body)
        headers["content-encoding"] = "gzip"
    return client.post(f"/api/v1/runs/{run}/records", content=body, headers=headers)


@dataclass
class Team:
    """A team entity of ``server`` and its people's API keys, by the part each plays ("writer",
    "reader", …; "admin" is the server's admin)."""

    server: InProcessServer
    entity: str
    keys: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        return self.server.client(self.keys[who] if who != "admin" else self.server.key)

    def name(self, who: str) -> str:
        return f"{who}-{self.entity}"


def add_team(admin: httpx.Client, entity: str, roles: dict[str, str | None]) -> dict[str, str]:
    """Create ``entity`` and a user ``<who>-<entity>`` for each of ``roles`` (who → role in the
    entity; None: not a member); their API keys by who."""
    assert admin.post("/api/v1/entities", json={"name": entity}).status_code == 201
    keys = {}
    for who, role in roles.items():
        name = f"{who}-{entity}"
        assert admin.post("/api/v1/users", json={"username": name}).status_code == 201
        keys[who] = admin.post("/api/v1/keys", json={"user": name}).json()["key"]
        if role:
            assert admin.put(f"/api/v1/entities/{entity}/members/{name}", json={"role": role}).is_success
    return keys


def query(server: ServerProcess, sql: str, **params: Any) -> list[Any]:
    """Rows straight from the server's database (SQLite or PostgreSQL)."""
    import sqlalchemy as sa

    from wakelog.store.database import normalise_url

    engine = sa.create_engine(normalise_url(server.database_url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))
    finally:
        engine.dispose()


# -- PostgreSQL ------------------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)] or [0],
    )
    return candidates[-1].parent if candidates else None


class PostgresCluster:
    """A throwaway cluster: initdb into a temp dir, trust auth, loopback only, fsync off."""

    def __init__(self) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError(
                "PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql/*/bin); "
                "install it (Debian: apt-get install postgresql; scripts/test.sh does) "
                "or set WAKELOG_TEST_NO_POSTGRES=1 to skip the PostgreSQL tests"
            )
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="wlpg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:  # postgres refuses to run as root
            for name in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            else:
                raise RuntimeError(
                    "running as root and there is no 'postgres' or 'nobody' user for PostgreSQL"
                )
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *args: str, timeout: float = 120) -> None:
        options: dict[str, Any] = {}
        if self.user is not None:
            options = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        env = child_env(LC_ALL="C", LANG="C")
        if self.user is not None:
            env["HOME"] = str(self.root)
        done = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **options,
        )
        if done.returncode != 0:
            log = self.root / "postgres.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({done.returncode}):\n{done.stdout}{done.stderr}{tail}"
            )

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        settings = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": 300,
            "shared_buffers": "'32MB'",
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("".join(f"\n{name} = {value}" for name, value in settings.items()) + "\n")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "postgres.log"), "-w", "-t", "60", "start"
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def fresh_database(postgres_url: str, prefix: str = "wl") -> str:
    """Create an empty database next to ``postgres_url``'s and return its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_url.rsplit("/", 1)[0] + "/" + name


def zlib_chunk(steps: Any, values: Any) -> bytes:
    """A chunk's bytes as every chunk was stored before 2026-12-05 (when small ones were first left
    uncompressed) and read since: its count alone, then zlib's bytes of its shuffled step deltas
    and values (numpy arrays)."""
    import zlib

    import numpy as np

    deltas = np.diff(steps, prepend=np.int64(0)).astype("<i8")
    planes = [array.view(np.uint8).reshape(-1, 8).T.tobytes() for array in (deltas, values.astype("<f8"))]
    return len(steps).to_bytes(4, "little") + zlib.compress(b"".join(planes))


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 8 points, open below 2: a few dozen steps cross many chunk boundaries."""
    from wakelog.store import series as codec

    monkeypatch.setattr(codec, "CHUNK_POINTS", 8)
    monkeypatch.setattr(codec, "MERGE_BELOW", 2)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A migrated store of its own, on SQLite and on PostgreSQL, for tests of the store itself."""
    from wakelog.store.database import Database

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres_url"))
    database = Database(url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The maintenance URL of a PostgreSQL server; use ``fresh_database`` for a database of your own."""
    if NO_POSTGRES:
        pytest.skip("WAKELOG_TEST_NO_POSTGRES=1")
    if EXTERNAL_POSTGRES:
        import psycopg

        try:
            psycopg.connect(EXTERNAL_POSTGRES, connect_timeout=10).close()
        except psycopg.Error as exc:
            pytest.fail(f"cannot reach WAKELOG_TEST_POSTGRES_URL: {exc}", pytrace=False)
        yield EXTERNAL_POSTGRES
        return
    try:
        cluster = PostgresCluster()
    except RuntimeError as exc:
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}", pytrace=False)
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        cluster.stop()
        pytest.fail(
            f"cannot start PostgreSQL for the tests (set WAKELOG_TEST_NO_POSTGRES=1 to skip them): {exc}",
            pytrace=False,
        )
    yield cluster.url
    cluster.stop()


# -- S3 ---------------------------------------------------------------------------------------------


@dataclass
class S3Server:
    """moto's S3 on loopback, with one bucket."""

    endpoint_url: str
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        """What a wakelog server process needs to reach it."""
        return {
            "WAKELOG_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def fs(self):
        import s3fs

        return s3fs.S3FileSystem(
            key="testing",
            secret="testing",
            client_kwargs={"endpoint_url": self.endpoint_url, "region_name": "us-east-1"},
            skip_instance_cache=True,
            use_listings_cache=False,
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    if NO_S3:
        pytest.skip("WAKELOG_TEST_NO_S3=1")
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        pytest.fail(f"moto[server] is needed for the S3 tests (or set WAKELOG_TEST_NO_S3=1): {exc}")
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    s3 = S3Server(f"http://127.0.0.1:{port}", "wakelog-test")
    boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=s3.bucket)
    yield s3
    moto.stop()


# -- servers ----------------------------------------------------------------------------------------


def start_backend_server(
    request: pytest.FixtureRequest, tmp: Path, backend: str, *, s3: S3Server | None = None, **config: Any
) -> InProcessServer:
    """The app on ``backend`` ("sqlite" or "postgres": a fresh, upgraded database), blobs on ``s3``;
    ``config``: more ServerConfig options."""
    artifact_root = f"s3://{s3.bucket}/blobs-{uuid.uuid4().hex[:12]}" if s3 is not None else None
    env = s3.env if s3 is not None else {}
    if backend == "sqlite":
        return InProcessServer(tmp / "data", artifact_root=artifact_root, env=env, **config)
    assert backend == "postgres", backend
    url = fresh_database(request.getfixturevalue("postgres_url"))
    db_upgrade(url)
    return InProcessServer(
        tmp / "data", backend="postgres", database_url=url, artifact_root=artifact_root, env=env, **config
    )


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    """The app per test module and backend; tests using it run on SQLite and on PostgreSQL."""
    with start_backend_server(request, tmp_path_factory.mktemp("server"), request.param) as running:
        yield running


@pytest.fixture(scope="module", params=BACKENDS)
def s3_backed_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server
) -> Iterator[InProcessServer]:
    """The app with ``--artifact-root s3://bucket/prefix`` (moto), on each database backend."""
    tmp = tmp_path_factory.mktemp("server")
    with start_backend_server(request, tmp, request.param, s3=s3_server) as running:
        yield running


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """The app's trips to a thread (the thread pool, the ingest threads), as they are made: (the
    asyncio task, the function)."""
    made: list[tuple[int, str]] = []
    run_sync, run_ingest = anyio.to_thread.run_sync, IngestThreads.run

    def note(func: Callable[..., Any]) -> None:
        name = getattr(getattr(func, "func", func), "__name__", repr(func))  # under functools.partial
        made.append((id(asyncio.current_task()), name))

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        note(func)
        return await run_sync(func, *args, **kwargs)

    async def counted_ingest(threads: IngestThreads, func: Callable[..., Any], *args: Any) -> Any:
        note(func)
        return await run_ingest(threads, func, *args)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    monkeypatch.setattr(IngestThreads, "run", counted_ingest)
    return made


def request_trips(made: list[tuple[int, str]], last: str) -> list[str]:
    """The trips the request whose last trip was to ``last`` made (its task's), in order."""
    task = next(task for task, name in reversed(made) if name == last)
    return [name for each, name in made if each == task]


def hang_up_mid_body(server: InProcessServer, method: str, path: str, headers: dict[str, str]) -> int:
    """The status the app answers a request whose client goes away after the body's first part."""
    sent, status = 0, 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        sent += 1
        if sent > 1:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b'{"files": {', "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = http_scope(method, path, headers)
    asyncio.run(asyncio.wait_for(server.app(scope, receive, send), timeout=60))
    return status


def http_scope(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """An ASGI HTTP request scope, to drive the app directly with a body sent piece by piece."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), *((k.encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
