"""What artifacts need from a server, as a protocol: the transport implements it
(``transport/artifacts.py``) and ``wakelog/__init__.py`` plugs it in (``sdk/_hooks.py``), so the SDK
never imports the transport.

Who closes a connection: an artifact reads through a ``ServerUse`` (``Artifact._reading``), one
server per operation (its manifest, a download): a connection opened for that operation
(``opened``: the SDK's own) is closed when it ends; one borrowed from its owner (``borrowed``: an
``Api``'s, which ``Api.close`` closes) is left open.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, closing, nullcontext
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


#: A server for one of an artifact's operations, as a context manager that closes what it opened.
ServerUse = Callable[[], AbstractContextManager[ArtifactServer]]


def opened(connect: Callable[[], ArtifactServer]) -> ServerUse:
    """A new connection for each operation, closed after it."""
    return lambda: closing(connect())


def borrowed(server: ArtifactServer) -> ServerUse:
    """A server its owner keeps open (and closes)."""
    return lambda: nullcontext(server)
