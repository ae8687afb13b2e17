"""TensorBoard → wakelog: ``init(sync_tensorboard=True)`` and ``wakelog.tensorboard.patch()``.

* ``patch(save=True, tensorboard_x=None, pytorch=None, root_logdir="")`` / ``unpatch()``: as
  wandb's ``wandb.tensorboard.patch``: new TensorBoard writers tell the run their log directory.
* ``LogdirSync``: tails log directories into a run's history (``_sync.py``).
* ``EventFile``: TensorBoard's own record reader on one event file, as it grows (``_reader.py``,
  the ``tensorboard`` extra); ``ValueConverter``: summary values as wakelog values (``_events.py``).
  Both are shared with ``wakelog import tensorboard``.

``import wakelog`` calls ``register_hooks()``: a run started with ``sync_tensorboard`` (or after
``patch()``) patches the writers if needed and syncs what they write until ``finish()``. Importing
this package imports neither tensorboard nor protobuf.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wakelog._lazy import lazy_getattr
from wakelog.integration.tensorboard._patch import patch, unpatch

if TYPE_CHECKING:
    from wakelog.integration.tensorboard._events import ValueConverter
    from wakelog.integration.tensorboard._reader import EventFile
    from wakelog.integration.tensorboard._sync import LogdirSync
    from wakelog.sdk._run import Run

_LAZY = {
    "EventFile": "wakelog.integration.tensorboard._reader",
    "ValueConverter": "wakelog.integration.tensorboard._events",
    "LogdirSync": "wakelog.integration.tensorboard._sync",
}

__all__ = ["EventFile", "LogdirSync", "ValueConverter", "patch", "unpatch"]

__getattr__ = lazy_getattr(__name__, _LAZY, globals())

_syncs: dict[int, LogdirSync] = {}  # id(run) → its sync


def register_hooks() -> None:
    """Plug the sync into the SDK's run start and finish."""
    from wakelog.sdk import _hooks

    _hooks.add_start_callback(_start)
    _hooks.add_finish_callback(_finish)


def _start(run: Run, options: dict[str, Any]) -> None:
    from wakelog.integration.tensorboard import _patch
    from wakelog.integration.tensorboard._sync import LogdirSync

    if run.settings.sync_tensorboard and not _patch.patched():
        _patch.patch()
    if not _patch.patched():
        return

    def save(path: Any, base: Any) -> None:
        run.save(str(path), base_path=str(base), policy="live")

    sync = LogdirSync(run.log, save if _patch.save_files() else None, root_logdir=_patch.root_logdir())
    _syncs[id(run)] = sync
    _patch.set_listener(_to_current_run)
    sync.start()


def _to_current_run(logdir: str) -> None:
    from wakelog.sdk._init import current_run

    run = current_run()
    sync = _syncs.get(id(run)) if run is not None else None
    if sync is not None:
        sync.add_logdir(logdir)


def _finish(run: Run) -> None:
    from wakelog.integration.tensorboard import _patch

    sync = _syncs.pop(id(run), None)
    if sync is not None:
        _patch.flush_writers()
        sync.finish()


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
