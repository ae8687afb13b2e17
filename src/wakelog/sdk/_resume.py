"""Which earlier run ``init(resume=…)`` continues, found on this machine or on the server.

``resume=None`` refuses an id that already has a run here; ``"never"`` likewise; ``"allow"``
continues the run if this machine has it; ``"auto"`` without an id continues the latest run here
if it did not finish; ``"must"`` continues the run from this machine or, in online mode, from the
server — the one place ``init()`` talks to the network, through the transport's lookup
(``sdk/_hooks.set_server_lookup``), because the run has to exist and its steps, sequence numbers,
config and summary have to continue from where it stopped. ``resume_from="<run>?_step=N"``
(a rewind) always asks the server: it rewinds the run to N (``POST …/rewind``) and answers the
state the run continues from, whatever this machine recorded of it. ``fork_from`` (a new run)
asks the server the same way, online only, whether the parent is there (``check_parent``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wakelog.errors import CommError, UsageError
from wakelog.sdk import _hooks
from wakelog.sdk._local_runs import LocalRunState, latest_run_dir, read_state, run_dirs
from wakelog.sdk._settings import Settings


def find_resumable(settings: Settings, root: Path, rewind_to: int | None = None) -> LocalRunState | None:
    """The state the new run continues from, None for a fresh run; ``UsageError`` when refused.
    ``rewind_to``: the run (``settings.run_id``) rewound to that step on the server first."""
    resume, run_id = settings.resume, settings.run_id
    if rewind_to is not None:
        assert run_id is not None  # init() takes it from resume_from
        return _rewound(settings, run_id, rewind_to)
    if resume is None:
        if run_id and run_dirs(root, run_id):
            raise UsageError(
                f"a run with id {run_id!r} already exists in {root / 'wakelog'}; pass "
                "resume='allow' to continue it, or choose another id"
            )
        return None
    if resume == "must" and not run_id:
        raise UsageError("init(resume='must') needs the id of the run to resume: pass id=…")
    if resume == "auto" and not run_id:
        return _latest_unfinished(root)
    dirs = run_dirs(root, run_id) if run_id else []
    if resume == "never":
        if dirs:
            raise UsageError(
                f"init(resume='never'): a run with id {run_id!r} already exists in {root / 'wakelog'}"
            )
        return None
    state = read_state(dirs) if dirs else None
    if state is None and resume == "must":
        assert run_id is not None
        state = _must_find(settings, root, run_id)
    if state is not None:
        state.identity.setdefault("id", run_id)
    return state


def _latest_unfinished(root: Path) -> LocalRunState | None:
    latest = latest_run_dir(root)
    state = read_state([latest]) if latest is not None else None
    return state if state is not None and not state.finished else None


def _must_find(settings: Settings, root: Path, run_id: str) -> LocalRunState:
    state = server_state(settings, run_id) if settings.mode == "online" else None
    if state is None:
        where = f"{root / 'wakelog'}" + (f" or on {settings.base_url}" if settings.mode == "online" else "")
        raise UsageError(f"init(resume='must'): no run with id {run_id!r} found in {where}")
    return state


def _rewound(settings: Settings, run_id: str, step: int) -> LocalRunState:
    where = f"init(resume_from='{run_id}?_step={step}')"
    if (settings.mode or "online") != "online":
        raise UsageError(f"{where}: rewinding a run needs the server (mode='online')")
    state = server_state(settings, run_id, step, where)
    if state is None:
        raise UsageError(f"{where}: no run with id {run_id!r} on {settings.base_url}")
    # As wandb's client: a rewound run's summary is what it logs from here on (W&B "recomputes the
    # summary from the newly logged history"); its exit record's summary replaces the server's.
    state.summary = {}
    return state


def check_parent(settings: Settings, parent: str, step: int) -> None:
    """An online fork's parent is on the server (``init(fork_from=…)``), asked as ``resume_from``
    asks; ``UsageError`` naming it when the server does not have it. An offline fork cannot ask:
    the server notes the parent and copies nothing if it is missing when the fork is synced."""
    where = f"init(fork_from='{parent}?_step={step}')"
    if server_state(settings, parent, None, where) is None:
        project = settings.project or "uncategorized"
        project = f"{settings.entity}/{project}" if settings.entity else project
        raise UsageError(f"{where}: no run with id {parent!r} in project {project} on {settings.base_url}")


def server_state(
    settings: Settings, run_id: str, rewind_to: int | None = None, where: str = "init(resume='must')"
) -> LocalRunState | None:
    """The run as the server has it (rewound to ``rewind_to`` first, if given), or None when the
    server does not know it."""
    from wakelog.sdk._login import api_key_for

    base_url = settings.base_url or ""
    key = api_key_for(base_url)
    if not key:
        raise UsageError(f"{where}: no API key for {base_url} to look the run up")
    project = settings.project or "uncategorized"
    try:
        found = _hooks.server_lookup()(base_url, key, settings.entity, project, run_id, rewind_to)
    except CommError as exc:
        raise CommError(f"{where}: cannot look run {run_id!r} up on {base_url}: {exc}") from exc
    if found is None:
        return None
    detail = found["detail"]
    identity: dict[str, Any] = {
        "id": run_id,
        "project": found["project"],
        "entity": found["entity"],
        **{
            k: detail.get(k)
            for k in ("name", "group", "job_type", "notes", "tags")
            if detail.get(k) is not None
        },
    }
    return LocalRunState(
        run_dir=None,
        identity=identity,
        config=dict(detail.get("config") or {}),
        summary=dict(detail.get("summary") or {}),
        last_step=int(detail.get("last_step", -1)),
        last_seq=found["ack"],
    )
