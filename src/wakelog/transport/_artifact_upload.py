"""The uploader's artifact work: act on ``artifact``, ``use_artifact`` and ``link_artifact`` records.

Before a batch holding such records goes to the server, they are queued in ``sync.json``; after,
each is acted on in log order: a logged artifact's manifest (``artifacts/<id>.json`` in the run
folder, written by the SDK) is POSTed, the blobs the server misses are uploaded through the run's
blob routes and it is POSTed again (``ArtifactClient.create_version``); a use or a link names the
version, resolved against the run's entity and project (a use recorded offline is resolved here,
on sync). Every action is idempotent on the server (a version by its digest), and a record is
queued at most once (``artifact_seq`` and the queue), so an uploader restart repeats nothing that
shows. A refusal (a bad name, an unknown artifact) is one warning and the action is dropped; the
answer for each logged artifact goes into ``sync.json`` for ``Artifact.wait()``. An artifact's
staged copies (``STAGING``) are deleted once it is made or refused, the rest once the run is uploaded.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wakelog._artifacts import STAGING
from wakelog._warn import warn
from wakelog.runlog import RecordType
from wakelog.runlog.reader import Record
from wakelog.runlog.syncstate import SyncState
from wakelog.transport.artifacts import ArtifactClient
from wakelog.transport.client import RejectedError, ServerClient

KINDS = (RecordType.ARTIFACT, RecordType.USE_ARTIFACT, RecordType.LINK_ARTIFACT)
_ENTRY_FIELDS = ("digest", "sha256", "size", "ref", "extra")


class ArtifactActions:
    def __init__(self, run_dir: Path, client: ServerClient, state: Callable[[], SyncState]) -> None:
        self.run_dir = run_dir
        self.api = ArtifactClient(client)
        self._state = state

    def note(self, records: list[Record]) -> bool:
        """Queue the artifact records of a batch about to be sent; True when any was new."""
        state = self._state()
        queued = {item[0] for item in state.artifact_queue}
        new = [
            [r.seq, r.type, r.data]
            for r in records
            if r.type in KINDS and r.seq > state.artifact_seq and r.seq not in queued
        ]
        state.artifact_queue.extend(new)
        return bool(new)

    def process(self, save: Callable[[], None]) -> None:
        """Act on every queued record, in order; ``RetryableError`` leaves the rest for later."""
        state = self._state()
        while state.artifact_queue:
            seq, kind, data = state.artifact_queue[0]
            try:
                self._act(kind, data, state)
            except RejectedError as exc:
                self._refused(kind, data, state, exc)
            if kind == RecordType.ARTIFACT:  # made or refused: its staged copies are not needed again
                shutil.rmtree(self.run_dir / STAGING / str(data["id"]), ignore_errors=True)
            state.artifact_queue.pop(0)
            state.artifact_seq = max(state.artifact_seq, seq)
            save()

    def clean(self) -> None:
        """The run is uploaded: staged copies left (a training killed while copying) go too."""
        shutil.rmtree(self.run_dir / STAGING, ignore_errors=True)

    def _act(self, kind: str, data: dict[str, Any], state: SyncState) -> None:
        if kind == RecordType.ARTIFACT:
            state.artifacts[str(data["id"])] = self._create(data, state.run_path)
        elif kind == RecordType.USE_ARTIFACT:
            self.api.mark_used(state.run_path, self._target(data, state))
        else:
            entity = data.get("entity") or state.run_path.split("/", 1)[0]
            self.api.link(
                entity, str(data["collection"]), self._target(data, state), list(data.get("aliases") or [])
            )

    def _create(self, data: dict[str, Any], run_path: str) -> dict[str, Any]:
        entity, project, run_id = run_path.split("/", 2)
        try:
            doc = json.loads((self.run_dir / str(data["manifest"])).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RejectedError(0, f"its manifest file cannot be read: {exc}") from None
        entries = doc["entries"]
        local = {
            e["sha256"]: Path(e["local"]) for e in entries.values() if e.get("local") and e.get("sha256")
        }
        body = {
            "name": data["name"],
            "type": data["type"],
            "description": data.get("description"),
            "metadata": data.get("metadata") or {},
            "aliases": [a for a in data.get("aliases") or [] if a != "latest"],
            "tags": data.get("tags") or [],
            "ttl": data.get("ttl"),
            "manifest": {
                "version": 1,
                "entries": {p: {k: e.get(k) for k in _ENTRY_FIELDS} for p, e in entries.items()},
            },
            "run_id": run_id,
        }
        return self.api.create_version(entity, project, body, local, run_path=run_path)

    @staticmethod
    def _target(data: dict[str, Any], state: SyncState) -> str:
        """``entity/project/name:label`` of the version a use or link names."""
        entity, project, _ = state.run_path.split("/", 2)
        client_id = data.get("id")
        if client_id is not None:
            made = state.artifacts.get(str(client_id)) or {}
            if "version" not in made:
                raise RejectedError(0, "the artifact it names was not created")
            return f"{made['entity']}/{made['project']}/{made['name']}:{made['version']}"
        parts = str(data["artifact"]).split("/")
        return "/".join([entity, project][: 3 - len(parts)] + parts)

    def _refused(self, kind: str, data: dict[str, Any], state: SyncState, exc: RejectedError) -> None:
        what = data.get("name") or data.get("artifact") or data.get("collection")
        if kind == RecordType.ARTIFACT:
            state.artifacts[str(data["id"])] = {"error": exc.detail}
        warn(f"wakelog: {self.run_dir}: the server refused {kind} {what!r}: {exc.detail}")
