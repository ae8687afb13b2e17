"""The ASGI application: ``create_app(config)`` wires storage, auth and the routers together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from wakelog import __version__
from wakelog.server.config import ServerConfig
from wakelog.server.live import LiveHub
from wakelog.server.routes import ingest
from wakelog.store.blobs import BlobStore
from wakelog.store.database import Database


def create_app(config: ServerConfig | None = None) -> FastAPI:
    config = config or ServerConfig()
    db = Database(config.database_url)
    db.check_schema(auto_upgrade=db.is_sqlite)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.live.close()
        db.dispose()

    app = FastAPI(
        title="wakelog",
        version=__version__,
        description="Self-hosted experiment tracking. Every endpoint but /api/v1/health needs an API key "
        "(HTTP Basic `api:<key>` or `Authorization: Bearer <key>`) or a browser session.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.config = config
    app.state.db = db
    app.state.blobs = BlobStore(config.blob_root, **config.storage_options())
    app.state.live = LiveHub()

    @app.get("/api/v1/health", tags=["server"])
    def health() -> dict[str, str]:
        """Liveness check; needs no authentication."""
        return {"status": "ok", "version": __version__}

    app.include_router(ingest.router, tags=["ingest"])
    return app
