"""Downloading an artifact's files: through the content-addressed cache, every byte verified.

A file goes server → a temporary file in the cache (hashed as it arrives) → verified against its
manifest digest and sha256 → renamed into the cache → copied into the target folder (hashed again
as it is copied, so a cache file damaged since is caught) → renamed into place. A mismatch is an
``ArtifactDigestError``; no step leaves a partial or unverified file where a reader would take it.
A file already in the cache is not requested again; one already in place with the right content is
left alone.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from wakelog.sdk.artifacts._errors import ArtifactDigestError
from wakelog.sdk.artifacts._hashing import BLOCK, Hasher, hash_file
from wakelog.sdk.artifacts._manifest import ArtifactManifestEntry
from wakelog.sdk.artifacts._refs import download_reference

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

    from wakelog.sdk.artifacts._cache import ArtifactCache


class _HashingWriter:
    """A file object that hashes what is written through it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.hasher = out, Hasher()

    def write(self, block: bytes) -> int:
        self.hasher.update(block)
        return self.out.write(block)


def _check(entry: ArtifactManifestEntry, hasher: Hasher, where: str) -> None:
    if hasher.digest != entry.digest or (entry.sha256 and hasher.sha256 != entry.sha256):
        raise ArtifactDigestError(
            f"{entry.path!r} {where} does not match the manifest (digest {hasher.digest}, "
            f"expected {entry.digest}): the content is damaged, so it is not used"
        )


def _matches(path: Path, entry: ArtifactManifestEntry) -> bool:
    try:
        if entry.size is not None and path.stat().st_size != entry.size:
            return False
        return hash_file(path).digest == entry.digest
    except OSError:
        return False


class Downloader:
    """``fetch(entry path, out)`` writes the stored content of one entry into ``out``."""

    def __init__(self, cache: ArtifactCache, fetch: Callable[[str, BinaryIO], None]) -> None:
        self.cache = cache
        self._fetch = fetch
        self.used: set[str] = set()  # sha256s this download needed (kept when the cache is trimmed)

    def place(self, entry: ArtifactManifestEntry, target: Path) -> Path:
        """Put the entry's verified content at ``target``; returns ``target``."""
        if _matches(target, entry):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.ref is not None and entry.sha256 is None:
            self._via_temp(target, lambda tmp: download_reference(entry, tmp))
            return target
        assert entry.sha256 is not None
        self.used.add(entry.sha256)
        for attempt in range(2):
            cached = self._cached(entry)
            try:
                self._via_temp(target, lambda tmp, c=cached: self._copy_checked(c, tmp, entry))
                return target
            except ArtifactDigestError:
                self.cache.discard(entry.sha256)  # damaged in the cache since: fetch it again
                if attempt:
                    raise
        return target

    def _cached(self, entry: ArtifactManifestEntry) -> Path:
        assert entry.sha256 is not None
        found = self.cache.get(entry.sha256)
        if found is not None:
            return found
        fd, temp = self.cache.temp_file()
        try:
            with os.fdopen(fd, "wb") as out:
                writer = _HashingWriter(out)
                self._fetch(entry.path, writer)  # type: ignore[arg-type]
            _check(entry, writer.hasher, "as downloaded")
            return self.cache.commit(temp, entry.sha256)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    @staticmethod
    def _copy_checked(source: Path, target: Path, entry: ArtifactManifestEntry) -> None:
        hasher = Hasher()
        with open(source, "rb") as src, open(target, "wb") as out:
            while block := src.read(BLOCK):
                hasher.update(block)
                out.write(block)
        _check(entry, hasher, "in the cache")

    @staticmethod
    def _via_temp(target: Path, write: Callable[[Path], None]) -> None:
        """Write into a temporary file beside ``target``, then rename: never a partial file."""
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        os.close(fd)
        temp = Path(name)
        try:
            write(temp)
            os.replace(temp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
