"""The ASGI application: ``create_app(config)`` wires storage, auth, the routers and the error
handlers (``server/handlers.py``) together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from wakelog._version import __version__
from wakelog.server import expiry, handlers
from wakelog.server.auth import User, authenticate
from wakelog.server.body import BodyLimit
from wakelog.server.config import ServerConfig
from wakelog.server.diskguard import DiskGuard, guarded_paths
from wakelog.server.http import ApiHeaders, RefuseNul
from wakelog.server.ingest_threads import IngestThreads
from wakelog.server.keycache import KeyCache
from wakelog.server.limits import Limits
from wakelog.server.live import LiveHub
from wakelog.server.live_local import LocalLiveHub, socket_folder
from wakelog.server.live_pg import PostgresLiveHub
from wakelog.server.notify import inbox
from wakelog.server.notify.dispatcher import Dispatcher
from wakelog.server.pacing import Pacing
from wakelog.server.quotas import QuotaGuard
from wakelog.server.routes import artifacts as artifact_routes
from wakelog.server.routes import (
    audit,
    events,
    files,
    history,
    importance,
    ingest,
    manage,
    notifications,
    projects,
    reports,
    runs,
    storage,
    sweeps,
    teams,
    views,
)
from wakelog.server.routes import auth as auth_routes
from wakelog.server.routes import comments as comment_routes
from wakelog.server.routes import wandb as wandb_routes
from wakelog.server.routes.web import WebApp
from wakelog.store import checkpoints
from wakelog.store.blobs import BlobStore
from wakelog.store.database import Database

_log = logging.getLogger(__name__)


#: The API's routers with their OpenAPI tags, in the order requests are matched against them.
ROUTERS = (
    (ingest.router, "ingest"),
    (projects.router, "projects"),
    (runs.router, "runs"),
    (importance.router, "runs"),
    (manage.router, "manage"),
    (audit.router, "audit"),
    (history.router, "history"),
    (files.router, "files"),
    (events.router, "events"),
    (auth_routes.router, "auth"),
    (teams.router, "teams"),
    (storage.router, "storage"),
    (sweeps.router, "sweeps"),
    (artifact_routes.router, "artifacts"),
    (notifications.router, "notifications"),
    (comment_routes.router, "comments"),
    (reports.router, "reports"),
    (views.router, "views"),
    (wandb_routes.router, "wandb"),
)


def live_hub(config: ServerConfig, db: Database) -> LiveHub:
    """Events reach other replicas through PostgreSQL, other workers of one machine through sockets."""
    if db.engine.dialect.name == "postgresql":
        return PostgresLiveHub(db.url)
    if config.workers > 1:
        return LocalLiveHub(socket_folder(config.data_dir))
    return LiveHub()


async def _collect_periodically(app: FastAPI) -> None:
    """Expire unfinished uploads and unattached content every ``gc_seconds`` (server/expiry.py)."""
    state = app.state
    while True:
        await asyncio.sleep(state.config.gc_seconds)
        try:
            await run_in_threadpool(expiry.collect, state.db, state.blobs, state.config)
        except Exception:  # a failed round is logged and tried again next time
            _log.exception("expiring uploads failed")


def _start_background(app: FastAPI) -> list[asyncio.Task[None]]:
    """Expiry (``gc_seconds``) and the notification dispatcher (``delivery_poll_seconds``)."""
    config, tasks = app.state.config, []
    if config.gc_seconds > 0:
        tasks.append(asyncio.create_task(_collect_periodically(app)))
    if config.delivery_poll_seconds > 0:

        def tell(delivered: Any) -> None:
            inbox.tell(app.state.live, delivered)

        tasks.append(asyncio.create_task(app.state.dispatcher.run(tell)))
    return tasks


def create_app(config: ServerConfig | None = None) -> FastAPI:
    config = config or ServerConfig()
    db = Database(config.database_url)
    db.check_schema(auto_upgrade=db.is_sqlite)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # not in the commits of ingest batches, and no more log than the disk's reserve allows
        db.checkpoint_in_background(backstop=checkpoints.backstop(config.min_free_bytes))
        tasks = _start_background(app)
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app.state.live.close()
        await run_in_threadpool(app.state.ingest_threads.stop)  # the batches under way end first
        await run_in_threadpool(db.dispose)

    app = FastAPI(
        title="wakelog",
        version=__version__,
        description="Self-hosted experiment tracking. Every endpoint but /api/v1/health needs an API key "
        "(HTTP Basic `api:<key>` or `Authorization: Bearer <key>`) or a browser session.",
        lifespan=lifespan,
        openapi_url=None,  # served below, behind authentication like everything but health
        docs_url=None,
        redoc_url=None,
        responses=handlers.ERROR_RESPONSES,
    )
    handlers.install(app)
    app.state.config = config
    app.state.db = db
    app.state.blobs = BlobStore(config.blob_root, **config.storage_options())
    app.state.live = live_hub(config, db)
    app.state.ingest_threads = IngestThreads()  # where ingest batches are applied (ingest_threads.py)
    app.state.limits = Limits(
        write_rate=config.write_rate_per_user,
        write_burst=config.write_rate_per_user * config.write_burst_seconds,
    )
    app.state.disk_guard = DiskGuard(guarded_paths(config), config.min_free_bytes)
    app.state.quotas = QuotaGuard(db, config, app.state.blobs)
    app.state.key_cache = KeyCache()  # API keys checked lately (keycache.py); tests replace it
    # tests put one with fake clocks here
    writing = db.writing.seconds if db.writing is not None else None
    app.state.pacing = Pacing(config.max_send_interval, writer_busy=writing)
    app.state.clock = time.time  # sweeps' agent timeouts read it; tests put a fake clock here
    # notifications: made on ingest, sent (and crashes noticed) by the dispatcher in the background
    app.state.dispatcher = Dispatcher(db, config, clock=lambda: app.state.clock())  # noqa: PLW0108 (read late)

    # Innermost (a middleware added later wraps it): an error it raises reaches the handlers as is.
    app.add_middleware(BodyLimit, ceiling=config.max_body_bytes)

    app.add_middleware(RefuseNul)
    app.add_middleware(ApiHeaders)  # outermost: every API answer gets its headers

    # Async: answered on the event loop, where a sync route would cost a trip to the thread pool
    # (more than the answer) every time a load balancer asks.
    @app.get("/api/v1/health", tags=["server"])
    async def health() -> dict[str, str]:
        """Liveness check; needs no authentication."""
        return {"status": "ok", "version": __version__}

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi_schema(user: Annotated[User, Depends(authenticate)]) -> dict[str, Any]:
        """The OpenAPI schema of this API (needs a key or a session, like the API itself)."""
        return app.openapi()

    if config.trusted_proxies:  # outermost: everything after sees the client's own address
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(config.trusted_proxies))

    for router, tag in ROUTERS:
        app.include_router(router, tags=[tag])
    app.mount("/", WebApp(), name="web")  # last: only what no API route matched
    return app
