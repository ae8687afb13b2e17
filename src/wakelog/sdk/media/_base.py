"""The contract between media objects and the SDK writer.

A media object is built in the user's (training) thread and serialised later in
the writer thread. So the constructor validates and snapshots, and everything
costly (encoding, binning, file writes) waits for :meth:`Media.to_stub`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any


class Media(ABC):
    """Base class of everything ``log()`` accepts besides plain values.

    Subclasses must not change after construction (Table is the exception and
    offers :meth:`frozen`), so the writer thread can serialise them at any time.
    """

    @abstractmethod
    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        """Write any backing file under ``run_dir/files/media/`` and return the JSON stub for history.

        Called from the writer thread; safe to run concurrently for different objects.
        """

    def frozen(self) -> Media:
        """Return an object whose content can no longer change.

        ``log()`` may call this in the user thread so that later edits (e.g.
        ``Table.add_data`` after logging) do not leak into what was logged.
        Immutable media return themselves.
        """
        return self
