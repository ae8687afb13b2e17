"""A run's reproducibility metadata (``metadata.json``), captured off the training thread.

Git, the installed packages and the hardware take a while to describe, so ``init()`` starts a
thread for them and ``finish()`` waits for it, so that short runs still record it. Integrations
add top-level sections: at capture time through ``sdk/_hooks.add_metadata_provider`` (the
``paddle`` section when paddle is imported), later with ``add_metadata_section``.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wakelog._threads import start_background
from wakelog._warn import warn
from wakelog.runlog import RecordType
from wakelog.sdk import _hooks

if TYPE_CHECKING:
    from wakelog.sdk._run import Run
    from wakelog.sdk._settings import Settings


class MetadataCapture:
    """Collects the metadata on its own thread; ``stop()`` waits for it (at ``finish()``)."""

    def __init__(
        self,
        run_dir: Path,
        settings: Settings,
        emit: Callable[[str, Any], None],
        *,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.run_dir, self.settings, self._emit = run_dir, settings, emit
        self._placement = {"rank": rank, "world_size": world_size}
        self._thread = threading.Thread(target=self._capture, name="wakelog-metadata", daemon=True)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._sections: dict[str, Any] = {}  # added by integrations (add_metadata_section)
        self._metadata: dict[str, Any] | None = None  # None until captured

    def start(self) -> None:
        start_background(self._thread)

    def stop(self) -> None:
        """Let a short run still record its metadata before the exit record."""
        self._thread.join(timeout=30)

    def _capture(self) -> None:
        try:
            metadata = self._describe()
            with self._lock:
                metadata.update(self._sections)
                self._metadata = metadata
            self._record()
            if metadata.get("files"):
                names = [{"name": name, "policy": "now"} for name in metadata["files"]]
                self._emit(RecordType.FILES, {"files": names})
        except Exception as exc:
            warn(f"wakelog: could not capture run metadata: {exc}", RuntimeWarning)

    def _describe(self) -> dict[str, Any]:
        from wakelog.monitor.environment import capture_environment

        main = sys.modules.get("__main__")
        program = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv and sys.argv[0] else None)
        # The files (requirements.txt, diff.patch, code/) go where saved files go, so they upload.
        metadata = capture_environment(
            self.run_dir / "files",
            program=program,
            args=list(sys.argv[1:]),
            save_code=bool(self.settings.save_code),
            disable_git=bool(self.settings.disable_git),
        )
        metadata.update(self._placement)
        for name, provider in _hooks.metadata_providers().items():
            section = provider()
            if section is not None:
                metadata[name] = section
        return metadata

    def sections(self) -> set[str]:
        with self._lock:
            return set(self._metadata or ()) | set(self._sections)

    def add_section(self, name: str, value: Any, *, record: bool = True) -> None:
        """Add or replace a top-level section; once captured, the whole metadata is recorded again
        (unless ``record`` is False: the run has finished)."""
        with self._lock:
            self._sections[name] = value
            captured = self._metadata is not None
            if captured:
                self._metadata = {**self._metadata, name: value}  # type: ignore[dict-item]
        if captured and record:
            try:
                self._record()
            except Exception as exc:
                warn(f"wakelog: could not record the {name!r} metadata: {exc}", RuntimeWarning)

    def _record(self) -> None:
        with self._write_lock:
            with self._lock:
                metadata = self._metadata
            text = json.dumps(metadata, indent=1, default=str)
            (self.run_dir / "metadata.json").write_text(text, encoding="utf-8")
            self._emit(RecordType.METADATA, metadata)


def add_metadata_section(run: Run, name: str, value: Any) -> bool:
    """Add a top-level section (``paddle``…) to ``run``'s metadata; False for a run without any."""
    capture = run._parts.metadata
    if capture is None:
        return False
    capture.add_section(name, value, record=not run.finished)
    return True


def metadata_sections(run: Run) -> set[str]:
    """The top-level sections ``run``'s metadata has or will have."""
    capture = run._parts.metadata
    return capture.sections() if capture is not None else set()
