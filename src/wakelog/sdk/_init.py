"""``wakelog.init()`` and the process-wide run registry behind ``wakelog.run``.

``init`` resolves settings, applies ``reinit`` and returns a ``Run`` built by ``sdk/_assemble.py``
(distributed rank, ``mode``, ``resume``, the run folder and everything the run records through).
It never waits on a network (except ``resume="must"`` for a run only the server has,
``resume_from`` and an online ``fork_from``, which ask the server once): it only writes locally.
If the run folder cannot be created, it warns and records in a temporary folder;
if even that fails, the run is disabled — training always goes on.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

from wakelog.errors import UsageError
from wakelog.sdk import _hooks, _lifecycle, _term
from wakelog.sdk._assemble import create_run
from wakelog.sdk._run import Run
from wakelog.sdk._settings import Settings, resolve_settings

_REINIT = ("default", "return_previous", "finish_previous", "create_new")
# The rest of wandb's init arguments (wandb 0.28): accepted without a meaning here.
_WITHOUT_MEANING = ("anonymous", "force")

_log = logging.getLogger(__name__)

_lock = threading.RLock()
_active: list[Run] = []


def active_runs() -> list[Run]:
    with _lock:
        return list(_active)


def current_run() -> Run | None:
    """The run ``wakelog.run`` points at (for integrations, which do not import the façade)."""
    return getattr(sys.modules.get("wakelog"), "run", None)


def _set_current(run: Run | None) -> None:
    """Point ``wakelog.run``, ``wakelog.config`` and ``wakelog.summary`` at ``run``."""
    module = sys.modules.get("wakelog")
    if module is None:
        return
    module.run = run  # type: ignore[attr-defined]
    module.config = run.config if run else None  # type: ignore[attr-defined]
    module.summary = run.summary if run else None  # type: ignore[attr-defined]


def _forget(run: Run) -> None:
    with _lock:
        if run in _active:
            _active.remove(run)
        module = sys.modules.get("wakelog")
        if module is not None and getattr(module, "run", None) is run:
            _set_current(_active[-1] if _active else None)


def finish_all(exit_code: int, state: str, traceback_text: str | None) -> None:
    for run in reversed(active_runs()):
        try:
            run._finish(exit_code, state, traceback_text=traceback_text)
        except Exception as exc:  # at exit, report and go on with the next run
            print(f"wakelog: could not finish run {run.id}: {exc}", file=sys.stderr)


def init(
    project: str | None = None,
    name: str | None = None,
    config: Any = None,
    entity: str | None = None,
    group: str | None = None,
    job_type: str | None = None,
    tags: Any = None,
    notes: str | None = None,
    mode: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    id: str | None = None,
    resume: bool | str | None = None,
    reinit: bool | str | None = None,
    settings: Settings | dict[str, Any] | None = None,
    save_code: bool | None = None,
    config_exclude_keys: list[str] | None = None,
    config_include_keys: list[str] | None = None,
    allow_val_change: bool | None = None,
    sync_tensorboard: bool | None = None,
    tensorboard: bool | None = None,
    sync_visualdl: bool | None = None,
    monitor_gym: bool | None = None,
    **other: Any,
) -> Run:
    """Start a run and return it (see ``docs/sdk.md`` for every argument)."""
    resume_from = other.pop("resume_from", None)
    fork_from = other.pop("fork_from", None)
    _check_other_arguments(other)
    if isinstance(resume, bool):
        resume = "allow" if resume else None
    rewind_to = fork = None
    if resume_from is not None:
        id, rewind_to = _rewind_point(resume_from, id, resume, fork_from)
    if fork_from is not None:
        fork = _fork_point(fork_from, id, resume)
    if tags is not None and (isinstance(tags, str) or not hasattr(tags, "__iter__")):
        raise UsageError(f"init: tags must be a list of strings, got {tags!r}")
    resolved = resolve_settings(
        settings,
        mode=mode,
        project=project,
        entity=entity,
        root_dir=dir,
        run_id=id,
        run_name=name,
        run_group=group,
        run_job_type=job_type,
        run_tags=tags,
        run_notes=notes,
        resume=resume,
        save_code=save_code,
        sync_tensorboard=sync_tensorboard if sync_tensorboard is not None else tensorboard,
        sync_visualdl=sync_visualdl,
    )
    _term.termsetup(resolved)
    reinit_mode = _reinit_mode(reinit)
    with _lock:
        if _active:
            if reinit_mode == "return_previous":
                return _active[-1]
            if reinit_mode == "finish_previous":
                finish_all(0, "finished", None)
        run = create_run(
            resolved,
            config,
            config_include_keys,
            config_exclude_keys,
            allow_val_change,
            _forget,
            rewind_to,
            fork,
        )
        _active.append(run)
        _set_current(run)
    _lifecycle.install(finish_all)
    if not run.disabled:
        for callback in _hooks.start_callbacks():
            callback(run, {"monitor_gym": bool(monitor_gym)})
    return run


def _check_other_arguments(other: dict[str, Any]) -> None:
    """wandb's init arguments that wakelog does not take: noted; others are a TypeError."""
    for key in other:
        if key not in _WITHOUT_MEANING:
            raise TypeError(f"init() got an unexpected keyword argument {key!r}")
        _log.debug("init(%s=…) has no meaning in wakelog; ignored", key)


def _rewind_point(resume_from: Any, run_id: str | None, resume: Any, fork_from: Any) -> tuple[str, int]:
    """``resume_from="<run>?_step=N"`` as (run id, N), checked as wandb checks it: the run is the
    one ``id`` names (or becomes the id), neither ``resume`` nor ``fork_from`` is given too."""
    run, step = _branch_point("resume_from", resume_from)
    if resume is not None:
        raise UsageError("init: resume and resume_from are mutually exclusive (as in wandb)")
    if fork_from is not None:
        raise UsageError("init: fork_from and resume_from are mutually exclusive (as in wandb)")
    if run_id is not None and run_id != run:
        raise UsageError(f"init: id {run_id!r} and resume_from's run {run!r} differ (as wandb refuses)")
    return run, step


def _fork_point(fork_from: Any, run_id: str | None, resume: Any) -> tuple[str, int]:
    """``fork_from="<run>?_step=N"`` as (parent run id, N), checked as wandb checks it: a fork is a
    new run (``id``, if given, is not the parent's) and ``resume`` is not given too."""
    parent, step = _branch_point("fork_from", fork_from)
    if resume is not None:
        raise UsageError("init: resume and fork_from are mutually exclusive (as in wandb)")
    if run_id == parent:
        raise UsageError(f"init: a fork is a new run: its id cannot be fork_from's run {parent!r}")
    return parent, step


def _branch_point(option: str, value: Any) -> tuple[str, int]:
    """``"<run>?_step=N"`` (``resume_from``, ``fork_from``) as (run id, N): W&B branches a run
    by ``_step`` only, at a whole step from 0 on. The messages name ``option``."""
    run, _, moment = str(value).partition("?")
    metric, _, number_text = moment.partition("=")
    if not isinstance(value, str) or not run or not moment:
        raise UsageError(f"init: {option} must look like '<run id>?_step=<step>', got {value!r}")
    if metric != "_step":
        raise UsageError(f"init({option}=…): a run branches by _step only (as in wandb), not by {metric!r}")
    try:
        number = float(number_text)
    except ValueError:
        number = -1.0
    if not (0 <= number < 2**63 and number.is_integer()):
        raise UsageError(f"init({option}=…): the step must be a whole number from 0 on, got {number_text!r}")
    return run, int(number)


def _reinit_mode(reinit: bool | str | None) -> str:
    if reinit is None or reinit == "default":
        return "return_previous"
    if reinit is True:
        return "finish_previous"
    if reinit is False:
        return "return_previous"
    if reinit not in _REINIT:
        raise UsageError(f"init: reinit must be one of {', '.join(_REINIT)} or a bool, got {reinit!r}")
    return str(reinit)
