"""References: entries that point at content outside the artifact store (``add_reference``).

The server stores a reference, never fetches it. Its digest is what the SDK can see of the content
when ``checksum=True``: a ``file://`` file's base64 md5; an ``http(s)://`` object's ETag (from a
GET whose body is not read, as wandb; the URI when the server sends none); an ``s3://`` object's
ETag and version (through ``s3fs``). With ``checksum=False``, or for another scheme, the digest is
the URI itself, so the manifest changes only when the URI does. A reference that cannot be reached
while checksumming is an ``ArtifactError`` naming the URI. A download fetches from the source and
checks it against the digest first: a changed source is an ``ArtifactDigestError``, a missing or
unreachable one an ``ArtifactError``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
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
    # A GET whose body is never read, as wandb: servers (and presigned URLs) that refuse HEAD answer it.
    with _http_get(uri, "cannot reach it to checksum it") as response:
        etag = response.headers.get("etag")
        length = response.headers.get("content-length")
    entry.digest = _strip_etag(etag) if etag else uri
    if length is not None and length.isdigit():
        entry.size = int(length)
    if etag:
        entry.extra["etag"] = etag
    return entry


def _strip_etag(etag: str) -> str:
    return etag.removeprefix("W/").strip('"')


@contextlib.contextmanager
def _http_get(uri: str, failing: str) -> Iterator[Any]:
    """A streamed GET of ``uri``; any failure (unreachable, an error status) is an ``ArtifactError``
    saying what could not be done."""
    import httpx

    from wakelog._http import client_options

    try:
        options = client_options(uri)  # the CA bundle and proxies the environment names
    except ValueError as exc:
        raise ArtifactError(f"reference {uri}: {failing}: {exc}") from exc
    try:
        with httpx.stream("GET", uri, follow_redirects=True, timeout=60.0, **options) as response:
            if response.status_code >= 400:
                raise ArtifactError(f"reference {uri}: {failing}: HTTP {response.status_code}")
            yield response
    except httpx.HTTPError as exc:
        raise ArtifactError(f"reference {uri}: {failing}: {exc}") from exc


def _checksummed(entry: ArtifactManifestEntry) -> bool:
    """Whether the entry's digest is a checksum of the content (not its URI: ``checksum=False``)."""
    return entry.digest != entry.ref


def _changed(entry: ArtifactManifestEntry, found: str | None) -> ArtifactDigestError:
    return ArtifactDigestError(
        f"reference {entry.ref} changed since it was logged: its checksum is {found!r}, the "
        f"artifact has {entry.digest!r}; the file is not used"
    )


def _download_http(entry: ArtifactManifestEntry, target: Path) -> None:
    assert entry.ref is not None
    with _http_get(entry.ref, "cannot download it") as response:
        etag = response.headers.get("etag")
        if _checksummed(entry) and (_strip_etag(etag) if etag else entry.ref) != entry.digest:
            raise _changed(entry, etag)
        with open(target, "wb") as out:
            for block in response.iter_bytes():
                out.write(block)


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
    version = info.get("VersionId")
    if version and version != "null":
        entry.extra["versionID"] = version  # wandb's key: a download fetches this very version
    return entry


def _s3(version_aware: bool = False) -> Any:
    """An ``s3fs`` file system; the endpoint is wandb's ``AWS_S3_ENDPOINT_URL`` or the usual
    ``AWS_ENDPOINT_URL``, the region ``AWS_REGION`` (else the AWS configuration's)."""
    try:
        import s3fs
    except ImportError:
        raise ArtifactError("s3:// references with checksum=True need s3fs (`pip install s3fs`)") from None
    client: dict[str, str] = {}
    endpoint = os.environ.get("AWS_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        client["endpoint_url"] = endpoint
    if os.environ.get("AWS_REGION"):
        client["region_name"] = os.environ["AWS_REGION"]
    # No listings or instance cache: a changed object must be seen as changed.
    return s3fs.S3FileSystem(
        client_kwargs=client, version_aware=version_aware, skip_instance_cache=True, use_listings_cache=False
    )


def _download_s3(entry: ArtifactManifestEntry, target: Path) -> None:
    assert entry.ref is not None
    version = entry.extra.get("versionID")
    fs = _s3(version_aware=bool(version))
    key = entry.ref.removeprefix("s3://")
    options = {"version_id": version} if version else {}
    try:
        if _checksummed(entry):
            etag = str(fs.info(key, **options).get("ETag") or "").strip('"')
            if etag != entry.digest:
                raise _changed(entry, etag)
        fs.get(key, str(target), **options)
    except FileNotFoundError:
        raise ArtifactError(f"reference {entry.ref} is missing: the object is gone") from None
    except OSError as exc:
        raise ArtifactError(f"reference {entry.ref}: cannot download it: {exc}") from exc


def download_reference(entry: ArtifactManifestEntry, target: Path) -> None:
    """Fetch a reference's content into ``target`` (a temporary file the caller moves into place)."""
    assert entry.ref is not None
    scheme = urlsplit(entry.ref).scheme
    if scheme == "file":
        source = Path(unquote(urlsplit(entry.ref).path))
        if not source.is_file():
            raise ArtifactError(f"reference {entry.ref} is missing: no such file")
        shutil.copyfile(source, target)
        if _checksummed(entry) and (found := hash_file(target).digest) != entry.digest:
            raise _changed(entry, found)  # checked on the copy: what is used is what was checked
    elif scheme in ("http", "https"):
        _download_http(entry, target)
    elif scheme == "s3":
        _download_s3(entry, target)
    else:
        raise ArtifactError(f"cannot download reference {entry.ref}: unknown scheme {scheme!r}")
    if entry.size and target.stat().st_size != entry.size:  # 0: a size that was not known
        raise ArtifactDigestError(
            f"reference {entry.ref}: got {target.stat().st_size} bytes, the manifest says {entry.size}"
        )
