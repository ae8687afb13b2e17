"""The ``wakelog`` command: a thin shell over the library (each command calls one function)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wakelog.errors import Error

if TYPE_CHECKING:
    from wakelog.store.database import Database


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

    The key is checked with the server first: one it rejects is not stored; when the server
    cannot be reached the key is stored with a warning.

    Example: wakelog login --host http://gpu-box:8080 wk_abc123…
    """
    import warnings

    from wakelog.sdk._login import credentials_file
    from wakelog.sdk._login import login as do_login

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            do_login(key=key, host=host, relogin=relogin or key is not None, verify=True)
        except Error as exc:
            _fail(exc)
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--all", "all_runs", is_flag=True, help="Every run under ./wakelog, not only unsynced ones.")
@click.option("--view", is_flag=True, help="List local runs and their sync state; upload nothing.")
@click.option("--clean", is_flag=True, help="Delete local runs the server has whole.")
@click.option("--yes", is_flag=True, help="Do not ask before --clean deletes.")
@click.option("--host", help="Server URL (default: the configured base_url).")
@click.option("--entity", help="Upload to this entity instead of the run's own.")
@click.option("--project", help="Upload to this project instead of the run's own.")
def sync(
    paths: tuple[Path, ...],
    all_runs: bool,
    view: bool,
    clean: bool,
    yes: bool,
    host: str | None,
    entity: str | None,
    project: str | None,
) -> None:
    """Upload runs recorded offline or not fully uploaded. Running it twice uploads nothing twice.

    PATHS are run folders (always uploaded) or folders holding a wakelog/ folder of runs, of which
    only the unsynced ones are uploaded unless --all (default: ./wakelog).

    Example: wakelog sync wakelog/offline-run-20261127_093000-3kx7q2ab
    """
    from rich.console import Console
    from rich.table import Table

    from wakelog.transport import sync as syncing

    run_dirs = syncing.find_run_dirs(paths or (Path.cwd(),))
    runs = []
    for run_dir in run_dirs:
        try:
            runs.append(syncing.describe(run_dir))
        except (syncing.RunLogError, OSError) as exc:
            click.echo(f"skipping {run_dir}: {exc}", err=True)
    if view:
        table = Table("run folder", "project", "id", "ended", "sync state")
        for run in runs:
            table.add_row(run.run_dir.name, run.project, run.run_id, "yes" if run.ended else "no", run.status)
        Console().print(table)
        return
    if clean:
        doomed = [run for run in runs if run.synced]
        if doomed and not yes:
            click.confirm(f"Delete {len(doomed)} synced run folders?", abort=True)
        for removed in syncing.clean(doomed):
            click.echo(f"deleted {removed}")
        return
    named = {path.resolve() for path in paths if syncing.is_run_dir(path)}
    todo = [run for run in runs if all_runs or run.run_dir in named or not run.synced]
    if not todo:
        click.echo("nothing to sync")
        return
    _sync_runs(todo, host, entity, project)


def _sync_runs(runs: list, host: str | None, entity: str | None, project: str | None) -> None:
    from rich.progress import Progress

    from wakelog.runlog.syncstate import SyncState
    from wakelog.sdk._settings import resolve_settings
    from wakelog.transport import sync as syncing
    from wakelog.transport.uploader import UploadStopped

    settings = resolve_settings()
    client = _client(host)
    base_url = client.base_url
    failed = 0
    try:
        with Progress(transient=False) as progress:
            for run in runs:
                task = progress.add_task(run.run_dir.name, total=max(run.records, 1))

                file_tasks: dict[str, int] = {}

                def show(state: SyncState, task: int = task, file_tasks: dict[str, int] = file_tasks) -> None:
                    progress.update(task, completed=state.acked_seq + 1)
                    if state.uploading:  # a large file: a bar of its own
                        name, sent, size = state.uploading
                        if name not in file_tasks:
                            file_tasks[name] = progress.add_task(f"  {name}", total=size)
                        progress.update(file_tasks[name], completed=sent)

                try:
                    state = syncing.sync_run(
                        run,
                        client,
                        entity=entity,
                        project=project,
                        default_entity=settings.entity,
                        progress=show,
                    )
                except (UploadStopped, RuntimeError) as exc:
                    failed += 1
                    progress.console.print(f"[red]{run.run_dir.name}: {exc}")
                    continue
                if not state.complete:
                    failed += 1
                    progress.console.print(f"[yellow]{run.run_dir.name}: not finished: {state.error}")
                else:
                    progress.update(task, completed=max(run.records, 1))
                    progress.console.print(f"{run.run_dir.name}: synced to {base_url}/{state.run_path}")
    finally:
        client.close()
    if failed:
        raise SystemExit(1)


def _client(host: str | None):
    """A client of the server ``host`` (default: the configured one) with its stored key."""
    from wakelog.sdk._login import api_key_for
    from wakelog.sdk._settings import resolve_settings
    from wakelog.transport.client import ServerClient

    base_url = host or resolve_settings().base_url or ""
    key = api_key_for(base_url)
    if not key:
        _fail(Error(f"no API key for {base_url}: run `wakelog login --host {base_url}` first"))
    try:
        return ServerClient(base_url, key)
    except ValueError as exc:  # a CA bundle variable naming no bundle (wakelog/_http.py)
        _fail(exc)


@main.group("import")
def import_group() -> None:
    """Import runs logged with VisualDL, TensorBoard or MLflow (again: only what is new)."""


def _import_options(command):
    for option in reversed(
        [
            click.option("--project", help="Project to import into (default: the configured one)."),
            click.option("--entity", help="Entity to import into (default: yours)."),
            click.option("--host", help="Server URL (default: the configured base_url)."),
            click.option(
                "--state-dir",
                type=click.Path(file_okay=False, path_type=Path),
                help="Where import progress is kept (default: <user data folder>/wakelog/imports).",
            ),
        ]
    ):
        command = option(command)
    return command


def _import(sources, host: str | None, state_dir: Path | None) -> None:
    """Run an import with progress bars; exit status 1 if anything was damaged or not uploaded."""
    from wakelog.integration.importing import default_state_dir, import_run
    from wakelog.integration.importing._progress import RichProgress

    client = _client(host)
    trouble = 0
    try:
        with RichProgress() as progress:
            for source in sources:
                report = import_run(source, client, state_dir or default_state_dir(), progress)
                trouble += bool(report.damage or report.error)
    except Error as exc:
        _fail(exc)
    finally:
        client.close()
    if trouble:
        raise SystemExit(1)


def _project(project: str | None) -> str:
    from wakelog.sdk._settings import resolve_settings

    return project or resolve_settings().project or "uncategorized"


def _logdir_import_command(tool: str, summary: str, example: str) -> None:
    """Add ``wakelog import <tool> LOGDIR``: VisualDL and TensorBoard logs import alike."""

    @import_group.command(tool, help=f"{summary}\n\nExample: wakelog import {tool} {example}")
    @click.argument("logdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--name", help="Run name (with several runs: their names' prefix).")
    @_import_options
    def command(
        logdir: Path,
        name: str | None,
        project: str | None,
        entity: str | None,
        host: str | None,
        state_dir: Path | None,
    ) -> None:
        from importlib import import_module

        reader = import_module(f"wakelog.integration.importing._{tool}")
        _import(reader.sources(logdir, _project(project), name, entity), host, state_dir)


_logdir_import_command(
    "visualdl",
    "Import a VisualDL log directory: one run per directory of vdlrecords files.",
    "./vdl_log --project resnet",
)
_logdir_import_command(
    "tensorboard",
    "Import TensorBoard event files: one run per directory of tfevents files.",
    "./runs --project bert",
)


@import_group.command("mlflow")
@click.option(
    "--tracking-uri", required=True, help="The MLflow store: ./mlruns, file:…, sqlite:///mlflow.db, …"
)
@click.option("--experiment", "experiments", multiple=True, help="Import only this experiment (repeatable).")
@_import_options
def import_mlflow(
    tracking_uri: str,
    experiments: tuple[str, ...],
    project: str | None,
    entity: str | None,
    host: str | None,
    state_dir: Path | None,
) -> None:
    """Import MLflow runs: params, metrics, tags, artifacts, status (default project: the experiment's name).

    Example: wakelog import mlflow --tracking-uri sqlite:///mlflow.db --experiment baseline
    """
    from wakelog.integration.importing import _mlflow

    _import(_mlflow.sources(tracking_uri, list(experiments), project, entity), host, state_dir)


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


_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class _Size(click.ParamType):
    """Bytes as 500M, 10G, 2T (powers of 1024) or a plain number; ``none`` is unlimited."""

    name = "SIZE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        text = str(value).strip().upper().removesuffix("IB").removesuffix("B")
        if text == "NONE":
            return None
        unit = text[-1:] if text[-1:] in _SIZE_UNITS else ""
        try:
            return int(float(text[: len(text) - len(unit)]) * _SIZE_UNITS[unit])
        except ValueError:
            self.fail(f"{value!r} is not a size like 500M, 10G or none", param, ctx)


class _Age(click.ParamType):
    """Seconds as 30s, 15m, 24h or 7d."""

    name = "AGE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        text = str(value).strip().lower()
        unit = text[-1:] if text[-1:] in _AGE_UNITS else "s"
        try:
            return float(text.removesuffix(unit)) * _AGE_UNITS[unit]
        except ValueError:
            self.fail(f"{value!r} is not an age like 24h or 7d", param, ctx)


_staging_max_age = click.option(
    "--staging-max-age", type=_Age(), help="Delete unfinished uploads idle this long (default 24h)."
)
_unattached_max_age = click.option(
    "--unattached-max-age",
    type=_Age(),
    help="Delete uploaded content no run points at after this (default 7d).",
)

_trash_max_age = click.option(
    "--trash-max-age",
    type=_Age(),
    help="Purge deleted artifact versions after this in the trash (default 7d).",
)
_run_trash_max_age = click.option(
    "--run-trash-max-age",
    type=_Age(),
    help="Purge deleted runs and projects after this in their trash (default 30d).",
)


def _storage_options(**given: object) -> dict[str, object]:
    """The storage options that were given (the rest keep ServerConfig's defaults)."""
    return {name: value for name, value in given.items() if value is not None}


@main.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (0.0.0.0 for all).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@_data_dir
@_backend_store
@_artifact_root
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes.")
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="A reverse proxy (address or network) whose X-Forwarded-For/-Proto are believed; repeatable. "
    "Without one those headers are ignored.",
)
@click.option(
    "--write-rate",
    default=200.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Writes (ingest, uploads) one user may make per second, with bursts of 10 s worth; 0: no limit.",
)
@click.option(
    "--max-send-interval",
    default=1.5,
    show_default=True,
    type=click.FloatRange(1.0, 60.0),
    metavar="SECONDS",
    help="The longest a busy server asks a live run to wait between batches (fewer, larger requests; "
    "live charts up to this much older). Raise it to hold more live runs; 1 turns the pacing off.",
)
@click.option(
    "--min-free",
    type=_Size(),
    help="Refuse new data (507) while the disk of the database or blobs has less free (default 1G).",
)
@click.option(
    "--user-max-bytes", type=_Size(), help="Default quota of file content per user (default: none)."
)
@click.option("--user-max-rows", type=int, help="Default quota of metric points and lines per user.")
@click.option("--entity-max-bytes", type=_Size(), help="Default quota of file content per entity.")
@click.option("--entity-max-rows", type=int, help="Default quota of metric points and lines per entity.")
@_staging_max_age
@_unattached_max_age
@_trash_max_age
@_run_trash_max_age
@click.option("--smtp-host", help="SMTP server that notification e-mails go through (default: no e-mail).")
@click.option("--smtp-port", type=click.IntRange(1, 65535), help="Its port (default 25).")
@click.option("--smtp-user", help="Sign in to it as this user (password: $WAKELOG_SMTP_PASSWORD).")
@click.option("--smtp-sender", help="The From address of notification e-mails (default wakelog@localhost).")
@click.option("--smtp-security", type=click.Choice(["none", "starttls", "ssl"]), help="TLS (default none).")
@click.option("--public-url", help="The address users open the web app at, for links in notifications.")
@click.pass_context
def server(
    ctx: click.Context,
    host: str,
    port: int,
    data_dir: Path | None,
    backend_store: str | None,
    artifact_root: str | None,
    workers: int,
    trusted_proxies: tuple[str, ...],
    write_rate: float,
    max_send_interval: float,
    **storage: object,
) -> None:
    """Run the tracking server (SQLite and local files unless told otherwise).

    The first start creates an admin user and writes its password and API key to a file only you
    can read in the data directory. For S3-compatible storage set WAKELOG_S3_ENDPOINT_URL and the
    usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. `wakelog server backup` and `restore` copy
    its data while it serves and put it back.
    """
    if ctx.invoked_subcommand is not None:
        return
    from wakelog.server.serve import serve
    from wakelog.store.database import SchemaError

    storage["min_free_bytes"] = storage.pop("min_free")
    config = _server_config(
        data_dir,
        backend_store,
        artifact_root,
        host=host,
        port=port,
        workers=workers,
        trusted_proxies=list(trusted_proxies),
        write_rate_per_user=write_rate,
        max_send_interval=max_send_interval,
        **_storage_options(**storage),
    )
    try:
        serve(config)
    except SchemaError as exc:
        _fail(exc)


@server.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@_data_dir
@_backend_store
@_artifact_root
def server_backup(
    dest: Path, data_dir: Path | None, backend_store: str | None, artifact_root: str | None
) -> None:
    """Copy the server's database and blobs into the folder DEST while it keeps serving.

    The database is copied as of one moment (SQLite's online backup; pg_dump for PostgreSQL,
    which must be installed), then every blob it refers to, each checked against its sha256.
    Back up into the same DEST again to refresh it: blobs already there are not copied again.

    Included: users, hashed API keys, entities, projects, runs with all their metrics, console
    output and files. Not included: admin.key and admin-credentials.txt (the keys stay valid,
    their hashes are in the database), the server's options and environment (S3 credentials),
    and uploads not finished yet.
    """
    from wakelog.server.backup import BackupError, RichProgress, backup

    try:
        report = backup(
            _server_config(data_dir, backend_store, artifact_root), dest, RichProgress("copying blobs")
        )
    except BackupError as exc:
        _fail(exc)
    click.echo(report)


@server.command("gc")
@_data_dir
@_backend_store
@_artifact_root
@_staging_max_age
@_unattached_max_age
@_trash_max_age
@_run_trash_max_age
def server_gc(
    data_dir: Path | None,
    backend_store: str | None,
    artifact_root: str | None,
    staging_max_age: float | None,
    unattached_max_age: float | None,
    trash_max_age: float | None,
    run_trash_max_age: float | None,
) -> None:
    """Delete unfinished uploads, deleted artifact versions, runs and projects past their trash
    period, and uploaded content no run or artifact points at, once old enough.

    The server does this by itself every hour; this does it now (while it serves, or not).
    """
    from wakelog.server.expiry import collect
    from wakelog.store.blobs import BlobStore

    ages = _storage_options(
        staging_max_age=staging_max_age,
        unattached_max_age=unattached_max_age,
        trash_max_age=trash_max_age,
        run_trash_max_age=run_trash_max_age,
    )
    config = _server_config(data_dir, backend_store, artifact_root, **ages)
    store = BlobStore(config.blob_root, **config.storage_options())
    click.echo(_accounts(data_dir, backend_store, lambda db: collect(db, store, config)))


main.add_command(server_gc, name="gc")  # `wakelog gc`, as teams say it: the same command


@server.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_data_dir
@_backend_store
@_artifact_root
@click.option("--force", is_flag=True, help="Replace the database that is there (stop its server first).")
def server_restore(
    src: Path, data_dir: Path | None, backend_store: str | None, artifact_root: str | None, force: bool
) -> None:
    """Restore the backup in SRC as a server's data: into --data-dir, or --backend-store and
    --artifact-root.

    The target must be empty (a new or empty data folder; a PostgreSQL database without tables)
    unless --force. The backup is checked before anything is written: its manifest, the
    database's sha256, every blob; a damaged one is refused with what is wrong. A database from
    an older wakelog is migrated to this one's schema. admin.key is not restored: use the keys
    you had, or make one with `wakelog key create`.
    """
    from wakelog.server.backup import BackupError, RichProgress, restore

    config = _server_config(data_dir, backend_store, artifact_root)
    try:
        report = restore(config, src, force=force, progress=RichProgress("copying blobs"))
    except BackupError as exc:
        _fail(exc)
    click.echo(report)


@main.command()
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@_data_dir
@click.option("--epochs", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--exit", "exit_after", is_flag=True, help="Stop the server once the training is done.")
@click.option(
    "--sweep",
    "sweep_trials",
    type=click.IntRange(1, 100),
    is_flag=False,
    flag_value=6,
    default=None,
    help="Run a hyper-parameter sweep of the CNN instead (lr, batch size, optimizer): 6 trials, or N.",
)
def demo(port: int, data_dir: Path | None, epochs: int, exit_after: bool, sweep_trials: int | None) -> None:
    """Start the server and train a small PaddlePaddle CNN logged to it live, then keep serving.

    Needs the [paddle] extra. Prints the run's URL and where the admin password is. With --sweep,
    creates a sweep of the CNN (examples/paddle/sweep_digits.yaml) and runs an agent on it.
    """
    from wakelog.demo import DemoError, run_demo

    config = _server_config(data_dir, None, None)
    try:
        status = run_demo(
            config.data_dir, port, epochs, keep_serving=not exit_after, sweep_trials=sweep_trials
        )
    except DemoError as exc:
        _fail(exc)
    raise SystemExit(status)


@main.command()
@click.argument("config_or_sweep_id")
@click.option("--project", help="Project of the sweep (default: the configured project).")
@click.option("--entity", help="Entity (team or user) of the sweep (default: yours).")
@click.option("--pause", "action", flag_value="pause", help="Pause SWEEP_ID: agents wait for trials.")
@click.option("--resume", "action", flag_value="resume", help="Resume a paused SWEEP_ID.")
@click.option(
    "--stop", "action", flag_value="stop", help="Stop SWEEP_ID: no new trials, running ones finish."
)
@click.option("--cancel", "action", flag_value="cancel", help="Cancel SWEEP_ID: running trials are stopped.")
@click.option(
    "--prior-run",
    "--prior_run",
    "-R",
    "prior_runs",
    multiple=True,
    metavar="RUN_ID",
    help="An existing run of the project that joins the new sweep as a trial (repeatable).",
)
def sweep(
    config_or_sweep_id: str,
    project: str | None,
    entity: str | None,
    action: str | None,
    prior_runs: tuple[str, ...],
) -> None:
    """Create a sweep from a wandb sweep configuration (YAML), or control one.

    Prints the sweep's id and the command that starts an agent on it; the configuration is checked
    by the server first, and a bad one is refused with the key named.

    Examples: wakelog sweep sweep.yaml --project digits;  wakelog sweep --cancel team/digits/ab12cd34
    """
    from wakelog import sweeps

    if prior_runs and action is not None:
        raise click.UsageError("--prior-run goes with a new sweep's configuration, not with --" + action)
    try:
        if action is None:
            path = sweeps.create_sweep(Path(config_or_sweep_id), entity, project, list(prior_runs))
            click.echo(f"sweep {path.sweep_id} created in {path.entity}/{path.project}")
            click.echo(f"run an agent (on any machine): wakelog agent {path}")
            return
        answer = sweeps.control(config_or_sweep_id, action, entity=entity, project=project)
    except Error as exc:
        _fail(exc)
    click.echo(f"sweep {config_or_sweep_id}: {action} → {answer.get('state', '?')}")


@main.command()
@click.argument("sweep_id")
@click.option("--count", type=click.IntRange(1), help="Run at most this many trials, then stop.")
@click.option("--project", help="Project of the sweep, when SWEEP_ID is the bare id.")
@click.option("--entity", help="Entity of the sweep, when SWEEP_ID is the bare id.")
def agent(sweep_id: str, count: int | None, project: str | None, entity: str | None) -> None:
    """Run trials of a sweep until it is done: each runs the sweep's program/command in a process.

    SWEEP_ID is ENTITY/PROJECT/ID (as `wakelog sweep` prints it), or the bare id with --project.
    Start as many agents as you like, on as many machines: the server hands each its own trials.
    """
    from wakelog import sweeps

    try:
        report = sweeps.agent(sweep_id, entity=entity, project=project, count=count)
    except Error as exc:
        _fail(exc)
    failed = sum(outcome == "failed" for outcome in report.outcomes.values())
    click.echo(f"agent ran {len(report.outcomes)} trials ({failed} failed): {report.reason}")


@main.command()
@click.argument("run_path")
@click.option(
    "--dir", "folder", type=click.Path(path_type=Path), help="Restore here; clones the run's remote into it."
)
@click.option("--no-git", is_flag=True, help="Leave git alone: only files, config, venv and artifacts.")
@click.option(
    "--branch/--no-branch", default=True, help="Check out on a wakelog/RUN_ID branch (default) or detached."
)
@click.option(
    "--venv", is_flag=True, help="Make .venv from the run's requirements.txt (python -m venv, pip install)."
)
@click.option(
    "--yes", is_flag=True, help="Replace files that differ from the run's, move an existing branch."
)
@click.option("--host", help="Server URL (default: the configured base_url).")
def restore(
    run_path: str, folder: Path | None, no_git: bool, branch: bool, venv: bool, yes: bool, host: str | None
) -> None:
    """Rebuild a run's working folder: code at the recorded commit with its diff, saved files,
    config.yaml, optionally a venv, the artifacts it used; then print the command that reruns it.

    RUN_PATH is ENTITY/PROJECT/RUN_ID (or the run page's URL). Uncommitted changes in the
    repository are never overwritten. Exits with status 1 when any step could not be done.

    Example: wakelog restore team/digits/3kx7q2ab --dir digits-3kx7q2ab --venv
    """
    from wakelog.api import Api
    from wakelog.api._restore_run import restore_run

    try:
        with Api({"base_url": host} if host else None) as api:
            report = restore_run(
                api,
                run_path,
                dir=folder,
                git=not no_git,
                branch=branch,
                venv=venv,
                overwrite=yes,
                echo=click.echo,
            )
    except Error as exc:
        _fail(exc)
    for step in report.steps:
        mark = "ok" if step.ok else click.style("FAILED", fg="red")
        click.echo(f"{step.name:<9} {mark}: {step.message}")
    if report.command:
        click.echo(f"\nrerun it:\n  {report.command}")
    if not report.ok:
        raise SystemExit(1)


@main.group("export")
def export_group() -> None:
    """Write a run out in another tool's format."""


@export_group.command("visualdl")
@click.argument("run_path")
@click.argument("logdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", help="Server URL (default: the configured base_url).")
def export_visualdl(run_path: str, logdir: Path, host: str | None) -> None:
    """Write a run as a VisualDL log into LOGDIR (open it with `visualdl --logdir LOGDIR`):
    scalars, text, histograms, images and audio at their steps and wall times, the config as
    hyperparameters. Needs `pip install 'wakelog[visualdl]'`.

    RUN_PATH is ENTITY/PROJECT/RUN_ID (or the run page's URL).

    Example: wakelog export visualdl team/digits/3kx7q2ab vdl/digits-3kx7q2ab
    """
    from wakelog.api import Api
    from wakelog.integration.visualdl import export_run

    try:
        with Api({"base_url": host} if host else None) as api:
            counts = export_run(api.run(run_path), logdir)
    except Error as exc:
        _fail(exc)
    written = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.written.items())) or "nothing"
    click.echo(f"wrote {written} into {logdir}")
    if counts.skipped:
        skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.skipped.items()))
        click.echo(f"skipped (no VisualDL counterpart): {skipped}")


@main.group()
def db() -> None:
    """Manage the server's database: its schema, and how its metric series are stored."""


def _server_database(data_dir: Path | None, backend_store: str | None) -> Database:
    """The server's database (``--data-dir``'s SQLite or ``--backend-store``), refused with a
    message when the data folder is not there (the commands of ``wakelog db`` do not make it)."""
    from wakelog.store.database import Database

    config = _server_config(data_dir, backend_store, None)
    if backend_store is None and not config.data_dir.is_dir():
        _fail(Error(f"no server data in {config.data_dir}: check --data-dir, or start `wakelog server` once"))
    return Database(config.database_url)


@db.command()
@_data_dir
@_backend_store
def upgrade(data_dir: Path | None, backend_store: str | None) -> None:
    """Apply the schema migrations this wakelog has (needed for PostgreSQL after an upgrade)."""
    from wakelog.store.database import SchemaError

    database = _server_database(data_dir, backend_store)
    try:
        database.upgrade()
        click.echo(f"database schema at {database.current_revision()}")
    except SchemaError as exc:
        _fail(exc)
    finally:
        database.dispose()


@db.command()
@_data_dir
@_backend_store
def compact(data_dir: Path | None, backend_store: str | None) -> None:
    """Join the small chunks that runs logged live before wakelog 2026-12-07 left in their metric
    series into whole ones: a chart of such runs reads four times the rows it would. Safe while
    the server runs: each run (a few million points at a time) is a transaction of its own, and
    its live batches wait for it."""
    import sqlalchemy as sa
    from rich.progress import Progress

    from wakelog.store.database import SchemaError
    from wakelog.store.ingest import compact as compact_run
    from wakelog.store.schema import runs

    database = _server_database(data_dir, backend_store)
    try:
        database.check_schema(auto_upgrade=False)
        with database.read() as conn:
            run_pks = list(conn.execute(sa.select(runs.c.id).order_by(runs.c.id)).scalars())
        fewer = 0
        with Progress(transient=True) as progress:
            task = progress.add_task("compacting runs", total=len(run_pks))
            for run_pk in run_pks:
                left = True
                while left:  # a wide run in several transactions (``COMPACT_POINTS``)
                    with database.write() as conn:
                        fewer_now, left = compact_run(conn, run_pk)
                    fewer += fewer_now
                progress.advance(task)
        plural = "" if len(run_pks) == 1 else "s"
        click.echo(f"compacted {len(run_pks):,} run{plural}: {fewer:,} chunk rows fewer")
    except SchemaError as exc:
        _fail(exc)
    finally:
        database.dispose()


# -- users, API keys and teams: straight on the server's database, where the server's data is ----
def _accounts(data_dir: Path | None, backend_store: str | None, call):
    """Open the server's database, run ``call(db)`` and turn its errors into one-line messages."""
    import sqlalchemy as sa

    from wakelog.server.accounts import AccountError, open_database
    from wakelog.store.database import SchemaError

    try:
        database = open_database(_server_config(data_dir, backend_store, None).database_url)
    except (AccountError, SchemaError) as exc:
        _fail(exc)
    except sa.exc.SQLAlchemyError as exc:
        _fail(Exception(f"cannot open the database: {getattr(exc, 'orig', None) or exc}"))
    try:
        return call(database)
    except AccountError as exc:
        _fail(exc)
    except sa.exc.SQLAlchemyError as exc:
        _fail(Exception(f"database error: {getattr(exc, 'orig', None) or exc}"))
    finally:
        database.dispose()


def _password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        _fail(Exception("no password on standard input"))
    return password


def _when(seconds: float | None) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds)) if seconds else "-"


@main.group("user")
def user_group() -> None:
    """Manage the server's users (run on the server's machine, as the user that runs it)."""


@user_group.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make the user an admin.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_data_dir
@_backend_store
def user_add(
    name: str, admin: bool, password_stdin: bool, data_dir: Path | None, backend_store: str | None
) -> None:
    """Create a user. Without --password-stdin a random password is made and printed once."""
    from wakelog.server.accounts import add_user

    password = _password_from_stdin() if password_stdin else None
    info, generated = _accounts(
        data_dir, backend_store, lambda db: add_user(db, name, password, is_admin=admin)
    )
    role = "admin" if info.is_admin else "user"
    if generated:
        click.echo(f"created {role} {info.username}; its password (shown this once) is:", err=True)
        click.echo(generated)
    else:
        click.echo(f"created {role} {info.username}")


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@_data_dir
@_backend_store
def user_passwd(name: str, password_stdin: bool, data_dir: Path | None, backend_store: str | None) -> None:
    """Set a user's password (asks for it twice); their browser sessions end."""
    from wakelog.server.accounts import set_password

    if password_stdin:
        password = _password_from_stdin()
    else:
        password = click.prompt(f"New password for {name}", hide_input=True, confirmation_prompt=True)
    _accounts(data_dir, backend_store, lambda db: set_password(db, name, password))
    click.echo(f"password of {name} changed")


@user_group.command("list")
@_data_dir
@_backend_store
def user_list(data_dir: Path | None, backend_store: str | None) -> None:
    """List the users."""
    from wakelog.server.accounts import list_users

    for info in _accounts(data_dir, backend_store, list_users):
        click.echo(f"{info.username:<24} {'admin' if info.is_admin else 'user':<6} {_when(info.created_at)}")


@user_group.command("delete")
@click.argument("name")
@click.option("--reassign-to", metavar="USER", help="Hand their personal entity (and its runs) to USER.")
@click.option("--delete-runs", is_flag=True, help="Delete their personal entity with every run in it.")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@_data_dir
@_backend_store
def user_delete(
    name: str,
    reassign_to: str | None,
    delete_runs: bool,
    yes: bool,
    data_dir: Path | None,
    backend_store: str | None,
) -> None:
    """Delete a user with their API keys and sessions.

    Their personal entity goes too if it is empty; if it holds runs, say what becomes of them:
    --reassign-to USER keeps them under the same name with USER as admin, --delete-runs deletes
    them. Runs they made in team entities stay.
    """
    from wakelog.server.accounts import delete_user

    if not yes:
        what = " and every run in their entity" if delete_runs else ""
        click.confirm(f"Delete user {name}, their API keys{what}?", abort=True)
    settle = {"reassign_to": reassign_to, "delete_runs": delete_runs}
    _accounts(data_dir, backend_store, lambda db: delete_user(db, name, **settle))
    done = f"; their entity now belongs to {reassign_to}" if reassign_to else ""
    click.echo(f"deleted user {name}{done}")


@main.group("key")
def key_group() -> None:
    """Manage API keys on the server's database (run on the server's machine)."""


@key_group.command("create")
@click.option("--user", "username", default="admin", show_default=True, help="Whose key.")
@click.option("--name", default="", help="What the key is for (shown in listings).")
@_data_dir
@_backend_store
def key_create(username: str, name: str, data_dir: Path | None, backend_store: str | None) -> None:
    """Create an API key and print it (the only time it is shown) on standard output."""
    from wakelog.server.accounts import create_api_key

    info, key = _accounts(data_dir, backend_store, lambda db: create_api_key(db, username, name))
    click.echo(f"created key {info.prefix}… for {info.user}", err=True)
    click.echo(key)


@key_group.command("list")
@click.option("--user", "username", help="Only this user's keys (default: everyone's).")
@_data_dir
@_backend_store
def key_list(username: str | None, data_dir: Path | None, backend_store: str | None) -> None:
    """List API keys: prefix, owner, name, created, last used, revoked."""
    from wakelog.server.accounts import list_api_keys

    for info in _accounts(data_dir, backend_store, lambda db: list_api_keys(db, username)):
        state = f"revoked {_when(info.revoked_at)}" if info.revoked else "active"
        click.echo(
            f"{info.prefix:<12} {info.user:<16} {info.name[:32]:<32} created {_when(info.created_at)}  "
            f"used {_when(info.last_used_at)}  {state}"
        )


@key_group.command("revoke")
@click.argument("prefix")
@_data_dir
@_backend_store
def key_revoke(prefix: str, data_dir: Path | None, backend_store: str | None) -> None:
    """Revoke the API key with this prefix (as `key list` shows it); it stops working at once."""
    from wakelog.server.accounts import revoke_api_key

    info = _accounts(data_dir, backend_store, lambda db: revoke_api_key(db, prefix))
    click.echo(f"revoked key {info.prefix}… of {info.user}")


@main.group("team")
def team_group() -> None:
    """Manage team entities and who may read or write them (run on the server's machine).

    Roles: viewer (read), member (read and write runs), admin (also manage members).
    """


@team_group.command("create")
@click.argument("name")
@_data_dir
@_backend_store
def team_create(name: str, data_dir: Path | None, backend_store: str | None) -> None:
    """Create a team entity; add its members with `wakelog team add`."""
    from wakelog.server.teams import create_team

    _accounts(data_dir, backend_store, lambda db: create_team(db, name))
    click.echo(f"created entity {name}; add members with `wakelog team add {name} USER --role member`")


@team_group.command("list")
@_data_dir
@_backend_store
def team_list(data_dir: Path | None, backend_store: str | None) -> None:
    """List entities with their members and roles."""
    from wakelog.server.teams import list_teams

    for team in _accounts(data_dir, backend_store, list_teams):
        members = ", ".join(f"{m.username} ({m.role})" for m in team.members) or "no members"
        click.echo(f"{team.name:<24} {members}")


@team_group.command("add")
@click.argument("name")
@click.argument("user")
@click.option(
    "--role", default="member", show_default=True, help="viewer, member or admin: what the user may do there."
)
@_data_dir
@_backend_store
def team_add(name: str, user: str, role: str, data_dir: Path | None, backend_store: str | None) -> None:
    """Add USER to entity NAME with a role, or change the role they have."""
    from wakelog.server.teams import set_member

    _accounts(data_dir, backend_store, lambda db: set_member(db, name, user, role))
    click.echo(f"{user} is {role} of {name}")


@team_group.command("remove")
@click.argument("name")
@click.argument("user")
@_data_dir
@_backend_store
def team_remove(name: str, user: str, data_dir: Path | None, backend_store: str | None) -> None:
    """Take USER out of entity NAME (their runs there stay; the last admin cannot go)."""
    from wakelog.server.teams import remove_member

    _accounts(data_dir, backend_store, lambda db: remove_member(db, name, user))
    click.echo(f"removed {user} from {name}")


# -- storage quotas --------------------------------------------------------------------------------
@main.group("quota")
def quota_group() -> None:
    """Storage quotas of users and entities (run on the server's machine).

    Bytes count file content, rows metric points, console lines and media. Without a quota of
    its own, a user or entity has the server's defaults (`wakelog server --user-max-bytes` …).
    """


def _subject(user: str | None, entity: str | None) -> tuple[str, str]:
    if (user is None) == (entity is None):
        _fail(Exception("name one --user or one --entity"))
    return ("user", user) if user is not None else ("entity", entity)  # type: ignore[return-value]


_quota_user = click.option("--user", metavar="NAME", help="A user's quota.")
_quota_entity = click.option("--entity", metavar="NAME", help="An entity's quota.")


@quota_group.command("set")
@_quota_user
@_quota_entity
@click.option("--max-bytes", type=_Size(), help="File content: 500M, 10G, 2T or none (unlimited).")
@click.option("--max-rows", type=str, help="Metric points, console lines and media rows, or none.")
@_data_dir
@_backend_store
def quota_set(
    user: str | None,
    entity: str | None,
    max_bytes: int | None,
    max_rows: str | None,
    data_dir: Path | None,
    backend_store: str | None,
) -> None:
    """Set the quota of a user or an entity (a limit not given is unlimited)."""
    from wakelog.server.quotas import Limits, set_quota

    kind, name = _subject(user, entity)
    rows = None if max_rows in (None, "none") else int(str(max_rows).replace(",", "").replace("_", ""))
    _accounts(data_dir, backend_store, lambda db: set_quota(db, kind, name, Limits(max_bytes, rows)))
    click.echo(f"set the quota of {kind} {name}; a running server applies it within seconds")


@quota_group.command("reset")
@_quota_user
@_quota_entity
@_data_dir
@_backend_store
def quota_reset(
    user: str | None, entity: str | None, data_dir: Path | None, backend_store: str | None
) -> None:
    """Give a user or an entity the server's default quota again."""
    from wakelog.server.quotas import set_quota

    kind, name = _subject(user, entity)
    _accounts(data_dir, backend_store, lambda db: set_quota(db, kind, name, None))
    click.echo(f"{kind} {name} has the server's default quota again")


@quota_group.command("show")
@_quota_user
@_quota_entity
@_data_dir
@_backend_store
@_artifact_root
def quota_show(
    user: str | None,
    entity: str | None,
    data_dir: Path | None,
    backend_store: str | None,
    artifact_root: str | None,
) -> None:
    """What a user or an entity stores, and its quota."""
    from wakelog.server.diskguard import human
    from wakelog.server.quotas import quota_of
    from wakelog.store.blobs import BlobStore

    kind, name = _subject(user, entity)
    config = _server_config(data_dir, backend_store, artifact_root)
    store = BlobStore(config.blob_root, **config.storage_options())
    quota = _accounts(data_dir, backend_store, lambda db: quota_of(db, config, kind, name, store))
    limits = quota.limits
    max_bytes = "unlimited" if limits.max_bytes is None else human(limits.max_bytes)
    max_rows = "unlimited" if limits.max_rows is None else f"{limits.max_rows:,} rows"
    click.echo(
        f"{kind} {name}: {human(quota.usage.bytes)} of {max_bytes}, {quota.usage.rows:,} rows of {max_rows}"
    )
    click.echo("quota: " + ("set for it" if quota.custom else "the server's default"))


if __name__ == "__main__":
    main()
