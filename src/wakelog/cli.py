"""The ``wakelog`` command: a thin shell over the library (each command calls one function)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from wakelog.errors import Error


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wakelog")
def main() -> None:
    """wakelog: self-hosted experiment tracking with the wandb API."""


@main.command()
@click.argument("key", required=False)
@click.option("--host", help="Server URL the key is for (default: the configured base_url).")
@click.option("--relogin", is_flag=True, help="Ask for a key even if one is stored.")
def login(key: str | None, host: str | None, relogin: bool) -> None:
    """Store an API key for a wakelog server (0600 file in your config folder).

    Example: wakelog login --host http://gpu-box:8080 wk_abc123…
    """
    from wakelog.sdk._login import credentials_file
    from wakelog.sdk._login import login as do_login

    try:
        do_login(key=key, host=host, relogin=relogin or key is not None)
    except Error as exc:
        _fail(exc)
    click.echo(f"API key stored in {credentials_file()}")


def _set_mode(mode: str) -> None:
    from wakelog.sdk._settings import config_dir, write_file_setting

    path = config_dir() / "settings"
    write_file_setting(path, "mode", mode)
    click.echo(f"wakelog mode set to {mode} in {path} (WAKELOG_MODE and init(mode=…) still win)")


@main.command()
def offline() -> None:
    """Record runs locally only, until `wakelog online`."""
    _set_mode("offline")


@main.command()
def online() -> None:
    """Upload runs to the server again (the default)."""
    _set_mode("online")


@main.command()
def disabled() -> None:
    """Make init() return a no-op run: nothing is recorded, until `wakelog online`."""
    _set_mode("disabled")


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=True, path_type=Path))
def inspect(run_dir: Path) -> None:
    """Check a run folder's run log: record counts, last step, and any damage found.

    Exits with status 1 when the run log is damaged (every intact record is still readable).
    """
    from wakelog.runlog import RunLogError, find_runlog, read_runlog

    try:
        log = run_dir if run_dir.is_file() else find_runlog(run_dir)
        result = read_runlog(log)
    except (RunLogError, OSError) as exc:
        _fail(exc)
    counts = Counter(record.type for record in result.records)
    steps = [r.data.get("_step", -1) for r in result.records if r.type == "history"]
    click.echo(f"{log}: {len(result.records)} records")
    for kind, count in sorted(counts.items()):
        click.echo(f"  {kind:<9} {count}")
    if steps:
        click.echo(f"  last step {max(steps)}")
    exits = [r.data for r in result.records if r.type == "exit"]
    click.echo(f"  state     {exits[-1]['state'] if exits else 'unfinished (no exit record)'}")
    for damage in result.damage:
        click.echo(f"  DAMAGE: {damage}", err=True)
    if result.damage:
        raise SystemExit(1)


def _server_config(
    data_dir: Path | None, backend_store: str | None, artifact_root: str | None, **extra: object
):
    from wakelog.server.config import ServerConfig

    config = ServerConfig(backend_store=backend_store, artifact_root=artifact_root, **extra)  # type: ignore[arg-type]
    if data_dir is not None:
        config.data_dir = data_dir
    return config


_data_dir = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Where the server keeps its data."
)
_backend_store = click.option(
    "--backend-store",
    metavar="URL",
    help="Database URL, e.g. postgresql://user@host/wakelog (default: SQLite).",
)
_artifact_root = click.option(
    "--artifact-root", metavar="URL", help="Blob storage, e.g. s3://bucket/prefix (default: a local folder)."
)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (0.0.0.0 for all).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@_data_dir
@_backend_store
@_artifact_root
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes.")
def server(
    host: str,
    port: int,
    data_dir: Path | None,
    backend_store: str | None,
    artifact_root: str | None,
    workers: int,
) -> None:
    """Run the tracking server (SQLite and local files unless told otherwise).

    The first start creates an admin user and writes its password and API key to a file only you
    can read in the data directory. For S3-compatible storage set WAKELOG_S3_ENDPOINT_URL and the
    usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    """
    from wakelog.server.serve import serve
    from wakelog.store.database import SchemaError

    config = _server_config(data_dir, backend_store, artifact_root, host=host, port=port, workers=workers)
    try:
        serve(config)
    except SchemaError as exc:
        _fail(exc)


@main.group()
def db() -> None:
    """Manage the server's database schema."""


@db.command()
@_data_dir
@_backend_store
def upgrade(data_dir: Path | None, backend_store: str | None) -> None:
    """Apply the schema migrations this wakelog has (needed for PostgreSQL after an upgrade)."""
    from wakelog.store.database import Database, SchemaError

    database = Database(_server_config(data_dir, backend_store, None).database_url)
    try:
        database.upgrade()
        click.echo(f"database schema at {database.current_revision()}")
    except SchemaError as exc:
        _fail(exc)
    finally:
        database.dispose()


if __name__ == "__main__":
    main()
