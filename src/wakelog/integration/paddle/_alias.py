"""The opt-in ``wandb`` alias: ``import wandb`` gives wakelog, so that PaddlePaddle's own
``paddle.callbacks.WandbCallback`` (or any wandb script) records with wakelog unchanged.

Two ways to opt in, and nothing happens without one of them:

* in code: ``wakelog.integration.paddle.install_wandb_alias()`` before ``import wandb`` runs;
* without touching the script: put the shim folder on ``PYTHONPATH``
  (``PYTHONPATH=$(python -m wakelog.integration.paddle alias-path) python train.py``, or
  ``python -m wakelog.integration.paddle with-alias python train.py``); child processes, such as
  the workers of ``paddle.distributed.launch``, inherit it. The folder holds a single ``wandb``
  package whose ``__init__`` hands over to wakelog.

Either way the alias refuses to hide a real wandb installation: if another ``wandb`` can be
imported, it raises ``WandbAliasError`` (an ``ImportError``) naming it, unless forced
(``install_wandb_alias(force=True)`` or ``WAKELOG_WANDB_ALIAS=force``), which warns. A bare
``wandb/`` folder without ``__init__.py`` (the run folder a real wandb leaves in the working
directory) is not an installation and does not count.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from pathlib import Path
from types import ModuleType

from wakelog._warn import warn
from wakelog.errors import Error

SHIM_DIR = Path(__file__).resolve().parent / "_wandb_shim"
FORCE_ENV = "WAKELOG_WANDB_ALIAS"
# wandb submodules that scripts import and wakelog has under the same name.
_SUBMODULES = {"wandb.errors": "wakelog.errors"}


class WandbAliasError(Error, ImportError):
    """The alias was asked for, but a real wandb is installed and would be hidden."""


def alias_path() -> str:
    """The folder to put on ``PYTHONPATH`` so that ``import wandb`` gives wakelog."""
    return str(SHIM_DIR)


def _same_dir(entry: str, folder: Path) -> bool:
    try:
        return Path(entry or os.getcwd()).resolve() == folder
    except OSError:
        return False


def find_real_wandb() -> str | None:
    """Where a real ``wandb`` package or module would be imported from, or None.

    The shim folder itself, wakelog's own alias and namespace folders (a ``wandb/`` run folder
    without ``__init__.py``) do not count.
    """
    loaded = sys.modules.get("wandb")
    if loaded is not None and not _is_alias(loaded):
        return getattr(loaded, "__file__", None) or repr(loaded)
    path = [entry for entry in sys.path if not _same_dir(entry, SHIM_DIR)]
    try:
        spec = importlib.machinery.PathFinder.find_spec("wandb", path)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin in (None, "namespace"):
        return None
    return spec.origin


def _is_alias(module: ModuleType) -> bool:
    """wakelog itself, or the shim package while it is being imported."""
    if module is sys.modules.get("wakelog") or getattr(module, "__name__", "") == "wakelog":
        return True
    origin = getattr(module, "__file__", None)
    try:
        return origin is not None and Path(origin).resolve().parent.parent == SHIM_DIR
    except OSError:
        return False


def _refuse_or_warn(real: str, force: bool, how: str) -> None:
    message = (
        f"wakelog will not make `import wandb` resolve to wakelog: a real wandb is installed "
        f"({real}) and would be hidden. Uninstall it, or {how} to use wakelog anyway."
    )
    if not force:
        raise WandbAliasError(message)
    warn(f"wakelog: a real wandb ({real}) is installed; `import wandb` gives wakelog as forced", UserWarning)


def _alias_modules() -> ModuleType:
    import importlib

    # The façade itself, without importing it from below: a package's __init__ runs before any of
    # its modules, so ``wakelog`` is always loaded here.
    wakelog = sys.modules["wakelog"]
    sys.modules["wandb"] = wakelog
    for alias, target in _SUBMODULES.items():
        sys.modules[alias] = importlib.import_module(target)
    return wakelog


def install_wandb_alias(*, force: bool = False) -> ModuleType:
    """Make ``import wandb`` return wakelog in this process; returns the wakelog module.

    Raises ``WandbAliasError`` if a real wandb can be imported (or already is), unless
    ``force=True``, which warns and hides it.
    """
    current = sys.modules.get("wandb")
    if current is not None and _is_alias(current):
        return current
    real = find_real_wandb()
    if real is not None:
        _refuse_or_warn(real, force, "pass install_wandb_alias(force=True)")
    return _alias_modules()


def uninstall_wandb_alias() -> None:
    """Undo ``install_wandb_alias`` (``import wandb`` imports whatever is installed again)."""
    current = sys.modules.get("wandb")
    if current is not None and _is_alias(current):
        del sys.modules["wandb"]
        for alias in _SUBMODULES:
            sys.modules.pop(alias, None)


def activate_from_shim() -> ModuleType:
    """Called by the shim's ``wandb/__init__.py`` when it is the first ``wandb`` on ``sys.path``."""
    real = find_real_wandb()
    if real is not None:
        force = os.environ.get(FORCE_ENV, "").strip().lower() == "force"
        try:
            _refuse_or_warn(real, force, f"set {FORCE_ENV}=force")
        except WandbAliasError as exc:
            # Code that treats ImportError as "wandb is optional" would hide this: say it too.
            print(f"wakelog: {exc}", file=sys.stderr)
            raise
    return _alias_modules()
