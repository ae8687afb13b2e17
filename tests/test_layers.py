"""Imports point one way: the import-linter contracts in pyproject.toml hold for the source tree.

The layers, lowest first: runlog | monitor → sdk → transport → store → server → api | integration →
demo → cli, with the shared bottom modules (errors, _version, _dirs, _warn, _lazy, _names) under all
of them and the façade (``wakelog/__init__.py``) imported by none of them (docs/architecture.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import wakelog
from tests._env import child_env, pythonpath

ROOT = Path(__file__).resolve().parents[1]
SOURCES = Path(wakelog.__file__).resolve().parents[1]


def test_the_import_contracts_hold() -> None:
    env = child_env(PYTHONPATH=pythonpath(SOURCES))
    config = str(ROOT / "pyproject.toml")
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={config!r}, no_cache=True, no_logo=True))"
    )
    run = [sys.executable, "-c", code]
    result = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    assert result.returncode == 0, "an import breaks the layers (see docs/architecture.md):\n" + result.stdout
