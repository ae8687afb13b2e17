"""``wakelog server``: prepare the data directory and database, then serve with uvicorn."""

from __future__ import annotations

import sys

from wakelog.server.config import ServerConfig


def prepare(config: ServerConfig) -> None:
    """Create the data directory, migrate an SQLite database, and create the admin on first start."""
    from wakelog.server.auth import bootstrap_admin
    from wakelog.store.database import Database

    config.data_dir.mkdir(parents=True, exist_ok=True)
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


def app_factory():
    import json
    import os
    from pathlib import Path

    from wakelog.server.app import create_app

    options = json.loads(os.environ["WAKELOG_SERVER_CONFIG"])
    options["data_dir"] = Path(options["data_dir"])
    return create_app(ServerConfig(**options))


def serve(config: ServerConfig) -> None:
    import json
    import os

    import uvicorn

    prepare(config)
    os.environ["WAKELOG_SERVER_CONFIG"] = json.dumps(
        {
            "data_dir": str(config.data_dir),
            "backend_store": config.backend_store,
            "artifact_root": config.artifact_root,
            "host": config.host,
            "port": config.port,
            "max_body_bytes": config.max_body_bytes,
        }
    )
    print(f"wakelog: serving on {config.url}  (data in {config.data_dir})", file=sys.stderr, flush=True)
    uvicorn.run(
        "wakelog.server.serve:app_factory",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        log_level="warning",
    )
