"""References: entries that point at content outside the artifact store (``add_reference``).

The server stores a reference, never fetches it. Its digest is what the SDK can see of the content
when ``checksum=True``: a ``file://`` file's base64 md5; an ``http(s)://`` object's ETag (a HEAD
request); an ``s3://`` object's ETag (through ``s3fs``). With ``checksum=False``, or for another
scheme, the digest is the URI itself, so the manifest changes only when the URI does. A reference
that cannot be reached while checksumming is an ``ArtifactError`` naming the URI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from wakelog.sdk.artifacts._errors import ArtifactDigestError, ArtifactError
from wakelog.sdk.artifacts._hashing import hash_file
from wakelog.sdk.artifacts._manifest import ArtifactManifestEntry, checked_path

#: wandb's default cap on the objects one directory/prefix reference expands to.
DEFAULT_MAX_OBJECTS = 10_000


def reference_entries(
    uri: str, name: str | None, *, checksum: bool, max_objects: int | None
) -> list[ArtifactManifestEntry]:
    scheme = urlsplit(uri).scheme
    limit = max_objects or DEFAULT_MAX_OBJECTS
    if scheme == "file":
        return _file_entries(uri, name, checksum, limit)
    if scheme in ("http", "https"):
        return [_http_entry(uri, name, checksum)]
    if scheme == "s3":
        return _s3_entries(uri, name, checksum, limit)
    return [ArtifactManifestEntry(checked_path(name or _base(uri)), uri, ref=uri)]


def _base(uri: str) -> str:
    base = PurePosixPath(unquote(urlsplit(uri).path)).name
    if not base:
        raise ArtifactError(f"add_reference({uri!r}): give a name (the URI names no file)")
    return base


def _file_entries(uri: str, name: str | None, checksum: bool, limit: int) -> list[ArtifactManifestEntry]:
    path = Path(unquote(urlsplit(uri).path))
    if path.is_file():
        return [_file_entry(path, name or path.name, checksum)]
    if not path.is_dir():
        if checksum:
            raise ArtifactError(f"add_reference({uri!r}): no such file or folder")
        return [ArtifactManifestEntry(checked_path(name or path.name), uri, ref=uri)]
    files = sorted(p for p in path.rglob("*") if p.is_file())
    if len(files) > limit:
        raise ArtifactError(f"add_reference({uri!r}): more than max_objects={limit} files")
    prefix = f"{name.rstrip('/')}/" if name else ""
    return [_file_entry(p, prefix + p.relative_to(path).as_posix(), checksum) for p in files]


def _file_entry(path: Path, name: str, checksum: bool) -> ArtifactManifestEntry:
    uri = path.absolute().as_uri()
    if not checksum:
        return ArtifactManifestEntry(checked_path(name), uri, ref=uri, size=path.stat().st_size)
    hashed = hash_file(path)
    return ArtifactManifestEntry(checked_path(name), hashed.digest, ref=uri, size=hashed.size)


def _http_entry(uri: str, name: str | None, checksum: bool) -> ArtifactManifestEntry:
    entry = ArtifactManifestEntry(checked_path(name or _base(uri)), uri, ref=uri)
    if not checksum:
        return entry
    import httpx

    try:
        response = httpx.head(uri, follow_redirects=True, timeout=30.0)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise ArtifactError(f"add_reference({uri!r}): cannot reach it to checksum it: {exc}") from exc
    etag = response.headers.get("etag")
    entry.digest = etag.strip('"') if etag else uri
    if "content-length" in response.headers:
        entry.size = int(response.headers["content-length"])
    if etag:
        entry.extra["etag"] = etag
    return entry


def _s3_entries(uri: str, name: str | None, checksum: bool, limit: int) -> list[ArtifactManifestEntry]:
    if not checksum:
        return [ArtifactManifestEntry(checked_path(name or _base(uri)), uri, ref=uri)]
    fs = _s3()
    path = uri.removeprefix("s3://")
    try:
        if fs.isfile(path):
            return [_s3_entry(fs.info(path), uri, name or _base(uri))]
        found = fs.find(path, detail=True, maxdepth=None)
    except OSError as exc:
        raise ArtifactError(f"add_reference({uri!r}): cannot reach it to checksum it: {exc}") from exc
    if not found:
        raise ArtifactError(f"add_reference({uri!r}): no such object or prefix")
    if len(found) > limit:
        raise ArtifactError(f"add_reference({uri!r}): more than max_objects={limit} objects")
    prefix = f"{name.rstrip('/')}/" if name else ""
    root = path.rstrip("/")
    return [
        _s3_entry(info, f"s3://{key}", prefix + key[len(root) + 1 :]) for key, info in sorted(found.items())
    ]


def _s3_entry(info: dict[str, Any], uri: str, name: str) -> ArtifactManifestEntry:
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
    entry = ArtifactManifestEntry(checked_path(name), etag or uri, ref=uri, size=info.get("size"))
    if etag:
        entry.extra["etag"] = etag
    return entry


def _s3() -> Any:
    try:
        import s3fs
    except ImportError:
        raise ArtifactError("s3:// references with checksum=True need s3fs (`pip install s3fs`)") from None
    return s3fs.S3FileSystem(
        client_kwargs={"endpoint_url": os.environ["AWS_ENDPOINT_URL"]}
        if "AWS_ENDPOINT_URL" in os.environ
        else {}
    )


def download_reference(entry: ArtifactManifestEntry, target: Path) -> None:
    """Fetch a reference's content into ``target`` (a temporary file the caller moves into place)."""
    assert entry.ref is not None
    scheme = urlsplit(entry.ref).scheme
    if scheme == "file":
        source = Path(unquote(urlsplit(entry.ref).path))
        if entry.digest != entry.ref and hash_file(source).digest != entry.digest:
            raise ArtifactDigestError(f"reference {entry.ref} changed since it was logged (digest mismatch)")
        shutil.copyfile(source, target)
    elif scheme in ("http", "https"):
        import httpx

        with httpx.stream("GET", entry.ref, follow_redirects=True, timeout=60.0) as response:
            response.raise_for_status()
            with open(target, "wb") as out:
                for block in response.iter_bytes():
                    out.write(block)
    elif scheme == "s3":
        _s3().get(entry.ref.removeprefix("s3://"), str(target))
    else:
        raise ArtifactError(f"cannot download reference {entry.ref}: unknown scheme {scheme!r}")
    if entry.size is not None and target.stat().st_size != entry.size:
        raise ArtifactDigestError(
            f"reference {entry.ref}: got {target.stat().st_size} bytes, the manifest says {entry.size}"
        )
