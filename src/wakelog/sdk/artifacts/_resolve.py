"""Finding an artifact version on the server from the paths users write.

``name``, ``name:alias``, ``name:v3``, ``project/name:…`` or ``entity/project/name:…``; without a
``:`` the label is ``latest``. A missing entity or project comes from the run or the settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wakelog.sdk.artifacts._errors import ArtifactError

if TYPE_CHECKING:
    from wakelog.sdk.artifacts._artifact import Artifact
    from wakelog.sdk.artifacts._server import ArtifactServer, ServerUse


def parse_path(path: str, entity: str | None, project: str | None) -> tuple[str | None, str | None, str, str]:
    """``(entity, project, name, label)`` for a path, with the given defaults where it has none."""
    if not isinstance(path, str) or not path.strip("/"):
        raise ArtifactError(f"expected an artifact path like 'name:alias', got {path!r}")
    parts = path.strip("/").split("/")
    if len(parts) > 3:
        raise ArtifactError(f"expected 'entity/project/name:alias', got {path!r}")
    name, _, label = parts[-1].partition(":")
    if len(parts) == 3:
        entity, project = parts[0], parts[1]
    elif len(parts) == 2:
        project = parts[0]
    return entity, project, name, label or "latest"


def default_server() -> ArtifactServer:
    """The settings' server, with the key ``wakelog login`` stored for it."""
    from wakelog.sdk import _hooks
    from wakelog.sdk._login import api_key_for
    from wakelog.sdk._settings import resolve_settings

    base_url = resolve_settings().base_url or ""
    return _hooks.artifact_server()(base_url, api_key_for(base_url) or "")


def fetch(
    server: ArtifactServer,
    path: str,
    *,
    entity: str | None,
    project: str | None,
    type: str | None = None,
    reading: ServerUse | None = None,
) -> Artifact:
    """The artifact version ``path`` names, asked of ``server``; ``ArtifactError`` when there is none.
    The artifact reads its manifest and files through ``reading`` (default: ``server``, borrowed)."""
    from wakelog.sdk.artifacts._artifact import Artifact
    from wakelog.sdk.artifacts._server import borrowed

    entity, project, name, label = parse_path(path, entity, project)
    entity = entity or server.default_entity()
    if not entity or not project:
        raise ArtifactError(f"say which project artifact {path!r} is in ('entity/project/{name}:{label}')")
    info = server.version(entity, project, name, label)
    if info is None:
        raise ArtifactError(f"artifact {entity}/{project}/{name}:{label} does not exist")
    if type is not None and info.get("type") != type:
        raise ArtifactError(
            f"artifact {entity}/{project}/{name}:{label} has type {info.get('type')!r}, not {type!r}"
        )
    return Artifact._from_server(info, reading or borrowed(server))
