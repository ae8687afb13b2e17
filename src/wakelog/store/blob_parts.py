"""Unfinished uploads in an object store: one object per chunk, joined once all have arrived.

Object stores cannot append, and rewriting a staged upload whole per chunk costs memory and
traffic in the square of its size. So each chunk is its own object, ``<sha256>.parts/<offset>``
(the offset zero-padded, so a listing is in order). Writing a chunk again at its offset writes the
same bytes there, so a retried chunk or a racing upload of the same content is harmless. What
counts as received is the run of parts from offset 0 without a gap. On completion the parts stream
through the hash into the final object as a multipart upload that is completed only if the hash
matched: the object appears whole and verified, or not at all. Memory stays at a few blocks.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any

SUFFIX = ".parts"
#: Multipart blocks of the joined object: S3 wants at least 5 MiB (but the last) and at most
#: 10,000 of them; the writer holds about two blocks.
MIN_WRITE_BLOCK = 5 * 1024 * 1024
_MAX_BLOCKS = 9_000
#: How much of a part is read at once while joining.
READ_BLOCK = 2 * 1024 * 1024
_OFFSET_DIGITS = 20


@dataclass(frozen=True)
class Part:
    key: str
    offset: int
    size: int


class Parts:
    """The parts of one unfinished upload, in the folder ``folder`` of ``fs``."""

    def __init__(self, fs: Any, folder: str) -> None:
        self.fs, self.folder = fs, folder

    def listed(self) -> list[Part]:
        """The parts there now, by offset (listed afresh: fsspec's listing cache could be stale)."""
        try:
            found = self.fs.ls(self.folder, detail=True, refresh=True)
        except FileNotFoundError:
            return []
        parts = []
        for info in found:
            name = info["name"].rsplit("/", 1)[-1]
            if info.get("type") == "file" and name.isdigit():
                parts.append(Part(info["name"], int(name), int(info["size"])))
        return sorted(parts, key=lambda part: part.offset)

    def received(self) -> tuple[list[tuple[Part, int]], int]:
        """The parts that join up from offset 0, each with how many of its leading bytes an earlier
        part covers already (racing uploads may have chunked differently), and where they end."""
        chain: list[tuple[Part, int]] = []
        end = 0
        for part in self.listed():
            if part.offset > end:
                break  # a gap: what follows it does not count until the gap is filled
            if part.offset + part.size > end:
                chain.append((part, end - part.offset))
                end = part.offset + part.size
        return chain, end

    def write(self, offset: int, data: bytes) -> Part:
        key = f"{self.folder}/{offset:0{_OFFSET_DIGITS}d}"
        self.fs.pipe_file(key, data)
        return Part(key, offset, len(data))

    def join(self, chain: list[tuple[Part, int]], sha256: str, target: str | None) -> bool:
        """Stream the ``chain`` through the hash and, with a ``target``, into it; True if the
        content matched ``sha256`` (only then does ``target`` appear)."""
        if target is None:
            return self._copy(chain, None) == sha256
        # Not fs.open: with autocommit off it would keep every file in its transaction list.
        size = chain[-1][0].offset + chain[-1][0].size if chain else 0
        block = max(MIN_WRITE_BLOCK, -(-size // _MAX_BLOCKS))
        out = self.fs._open(target, "wb", block_size=block, autocommit=False)
        committed = False
        try:
            matched = self._copy(chain, out) == sha256
            out.close()  # uploads the last block; nothing is visible before commit
            if matched:
                out.commit()
                committed = True
        finally:
            if not committed:
                out.closed = True  # abandoned: nothing is left to flush
                out.discard()  # aborts the multipart upload
        return committed

    def _copy(self, chain: list[tuple[Part, int]], out: Any) -> str:
        digest = hashlib.sha256()
        for part, skip in chain:
            for start in range(part.offset + skip, part.offset + part.size, READ_BLOCK):
                end = min(start + READ_BLOCK, part.offset + part.size)
                block = self.fs.cat_file(part.key, start=start - part.offset, end=end - part.offset)
                if len(block) != end - start:  # rewritten meanwhile by a racing upload
                    raise FileNotFoundError(part.key)
                digest.update(block)
                if out is not None:
                    out.write(block)
        return digest.hexdigest()

    def remove(self, parts: list[Part] | None = None) -> None:
        """Delete ``parts`` (default: all there are); gone already is fine."""
        keys = [part.key for part in (self.listed() if parts is None else parts)]
        if keys:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(keys)


def upload_of(path: str) -> str:
    """The unfinished upload a staged object belongs to: a part's folder, or the object itself."""
    folder, _, name = path.rpartition("/")
    return folder if folder.endswith(SUFFIX) and name.isdigit() else path
