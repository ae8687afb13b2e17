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


if __name__ == "__main__":
    main()
