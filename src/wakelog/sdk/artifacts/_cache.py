"""The local content-addressed cache downloads go through.

Files are kept by sha256 under ``<cache dir>/artifacts/obj/sha256/<2 hex>/<sha256>``; a file is
only put there once its content was verified, by an atomic rename, so the cache never holds a
partial or unverified file. Each use touches the file's mtime; when the cache passes its size cap,
the least recently used files go first (``evict``), and a killed download's temporary file
goes once a day old. The cache dir is the ``cache_dir`` setting
(``WAKELOG_CACHE_DIR``, else ``WANDB_CACHE_DIR``), by default the user's cache folder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

#: The default size cap (the ``cache_max_bytes`` setting).
DEFAULT_MAX_BYTES = 10 * 2**30
#: A download's temporary file older than this was left by a process that died (a day: no live
#: download of one file takes that long).
PART_MAX_AGE = 24 * 3600.0


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("wakelog", appauthor=False))


class ArtifactCache:
    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root) / "artifacts" / "obj" / "sha256"
        self.max_bytes = max_bytes

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def get(self, sha256: str) -> Path | None:
        """The cached file for ``sha256`` (marked as just used), or None."""
        path = self.path_for(sha256)
        try:
            os.utime(path)
        except OSError:
            return None
        return path

    def temp_file(self) -> tuple[int, Path]:
        """A new file in the cache folder to download into (``commit`` or ``discard`` it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.root, prefix=".part-")
        return fd, Path(name)

    def commit(self, temp: Path, sha256: str) -> Path:
        """Move a verified download into place (another process may have put it there first)."""
        path = self.path_for(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, path)
        return path

    def discard(self, sha256: str) -> None:
        with contextlib.suppress(OSError):
            self.path_for(sha256).unlink()

    def evict(self, keep: set[str] | None = None) -> int:
        """Delete least recently used files until the cache fits its cap, and downloads a killed
        process left half-done (older than ``PART_MAX_AGE``); returns bytes freed. ``keep``:
        sha256s just used (never evicted by the download that needs them)."""
        freed = 0
        stale = time.time() - PART_MAX_AGE
        for part in self.root.glob(".part-*"):
            with contextlib.suppress(OSError):
                info = part.stat()
                if info.st_mtime < stale:
                    part.unlink()
                    freed += info.st_size
        files = []
        for path in self.root.glob("??/*"):
            with contextlib.suppress(OSError):
                info = path.stat()
                files.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in files)
        evicted = 0
        for _, size, path in sorted(files, key=lambda item: item[0]):
            if total - evicted <= self.max_bytes:
                break
            if keep and path.name in keep:
                continue
            with contextlib.suppress(OSError):
                path.unlink()
                evicted += size
        return freed + evicted


def cache_from_settings() -> ArtifactCache:
    """The cache the settings name (``cache_dir``, ``cache_max_bytes``)."""
    from wakelog.sdk._settings import resolve_settings

    settings = resolve_settings()
    root = Path(settings.cache_dir) if settings.cache_dir else default_cache_dir()
    cap = DEFAULT_MAX_BYTES if settings.cache_max_bytes is None else int(settings.cache_max_bytes)
    return ArtifactCache(root, cap)
