"""What artifacts need from a server, as a protocol: the transport implements it
(``transport/artifacts.py``) and ``wakelog/__init__.py`` plugs it in (``sdk/_hooks.py``), so the SDK
never imports the transport.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol


class ArtifactServer(Protocol):
    def default_entity(self) -> str | None:
        """The key's user (the entity a path without one means), if the server says."""

    def version(self, entity: str, project: str, name: str, label: str) -> dict[str, Any] | None:
        """The ArtifactVersion ``name:label`` (a version or an alias); None when there is none."""

    def manifest(self, entity: str, project: str, name: str, version: str) -> dict[str, Any]:
        """The version's manifest JSON."""

    def download(self, entity: str, project: str, name: str, version: str, path: str, out: BinaryIO) -> None:
        """Write the content of the entry ``path`` into ``out``."""

    def close(self) -> None: ...
