"""The process-wide calls: ``setup()``, ``teardown()`` and ``require()``.

``setup(settings)`` sets settings for every later ``init()`` in the process (above the
environment, below ``init``'s own); ``teardown()`` finishes every run still open and forgets them.
``require()`` takes wandb's feature names: the ones wandb keeps as no-ops are accepted with its
note, an unknown one is an ``UnsupportedError``, as in wandb.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wakelog.errors import UnsupportedError, UsageError
from wakelog.sdk import _term
from wakelog.sdk._init import finish_all
from wakelog.sdk._settings import Settings, resolve_settings, set_process_settings


@dataclass(frozen=True)
class Setup:
    """What ``setup()`` returns: the settings a run started now would get (before ``init``'s own)."""

    settings: Settings


def setup(settings: Settings | dict[str, Any] | None = None) -> Setup:
    """Set up wakelog for the process; ``settings`` apply to every later ``init()``."""
    if isinstance(settings, dict):
        settings = Settings(**settings)
    elif settings is not None and not isinstance(settings, Settings):
        raise UsageError(
            f"setup: settings must be a wakelog.Settings or a dict, got {type(settings).__name__}"
        )
    if settings is not None:
        set_process_settings(settings)
    resolved = resolve_settings()
    _term.termsetup(resolved)
    return Setup(resolved)


def teardown(exit_code: int | None = None) -> None:
    """Finish every run still open (with ``exit_code``) and drop what ``setup()`` set."""
    code = 0 if exit_code is None else int(exit_code)
    finish_all(code, "finished" if code == 0 else "failed", None)
    set_process_settings(None)
    _term.termsetup(None)


# wandb's feature names that are no-ops now: each says so, as wandb does.
_NO_OPS = {
    "require": None,
    "service": "`require('service')` is a no-op: it is how wakelog always works.",
    "core": "`require('core')` is a no-op: it is how wakelog always works.",
}


def require(
    requirement: str | Iterable[str] | None = None, experiment: str | Iterable[str] | None = None
) -> None:
    """Declare the wandb features a script relies on (``experiment`` is the old name)."""
    features = requirement or experiment
    if not features:
        return
    unknown = ""
    for item in [features] if isinstance(features, str) else list(features):
        name = str(item).split("@", 1)[0].split(":", 1)[0]
        if name.replace("_", "-") not in _NO_OPS:
            unknown = f"require() unsupported requirement: {name}"
            _term.termwarn(unknown)
            continue
        note = _NO_OPS[name.replace("_", "-")]
        if note:
            _term.termwarn(note, repeat=False)
    if unknown:
        raise UnsupportedError(unknown)
