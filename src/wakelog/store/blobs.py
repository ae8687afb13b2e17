"""Content-addressed blob storage through fsspec: a local folder, or any S3-compatible bucket.

Blobs are stored under their sha256 (``ab/cdef…``); a name a user chose is never part of a path.
Uploads arrive in chunks at increasing offsets into the staging area of their owner (the
uploading user), so an interrupted upload resumes where it stopped and nobody else's chunks mix
in: one file in a folder, one object per chunk in a bucket (``blob_parts``). The content is
hashed on completion and must match its address. That check runs for content stored already too:
a finished upload proves its owner holds the content (the server lets only holders attach it to
runs).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from wakelog.errors import Error
from wakelog.store.blob_parts import SUFFIX, Parts, upload_of

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_OWNER = re.compile(r"^[0-9a-z]{0,32}$")


def _race_errors(local: bool) -> tuple[type[BaseException], ...]:
    """What the file system raises when a staged object changes or goes while it is read. Asked
    for a store in a bucket only: s3fs takes a quarter of a second to import (every server start
    and CLI command would pay it)."""
    if local:
        return (FileNotFoundError,)
    try:
        from s3fs.utils import FileExpired
    except ImportError:
        return (FileNotFoundError,)
    return (FileNotFoundError, FileExpired)


READ_CHUNK = 1024 * 1024


def _mtime(info: dict[str, Any]) -> float:
    """When a listed object was last written: ``mtime`` locally, ``LastModified`` in buckets."""
    if "mtime" in info:
        return float(info["mtime"])
    modified = info.get("LastModified") or info.get("last_modified")
    return modified.timestamp() if modified is not None else 0.0


class BlobError(Error, ValueError):
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
        self._race_errors = _race_errors(self._local)
        if self._local:
            self.fs.makedirs(self.root, exist_ok=True)

    def _path(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.root}/{sha256[:2]}/{sha256}"

    def _staging(self, sha256: str, owner: str) -> str:
        check_sha256(sha256)
        if not _OWNER.match(owner):
            raise BlobError(f"an upload owner is up to 32 lower-case letters and digits, not {owner!r}")
        return f"{self.root}/staging/{owner}/{sha256}" if owner else f"{self.root}/staging/{sha256}"

    def _parts(self, sha256: str, owner: str) -> Parts:
        return Parts(self.fs, self._staging(sha256, owner) + SUFFIX)

    def exists(self, sha256: str) -> bool:
        return bool(self.fs.exists(self._path(sha256)))

    def size(self, sha256: str) -> int:
        return int(self.fs.size(self._path(sha256)))

    def received(self, sha256: str, owner: str = "") -> int:
        """How many bytes of ``owner``'s unfinished upload are staged (0 if none)."""
        if not self._local:
            return self._parts(sha256, owner).received()[1]
        try:
            return int(self.fs.size(self._staging(sha256, owner)))
        except FileNotFoundError:  # none, or just published by another upload of the same content
            return 0

    def write_chunk(self, sha256: str, offset: int, data: bytes, total: int, owner: str = "") -> int:
        """Stage ``data`` at ``offset`` of ``owner``'s upload; when ``total`` bytes are there,
        verify them and publish (content stored already stays as it is).

        Returns the bytes received so far; ``total`` only once the content matched its hash.
        """
        staged = self.received(sha256, owner)
        if offset != staged:
            raise BlobError(f"expected the chunk at offset {staged}, got {offset}")
        if staged + len(data) > total:
            raise BlobError(f"the chunk goes past the declared size {total}")
        received = staged + len(data)
        try:
            if self._local:
                staging = self._staging(sha256, owner)
                self._write_local(staging, offset, data)
                if received == total:
                    self._publish_file(sha256, staging)
            else:
                parts = self._parts(sha256, owner)
                parts.write(offset, data)
                if received == total:
                    self._publish_parts(sha256, parts, total)
        except self._race_errors:
            # Another upload of the same content by the same owner moved or rewrote what was
            # staged meanwhile. This upload proved nothing, even if the content is stored now.
            raise BlobError(
                "another upload of the same content got in the way; ask where to resume"
            ) from None
        return received

    def _write_local(self, staging: str, offset: int, data: bytes) -> None:
        """Write at ``offset``, not appended: two uploads of the same content sending the same
        chunk at once then write the same bytes to the same place."""
        self.fs.makedirs(staging.rsplit("/", 1)[0], exist_ok=True)
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def _publish_file(self, sha256: str, staging: str) -> None:
        """Take the staged file under a name of this upload's own, check its hash, then rename it
        into place (atomic on one file system). Another upload of the same content by the same
        owner may publish it and start a new staged file at the same name at any moment: what is
        published is the file that was hashed, never whatever is staged by then."""
        mine = f"{staging}.{uuid.uuid4().hex}.publishing"
        os.rename(staging, mine)  # FileNotFoundError: another upload took it first
        try:
            digest = hashlib.sha256()
            with open(mine, "rb") as f:
                while block := f.read(READ_CHUNK):
                    digest.update(block)
            if digest.hexdigest() != sha256:
                raise BlobError("the uploaded content does not match its sha256; upload it again")
            target = self._path(sha256)
            if not os.path.exists(target):  # stored already: it stays as it is
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(mine, target)  # if another got there meanwhile: the same bytes
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(mine)

    def _publish_parts(self, sha256: str, parts: Parts, total: int) -> None:
        """Object stores: join the parts into the final object while hashing them; it appears
        only if they matched, so what lands there is what was hashed, whatever another upload
        does to the parts meanwhile. Content stored already is only hashed, not rewritten."""
        chain, end = parts.received()
        if end != total:  # a racing upload rewrote a part with a shorter chunk
            raise BlobError("another upload of the same content got in the way; ask where to resume")
        target = None if self.exists(sha256) else self._path(sha256)
        if not parts.join(chain, sha256, target):
            parts.remove()
            raise BlobError("the uploaded content does not match its sha256; upload it again")
        parts.remove([part for part, _ in chain])

    def staged(self, owner: str) -> int:
        """Bytes of all of ``owner``'s unfinished uploads (what their quota counts besides content)."""
        if not owner or not _OWNER.match(owner):
            raise BlobError(f"an upload owner is 1 to 32 lower-case letters and digits, not {owner!r}")
        try:
            return int(self.fs.du(f"{self.root}/staging/{owner}"))
        except FileNotFoundError:
            return 0

    def expire_staging(self, before: float) -> tuple[int, int]:
        """Delete unfinished uploads last written before ``before`` (seconds since the epoch);
        returns how many and their bytes. Copies of ``put_verified`` are staged here too."""
        try:
            found = self.fs.find(f"{self.root}/staging", detail=True)
        except FileNotFoundError:
            return 0, 0
        uploads: dict[str, list[tuple[str, float, int]]] = {}
        for path, info in found.items():  # an upload in parts goes when its newest part is old
            uploads.setdefault(upload_of(path), []).append((path, _mtime(info), int(info.get("size") or 0)))
        count = size = 0
        for objects in uploads.values():
            if max(mtime for _, mtime, _ in objects) < before:
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm([path for path, _, _ in objects])
                count, size = count + 1, size + sum(n for _, _, n in objects)
        return count, size

    def delete(self, sha256: str) -> None:
        """Remove stored content (gone already is fine)."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self._path(sha256))

    def put(self, data: bytes) -> str:
        """Store ``data`` whole; returns its sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(sha256):
            self.write_chunk(sha256, 0, data, len(data))
        return sha256

    def open(self, sha256: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The content in blocks; ``start``/``length`` read one byte range (a player seeking)."""
        left = length
        with self.fs.open(self._path(sha256), "rb") as f:
            if start:
                f.seek(start)
            while left is None or left > 0:
                block = f.read(READ_CHUNK if left is None else min(READ_CHUNK, left))
                if not block:
                    break
                if left is not None:
                    left -= len(block)
                yield block

    def put_whole(self, sha256: str, content: bytes) -> None:
        """Store small ``content`` under ``sha256`` if it hashes to that (else ``BlobError``):
        one file created and renamed into place, the least a folder of small files can cost."""
        if hashlib.sha256(content).hexdigest() != sha256:
            raise BlobError(f"the content of blob {sha256} does not match its sha256")
        target = self._path(sha256)
        if not self._local:
            self.fs.pipe_file(target, content)  # an object appears whole or not at all
            return
        temp = f"{self.root}/staging/.whole-{uuid.uuid4().hex}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        except FileNotFoundError:
            self.fs.makedirs(f"{self.root}/staging", exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(content)
            try:
                os.replace(temp, target)
            except FileNotFoundError:  # the first content under this prefix
                self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                os.replace(temp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

    def scratch(self) -> str | None:
        """The folder for a temporary copy of content on its way in: the staging folder of a
        local store (the same file system, so ``put_file`` renames it into place), None (the
        system's temporary folder) for a bucket."""
        if not self._local:
            return None
        self.fs.makedirs(f"{self.root}/staging", exist_ok=True)
        return f"{self.root}/staging"

    def put_file(self, sha256: str, path: str) -> None:
        """Store the temporary file ``path`` under ``sha256``, which the caller computed as it
        wrote the file: moved into place (local) or uploaded (a bucket). The file is consumed;
        content stored already stays as it is."""
        target = self._path(sha256)
        try:
            if self.exists(sha256):
                return
            if self._local:
                self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                os.replace(path, target)
            else:
                self.fs.put_file(path, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def put_verified(self, sha256: str, blocks: Iterable[bytes]) -> int:
        """Store the content ``blocks`` yield under ``sha256`` if it hashes to that, else raise
        ``BlobError`` and store nothing; returns its size. For copies between stores (backup,
        restore): the content streams through a temporary file, never whole in memory."""
        check_sha256(sha256)
        tmp = tempfile.NamedTemporaryFile(dir=self.scratch(), prefix=".copy-", delete=False)  # noqa: SIM115
        try:
            digest, size = hashlib.sha256(), 0
            with tmp:
                for block in blocks:
                    digest.update(block)
                    tmp.write(block)
                    size += len(block)
            if digest.hexdigest() != sha256:
                raise BlobError(f"the content of blob {sha256} hashes to {digest.hexdigest()}")
            self.put_file(sha256, tmp.name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp.name)
        return size
