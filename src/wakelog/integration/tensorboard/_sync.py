"""Tail TensorBoard log directories into a run's history, and save their event files with it.

``LogdirSync`` polls the log directories it is told about (by the patched writers, or everything
under ``root_logdir``) for ``*tfevents*`` files, reads each as it grows with TensorBoard's own
reader (``_reader.py``; values as ``_events.py`` converts them: scalars, histograms and images, as
wandb syncs them), and logs one history row per TensorBoard step of a file: the values under their tags
(prefixed ``<namespace>/`` — the log directory relative to ``root_logdir`` — when it is not the
root itself) and the TensorBoard step as ``global_step``. A step's row is logged once a later step
appears, or at ``finish()``. Event files are saved with the run (``policy="live"``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wakelog._threads import start_background
from wakelog._warn import warn
from wakelog.integration.tensorboard._events import ValueConverter
from wakelog.integration.tensorboard._reader import DamagedRecord, EventFile, is_event_file, library

#: Seconds between looks at the log directories.
POLL_INTERVAL = 1.0
#: The plugins whose values are synced, as wandb does.
SYNCED_PLUGINS = frozenset(("scalars", "histograms", "images"))


@dataclass
class _File:
    events: EventFile
    namespace: str
    converter: ValueConverter = field(default_factory=ValueConverter)
    step: int | None = None
    row: dict[str, Any] = field(default_factory=dict)
    broken: bool = False


class LogdirSync:
    """Feeds the events of the log directories it watches into ``log(row)``."""

    def __init__(
        self,
        log: Callable[[dict[str, Any]], None],
        save: Callable[[Path, Path], None] | None = None,
        root_logdir: str | os.PathLike[str] | None = None,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self._log = log
        self._save = save
        self._root = Path(root_logdir).absolute() if root_logdir else None
        self._poll_interval = poll_interval
        self._logdirs: list[Path] = [self._root] if self._root is not None else []
        self._files: dict[Path, _File] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add_logdir(self, logdir: str | os.PathLike[str]) -> None:
        """Watch ``logdir`` too (a writer was created for it)."""
        path = Path(logdir).absolute()
        with self._lock:
            if any(path == known or known in path.parents for known in self._logdirs):
                return
            self._logdirs.append(path)
            if self._root is None and len(self._logdirs) > 1:
                warn(
                    "wakelog: several TensorBoard log directories; call "
                    'wakelog.tensorboard.patch(root_logdir="...") before init() to tell their tags apart',
                    UserWarning,
                )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="wakelog-tensorboard", daemon=True)
        start_background(self._thread)

    def finish(self) -> None:
        """Stop polling, read what is left and log every buffered row."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.poll()
        with self._lock:
            for state in self._files.values():
                self._flush(state)
                state.events.close()

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_interval):
            self.poll()

    def poll(self) -> None:
        """One look: find new event files, read what each gained, log finished steps."""
        with self._lock:
            for path in self._event_files():
                state = self._files.get(path)
                if state is None:
                    state = self._files[path] = self._open(path)
                if not state.broken:
                    self._read(path, state)

    def _event_files(self) -> list[Path]:
        found = []
        for logdir in self._logdirs:
            if logdir.is_dir():
                found.extend(
                    sorted(p for p in logdir.rglob("*tfevents*") if is_event_file(p.name) and p.is_file())
                )
        return found

    def _open(self, path: Path) -> _File:
        namespace = ""
        if self._root is not None and self._root in path.parents:
            namespace = path.parent.relative_to(self._root).as_posix()
            namespace = "" if namespace == "." else namespace
        if self._save is not None:
            self._save(path, self._base_for(path))
        return _File(EventFile(path), namespace)

    def _base_for(self, path: Path) -> Path:
        """Where a saved event file's name starts: the root, else the working directory, else its
        folder's parent."""
        if self._root is not None and self._root in path.parents:
            return self._root
        cwd = Path.cwd()
        return cwd if cwd in path.parents else path.parent.parent

    def _read(self, path: Path, state: _File) -> None:
        event_class = library().event
        try:
            while (data := state.events.next()) is not None:
                event = event_class.FromString(data)
                values = self._values(state, event)
                if not values:
                    continue
                if state.step is not None and event.step != state.step:
                    self._flush(state)
                state.step = event.step
                state.row.update(values)
        except DamagedRecord as exc:
            state.broken = True
            warn(f"wakelog: stopped reading a TensorBoard event file: {exc}", RuntimeWarning)

    @staticmethod
    def _values(state: _File, event: Any) -> dict[str, Any]:
        """The event's values wandb syncs, under their tags (prefixed by the file's namespace)."""
        found: dict[str, Any] = {}
        if not event.HasField("summary"):
            return found
        prefix = f"{state.namespace}/" if state.namespace else ""
        for value in event.summary.value:
            try:
                plugin, converted = state.converter.convert(value)
            except (ValueError, TypeError, OSError):  # a value wakelog cannot show: skip it
                continue
            if plugin in SYNCED_PLUGINS and converted is not None:
                found[prefix + value.tag] = converted
        return found

    def _flush(self, state: _File) -> None:
        if state.row:
            row, state.row = state.row, {}
            self._log({**row, "global_step": state.step})
