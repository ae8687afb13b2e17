"""Artifact rules the SDK and the server share: names, aliases, entry paths and the manifest digest.

The digest is wandb's, so a manifest hashes the same in both and in wandb itself: the md5 (hex) of
``wandb-artifact-manifest-v1\\n`` followed by ``path:digest\\n`` for every entry, sorted by path,
where an entry's digest is the base64 md5 of its content (or a reference's checksum).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from wakelog._names import check_file_name

_NAME = re.compile(r"^[A-Za-z0-9_\-.]{1,128}$")
_VERSION = re.compile(r"^v(0|[1-9][0-9]{0,17})$")
_ALIAS_BAD = re.compile(r"[/:\x00\s]")
MAX_ALIAS = 128
#: The alias the server moves to the newest version of each name by itself.
LATEST = "latest"
MANIFEST_PREFIX = "wandb-artifact-manifest-v1\n"
#: In a run folder: a folder per logged artifact (``<client id>``) of copies of its ``mutable``
#: files, written by the SDK and deleted by the uploader once the version is made (or refused),
#: and wholly once the run is uploaded.
STAGING = "artifacts/staging"


def check_artifact_name(name: str, kind: str = "artifact name") -> str:
    """An artifact (or registry collection) name or type: letters, digits, ``-_.``; 1-128 characters."""
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise ValueError(f"{kind} {name!r} is invalid: use 1-128 letters, digits, '-', '_' or '.'")
    return name


def version_index(label: str) -> int | None:
    """``3`` for ``"v3"``; None for anything else (an alias)."""
    found = _VERSION.match(label) if isinstance(label, str) else None
    return int(label[1:]) if found else None


def check_alias(alias: str) -> str:
    """A user alias: 1-128 characters without ``/``, ``:``, whitespace or NUL, and not ``v<N>``
    (that names a version)."""
    if not isinstance(alias, str) or not alias or len(alias) > MAX_ALIAS or _ALIAS_BAD.search(alias):
        raise ValueError(f"alias {alias!r} is invalid: use 1-{MAX_ALIAS} characters without / : or spaces")
    if version_index(alias) is not None:
        raise ValueError(f"alias {alias!r} is invalid: v<N> names a version")
    return alias


def check_entry_path(path: str) -> str:
    """An entry's path inside an artifact: relative, ``/``-separated, never escaping the artifact."""
    try:
        return check_file_name(path)
    except ValueError as exc:
        raise ValueError(f"entry {str(exc).removeprefix('file name ')}") from None


def manifest_digest(entries: Iterable[tuple[str, str]]) -> str:
    """wandb's digest of a manifest from its ``(path, entry digest)`` pairs."""
    md5 = hashlib.md5(MANIFEST_PREFIX.encode(), usedforsecurity=False)
    for path, digest in sorted(entries):
        md5.update(f"{path}:{digest}\n".encode())
    return md5.hexdigest()
