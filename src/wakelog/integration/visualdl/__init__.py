"""VisualDL ↔ wakelog: ``init(sync_visualdl=True)`` / ``patch()`` live, and ``export_run``.

* ``patch()`` / ``unpatch()``: every ``visualdl.LogWriter.add_*`` call also goes to the active
  run, with VisualDL's tags, steps (as ``global_step``) and wall times (as ``_timestamp``;
  calls at one step and wall time share a row); VisualDL's own files are written as before
  (``_patch.py``, ``_convert.py``).
* ``export_run(run, logdir)``: a wakelog run (``wakelog.Api().run(path)``) written back out as a
  VisualDL log with VisualDL's ``LogWriter`` (``_export.py``; ``wakelog export visualdl``).

wandb has no VisualDL bridge: ``sync_visualdl`` is wakelog's own setting. ``import wakelog`` calls
``register_hooks()``: a run started with ``sync_visualdl`` patches VisualDL (if not already
patched) and, when it finishes, puts VisualDL back as it found it. Importing this package imports
neither VisualDL nor numpy (the ``visualdl`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wakelog._lazy import lazy_getattr
from wakelog.integration.visualdl._patch import STEP_KEY, patch, unpatch

if TYPE_CHECKING:
    from wakelog.integration.visualdl._export import export_run
    from wakelog.sdk._run import Run

_LAZY = {"export_run": "wakelog.integration.visualdl._export"}

__all__ = ["STEP_KEY", "export_run", "patch", "unpatch"]

__getattr__ = lazy_getattr(__name__, _LAZY, globals())

_patched_by: set[int] = set()  # id() of the run whose sync_visualdl setting patched VisualDL


def register_hooks() -> None:
    """Plug the live bridge into the SDK's run start and finish."""
    from wakelog.sdk import _hooks

    _hooks.add_start_callback(_start)
    _hooks.add_finish_callback(_finish)


def _start(run: Run, options: dict[str, Any]) -> None:
    from wakelog.integration.visualdl import _patch

    if run.settings.sync_visualdl and not _patch.patched():
        _patch.patch()
        _patched_by.add(id(run))


def _finish(run: Run) -> None:
    from wakelog.integration.visualdl import _patch

    _patch.flush(run)
    if id(run) in _patched_by:
        _patched_by.discard(id(run))
        unpatch()


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
