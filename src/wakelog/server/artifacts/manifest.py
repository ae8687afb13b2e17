"""Manifests as the SDK sends them: checked entry by entry, digested as wandb does, compared.

``{"version": 1, "entries": {"<path>": {"digest", "sha256", "size", "ref", "extra"}}}``: an entry
holds content of the blob store (``sha256``) or a reference (``ref``, a URI the server stores and
never fetches), never both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wakelog._artifacts import check_entry_path, manifest_digest
from wakelog.server.errors import InvalidArtifact
from wakelog.store.blobs import BlobError, check_sha256

MANIFEST_VERSION = 1
#: The most entries one version may have (10k-file datasets are the budget; this leaves room).
MAX_ENTRIES = 200_000
MAX_DIGEST = 128
MAX_REF = 4096
SIZE_LIMIT = 2**63 - 1


@dataclass(frozen=True)
class Entry:
    path: str
    digest: str
    sha256: str | None
    size: int
    ref: str | None
    extra: dict[str, Any]

    def public(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "sha256": self.sha256,
            "size": self.size,
            "ref": self.ref,
            "extra": self.extra,
        }


def _refuse(path: str, problem: str) -> InvalidArtifact:
    return InvalidArtifact(f"manifest entry {path!r}: {problem}")


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and "\x00" not in value


def _entry(path: Any, raw: Any) -> Entry:
    try:
        check_entry_path(path)
    except ValueError as exc:
        raise InvalidArtifact(str(exc)) from None
    if not isinstance(raw, dict):
        raise _refuse(path, "must be an object")
    digest, sha256, size, ref = raw.get("digest"), raw.get("sha256"), raw.get("size", 0), raw.get("ref")
    extra = raw.get("extra") or {}
    if not _text(digest, MAX_DIGEST):
        raise _refuse(path, f"'digest' must be a text of 1-{MAX_DIGEST} characters")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= SIZE_LIMIT:
        raise _refuse(path, "'size' must be a whole number ≥ 0")
    if not isinstance(extra, dict):
        raise _refuse(path, "'extra' must be an object")
    if (sha256 is None) == (ref is None):
        raise _refuse(path, "needs exactly one of 'sha256' (uploaded content) and 'ref' (a reference)")
    if ref is not None and not _text(ref, MAX_REF):
        raise _refuse(path, f"'ref' must be a URI of 1-{MAX_REF} characters")
    if sha256 is not None:
        try:
            check_sha256(sha256)
        except BlobError as exc:
            raise _refuse(path, str(exc)) from None
    return Entry(path, str(digest), sha256, size, ref, extra)


def parse(manifest: Any) -> list[Entry]:
    """The manifest's entries, sorted by path; ``InvalidArtifact`` names the first bad one."""
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        raise InvalidArtifact(
            f"'manifest' must be an object with \"version\": {MANIFEST_VERSION} and 'entries'"
        )
    entries = manifest.get("entries")
    if not isinstance(entries, dict):
        raise InvalidArtifact("'manifest.entries' must be an object of path: entry")
    if len(entries) > MAX_ENTRIES:
        raise InvalidArtifact(f"a manifest has at most {MAX_ENTRIES} entries, this one {len(entries)}")
    return [_entry(path, raw) for path, raw in sorted(entries.items())]


def digest(entries: list[Entry]) -> str:
    return manifest_digest((e.path, e.digest) for e in entries)


def document(entries: list[Entry]) -> dict[str, Any]:
    """The manifest as the API returns it."""
    return {"version": MANIFEST_VERSION, "entries": {e.path: e.public() for e in entries}}


def diff(old: list[Entry], new: list[Entry]) -> dict[str, list[str]]:
    """Paths added, removed and changed (another digest) from ``old`` to ``new``."""
    before = {e.path: e.digest for e in old}
    after = {e.path: e.digest for e in new}
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": sorted(p for p in after.keys() & before.keys() if after[p] != before[p]),
    }
