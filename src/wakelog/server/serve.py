"""``wakelog server``: prepare the data directory and database, then serve with uvicorn."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wakelog.server.config import ServerConfig

if TYPE_CHECKING:
    from fastapi import FastAPI

_CONFIG_ENV = "WAKELOG_SERVER_CONFIG"


def prepare(config: ServerConfig) -> None:
    """Create the data directory (private to this user), migrate an SQLite database, and create
    the admin on first start."""
    from wakelog.server.auth import bootstrap_admin
    from wakelog.store.database import Database

    # Run data and key hashes are nobody else's business: files we create are 0600, folders 0700.
    os.umask(0o077)
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database(config.database_url)
    try:
        db.check_schema(auto_upgrade=db.is_sqlite)
        credentials = bootstrap_admin(db, config.data_dir)
    finally:
        db.dispose()
    if credentials:
        print(
            f"wakelog: created the admin user; its password and API key are in {credentials}", file=sys.stderr
        )


def _encode(config: ServerConfig) -> str:
    return json.dumps(
        {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(config).items()}
    )


def app_factory() -> FastAPI:  # uvicorn calls it in each worker process, before it serves
    from wakelog.server.allocator import keep_freed_memory
    from wakelog.server.app import create_app
    from wakelog.server.heap import freeze_startup

    keep_freed_memory()
    options = json.loads(os.environ[_CONFIG_ENV])
    options["data_dir"] = Path(options["data_dir"])
    app = create_app(ServerConfig(**options))
    freeze_startup()
    return app


def serve(config: ServerConfig) -> None:
    import uvicorn

    prepare(config)
    os.environ[_CONFIG_ENV] = _encode(config)  # every field reaches the worker processes
    print(f"wakelog: serving on {config.url}  (data in {config.data_dir})", file=sys.stderr, flush=True)
    uvicorn.run(
        "wakelog.server.serve:app_factory",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level="warning",
        # uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so any local process (or a
        # proxy passing the header on) could claim any address; the app decides (trusted_proxies).
        proxy_headers=False,
    )
