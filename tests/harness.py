"""The in-process test harness: the real server app, the real uploader and the real SDK in one process.

``InProcessServer`` runs ``create_app`` (real SQLite or PostgreSQL database, real blob store) on an
event loop in a background thread of the test process. Its clients reach the app through
``AppTransport``, an httpx transport that hands each request to the app in memory: no port, no
server process, no start-up wait. Code under test that dials a URL itself (``wakelog.Api``,
``wakelog sync``, ``init(resume=...)``) gets a real loopback listener on the same app and loop
the first time a test reads ``server.url``.

``upload`` drives the real ``Uploader`` against the app in simulated time (``FakeClock``): retries,
backoff, heartbeats and linger take no wall time. ``wait_until`` is the one way a test waits for
something another thread or process does: poll with a deadline, never a bare sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], timeout: float = 30.0, *, interval: float = 0.02, what: str = ""
) -> T:
    """Poll ``predicate`` until it returns something truthy (which is returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


class FakeClock:
    """A monotonic clock that only moves when slept on; ``on_sleep`` runs at each sleep (a test's hook)."""

    def __init__(self, on_sleep: Callable[[float], None] | None = None) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.on_sleep = on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        self.slept.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep(seconds)


class _LoopThread:
    """An asyncio loop running in a daemon thread; ``call`` runs a coroutine there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="wakelog-test-app", daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.call(self._cancel_tasks(), timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        self.loop.close()

    @staticmethod
    async def _cancel_tasks() -> None:
        """End what the app left running (event streams' watchers), as a server's shutdown does."""
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class AppTransport(httpx.BaseTransport):
    """A sync httpx transport into an ASGI app running on ``loop`` (httpx's ASGITransport is async only).

    Responses are read whole, so endless streams (server-sent events) need the loopback ``url``.
    """

    def __init__(self, app: Any, loop: _LoopThread) -> None:
        # raise_app_exceptions=False: an unhandled error answers 500, as from a real server.
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("127.0.0.1", 50000))
        self._loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # Rebuilt with the body in memory: the async transport cannot iterate a sync body stream.
        forward = httpx.Request(request.method, request.url, headers=request.headers, content=request.read())

        async def send() -> tuple[int, httpx.Headers, bytes]:
            response = await self._asgi.handle_async_request(forward)
            raw = b"".join([chunk async for chunk in response.stream])  # still encoded: httpx decodes
            return response.status_code, response.headers, raw

        status, headers, raw = self._loop.call(send())
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(raw))


@contextlib.contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class InProcessServer:
    """``wakelog server`` without the process: same first start (admin key), same app, same storage.

    Has the attributes tests read from a server process: ``url``, ``key``, ``data_dir``, ``backend``,
    ``database_url``, ``args`` (the equivalent command-line options), ``log`` and ``client()``.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        backend: str = "sqlite",
        database_url: str | None = None,
        artifact_root: str | None = None,
        env: dict[str, str] | None = None,
        **config: Any,
    ) -> None:
        """``config``: more ``ServerConfig`` options (limits and the like). The disk reserve and the
        live pacing are off unless a test sets them, so the suite depends neither on how full this
        machine's disk is nor on how busy its CPU is (a test that paces gives the app a ``Pacing``
        with clocks of its own)."""
        from wakelog.server.config import ServerConfig

        config.setdefault("min_free_bytes", 0)
        config.setdefault("max_send_interval", 1.0)

        self.data_dir, self.backend = data_dir, backend
        self.args: list[str] = []
        if database_url and not database_url.startswith("sqlite"):
            self.args += ["--backend-store", database_url]
        if artifact_root:
            self.args += ["--artifact-root", artifact_root]
        # Made as TCP by name: asyncio sets TCP_NODELAY only on connections of such a socket, and
        # without it each answer's body (sent after its headers) waited ~40 ms for a delayed ACK.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind(("127.0.0.1", 0))  # reserved now, listened on only when ``url`` is first read
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.config = ServerConfig(
            data_dir=data_dir,
            backend_store=database_url,
            artifact_root=artifact_root,
            port=self.port,
            **config,
        )
        self.database_url = self.config.database_url
        self.log = data_dir.parent / f"server-{self.port}.log"
        self._env = _environment({"WAKELOG_SILENT": "true", **(env or {})})
        self._env.__enter__()
        self._loop = _LoopThread()
        self._listener: Any = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        from wakelog.server.app import create_app
        from wakelog.server.serve import prepare

        umask = os.umask(0o077)  # prepare() sets the server process's umask; keep ours
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                prepare(self.config)
        finally:
            os.umask(umask)
            self.log.write_text(err.getvalue())
        self.app = create_app(self.config)
        self._lifespan = self.app.router.lifespan_context(self.app)
        self._loop.call(self._lifespan.__aenter__())
        self._transport = AppTransport(self.app, self._loop)

    @property
    def key(self) -> str:
        return (self.data_dir / "admin.key").read_text().strip()

    @property
    def url(self) -> str:
        """The app on a real loopback port, for code that dials a URL itself (started on first use)."""
        if self._listener is None:
            import uvicorn

            self._sock.listen(128)
            # A short graceful shutdown: run in a thread, uvicorn installs no signal handlers, so the
            # event streams never hear of the exit (as they do in `wakelog server`) and would hold
            # close() until their next 15 s ping found the client gone.
            config = uvicorn.Config(
                self.app,
                lifespan="off",
                log_level="warning",
                proxy_headers=False,
                timeout_graceful_shutdown=1,
            )
            server = uvicorn.Server(config)  # proxy headers as ``serve`` has them: the app decides
            self._listener = (
                server,
                asyncio.run_coroutine_threadsafe(server.serve([self._sock]), self._loop.loop),
            )
            wait_until(lambda: server.started or self._listener[1].done(), 30, what="the loopback listener")
            if not server.started:
                self._listener[1].result()  # raises what stopped it
        return self.base_url

    def transport(self) -> httpx.BaseTransport:
        return self._transport

    def client(self, key: str | None = None, **options: Any) -> httpx.Client:
        """An httpx client on the app in memory, authenticated with ``key`` (default: the admin's)."""
        options.setdefault("auth", ("api", key or self.key))
        return httpx.Client(base_url=self.base_url, transport=self._transport, timeout=30, **options)

    def anonymous(self, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, transport=self._transport, timeout=30, **options)

    def close(self) -> None:
        if self._listener is not None:
            server, done = self._listener
            server.should_exit = True
            with contextlib.suppress(Exception):
                done.result(30)
        lifespan = getattr(self, "_lifespan", None)
        if lifespan is not None:
            self._loop.call(lifespan.__aexit__(None, None, None))
        self._loop.close()
        self._sock.close()
        self._env.__exit__(None, None, None)

    def __enter__(self) -> InProcessServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def upload(
    server: InProcessServer,
    run_dir: Path,
    *,
    key: str | None = None,
    entity: str | None = None,
    project: str | None = None,
    run_id: str | None = None,
    parent_pid: int | None = None,
    linger: float = 0.0,
    clock: FakeClock | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Any:
    """Upload a run folder with the real ``Uploader`` in this process, in simulated time; returns
    its final ``SyncState`` (``UploadStopped`` propagates). Identity defaults come from the run log;
    ``transport`` (default: the app's) may wrap the app's to stage network trouble."""
    from wakelog.transport.client import ServerClient
    from wakelog.transport.sync import describe
    from wakelog.transport.uploader import Uploader

    clock = clock or FakeClock()
    local = describe(run_dir)
    client = ServerClient(server.base_url, key or server.key, transport=transport or server.transport())
    try:
        uploader = Uploader(
            run_dir,
            client,
            project or local.project,
            run_id or local.run_id,
            entity=entity or local.entity,
            parent_pid=parent_pid,
            linger=linger,
            clock=clock,
            sleep=clock.sleep,
        )
        return uploader.run()
    finally:
        client.close()


def record_offline_run(root: Path, steps: int = 10, **init: Any) -> Path:
    """A finished run recorded by the real SDK (offline) under ``root``; returns its folder."""
    import wakelog

    init.setdefault("project", "harness")
    run = wakelog.init(mode="offline", dir=str(root), **init)
    for step in range(steps):
        run.log({"loss": 1.0 / (step + 1)})
    run_dir = Path(run.run_dir)
    run.finish()
    return run_dir


class EventStream:
    """Reads a server-sent event stream in a thread; ``next()`` returns ``(event, data)``: first
    ``("status", code)``, then each event, then ``("closed", None)`` when the server ends the stream
    (``("failed", reason)`` when the connection breaks)."""

    def __init__(self, client: httpx.Client, path: str) -> None:
        self.client = client
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, args=(path,), daemon=True).start()

    def _read(self, path: str) -> None:
        try:
            with self.client.stream("GET", path) as response:
                self.events.put(("status", response.status_code))
                event = "message"
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        self.events.put((event, json.loads(line[5:])))
                        event = "message"
            self.events.put(("closed", None))
        except httpx.HTTPError as exc:
            self.events.put(("failed", str(exc)))

    def next(self, timeout: float = 20) -> tuple[str, Any]:
        return self.events.get(timeout=timeout)


class CountingTransport(httpx.BaseTransport):
    """Passes requests on to the app and notes each one's method and path, and the sha256 of every
    content uploaded (in chunks, or many to a request)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, str]] = []
        self.uploaded: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        if request.method == "PUT" and "/blobs/" in request.url.path:
            self.uploaded.add(request.url.path.rsplit("/", 1)[1])
        elif request.method == "POST" and request.url.path.endswith("/blobs"):
            body, at = request.read(), 0
            while at < len(body):
                self.uploaded.add(body[at : at + 32].hex())
                at += 40 + int.from_bytes(body[at + 32 : at + 40], "big")
        return self.inner.handle_request(request)

    def count(self, method: str, part: str) -> int:
        return sum(1 for m, path in self.requests if m == method and part in path)


@contextlib.contextmanager
def nginx_in_front(
    server: InProcessServer, folder: Path, tls: tuple[Path, Path] | None = None, location: str = ""
) -> Iterator[str]:
    """nginx as installed in front of ``server`` (its settings nginx's defaults: a body limit of
    1 MB), stopped on exit; yields its URL. ``tls`` (a certificate and its key): it serves HTTPS.
    ``location``: what nginx does with every request instead of passing it on to the server."""
    folder.mkdir(parents=True, exist_ok=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    listen = f"listen 127.0.0.1:{port}" + (
        f" ssl; ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]}" if tls else ""
    )
    (folder / "nginx.conf").write_text(
        # ``user`` lets a root nginx's worker read the test's private folders (ignored when not root)
        f"daemon off; user root; worker_processes 1; pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn; events {{ worker_connections 64; }}\n"
        f"http {{ access_log off; {temp}\n"
        f"  server {{ {listen};\n"
        f"    location / {{ {location or f'proxy_pass {server.url}; proxy_http_version 1.1;'} }} }} }}\n"
    )
    binary = "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "nginx"
    conf, log = folder / "nginx.conf", folder / "error.log"
    proc = subprocess.Popen([binary, "-p", str(folder), "-c", str(conf), "-e", str(log)])
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        wait_until(lambda: _listening(port) or proc.poll() is not None, timeout=20, what="nginx to listen")
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text() if log.exists() else ''}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
