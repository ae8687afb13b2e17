"""Content digests: an entry's wandb digest (base64 md5) and the blob store's sha256, in one pass."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import BinaryIO

BLOCK = 1024 * 1024


class Hasher:
    """md5 (for the wandb digest) and sha256 (the blob store's key) of bytes fed in order."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self.size = 0

    def update(self, block: bytes) -> None:
        self._md5.update(block)
        self._sha256.update(block)
        self.size += len(block)

    @property
    def digest(self) -> str:
        """The entry digest wandb uses: base64 of the md5."""
        return base64.b64encode(self._md5.digest()).decode("ascii")

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()


def hash_file(path: Path) -> Hasher:
    hasher = Hasher()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            hasher.update(block)
    return hasher


def copy_hashing(source: BinaryIO, target: BinaryIO) -> Hasher:
    """Copy ``source`` into ``target``, hashing what is copied (one read of the bytes)."""
    hasher = Hasher()
    while block := source.read(BLOCK):
        hasher.update(block)
        target.write(block)
    return hasher


def md5_b64_of(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")
