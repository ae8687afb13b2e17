"""The metadata database in backups: a consistent copy while the server writes, and putting it back.

SQLite: the online backup API copies the whole database in one step, inside one read
transaction. In WAL mode that never blocks the server's writers, and the copy is the database
as of one commit. PostgreSQL: ``pg_dump`` (custom format) inside a transaction whose snapshot we
export, so what we read for the manifest (the blob list, the row counts) is exactly what the
dump holds; ``pg_restore`` puts it back.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from wakelog.errors import Error
from wakelog.store.database import normalise_url


class BackupError(Error):
    """A backup or restore that cannot be done; the message says what is wrong and where."""


@dataclass
class Contents:
    """What a database snapshot holds, as the manifest records it."""

    revision: str | None
    counts: dict[str, int]
    #: Every blob the database knows (sha256 → size), whether or not a run file points at it.
    blobs: dict[str, int]
    #: The blobs run files and artifact versions point at: a backup without any of them is incomplete.
    attached: set[str]


def kind_of(url: str) -> str:
    """``sqlite`` or ``postgresql``: the two databases wakelog runs on."""
    return "sqlite" if normalise_url(url).startswith("sqlite") else "postgresql"


def describe(conn: sa.Connection) -> Contents:
    """Schema revision, row counts and blobs of the database ``conn`` sees."""
    from alembic.runtime.migration import MigrationContext

    from wakelog.store.schema import artifact_files, blobs, metadata, run_files

    present = set(sa.inspect(conn).get_table_names())
    count = sa.select(sa.func.count())
    counts = {
        t.name: int(conn.execute(count.select_from(t)).scalar_one())
        for t in metadata.sorted_tables
        if t.name in present
    }
    sizes: dict[str, int] = {}
    attached: set[str] = set()
    if "blobs" in present:
        sizes = {row.sha256: int(row.size) for row in conn.execute(sa.select(blobs.c.sha256, blobs.c.size))}
    for table in (run_files, artifact_files):  # content run files and artifact versions point at
        if "blobs" not in present or table.name not in present:
            continue
        pointed = sa.select(table.c.sha256, sa.func.max(table.c.size)).where(table.c.sha256.is_not(None))
        for sha256, size in conn.execute(pointed.group_by(table.c.sha256)):
            attached.add(sha256)
            sizes.setdefault(sha256, int(size or 0))
    revision = MigrationContext.configure(conn).get_current_revision()
    return Contents(revision, counts, sizes, attached)


def describe_url(url: str) -> Contents:
    engine = sa.create_engine(normalise_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return describe(conn)
    finally:
        engine.dispose()


def snapshot(url: str, target: Path) -> Contents:
    """Write a consistent copy of the database at ``url`` to the file ``target``."""
    return _snapshot_sqlite(url, target) if kind_of(url) == "sqlite" else _snapshot_postgres(url, target)


def is_empty(url: str) -> bool:
    """Whether the database at ``url`` has no tables (an SQLite file that does not exist is empty)."""
    if kind_of(url) == "sqlite" and not sqlite_path(url).exists():
        return True
    engine = sa.create_engine(normalise_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return not sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()


# -- SQLite ------------------------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    database = sa.engine.make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise BackupError(f"{url} is not an SQLite database file")
    return Path(database).resolve()


def _snapshot_sqlite(url: str, target: Path) -> Contents:
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"no database at {source_path}: check --data-dir (or --backend-store)")
    # Read-only, so a wrong path can never create an empty database.
    source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: one read transaction, so one commit's state
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the database {source_path}: {exc}") from None
    finally:
        copy.close()
        source.close()
    return describe_url(f"sqlite:///{target}")


@contextlib.contextmanager
def restoring_sqlite(source: Path, url: str) -> Iterator[str]:
    """Copy the backed-up database next to its place at ``url`` and yield that copy's URL (to
    check and migrate it); it replaces the database there only when the block succeeds."""
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".restoring")
    shutil.copyfile(source, partial)
    partial.chmod(0o600)
    try:
        yield f"sqlite:///{partial}"
        with contextlib.closing(sqlite3.connect(partial)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")  # fold any -wal in: only the file moves
        for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)  # another database's journal must not be applied to ours
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


# -- PostgreSQL --------------------------------------------------------------------------------


def _snapshot_postgres(url: str, target: Path) -> Contents:
    pg_dump = pg_tool("pg_dump")
    engine = sa.create_engine(normalise_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            exported = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            contents = describe(conn)
            # The transaction stays open while pg_dump runs: the exported snapshot lives as long.
            run_pg(pg_dump, url, "--format=custom", f"--snapshot={exported}", f"--file={target}")
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(f"cannot read the database: {getattr(exc, 'orig', None) or exc}") from None
    finally:
        engine.dispose()
    return contents


def restore_postgres(source: Path, url: str, *, replace: bool) -> None:
    """Load a ``pg_dump`` file into the database at ``url`` in one transaction; with ``replace``
    its tables are dropped first (all of them, also ones a newer schema added)."""
    pg_restore = pg_tool("pg_restore")
    if replace:
        _drop_tables(url)
    run_pg(
        pg_restore,
        url,
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        str(source),
    )


def _drop_tables(url: str) -> None:
    """Drop every table, and the trigger functions the schema made (``wakelog_…``, migration 0017:
    the dump creates them again)."""
    engine = sa.create_engine(normalise_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            names = sa.inspect(conn).get_table_names()
            quote = conn.dialect.identifier_preparer.quote
            if names:
                conn.exec_driver_sql(f"DROP TABLE {', '.join(quote(n) for n in names)} CASCADE")
            functions = conn.exec_driver_sql(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = current_schema() AND left(p.proname, 8) = 'wakelog_' AND p.pronargs = 0"
            ).scalars()
            for name in list(functions):
                conn.exec_driver_sql(f"DROP FUNCTION {quote(name)}() CASCADE")
    finally:
        engine.dispose()


def pg_tool(name: str) -> str:
    """Where the PostgreSQL client program ``name`` is: on PATH, or the newest Debian install."""
    found = shutil.which(name)
    if found:
        return found
    installed = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)] or [0],
    )
    if installed:
        return str(installed[-1])
    raise BackupError(
        f"{name} is not installed: backing up or restoring PostgreSQL needs its client programs, of the "
        "server's version or newer (Debian/Ubuntu: apt-get install postgresql-client)"
    )


def run_pg(program: str, url: str, *args: str) -> None:
    """Run a PostgreSQL client program on ``url``; the password goes by environment, not argv."""
    parsed = sa.engine.make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    libpq = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run(
        [program, *args, f"--dbname={libpq}"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        name = Path(program).name
        raise BackupError(f"{name} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
