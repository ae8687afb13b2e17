"""``run.log_artifact``, ``run.use_artifact``, ``run.link_artifact`` and the model helpers built on
them (``log_model``, ``use_model``, ``link_model``, as wandb's): a run's artifact records.

Logging costs the training thread a snapshot of the entries and a queue put (``_saver.py`` does
the rest). A use resolves the version on the server for an online run (the training needs its
files); an offline run records the name as given, and the uploader resolves it when the run is
synced. A link is recorded and made by the uploader once the version exists.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wakelog._artifacts import check_alias
from wakelog.errors import CommError, UsageError
from wakelog.runlog import RecordType
from wakelog.sdk._values import BadValue, normalise
from wakelog.sdk.artifacts._artifact import Artifact
from wakelog.sdk.artifacts._errors import ArtifactError, ArtifactTypeError
from wakelog.sdk.artifacts._resolve import fetch
from wakelog.sdk.artifacts._server import opened

if TYPE_CHECKING:
    from wakelog.sdk._run import Run
    from wakelog.sdk.artifacts._saver import ArtifactSaver
    from wakelog.sdk.artifacts._server import ArtifactServer


def _aliases(aliases: Any) -> list[str]:
    if aliases is None:
        return []
    names = [aliases] if isinstance(aliases, str) else list(aliases)
    try:
        return list(dict.fromkeys(check_alias(a) if a != "latest" else a for a in names))
    except ValueError as exc:
        raise ArtifactError(str(exc)) from None


def as_artifact(run: Run, artifact_or_path: Any, name: str | None, type: str | None) -> Artifact:
    """The artifact ``log_artifact`` was given, or one made from a path or URI (as wandb)."""
    if isinstance(artifact_or_path, Artifact):
        return artifact_or_path
    if not isinstance(artifact_or_path, (str, os.PathLike)):
        raise ArtifactError(
            f"log_artifact takes an Artifact or a path, got {artifact_or_path.__class__.__name__}"
        )
    target = os.fspath(artifact_or_path)
    is_uri = "://" in target
    base = Path(urlsplit(target).path if is_uri else target).name or "artifact"
    artifact = Artifact(name or f"run-{run.id}-{base}", type or "unspecified")
    if is_uri:
        artifact.add_reference(target)
    elif os.path.isdir(target):
        artifact.add_dir(target)
    else:
        artifact.add_file(target)
    return artifact


def log_artifact(
    run: Run, saver: ArtifactSaver | None, artifact: Artifact, aliases: Any, tags: Any = None
) -> Artifact:
    names = _aliases(aliases)
    if artifact._pending is not None or not artifact.is_draft():
        raise ArtifactError(
            f"artifact {artifact.name!r} is already logged; use new_draft() for a new version"
        )
    # numpy scalars and the like become plain JSON on the caller's thread: a bad value is named here
    try:
        artifact.metadata = normalise(artifact.metadata, allow_media=False)
    except BadValue as exc:
        raise ArtifactError(f"artifact {artifact.name!r}: metadata {exc}") from None
    if tags:  # wandb's log_artifact(tags=…): added to the draft's own
        artifact.tags = [*artifact._tags, *([tags] if isinstance(tags, str) else tags)]
    artifact._final = True
    if saver is None or run.run_dir is None:
        return artifact  # a disabled run records nothing
    client_id = uuid.uuid4().hex
    artifact._pending = (run.run_dir, client_id)
    artifact._offline = run._uploader is None
    saver.log(artifact, client_id, ["latest", *[a for a in names if a != "latest"]])
    return artifact


def _connector(run: Run) -> Callable[[], ArtifactServer]:
    """Opens a connection to the run's server; whoever calls it closes what it gets."""
    from wakelog.sdk import _hooks
    from wakelog.sdk._login import api_key_for

    base_url = run.settings.base_url or ""
    return functools.partial(_hooks.artifact_server(), base_url, api_key_for(base_url) or "")


def _fetch(run: Run, wanted: str, type: str | None) -> Artifact:
    """The version ``wanted`` names on the run's server. The lookup's connection is closed here; the
    artifact opens one for each later read (its manifest, a download) and closes it after."""
    entity = run.entity or run.settings.entity or None
    connect = _connector(run)
    with closing(connect()) as server:
        return fetch(server, wanted, entity=entity, project=run.project, type=type, reading=opened(connect))


def use_artifact(run: Run, saver: ArtifactSaver | None, wanted: Any, type: str | None) -> Artifact:
    if isinstance(wanted, Artifact):
        return _use_object(run, saver, wanted)
    if not isinstance(wanted, str):
        raise ArtifactError(f"use_artifact takes a name like 'name:alias' or an Artifact, got {wanted!r}")
    if run._uploader is None:
        # Offline: recorded as written; the uploader resolves it when the run is synced.
        if saver is not None:
            saver.record(RecordType.USE_ARTIFACT, {"artifact": wanted, "type": type})
        try:
            return _fetch(run, wanted, type)
        except (CommError, UsageError):
            return _unresolved(wanted, type)
    artifact = _fetch(run, wanted, type)
    if saver is not None:
        saver.record(RecordType.USE_ARTIFACT, {"artifact": artifact.qualified_name, "type": artifact.type})
    return artifact


def _unresolved(wanted: str, type: str | None) -> Artifact:
    """What an offline run's ``use_artifact`` returns when no server answers: the name, final,
    without a version (the use is recorded and resolved on sync)."""
    name = wanted.rsplit("/", 1)[-1].partition(":")[0]
    artifact = Artifact(name, type or "unspecified")
    artifact._final = artifact._offline = True
    return artifact


def _use_object(run: Run, saver: ArtifactSaver | None, artifact: Artifact) -> Artifact:
    if artifact.is_draft():
        log_artifact(run, saver, artifact, None)
    if saver is not None:
        saver.record(RecordType.USE_ARTIFACT, _reference(artifact))
    return artifact


def _reference(artifact: Artifact) -> dict[str, Any]:
    """How a record names an artifact: its version once known, else the id it was logged with."""
    if artifact._info.get("version"):
        return {"artifact": artifact.qualified_name}
    if artifact._pending is None:
        raise ArtifactError(f"artifact {artifact.name!r} is not logged")
    return {"id": artifact._pending[1]}


def link_artifact(
    run: Run, saver: ArtifactSaver | None, artifact: Artifact, target_path: str, aliases: Any
) -> Artifact:
    parts = [p for p in str(target_path).split("/") if p]
    if not parts or len(parts) > 3:
        raise ArtifactError(f"link_artifact: expected a target like 'registry/name', got {target_path!r}")
    collection = parts[-1].partition(":")[0]
    entity = parts[0] if len(parts) == 3 else None
    if artifact.is_draft():
        log_artifact(run, saver, artifact, None)
    if saver is not None:
        data = {
            **_reference(artifact),
            "entity": entity,
            "collection": collection,
            "aliases": _aliases(aliases),
        }
        saver.record(RecordType.LINK_ARTIFACT, data)
    return artifact


#: The project wandb's ``link_model`` links into; wakelog's registry is per entity, so it only names it.
MODEL_REGISTRY = "model-registry"


def _check_model(artifact: Artifact, call: str) -> None:
    if "model" not in artifact.type.lower():
        raise ArtifactTypeError(
            f"{call}: artifact {artifact.name!r} has type {artifact.type!r}; only 'model' artifacts "
            "(a type containing 'model') can be used here"
        )


def use_model(run: Run, saver: ArtifactSaver | None, name: str) -> str:
    """``use_artifact`` + ``download``: the model's folder, or its only file (as wandb)."""
    artifact = use_artifact(run, saver, name, None)
    if not artifact._info.get("version"):
        raise ArtifactError(
            f"use_model({name!r}): no server answered; an offline run can only download models "
            "from a reachable server"
        )
    _check_model(artifact, "use_model")
    folder = artifact.download()
    found = os.listdir(folder)
    return os.path.join(folder, found[0]) if len(found) == 1 else folder


def link_model(
    run: Run,
    saver: ArtifactSaver | None,
    path: Any,
    registered_model_name: str,
    name: str | None,
    aliases: Any,
) -> Artifact:
    """Log ``path`` as a version of the model artifact ``name`` (its type kept when the name exists
    already) and link it into the registry collection ``registered_model_name``."""
    if not isinstance(registered_model_name, str) or "/" in registered_model_name:
        raise ArtifactTypeError(
            f"link_model: give only the registered model's name, without entity or project, "
            f"got {registered_model_name!r}"
        )
    type = "model"
    if name is not None:
        type = _existing_type(run, name) or type
    artifact = as_artifact(run, path, name, type)
    log_artifact(run, saver, artifact, None)
    return link_artifact(run, saver, artifact, f"{MODEL_REGISTRY}/{registered_model_name}", aliases)


def _existing_type(run: Run, name: str) -> str | None:
    """The type of ``name:latest`` in the run's project, when the server has it (else None)."""
    try:
        existing = _fetch(run, f"{name}:latest", None)
    except (CommError, UsageError):
        return None
    _check_model(existing, "link_model")
    return existing.type
