"""Find runs already recorded on this machine, for resuming them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wakelog.runlog import RecordType, RunLogError, read_runlog


@dataclass
class LocalRunState:
    """What a resumed run continues from."""

    run_dir: Path | None  # None: known from the server only
    identity: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    last_step: int = -1
    last_seq: int = -1
    finished: bool = False


def run_dirs(root: Path, run_id: str | None = None) -> list[Path]:
    """Run folders under ``<root>/wakelog``, oldest first (their names start with the date)."""
    base = root / "wakelog"
    if not base.is_dir():
        return []
    suffix = f"-{run_id}" if run_id else ""
    found = [
        p
        for p in base.iterdir()
        if p.is_dir()
        and not p.is_symlink()
        and p.name.startswith(("run-", "offline-run-"))
        and p.name.endswith(suffix)
    ]
    return sorted(found, key=lambda p: p.name.removeprefix("offline-"))


#: A run record's field saying the run was rewound to that step (``init(resume_from=…)``).
REWOUND_TO = "rewound_to"
#: The first run record's field naming the run a fork came from: ``{"run": id, "step": N}``
#: (``init(fork_from=…)``; the server copies the parent's rows up to N, ``store/fork.py``).
FORK_FROM = "fork_from"


def read_state(run_dirs_of_one_run: list[Path]) -> LocalRunState | None:
    """Replay the run logs of one run (a resumed run has several folders) into its state."""
    state: LocalRunState | None = None
    for run_dir in run_dirs_of_one_run:
        for log in sorted(run_dir.glob("run-*.wakelog")):
            try:
                result = read_runlog(log)
            except (OSError, RunLogError):
                continue
            state = state or LocalRunState(run_dir=run_dir)
            state.run_dir = run_dir
            for record in result.records:
                _replay(state, record.seq, record.type, record.data)
    return state


def _replay(state: LocalRunState, seq: int, kind: str, data: Any) -> None:
    """One record of the run log into ``state``."""
    state.last_seq = max(state.last_seq, seq)
    if kind == RecordType.RUN:
        state.identity.update({k: v for k, v in data.items() if k not in ("update", REWOUND_TO, FORK_FROM)})
        if type(data.get(REWOUND_TO)) is int:  # rewound: what it logged after the step is gone
            state.last_step, state.summary = data[REWOUND_TO], {}
        fork = data.get(FORK_FROM)
        if isinstance(fork, dict) and type(fork.get("step")) is int:  # a fork logs on from its step
            state.last_step = max(state.last_step, fork["step"])
    elif kind == RecordType.CONFIG:
        state.config.update(data.get("update", {}))
    elif kind == RecordType.HISTORY:
        state.last_step = max(state.last_step, data.get("_step", -1))
        state.summary.update(data)
        state.finished = False
    elif kind == RecordType.SUMMARY:
        state.summary.update(data.get("update", {}))
    elif kind == RecordType.EXIT:
        state.summary = dict(data.get("summary", state.summary))
        state.finished = True


def latest_run_dir(root: Path) -> Path | None:
    link = root / "wakelog" / "latest-run"
    try:
        return link.resolve(strict=True) if link.is_symlink() else None
    except OSError:
        return None
