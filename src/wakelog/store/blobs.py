"""Content-addressed blob storage through fsspec: a local folder, or any S3-compatible bucket.

Blobs are stored under their sha256 (``ab/cdef…``); a name a user chose is never part of a path.
Uploads arrive in chunks at increasing offsets into a staging object, so an interrupted upload
resumes where it stopped; the content is hashed on completion and must match its address.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from typing import Any

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _race_errors() -> tuple[type[BaseException], ...]:
    """What the file system raises when a staged object changes or goes while it is read."""
    try:
        from s3fs.utils import FileExpired
    except ImportError:
        return (FileNotFoundError,)
    return (FileNotFoundError, FileExpired)


_RACE_ERRORS = _race_errors()
READ_CHUNK = 1024 * 1024


class BlobError(ValueError):
    """A bad address, a chunk at the wrong offset, or content that does not match its hash."""


def check_sha256(sha256: str) -> str:
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise BlobError("a blob address is 64 lower-case hexadecimal characters (its sha256)")
    return sha256


class BlobStore:
    """Blobs under ``root``: a path or URL fsspec understands (``/var/lib/wakelog/blobs``, ``s3://b/p``)."""

    def __init__(self, root: str, **storage_options: Any) -> None:
        import fsspec

        self.fs, path = fsspec.core.url_to_fs(root, **storage_options)
        self.root = path.rstrip("/")
        protocols = (self.fs.protocol,) if isinstance(self.fs.protocol, str) else self.fs.protocol
        self._local = "file" in protocols or "local" in protocols
        if self._local:
            self.fs.makedirs(self.root, exist_ok=True)

    def _path(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.root}/{sha256[:2]}/{sha256}"

    def _staging(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.root}/staging/{sha256}"

    def exists(self, sha256: str) -> bool:
        return self.fs.exists(self._path(sha256))

    def size(self, sha256: str) -> int:
        return int(self.fs.size(self._path(sha256)))

    def received(self, sha256: str) -> int:
        """How many bytes of an unfinished upload are staged (0 if none)."""
        staging = self._staging(sha256)
        return int(self.fs.size(staging)) if self.fs.exists(staging) else 0

    def write_chunk(self, sha256: str, offset: int, data: bytes, total: int) -> int:
        """Stage ``data`` at ``offset``; when ``total`` bytes are there, verify and publish.

        Returns the bytes received so far. Object stores cannot append, so a staged upload is
        rewritten whole per chunk there; chunks are large (MiBs) to keep that rare.
        """
        if self.exists(sha256):
            return total
        staged = self.received(sha256)
        if offset != staged:
            raise BlobError(f"expected the chunk at offset {staged}, got {offset}")
        if staged + len(data) > total:
            raise BlobError(f"the chunk goes past the declared size {total}")
        staging = self._staging(sha256)
        self.fs.makedirs(staging.rsplit("/", 1)[0], exist_ok=True)
        try:
            if self._local:
                with self.fs.open(staging, "ab") as f:
                    f.write(data)
            else:
                previous = self.fs.cat_file(staging) if staged else b""
                self.fs.pipe_file(staging, previous + data)
            received = staged + len(data)
            if received == total:
                self._publish(sha256, staging)
        except _RACE_ERRORS:
            # Another upload of the same content moved or rewrote the staging object meanwhile.
            if self.exists(sha256):
                return total
            raise BlobError(
                "another upload of the same content got in the way; ask where to resume"
            ) from None
        return received

    def _publish(self, sha256: str, staging: str) -> None:
        digest = hashlib.sha256()
        with self.fs.open(staging, "rb") as f:
            while block := f.read(READ_CHUNK):
                digest.update(block)
        if digest.hexdigest() != sha256:
            if self.exists(sha256):  # two uploads interleaved, and the other one finished
                return
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(staging)
            raise BlobError("the uploaded content does not match its sha256; upload it again")
        target = self._path(sha256)
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        self.fs.mv(staging, target)

    def put(self, data: bytes) -> str:
        """Store ``data`` whole; returns its sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(sha256):
            self.write_chunk(sha256, 0, data, len(data))
        return sha256

    def open(self, sha256: str) -> Iterator[bytes]:
        with self.fs.open(self._path(sha256), "rb") as f:
            while block := f.read(READ_CHUNK):
                yield block
