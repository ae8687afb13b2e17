"""The artifact routes of the server API, for the uploader and for the SDK's ``ArtifactServer``.

``ArtifactClient`` wraps a ``ServerClient`` (same auth, same error sorting: ``RetryableError``,
``RejectedError``): it creates versions (uploading the blobs the server says it misses, then
asking again), records use and registry links, and reads versions, manifests and file contents.
``HttpArtifactServer`` is what ``wakelog/__init__.py`` plugs into the SDK (``sdk/_hooks.py``).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from wakelog.transport.client import RejectedError, RetryableError, ServerClient

#: How often a version is asked for again after uploading what the server said it misses.
CREATE_ATTEMPTS = 3
#: Files up to this size are uploaded whole, up to ``BATCH_FILES`` (and the client's
#: ``upload_chunk`` bytes) a request: a folder of 10k small files takes 10 requests, not 20k.
#: Bigger ones go in chunks.
SMALL_FILE = 1024 * 1024
BATCH_FILES = 1000
#: A version's JSON over this many bytes is sent gzipped (10k files' manifest: ~2 MB, ~3× less).
GZIP_MANIFEST_OVER = 64 * 1024


def _q(part: str) -> str:
    return quote(part, safe="")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise RejectedError(409, f"{path} is gone, so its content cannot be uploaded: {exc}") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RejectedError(409, f"{path} is gone, so its content cannot be uploaded: {exc}") from None


def _missing(exc: RejectedError) -> list[str]:
    details = exc.body.get("details")
    found = details.get("missing") if isinstance(details, dict) else exc.body.get("missing")
    return [str(sha) for sha in found] if isinstance(found, list) else []


def _manifest_body(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A version's JSON, gzipped past ``GZIP_MANIFEST_OVER`` bytes (the server unpacks it): a
    manifest of many files gets through a proxy's body limit (nginx's 1 MB) and a slow link."""
    # encoded as httpx encodes ``json=``: compact, UTF-8, NaN refused
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    headers = {"Content-Type": "application/json"}
    if len(payload) > GZIP_MANIFEST_OVER:
        payload = gzip.compress(payload, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return payload, headers


class ArtifactClient:
    def __init__(self, client: ServerClient) -> None:
        self.client = client

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client._request(method, path, **kwargs)

    def create_version(
        self, entity: str, project: str, body: dict[str, Any], local: dict[str, Path], *, run_path: str
    ) -> dict[str, Any]:
        """POST the version; upload what the server misses (``local``: sha256 → file) and retry.
        Idempotent: the same manifest again answers the existing version."""
        route = f"/api/v1/projects/{_q(entity)}/{_q(project)}/artifacts"
        payload, headers = _manifest_body(body)
        for _ in range(CREATE_ATTEMPTS):
            try:
                answer: dict[str, Any] = self._request("POST", route, content=payload, headers=headers).json()
                return answer
            except RejectedError as exc:
                if exc.code != "artifact_incomplete":
                    raise
                self._upload_missing(_missing(exc), local, run_path)
        raise RetryableError(
            f"the server still misses content of artifact {body['name']!r} after uploading it"
        )

    def _upload_missing(self, missing: list[str], local: dict[str, Path], run_path: str) -> None:
        """Small files go many to a request (``upload_whole``), big ones in resumable chunks."""
        unknown = [sha for sha in missing if sha not in local]
        if unknown:
            raise RejectedError(409, f"the server misses content this machine does not have: {unknown[:3]}")
        batch: list[tuple[str, bytes]] = []
        batch_bytes = 0
        for sha in missing:
            path = local[sha]
            size = _size(path)
            if size > min(SMALL_FILE, self.client.upload_chunk):
                self.client.upload_content(run_path, path, sha, size)
                continue
            if batch and (batch_bytes + size > self.client.upload_chunk or len(batch) >= BATCH_FILES):
                self.client.upload_whole(run_path, batch)
                batch, batch_bytes = [], 0
            batch.append((sha, _read(path)))
            batch_bytes += size
        if batch:
            self.client.upload_whole(run_path, batch)

    def mark_used(self, run_path: str, artifact: str) -> None:
        self._request("POST", f"/api/v1/runs/{run_path}/artifacts/used", json={"artifact": artifact})

    def link(self, entity: str, collection: str, artifact: str, aliases: list[str]) -> dict[str, Any]:
        route = f"/api/v1/registry/{_q(entity)}/{_q(collection)}/links"
        answer: dict[str, Any] = self._request(
            "POST", route, json={"artifact": artifact, "aliases": aliases}
        ).json()
        return answer

    def version(self, entity: str, project: str, name: str, label: str) -> dict[str, Any] | None:
        try:
            answer: dict[str, Any] = self._request(
                "GET", self._version_path(entity, project, name, label)
            ).json()
        except RejectedError as exc:
            if exc.status == 404:
                return None
            raise
        return answer

    def versions(self, entity: str, project: str, name: str) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self._request(
            "GET", f"/api/v1/artifacts/{_q(entity)}/{_q(project)}/{_q(name)}/versions"
        ).json()
        return answer

    def manifest(self, entity: str, project: str, name: str, version: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._request(
            "GET", self._version_path(entity, project, name, version) + "/manifest"
        ).json()
        return answer

    def download(self, entity: str, project: str, name: str, version: str, path: str, out: BinaryIO) -> None:
        route = self._version_path(entity, project, name, version) + "/files/" + quote(path, safe="/")
        http = self.client._http
        with http.stream("GET", route) as response:
            if response.status_code >= 400:
                response.read()
                self.client._raise_for(response)
            for block in response.iter_bytes():
                out.write(block)

    @staticmethod
    def _version_path(entity: str, project: str, name: str, label: str) -> str:
        return f"/api/v1/artifacts/{_q(entity)}/{_q(project)}/{_q(name)}:{_q(label)}"


class HttpArtifactServer(ArtifactClient):
    """The SDK's ``ArtifactServer`` over HTTP, with its own connection."""

    def __init__(self, base_url: str, api_key: str, **options: Any) -> None:
        super().__init__(ServerClient(base_url, api_key, **options))

    def default_entity(self) -> str | None:
        return self.client.whoami()

    def close(self) -> None:
        self.client.close()
