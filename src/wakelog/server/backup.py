"""``wakelog server backup`` and ``restore``: a server's database and blobs, copied as of one moment.

A backup is a folder::

    manifest.json      written last: a folder without one holds no finished backup
    database.sqlite    SQLite: the online-backup copy, one self-contained file
    database.pgdump    PostgreSQL: pg_dump's custom format
    blobs/ab/ab…       every blob the database refers to, laid out as a local blob store

The database is copied first, consistently while the server writes (see ``dbdump``), then the
blobs it refers to. That pair is consistent because the server writes a blob's row only after
its content is complete: ``PUT /api/v1/runs/…/blobs/…`` publishes the verified content (``write_chunk``
moves it into place) before ``_record_blobs`` inserts the ``blobs`` row, and attaching a file
checks the content is there before it inserts the ``run_files`` row (``routes/ingest.py``). So
every blob a snapshot names was in the store before the snapshot was taken. Blobs are content
addressed: each copy is checked against its sha256, and one already in the target is not copied
again, so a backup refreshed into the same folder copies only new blobs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from wakelog._version import __version__
from wakelog.server.dbdump import BackupError, Contents
from wakelog.store.blobs import READ_CHUNK, BlobError, BlobStore, check_sha256

if TYPE_CHECKING:
    from wakelog.server.config import ServerConfig

__all__ = ["BackupError", "Manifest", "Progress", "RichProgress", "backup", "read_manifest", "restore"]

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
BLOBS = "blobs"
_OURS = {MANIFEST, BLOBS, *DATABASE_FILES.values()}


class Manifest(msgspec.Struct, forbid_unknown_fields=False):
    """What a backup holds; restore checks the backup against it before writing anything."""

    format: int
    wakelog_version: str
    created_at: str  # UTC, ISO 8601
    database_kind: str  # "sqlite" or "postgresql"
    database_sha256: str  # of the database file
    schema_revision: str | None
    counts: dict[str, int]  # rows per table
    blobs: dict[str, int]  # sha256 → size


class Progress:
    """Hears how blob copying goes; this one says nothing."""

    def begin(self, blobs: int, total_bytes: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def end(self) -> None:
        pass


class RichProgress(Progress):
    """A Rich progress bar of the bytes copied, on standard error."""

    def __init__(self, description: str) -> None:
        self.description = description

    def begin(self, blobs: int, total_bytes: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        self._bar = Progress(
            TextColumn(f"{self.description} ({blobs})"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
        )
        self._task = self._bar.add_task(self.description, total=total_bytes)
        self._bar.start()

    def advance(self, nbytes: int) -> None:
        self._bar.advance(self._task, nbytes)

    def end(self) -> None:
        self._bar.stop()


@dataclass
class Copied:
    """How a blob copy went."""

    sizes: dict[str, int] = field(default_factory=dict)
    copied: int = 0
    present: int = 0
    #: Blobs no run file points at that were gone from the store (an upload never attached).
    skipped: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        counts = f"{self.copied} copied, {self.present} already there"
        if self.skipped:
            counts += f"; left out {len(self.skipped)} never attached and gone from the store"
        return f"{len(self.sizes)} blobs, {_mib(sum(self.sizes.values()))} ({counts})"


@dataclass
class Report:
    manifest: Manifest
    blobs: Copied
    place: str
    #: The schema revision the restored database was migrated to (restore only).
    migrated_to: str | None = None

    def __str__(self) -> str:
        m = self.manifest
        migrated = (
            f", migrated to {self.migrated_to}" if self.migrated_to not in (None, m.schema_revision) else ""
        )
        runs = m.counts.get("runs", 0)
        return (
            f"{self.place}: {m.database_kind} database at schema {m.schema_revision}{migrated}, "
            f"{runs} runs, {self.blobs}"
        )


# -- backup ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _as_backup_errors() -> Iterator[None]:
    """Database and file system failures, as one-line errors that say what failed."""
    import sqlalchemy as sa

    from wakelog.store.database import SchemaError

    try:
        yield
    except (SchemaError, OSError) as exc:
        raise BackupError(str(exc)) from exc
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(f"database error: {getattr(exc, 'orig', None) or exc}") from exc


@_as_backup_errors()
def backup(config: ServerConfig, dest: Path, progress: Progress | None = None) -> Report:
    """Copy the database and blobs of the server ``config`` describes into the folder ``dest``
    (new, empty, or an earlier backup to refresh), while that server keeps serving."""
    from wakelog.server import dbdump

    os.umask(0o077)  # run data and key hashes: files 0600, folders 0700, as the server's own
    dest = dest.resolve()
    _prepare_dest(dest)
    kind = dbdump.kind_of(config.database_url)
    database = dest / DATABASE_FILES[kind]
    partial = database.with_name(database.name + ".partial")
    try:
        contents = dbdump.snapshot(config.database_url, partial)
        os.replace(partial, database)
    finally:
        partial.unlink(missing_ok=True)
    for other in DATABASE_FILES.values():
        if other != database.name:
            (dest / other).unlink(missing_ok=True)
    source = BlobStore(config.blob_root, **config.storage_options())
    copied = _copy_blobs(
        source, BlobStore(str(dest / BLOBS)), contents.blobs, progress or Progress(), contents
    )
    manifest = _manifest(kind, _sha256_file(database), contents, copied.sizes)
    _write_manifest(dest, manifest)
    return Report(manifest, copied, f"backup in {dest}")


def _prepare_dest(dest: Path) -> None:
    """Refuse a folder that holds something else; unmark an earlier backup until this one is done."""
    if dest.exists():
        if not dest.is_dir():
            raise BackupError(f"{dest} is a file: back up into a folder")
        foreign = sorted(
            p.name for p in dest.iterdir() if p.name not in _OURS and not p.name.endswith(".partial")
        )
        if foreign:
            raise BackupError(
                f"{dest} holds other things than a wakelog backup ({', '.join(foreign[:3])}): "
                "back up into a new or empty folder, or one an earlier backup made"
            )
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    (dest / MANIFEST).unlink(missing_ok=True)


def _manifest(kind: str, database_sha256: str, contents: Contents, blobs: dict[str, int]) -> Manifest:
    return Manifest(
        format=FORMAT,
        wakelog_version=__version__,
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        database_kind=kind,
        database_sha256=database_sha256,
        schema_revision=contents.revision,
        counts=dict(sorted(contents.counts.items())),
        blobs=dict(sorted(blobs.items())),
    )


def _write_manifest(dest: Path, manifest: Manifest) -> None:
    partial = dest / (MANIFEST + ".partial")
    partial.write_bytes(msgspec.json.format(msgspec.json.encode(manifest)) + b"\n")
    os.replace(partial, dest / MANIFEST)


# -- restore -----------------------------------------------------------------------------------


@_as_backup_errors()
def restore(
    config: ServerConfig, src: Path, *, force: bool = False, progress: Progress | None = None
) -> Report:
    """Put the backup in ``src`` where the server ``config`` describes keeps its data.

    Everything that can be checked is checked before anything is written: the manifest, the
    schema revision, the database file's sha256, every blob's presence and size, and that the
    target is empty (unless ``force``). Blobs are copied first, each checked against its sha256,
    and the database last, so a restore that fails leaves no database that lacks its blobs.
    """
    from wakelog.server import dbdump

    os.umask(0o077)
    manifest = read_manifest(src)
    database = _check_backup(src, manifest, dbdump.kind_of(config.database_url))
    _check_target(config, force)
    source = BlobStore(str(src / BLOBS))
    target = BlobStore(config.blob_root, **config.storage_options())
    copied = _copy_blobs(source, target, manifest.blobs, progress or Progress())
    if manifest.database_kind == "sqlite":
        with dbdump.restoring_sqlite(database, config.database_url) as restored:
            revision = _check_and_migrate(restored, manifest)
    else:
        dbdump.restore_postgres(database, config.database_url, replace=force)
        revision = _check_and_migrate(config.database_url, manifest)
    return Report(manifest, copied, f"restored {src} into {_where(config)}", migrated_to=revision)


def read_manifest(src: Path) -> Manifest:
    path = src / MANIFEST
    if not path.is_file():
        raise BackupError(f"{src} holds no finished wakelog backup: {MANIFEST} is missing")
    try:
        manifest = msgspec.json.decode(path.read_bytes(), type=Manifest)
    except msgspec.DecodeError as exc:
        raise BackupError(f"{path} is damaged: {exc}") from None
    if manifest.format > FORMAT:
        raise BackupError(
            f"{path} is of backup format {manifest.format}, made by wakelog {manifest.wakelog_version}; "
            f"this wakelog reads format {FORMAT}: restore with that wakelog or a newer one"
        )
    if manifest.database_kind not in DATABASE_FILES:
        raise BackupError(f"{path} is damaged: unknown database kind {manifest.database_kind!r}")
    try:
        for sha256 in manifest.blobs:
            check_sha256(sha256)
    except BlobError as exc:
        raise BackupError(f"{path} is damaged: {exc}") from None
    return manifest


def _check_backup(src: Path, manifest: Manifest, target_kind: str) -> Path:
    """The database file the manifest describes, after checking the backup is whole."""
    if manifest.database_kind != target_kind:
        how = "without --backend-store" if manifest.database_kind == "sqlite" else "with --backend-store URL"
        raise BackupError(
            f"{src} holds a {manifest.database_kind} database and the target is {target_kind}: restore it "
            f"{how} (moving between SQLite and PostgreSQL is not supported)"
        )
    _check_revision_known(manifest)
    database = src / DATABASE_FILES[manifest.database_kind]
    if not database.is_file():
        raise BackupError(f"the backup in {src} is damaged: {database.name} is missing")
    if _sha256_file(database) != manifest.database_sha256:
        raise BackupError(
            f"the backup in {src} is damaged: {database.name} does not match its sha256 in {MANIFEST}"
        )
    store = BlobStore(str(src / BLOBS)) if (src / BLOBS).is_dir() else None
    wrong = [sha for sha, size in manifest.blobs.items() if store is None or not _has(store, sha, size)]
    if wrong:
        more = f" and {len(wrong) - 1} more" if len(wrong) > 1 else ""
        raise BackupError(
            f"the backup in {src} is damaged: blob {wrong[0]}{more} is missing from {BLOBS}/ "
            "or has the wrong size"
        )
    return database


def _check_revision_known(manifest: Manifest) -> None:
    from alembic.script import ScriptDirectory

    from wakelog.store.database import MIGRATIONS

    if manifest.schema_revision is None:
        return
    try:
        ScriptDirectory(str(MIGRATIONS)).get_revision(manifest.schema_revision)
    except Exception:
        raise BackupError(
            f"the backup's schema revision {manifest.schema_revision!r} is newer than this wakelog knows: "
            f"restore it with wakelog {manifest.wakelog_version} (which made it) or newer"
        ) from None


def _check_target(config: ServerConfig, force: bool) -> None:
    from wakelog.server import dbdump

    if force:
        return
    data_dir = config.data_dir
    if config.backend_store is None and data_dir.is_dir() and any(data_dir.iterdir()):
        raise BackupError(
            f"{data_dir} is not empty: restore into a new or empty --data-dir, or add --force to replace "
            "the database there (stop its server first)"
        )
    if not dbdump.is_empty(config.database_url):
        raise BackupError(
            f"the database {_where(config)} is not empty: restore into an empty one, or add --force to "
            "replace its tables (stop its servers first)"
        )


def _check_and_migrate(url: str, manifest: Manifest) -> str | None:
    """Check the restored database holds what the manifest says, then migrate it to this
    wakelog's schema (a backup from an older wakelog)."""
    from wakelog.server import dbdump
    from wakelog.store.database import Database

    counts = dbdump.describe_url(url).counts
    for table, expected in manifest.counts.items():
        if counts.get(table) != expected:
            raise BackupError(
                f"the restored database has {counts.get(table, 0)} rows in {table}, {MANIFEST} says "
                f"{expected}: the backup's database is damaged"
            )
    database = Database(url)
    try:
        database.upgrade()
        return database.current_revision()
    finally:
        database.dispose()


def _where(config: ServerConfig) -> str:
    from sqlalchemy.engine import make_url

    if config.backend_store is None:
        return str(config.data_dir)
    return make_url(config.database_url).render_as_string(hide_password=True)


# -- blobs -------------------------------------------------------------------------------------


def _copy_blobs(
    source: BlobStore,
    target: BlobStore,
    wanted: dict[str, int],
    progress: Progress,
    contents: Contents | None = None,
) -> Copied:
    """Copy ``wanted`` blobs (sha256 → size) that ``target`` lacks; all must be there, except, in
    a backup (``contents`` given), blobs no run file points at: such an upload may have been
    deleted unattached since the snapshot, and the server takes it again if it is resent."""
    done = Copied()
    progress.begin(len(wanted), sum(wanted.values()))
    try:
        for sha256, size in sorted(wanted.items()):
            if _has(target, sha256, size):
                done.sizes[sha256] = size
                done.present += 1
            else:
                try:
                    done.sizes[sha256] = target.put_verified(sha256, source.open(sha256))
                    done.copied += 1
                except FileNotFoundError:
                    if contents is None or sha256 in contents.attached:
                        raise BackupError(
                            f"blob {sha256} is missing from {source.root}; the database refers to it"
                        ) from None
                    done.skipped.append(sha256)
                except BlobError as exc:
                    raise BackupError(f"blob {sha256} in {source.root} is damaged: {exc}") from None
            progress.advance(size)
    finally:
        progress.end()
    return done


def _has(store: BlobStore, sha256: str, size: int) -> bool:
    try:
        return store.size(sha256) == size
    except FileNotFoundError:
        return False


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(READ_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:.1f} MiB"
