"""Sweeps: ``wakelog.sweep`` creates one on the server, ``wakelog.agent`` runs its trials.

The server decides everything (which parameters next, which runs to cut, when the sweep is
done); this package only talks to it (``_client.py``) and runs trials (``_agent.py``,
``_trial.py``, ``_command.py``). A trial's run learns its parameters from the environment the
agent sets (``sdk/_sweep.py``). docs/sweeps.md is the user guide.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from wakelog.errors import UsageError
from wakelog.sweeps._agent import Agent, AgentOptions, AgentReport
from wakelog.sweeps._client import SweepClient, SweepConfigError, SweepPath

__all__ = [
    "SweepConfigError",
    "SweepPath",
    "agent",
    "connect",
    "control",
    "create_sweep",
    "sweep",
    "sweep_path",
]

CONTROL_ACTIONS = ("pause", "resume", "stop", "cancel")

#: Where the sweeps this process created live, so ``agent(sweep_id)`` finds them by id alone.
_created: dict[str, SweepPath] = {}


def connect(base_url: str | None = None) -> SweepClient:
    """A client for the configured server (settings' ``base_url``, the key ``wakelog login`` stored)."""
    from wakelog.sdk._login import api_key_for
    from wakelog.sdk._settings import resolve_settings

    url = (base_url or resolve_settings().base_url or "").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"the server URL must be http:// or https://, got {url!r}")
    return SweepClient(url, api_key_for(url))


def _read_config(config: Any) -> dict[str, Any] | str:
    """A dict, a YAML file's path, or YAML text, as wandb takes them; YAML goes to the server as
    written (it keeps it), so its errors are named there too."""
    if callable(config):
        config = config()
    if isinstance(config, Mapping):
        return dict(config)
    if isinstance(config, (str, os.PathLike)):
        text = str(config)
        path = Path(text).expanduser()
        if "\n" not in text and path.is_file():
            return path.read_text(encoding="utf-8")
        if "\n" in text or ":" in text:
            return text
        raise UsageError(f"sweep: no sweep configuration file {text!r}")
    raise UsageError(f"sweep: pass a dict, a YAML file path or YAML text, not a {type(config).__name__}")


def _place(client: SweepClient, entity: str | None, project: str | None) -> tuple[str, str]:
    from wakelog.sdk._settings import resolve_settings

    settings = resolve_settings()
    project = project or settings.project or "uncategorized"
    entity = entity or settings.entity or client.username()
    if not entity:
        raise UsageError("sweep: pass entity=… (the server did not say whose key this is)")
    return entity, project


def sweep_path(
    client: SweepClient, sweep_id: str, entity: str | None = None, project: str | None = None
) -> SweepPath:
    """``SWEEP_ID``, ``PROJECT/SWEEP_ID`` or ``ENTITY/PROJECT/SWEEP_ID`` as a full path."""
    parts = [part for part in str(sweep_id).split("/") if part]
    if len(parts) == 3:
        return SweepPath(*parts)
    if len(parts) == 2:
        project, parts = parts[0], parts[1:]
    if len(parts) != 1:
        raise UsageError(
            f"not a sweep id: {sweep_id!r} (SWEEP_ID, PROJECT/SWEEP_ID or ENTITY/PROJECT/SWEEP_ID)"
        )
    known = _created.get(parts[0])
    if known is not None and entity is None and project is None:
        return known
    return SweepPath(*_place(client, entity, project), parts[0])


def sweep(
    config: Any,
    entity: str | None = None,
    project: str | None = None,
    prior_runs: list[str] | None = None,
) -> str:
    """Create a sweep on the server from wandb's sweep configuration; returns its id.

    ``config``: a dict, a YAML file's path or YAML text. The server checks it before anything
    starts: a bad one raises ``SweepConfigError`` naming the key (``parameters.lr.distribution:
    …``). ``prior_runs``: ids of the project's existing runs that join the sweep as trials (their
    config values as parameters, their metric for bayes search and the best run).
    """
    path = create_sweep(config, entity, project, prior_runs)
    print(f"wakelog: created sweep {path.sweep_id} in {path.entity}/{path.project}", file=sys.stderr)
    return path.sweep_id


def create_sweep(
    config: Any,
    entity: str | None = None,
    project: str | None = None,
    prior_runs: list[str] | None = None,
) -> SweepPath:
    """``sweep()``, returning where the sweep is."""
    body = _read_config(config)
    client = connect()
    try:
        entity, project = _place(client, entity, project)
        created = client.create(entity, project, body, [str(r) for r in prior_runs or ()])
    finally:
        client.close()
    path = SweepPath(
        str(created.get("entity") or entity), str(created.get("project") or project), created["id"]
    )
    _created[path.sweep_id] = path
    return path


def _env_number(name: str, default: float) -> float:
    for prefix in ("WAKELOG_", "WANDB_"):
        raw = os.environ.get(prefix + name)
        if raw:
            try:
                return float(raw)
            except ValueError:
                raise UsageError(f"${prefix}{name} must be a number, got {raw!r}") from None
    return default


def _env_flag(name: str) -> bool:
    raw = os.environ.get("WAKELOG_" + name) or os.environ.get("WANDB_" + name) or ""
    return raw.strip().lower() in ("1", "true", "yes", "on")


def agent_options(count: int | None = None, name: str | None = None) -> AgentOptions:
    """The agent's options, with wandb's environment knobs (``WAKELOG_AGENT_…``/``WANDB_AGENT_…``)."""
    from wakelog.sdk._settings import resolve_settings

    return AgentOptions(
        count=count,
        kill_grace=_env_number("AGENT_KILL_DELAY", 30.0),
        max_initial_failures=int(_env_number("AGENT_MAX_INITIAL_FAILURES", 5)),
        disable_flapping=_env_flag("AGENT_DISABLE_FLAPPING"),
        root_dir=Path(resolve_settings().root_dir or ".").expanduser().absolute(),
        name=name,
    )


def agent(
    sweep_id: str,
    function: Callable[[], object] | None = None,
    entity: str | None = None,
    project: str | None = None,
    count: int | None = None,
) -> AgentReport:
    """Run trials of a sweep until it is done (or ``count`` trials have run).

    With ``function``, each trial calls it in this process: ``wakelog.init()`` inside it gets
    the trial's parameters in ``wakelog.config``, locked. Without, each trial runs the sweep's
    ``program``/``command`` in a process (what ``wakelog agent`` does).
    """
    if count is not None and count < 1:
        raise UsageError(f"agent: count must be ≥ 1, got {count}")
    client = connect()
    try:
        path = sweep_path(client, sweep_id, entity, project)
        return Agent(client, path, function, agent_options(count)).run()
    finally:
        client.close()


def control(
    sweep_id: str, action: str, entity: str | None = None, project: str | None = None
) -> dict[str, Any]:
    """Pause, resume, stop (running trials finish) or cancel (they are stopped) a sweep."""
    if action not in CONTROL_ACTIONS:
        raise UsageError(f"unknown sweep action {action!r}: one of {', '.join(CONTROL_ACTIONS)}")
    client = connect()
    try:
        return client.control(sweep_path(client, sweep_id, entity, project), action)
    finally:
        client.close()
