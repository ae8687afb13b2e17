"""``wakelog.Artifact``: a versioned set of files, as wandb's ``Artifact``.

A draft collects entries (``add_file``, ``add_dir``, ``new_file``, ``add_reference``, ``add``).
Adding a file only notes its path and size: its digest is computed when something needs it
(``manifest``, ``digest``) or, once the draft is logged, on the run's artifact thread
(``sdk/artifacts/_saver.py``), so ``log_artifact`` returns at once however large the files are.
A logged or fetched artifact is final; ``new_draft()`` gives an editable copy. Versions come from
the server: ``wait()`` blocks until the uploader created the logged one. Downloads go through the
local cache (``_download.py``) and are verified file by file.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from wakelog._artifacts import check_artifact_name
from wakelog.sdk.artifacts._errors import ArtifactError, ArtifactFinalizedError, ArtifactNotLoggedError
from wakelog.sdk.artifacts._hashing import hash_file
from wakelog.sdk.artifacts._manifest import ArtifactManifest, ArtifactManifestEntry, checked_path
from wakelog.sdk.artifacts._refs import reference_entries

if TYPE_CHECKING:
    from wakelog.sdk.artifacts._server import ArtifactServer, ServerUse

POLICIES = ("mutable", "immutable")
_WAIT_POLL = 0.05


def _checked(name: str, kind: str) -> str:
    try:
        return check_artifact_name(name, kind)
    except ValueError as exc:
        raise ArtifactError(str(exc)) from None


#: wandb's rule for artifact tags (the server checks the same).
_TAG = re.compile(r"[-\w]+( [-\w]+)*")


def _tags(tags: Any) -> list[str]:
    names = [tags] if isinstance(tags, str) else list(tags or [])
    for tag in names:
        if not isinstance(tag, str) or not _TAG.fullmatch(tag) or len(tag) > 128:
            raise ArtifactError(
                f"artifact tag {tag!r}: letters, digits, '-' and '_', words separated by single spaces"
            )
    return list(dict.fromkeys(names))


class Artifact:
    """A versioned dataset, model or any set of files (wandb's ``Artifact``)."""

    def __init__(
        self,
        name: str,
        type: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
    ) -> None:
        self._name = _checked(name, "artifact name")
        self._type = _checked(type, "artifact type")
        self.description = description
        self.metadata = dict(metadata or {})
        self._tags: list[str] = []
        self._ttl: timedelta | None = None
        self._manifest = ArtifactManifest()
        self._policies: dict[str, str] = {}  # entry path -> policy, for files not yet hashed
        self._hash_lock = threading.Lock()
        self._final = False
        self._tmp_dir: str | None = None
        # Known once the server has the version:
        self._info: dict[str, Any] = {}
        self._reading: ServerUse | None = None  # where its version is read from (None: the settings' server)
        self._pending: tuple[Path, str] | None = None  # (run folder, client id) while being logged
        self._offline = False
        self._error: str | None = None  # why the run's artifact thread could not log it
        self._unloaded = False  # a server's version whose manifest is not fetched yet

    # -- identity --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """``name:vN`` once the server assigned the version, else the name (as wandb)."""
        version = self._info.get("version")
        return f"{self._name}:{version}" if version else self._name

    @property
    def source_name(self) -> str:
        return self.name

    @property
    def collection_name(self) -> str:
        return self._name

    @property
    def type(self) -> str:
        return self._type

    @property
    def version(self) -> str:
        return str(self._logged("version"))

    @property
    def id(self) -> str | None:
        self._refresh()
        value = self._info.get("id")
        return None if value is None else str(value)

    @property
    def entity(self) -> str:
        return str(self._logged("entity"))

    @property
    def project(self) -> str:
        return str(self._logged("project"))

    @property
    def qualified_name(self) -> str:
        """``entity/project/name:vN``."""
        return f"{self.entity}/{self.project}/{self.name}"

    @property
    def aliases(self) -> list[str]:
        self._refresh()
        return list(self._info.get("aliases") or [])

    @property
    def tags(self) -> list[str]:
        """The version's tags: the server's once it answered with the version, else the draft's."""
        self._refresh()
        return list(self._info.get("tags", self._tags))

    @tags.setter
    def tags(self, tags: list[str]) -> None:
        """A draft's tags (wandb's rule: letters, digits, ``-``, ``_``, single spaces between words)."""
        self._editable()
        self._tags = _tags(tags)

    @property
    def ttl(self) -> timedelta | None:
        """How long the server keeps the version after its creation, then moves it to the trash;
        None: until it is deleted."""
        self._refresh()
        if "ttl" not in self._info:
            return self._ttl
        seconds = self._info["ttl"]
        return None if seconds is None else timedelta(seconds=seconds)

    @ttl.setter
    def ttl(self, ttl: timedelta | None) -> None:
        self._editable()
        if ttl is not None and (not isinstance(ttl, timedelta) or ttl.total_seconds() < 1):
            raise ArtifactError(
                f"an artifact's ttl is a positive timedelta (whole seconds) or None, not {ttl!r}"
            )
        self._ttl = ttl

    @property
    def state(self) -> str:
        """``PENDING`` until the server has the version, then ``COMMITTED`` (wandb's states)."""
        self._refresh()
        return "COMMITTED" if self._info.get("version") else "PENDING"

    @property
    def created_at(self) -> Any:
        return self._logged("created_at")

    @property
    def size(self) -> int:
        if self._unloaded and "size" in self._info:
            return int(self._info["size"])
        return self.manifest.size

    @property
    def file_count(self) -> int:
        if self._unloaded and "file_count" in self._info:
            return int(self._info["file_count"])
        return len(self.manifest)

    @property
    def manifest(self) -> ArtifactManifest:
        if self._unloaded:
            with self._connection() as server:
                data = server.manifest(self.entity, self.project, self._name, self.version)
            self._manifest = ArtifactManifest.from_json(data)
            for entry in self._manifest.entries.values():
                entry._artifact = self
            self._unloaded = False
        self._hash_pending()
        return self._manifest

    @property
    def digest(self) -> str:
        if self._unloaded and "digest" in self._info:
            return str(self._info["digest"])
        return self.manifest.digest()

    def is_draft(self) -> bool:
        return not self._final

    def __repr__(self) -> str:
        return f"<Artifact {self.name} ({self._type})>"

    def _logged(self, key: str) -> Any:
        self._refresh()
        if key not in self._info:
            how = "log it with run.log_artifact() and call wait()" if not self._pending else "call wait()"
            if self._offline:
                how = "an offline run's artifacts get their versions when the run is synced (`wakelog sync`)"
            raise ArtifactNotLoggedError(f"artifact {self._name!r} has no {key} yet: {how}")
        return self._info[key]

    # -- building a draft ------------------------------------------------------------------
    def _editable(self) -> None:
        if self._final:
            raise ArtifactFinalizedError(
                f"artifact {self.name!r} is final (logged or fetched); use new_draft() to change it"
            )

    def _put(self, entry: ArtifactManifestEntry, overwrite: bool) -> ArtifactManifestEntry:
        if entry.path in self._manifest.entries and not overwrite:
            raise ArtifactError(
                f"artifact {self._name!r} already has an entry {entry.path!r}; "
                "pass overwrite=True to replace it"
            )
        entry._artifact = self
        self._manifest.entries[entry.path] = entry
        return entry

    def add_file(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        is_tmp: bool | None = False,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        overwrite: bool = False,
    ) -> ArtifactManifestEntry:
        """Add a file, as ``name`` (default: its file name). ``policy="mutable"`` (default) stores a
        copy taken when the artifact is logged; ``"immutable"`` promises the file will not change
        and uploads it from where it is."""
        self._editable()
        policy = policy or "mutable"
        if policy not in POLICIES:
            raise ArtifactError(f"add_file: policy must be 'mutable' or 'immutable', got {policy!r}")
        path = Path(local_path)
        if not path.is_file():
            raise ArtifactError(f"add_file: {str(path)!r} is not a file")
        entry_name = checked_path(
            Path(name).as_posix() if isinstance(name, os.PathLike) else name or path.name
        )
        entry = ArtifactManifestEntry(
            entry_name, "", size=path.stat().st_size, local_path=str(path.absolute())
        )
        if is_tmp:
            self._hash_entry(entry)
            folder, _, base = entry_name.rpartition("/")
            _, dot, ext = base.partition(".")
            entry.path = checked_path(f"{folder}/" * bool(folder) + entry.sha256[:20] + dot + ext)  # type: ignore[index]
        self._policies[entry.path] = policy
        return self._put(entry, overwrite)

    def add_dir(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        merge: bool = False,
    ) -> None:
        """Add every file under a folder, under ``name/`` (default: at the artifact's root)."""
        self._editable()
        root = Path(local_path)
        if not root.is_dir():
            raise ArtifactError(f"add_dir: {str(root)!r} is not a folder")
        prefix = f"{name.strip('/')}/" if name else ""
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.add_file(path, prefix + path.relative_to(root).as_posix(), policy=policy, overwrite=merge)

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "x", encoding: str | None = None) -> Iterator[IO[Any]]:
        """Open a new file to write into the artifact as ``name``; added when the block ends."""
        self._editable()
        checked = checked_path(name)
        if checked in self._manifest.entries:
            raise ArtifactError(f"artifact {self._name!r} already has an entry {checked!r}")
        if self._tmp_dir is None:
            self._tmp_dir = tempfile.mkdtemp(prefix="wakelog-artifact-")
        path = Path(self._tmp_dir, *checked.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, mode, encoding=encoding if "b" not in mode else None) as f:
            yield f
        self.add_file(path, checked)

    def add_reference(
        self,
        uri: str | ArtifactManifestEntry,
        name: str | None = None,
        checksum: bool = True,
        max_objects: int | None = None,
    ) -> list[ArtifactManifestEntry]:
        """Add a pointer to content elsewhere (``file://``, ``s3://``, ``http(s)://``); the server
        stores the reference and never fetches it (``_refs.py`` says what the digest is)."""
        self._editable()
        target = uri.ref if isinstance(uri, ArtifactManifestEntry) else uri
        if not isinstance(target, str) or "://" not in target:
            raise ArtifactError(f"add_reference: {target!r} is not a URI (file://, s3://, http(s)://)")
        entries = reference_entries(target, name, checksum=checksum, max_objects=max_objects)
        return [self._put(entry, overwrite=True) for entry in entries]

    def add(self, obj: Any, name: str, overwrite: bool = False) -> ArtifactManifestEntry:
        """Add a media object or table as ``<name>.<type>.json``, as wandb lays it out: a table's file
        holds the table itself, another object's its JSON stub; every media file they name (the
        images in a table's cells too) is an entry at the path the JSON gives (``media/…``), so the
        JSON resolves against the artifact's own files, wherever it is read."""
        self._editable()
        from wakelog.sdk.media import Media

        if not isinstance(obj, Media):
            raise ArtifactError(f"add: expected a wakelog media object or Table, got {type(obj).__name__}")
        if self._tmp_dir is None:
            self._tmp_dir = tempfile.mkdtemp(prefix="wakelog-artifact-")
        staging = Path(tempfile.mkdtemp(dir=self._tmp_dir))
        stub = obj.frozen().to_stub(staging, checked_path(name), 0)
        kind = str(stub.get("_type", "media"))
        target = staging / "entry.json"
        if kind == "table-file":
            kind = "table"
            table = json.loads((staging / "files" / str(stub["path"])).read_text(encoding="utf-8"))
            table.update(_type="table", ncols=stub.get("ncols"), nrows=stub.get("nrows"))
            target.write_text(json.dumps(table), encoding="utf-8")
        else:
            target.write_text(json.dumps(stub, default=str), encoding="utf-8")
        for media in sorted((staging / "files").rglob("*")):
            relative = media.relative_to(staging / "files").as_posix()
            if media.is_file() and not (kind == "table" and relative == stub["path"]):
                self.add_file(media, relative, overwrite=True)  # named by content: same name, same bytes
        return self.add_file(target, f"{name}.{kind}.json", overwrite=overwrite)

    def remove(self, item: str | os.PathLike[str] | ArtifactManifestEntry) -> None:
        """Remove an entry, or every entry under a folder path."""
        self._editable()
        path = item.path if isinstance(item, ArtifactManifestEntry) else Path(item).as_posix()
        doomed = [p for p in self._manifest.entries if p == path or p.startswith(path.rstrip("/") + "/")]
        if not doomed:
            raise FileNotFoundError(f"artifact {self._name!r} has no entry {path!r}")
        for p in doomed:
            del self._manifest.entries[p]
            self._policies.pop(p, None)

    def get_entry(self, name: str | os.PathLike[str]) -> ArtifactManifestEntry:
        path = Path(name).as_posix()
        try:
            return self.manifest.entries[path]
        except KeyError:
            raise KeyError(f"artifact {self.name!r} has no entry {path!r}") from None

    def get_path(self, name: str | os.PathLike[str]) -> ArtifactManifestEntry:
        """``get_entry`` (wandb's older name)."""
        return self.get_entry(name)

    def files(self, names: list[str] | None = None, per_page: int = 50) -> list[ArtifactManifestEntry]:
        entries = self.manifest.entries
        return [entries[n] for n in sorted(entries) if names is None or n in names]

    def new_draft(self) -> Artifact:
        """An editable copy with the same entries, for the next version (only changed files upload)."""
        draft = Artifact(self._name, self._type, self.description, copy.deepcopy(self.metadata))
        for entry in self.manifest.entries.values():
            clone = copy.copy(entry)
            clone.extra = dict(entry.extra)
            draft._put(clone, overwrite=True)
        return draft

    # -- hashing ---------------------------------------------------------------------------
    def _hash_entry(self, entry: ArtifactManifestEntry) -> None:
        assert entry.local_path is not None
        hashed = hash_file(Path(entry.local_path))
        entry.digest, entry.sha256, entry.size = hashed.digest, hashed.sha256, hashed.size

    def _hash_pending(self) -> None:
        with self._hash_lock:
            for entry in list(self._manifest.entries.values()):
                if not entry.digest and entry.local_path is not None:
                    self._hash_entry(entry)

    # -- logged artifacts ------------------------------------------------------------------
    def _refresh(self) -> None:
        """Take the version the uploader created for a logged artifact, once there is one."""
        if self._error is not None:
            raise ArtifactError(f"artifact {self._name!r} could not be logged: {self._error}")
        if self._pending is None or self._info.get("version"):
            return
        from wakelog.runlog.syncstate import SyncState

        run_dir, client_id = self._pending
        result = SyncState.load(run_dir).artifacts.get(client_id)
        if result is None:
            return
        if result.get("error"):
            raise ArtifactError(f"artifact {self._name!r} could not be created: {result['error']}")
        self._info.update(result)

    def wait(self, timeout: float | None = None) -> Artifact:
        """Block until the server has this logged artifact's version (``timeout`` seconds at most)."""
        if self._info.get("version"):
            return self
        if self._pending is None:
            raise ArtifactNotLoggedError(
                f"artifact {self._name!r} is not logged: log it with run.log_artifact()"
            )
        if self._offline:
            raise ArtifactNotLoggedError(
                f"artifact {self._name!r} belongs to an offline run: it gets its version when the run "
                "is uploaded with `wakelog sync`"
            )
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._refresh()
            if self._info.get("version"):
                return self
            if deadline is not None and time.monotonic() >= deadline:
                raise ArtifactNotLoggedError(f"artifact {self._name!r}: no version after {timeout} s")
            time.sleep(_WAIT_POLL)

    # -- downloading ---------------------------------------------------------------------
    def _connection(self) -> contextlib.AbstractContextManager[ArtifactServer]:
        """A server to read this version from for one operation (``_server.py``: who closes it)."""
        if self._reading is None:
            from wakelog.sdk.artifacts._resolve import default_server
            from wakelog.sdk.artifacts._server import opened

            self._reading = opened(default_server)
        return self._reading()

    def _default_root(self) -> Path:
        from wakelog.sdk._settings import resolve_settings

        base = resolve_settings().artifact_dir or os.path.join(".", "artifacts")
        return Path(base) / self.name

    def _downloader(self, server: ArtifactServer) -> Any:
        from wakelog.sdk.artifacts._cache import cache_from_settings
        from wakelog.sdk.artifacts._download import Downloader

        entity, project, version = self.entity, self.project, self.version

        def fetch(path: str, out: Any) -> None:
            server.download(entity, project, self._name, version, path, out)

        return Downloader(cache_from_settings(), fetch)

    def _download_entry(self, entry: ArtifactManifestEntry, root: str | None) -> str:
        target = Path(root) if root else self._default_root()
        with self._connection() as server:
            downloader = self._downloader(server)
            path = downloader.place(entry, target.joinpath(*entry.path.split("/")))
        downloader.cache.evict(downloader.used)
        return str(path)

    def download(
        self,
        root: str | os.PathLike[str] | None = None,
        allow_missing_references: bool = False,
        skip_cache: bool | None = None,
        path_prefix: str | None = None,
    ) -> str:
        """Download every file (through the cache, each verified) into ``root`` (default:
        ``<artifact_dir>/<name:vN>``); returns the folder."""
        target = Path(root) if root else self._default_root()
        entries = [
            e for e in self.manifest.entries.values() if not path_prefix or e.path.startswith(path_prefix)
        ]
        with self._connection() as server:
            downloader = self._downloader(server)
            for entry in entries:
                try:
                    downloader.place(entry, target.joinpath(*entry.path.split("/")))
                except (OSError, ArtifactError) as exc:
                    if not (allow_missing_references and entry.ref is not None):
                        raise
                    del exc
        downloader.cache.evict(downloader.used)
        return str(target)

    def checkout(self, root: str | os.PathLike[str] | None = None) -> str:
        """``download`` into ``root``, then delete every file there the artifact does not have."""
        target = Path(self.download(root))
        keep = {target.joinpath(*p.split("/")) for p in self.manifest.entries}
        for path in sorted(target.rglob("*"), reverse=True):
            if path.is_file() and path not in keep:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        return str(target)

    def verify(self, root: str | os.PathLike[str] | None = None) -> None:
        """Check that ``root`` holds exactly the artifact's files with their digests; raises
        ``ArtifactDigestError`` (a ``ValueError``, as wandb) naming the first difference."""
        from wakelog.sdk.artifacts._errors import ArtifactDigestError

        target = Path(root) if root else self._default_root()
        entries = self.manifest.entries
        found = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
        extra = sorted(found - set(entries))
        if extra:
            raise ArtifactDigestError(f"{target} has files the artifact does not: {extra[:5]}")
        for path, entry in sorted(entries.items()):
            if entry.ref is not None and entry.sha256 is None and path not in found:
                continue
            if path not in found:
                raise ArtifactDigestError(f"{target} lacks the artifact's file {path!r}")
            if hash_file(target.joinpath(*path.split("/"))).digest != entry.digest:
                raise ArtifactDigestError(f"{target / path}: content differs from the artifact's (digest)")

    # -- construction from the server -------------------------------------------------------
    @classmethod
    def _from_server(cls, info: dict[str, Any], reading: ServerUse) -> Artifact:
        """A version the server has, read through ``reading``; its manifest is fetched when first needed."""
        artifact = cls(str(info["name"]), str(info["type"]), info.get("description"), info.get("metadata"))
        artifact._unloaded = True
        artifact._info = dict(info)
        artifact._reading = reading
        artifact._final = True
        return artifact
