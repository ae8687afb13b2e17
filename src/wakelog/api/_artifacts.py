"""``Api.artifact``, ``Api.artifact_versions`` and the artifacts of an ``Api`` run, as wandb's.

Artifacts come back as ``wakelog.Artifact`` objects bound to the API's server (borrowed: they read
through it until ``Api.close``): their manifests are fetched when first needed and their files
download through the local cache (``sdk/artifacts``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wakelog.sdk.artifacts import Artifact
from wakelog.sdk.artifacts._errors import ArtifactError
from wakelog.sdk.artifacts._resolve import fetch, parse_path
from wakelog.sdk.artifacts._server import borrowed

if TYPE_CHECKING:
    from wakelog.api._api import Api
    from wakelog.transport.artifacts import HttpArtifactServer


def artifact(api: Api, path: str, type: str | None = None) -> Artifact:
    return fetch(
        api._artifacts(), path, entity=api.default_entity, project=api.settings["project"], type=type
    )


def artifact_versions(api: Api, type_name: str, name: str) -> list[Artifact]:
    """Every version of ``[entity/project/]name`` (newest first) whose type is ``type_name``."""
    server = api._artifacts()
    entity, project, collection, _ = parse_path(name, api.default_entity, api.settings["project"])
    if not entity or not project:
        raise ArtifactError(f"say which project artifact {name!r} is in ('entity/project/{collection}')")
    versions = server.versions(entity, project, collection)
    return [_bound(server, v) for v in versions if type_name is None or v.get("type") == type_name]


def run_artifacts(api: Api, entity: str, project: str, run_id: str, which: str) -> list[Artifact]:
    """The versions a run logged (``which="logged"``) or used (``"used"``)."""
    server = api._artifacts()
    answer = server.client._request("GET", f"/api/v1/runs/{entity}/{project}/{run_id}/artifacts").json()
    return [_bound(server, v) for v in answer.get(which, [])]


def _bound(server: HttpArtifactServer, info: dict[str, Any]) -> Artifact:
    return Artifact._from_server(info, borrowed(server))
