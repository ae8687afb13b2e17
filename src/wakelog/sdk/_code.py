"""``run.log_code()``: which source files under a folder go with the run.

The filters follow wandb: ``include_fn`` and ``exclude_fn`` take ``(path)`` or ``(path, root)``;
by default Python files, ``requirements.txt`` and ``Dockerfile*`` are taken, and nothing inside the
run folders (``wakelog/``, ``wandb/``, ``.wandb/`` under ``root``). Unlike wandb, the walk never
enters hidden folders (``.git``, ``.venv``), virtual environments, ``__pycache__``,
``site-packages`` or ``node_modules``: thousands of library files are not the user's code.
The files are saved under ``code/`` (where ``save_code`` puts the program), keeping their path
relative to ``root``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CODE_DIR = "code"
_RUN_DIRS = ("wakelog", "wandb", ".wandb")
_SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages"}

PathFilter = Callable[[str, str], bool] | Callable[[str], bool]


def is_source_file(path: str) -> bool:
    """wandb's default: ``*.py``, ``requirements.txt`` and ``Dockerfile*``."""
    name = os.path.basename(path)
    return name.endswith(".py") or name.startswith("Dockerfile") or name == "requirements.txt"


def in_run_folder(path: str, root: str) -> bool:
    """wandb's default exclusion: files inside a run folder under ``root``."""
    first = Path(os.path.relpath(path, root)).parts[0]
    return first in _RUN_DIRS


def _call(fn: PathFilter, path: str, root: str) -> bool:
    takes_root = len(inspect.signature(fn).parameters) >= 2
    result: Any = fn(path, root) if takes_root else fn(path)  # type: ignore[call-arg]
    return bool(result)


def _walk(root: str) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        # Prune what is never the user's source (and can be huge): caches and environments.
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _SKIPPED_DIRS
            and not d.startswith(".")
            and not (Path(folder, d) / "pyvenv.cfg").exists()
        )
        for name in sorted(files):
            yield os.path.join(folder, name)


def code_files(
    root: str | os.PathLike[str], include_fn: PathFilter, exclude_fn: PathFilter
) -> list[tuple[Path, str]]:
    """``(file, name in the run)`` for each file under ``root`` the filters take."""
    base = os.path.abspath(root)
    found = []
    for path in _walk(base):
        if _call(include_fn, path, base) and not _call(exclude_fn, path, base):
            relative = Path(os.path.relpath(path, base)).as_posix()
            found.append((Path(path), f"{CODE_DIR}/{relative}"))
    return found
