"""Disks that fill up, for the disk-full tests.

``SmallDisk`` is the seam the run-log writer offers (``open_file``): real files, but a shared
budget of free bytes; a write beyond it stops short and the next one fails with ENOSPC, and
truncating gives the space back — what a full file system does, deterministic and fast.
``tmpfs`` mounts a real small file system where this process may (root with CAP_SYS_ADMIN).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


class SmallDisk:
    def __init__(self, free: int) -> None:
        self.free = free

    def open(self, path: Path) -> Any:
        return _DiskFile(self, open(path, "ab", buffering=0))


class _DiskFile:
    def __init__(self, disk: SmallDisk, file: Any) -> None:
        self._disk, self._file = disk, file

    def write(self, data: bytes | memoryview) -> int:
        if not self._disk.free:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        take = min(len(data), self._disk.free)
        written: int = self._file.write(data[:take])
        self._disk.free -= written
        return written

    def truncate(self, size: int) -> int:
        before = os.fstat(self._file.fileno()).st_size
        result: int = self._file.truncate(size)
        self._disk.free += max(before - size, 0)
        return result

    def __getattr__(self, name: str) -> Any:  # seek, fileno, close, closed: the real file's
        return getattr(self._file, name)


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` at ``where``; skips the test where mounting is not permitted."""
    where.mkdir(parents=True, exist_ok=True)
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root (the seam-based tests cover disk full)")
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        check=False,
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here (no CAP_SYS_ADMIN?): {mount.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
