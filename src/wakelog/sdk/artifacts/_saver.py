"""The run's artifact thread: what ``log_artifact`` leaves out of the training thread.

``log_artifact`` makes the artifact final and queues it here; this thread hashes its files (and
copies ``mutable`` ones into ``<run folder>/artifacts/staging/<id>/<sha256>``, hashing as it copies,
so what is uploaded is what was logged even if the file changes later), writes the manifest
beside the run log (``artifacts/<id>.json``, atomically) and only then appends the ``artifact``
record: a record always names a complete manifest whose files are on this machine (a draft's
unchanged entries whose copies went once uploaded: on the server). Uses and
links go through the same queue, so the run log keeps them in the order they were made.
``close()`` (at ``finish()``) waits for everything queued, before the exit record.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wakelog._artifacts import STAGING
from wakelog._threads import start_background
from wakelog._warn import warn
from wakelog.runlog import RecordType
from wakelog.sdk.artifacts._artifact import Artifact
from wakelog.sdk.artifacts._hashing import copy_hashing
from wakelog.sdk.artifacts._manifest import ArtifactManifestEntry

FOLDER = "artifacts"
_STOP = object()


class ArtifactSaver:
    def __init__(self, run_dir: Path, emit: Callable[[str, Any], None]) -> None:
        self.folder = run_dir / FOLDER
        self._emit = emit
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="wakelog-artifacts", daemon=True)
        start_background(self._thread)

    def log(self, artifact: Artifact, client_id: str, aliases: list[str]) -> None:
        self._queue.put((RecordType.ARTIFACT, artifact, client_id, aliases))

    def record(self, kind: str, data: dict[str, Any]) -> None:
        """A use or a link, kept in order with the artifacts logged before it."""
        self._queue.put((kind, data))

    def close(self, timeout: float | None = None) -> bool:
        """Finish what is queued; False when it took longer than ``timeout``."""
        self._queue.put(_STOP)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            try:
                if item[0] == RecordType.ARTIFACT:
                    self._save(*item[1:])
                else:
                    self._emit(*item)
            except Exception as exc:  # a vanished file must not stop the other artifacts
                if item[0] == RecordType.ARTIFACT:
                    item[1]._error = str(exc)
                warn(f"wakelog: could not log artifact: {exc}", RuntimeWarning)

    def _save(self, artifact: Artifact, client_id: str, aliases: list[str]) -> None:
        staging = self.folder.parent / STAGING / client_id
        try:
            with artifact._hash_lock:
                for entry in artifact._manifest.entries.values():
                    if entry.local_path is None:
                        continue
                    if artifact._policies.get(entry.path, "mutable") == "mutable":
                        _stage(entry, staging)
                    elif not entry.digest:
                        artifact._hash_entry(entry)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # no record will name these copies
            raise
        manifest = artifact._manifest
        entries = {p: {**e.to_json(), "local": e.local_path} for p, e in sorted(manifest.entries.items())}
        name = f"{FOLDER}/{client_id}.json"
        _write_atomic(self.folder / f"{client_id}.json", {"version": 1, "entries": entries})
        self._emit(
            RecordType.ARTIFACT,
            {
                "id": client_id,
                "name": artifact.collection_name,
                "type": artifact.type,
                "description": artifact.description,
                "metadata": artifact.metadata,
                "aliases": aliases,
                "tags": artifact._tags,
                "ttl": None if artifact._ttl is None else int(artifact._ttl.total_seconds()),
                "digest": manifest.digest(),
                "size": manifest.size,
                "file_count": len(manifest),
                "manifest": name,
            },
        )


def _stage(entry: ArtifactManifestEntry, staging: Path) -> None:
    """Copy the file into the artifact's staging folder, hashing it on the way; the entry then
    points there. A file gone whose content is known already (an entry of a draft made from a
    logged version, whose staged copy went once uploaded) keeps that content: the server has it."""
    assert entry.local_path is not None
    staging.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=staging, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as target:
            try:
                source = open(entry.local_path, "rb")  # noqa: SIM115 (closed below)
            except FileNotFoundError:
                if entry.sha256 and entry.digest:
                    return
                raise
            with source:
                hashed = copy_hashing(source, target)
        staged = staging / hashed.sha256
        os.replace(temp, staged)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    entry.digest, entry.sha256, entry.size = hashed.digest, hashed.sha256, hashed.size
    entry.local_path = str(staged)


def _write_atomic(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(temp, path)
