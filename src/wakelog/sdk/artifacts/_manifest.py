"""An artifact's manifest: its entries (path → digest, sha256, size, reference) and its digest.

The JSON form is the one the server stores and returns (``docs/artifacts.md``)::

    {"version": 1, "entries": {"<path>": {"digest", "sha256", "size", "ref", "extra"}}}

An entry's ``digest`` is wandb's (base64 md5 of the content, or a reference's checksum) and the
manifest's digest is wandb's too (``wakelog._artifacts.manifest_digest``), so the same content
hashes alike here, on the server and in wandb.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wakelog._artifacts import check_entry_path, manifest_digest
from wakelog.sdk.artifacts._errors import ArtifactError

if TYPE_CHECKING:
    from wakelog.sdk.artifacts._artifact import Artifact

MANIFEST_VERSION = 1


def checked_path(path: str) -> str:
    """An entry path as the server takes it, or ``ArtifactError`` naming it and the problem."""
    try:
        return check_entry_path(path)
    except ValueError as exc:
        raise ArtifactError(f"artifact {exc}") from None


@dataclass(eq=False)
class ArtifactManifestEntry:
    """One file of an artifact (wandb's ``ArtifactManifestEntry``)."""

    path: str
    digest: str
    sha256: str | None = None
    size: int | None = None
    ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Where the content is on this machine before it is uploaded (None for a reference).
    local_path: str | None = None
    _artifact: Artifact | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.path

    def ref_target(self) -> str | None:
        """The reference's URI (None for a file stored with the artifact)."""
        return self.ref

    def download(self, root: str | None = None, skip_cache: bool | None = None) -> str:
        """Download this entry (through the cache) into ``root``; returns the file's path."""
        if self._artifact is None:
            raise ArtifactError(f"entry {self.path!r} belongs to no artifact")
        return self._artifact._download_entry(self, root)

    def to_json(self) -> dict[str, Any]:
        # A reference of unknown size (checksum=False, no Content-Length) is sent as 0: "not known".
        return {"digest": self.digest, "sha256": self.sha256, "size": self.size or 0, "ref": self.ref,
                "extra": dict(self.extra)}  # fmt: skip

    @classmethod
    def from_json(cls, path: str, data: dict[str, Any]) -> ArtifactManifestEntry:
        return cls(
            path=checked_path(path),
            digest=str(data["digest"]),
            sha256=data.get("sha256"),
            size=data.get("size"),
            ref=data.get("ref"),
            extra=dict(data.get("extra") or {}),
        )


class ArtifactManifest:
    """The entries of an artifact, by path."""

    def __init__(self, entries: dict[str, ArtifactManifestEntry] | None = None) -> None:
        self.entries: dict[str, ArtifactManifestEntry] = dict(entries or {})

    def digest(self) -> str:
        return manifest_digest((path, entry.digest) for path, entry in self.entries.items())

    def to_json(self) -> dict[str, Any]:
        entries = {path: self.entries[path].to_json() for path in sorted(self.entries)}
        return {"version": MANIFEST_VERSION, "entries": entries}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArtifactManifest:
        if data.get("version") != MANIFEST_VERSION:
            raise ArtifactError(f"unknown artifact manifest version {data.get('version')!r}")
        return cls({p: ArtifactManifestEntry.from_json(p, e) for p, e in data.get("entries", {}).items()})

    @property
    def size(self) -> int:
        return sum(entry.size or 0 for entry in self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)
