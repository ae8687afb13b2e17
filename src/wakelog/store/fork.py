"""A fork's start: the parent's history up to the fork step, copied into the new run once.

W&B's ``fork_from="<run>?_step=N"``: a new run that starts with its parent's history rows up to
step N and logs its own from N+1. Both clients come here. The stock wandb client names the point
in its config (``_wandb.branch_point``; ``server/wandb_compat/branches.py``), wakelog's SDK in its
run log's first record (the run record at sequence 0: ``fork_from: {"run", "step"}``). The server
reads the parent's rows (``server/manage/forks.py``) and the ingest applies them, as history, in
the transaction of the new run's first batch, before that batch's own records (``store/ingest``):
the copy is made exactly when the run's first records are, so a resent or retried first batch
(below the ack by then) copies nothing again.

Every fork is noted in the new run's metadata, ``forked_from: {"run", "step"}`` (kept when the
client sends new metadata), with ``"copied": false`` and the reason when nothing could be copied
(a parent the server does not have when an offline fork is synced: the fork's own data is never
refused for it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from wakelog.runlog import RecordType

#: Where ``runs.run_metadata`` names the run a fork came from.
FORKED_FROM = "forked_from"
#: The most rows a fork copies (in its first batch's transaction); a longer parent is not copied.
MAX_FORK_ROWS = 100_000
_MAX_STEP = 2**63 - 1


@dataclass(frozen=True)
class Inheritance:
    """What a new fork starts with: its parent, the step, the parent's history records up to it
    (checked as any batch's, numbered from 0; the ingest applies them as history only) and, when
    nothing could be copied, why."""

    parent: str
    step: int
    records: list[tuple[int, str, float, Any]] = field(default_factory=list)
    not_copied: str | None = None

    def note(self) -> dict[str, Any]:
        """The run's ``forked_from`` metadata."""
        note: dict[str, Any] = {"run": self.parent, "step": self.step}
        if self.not_copied is not None:
            note.update(copied=False, reason=self.not_copied)
        return note


def fork_point_problem(value: Any) -> str | None:
    """Why a run record's ``fork_from`` is not ``{"run": id, "step": N}``; None when it is."""
    if not isinstance(value, dict) or not isinstance(value.get("run"), str) or not value["run"]:
        return 'fork_from must be {"run": <run id>, "step": <step>}'
    if type(value.get("step")) is not int or not 0 <= value["step"] <= _MAX_STEP:
        return "fork_from's step must be a whole number from 0 to 2**63-1"
    return None


def fork_point(records: list[tuple[int, str, float, Any]]) -> tuple[str, int] | None:
    """(parent, step) a batch's first record names, when the batch starts a fork (its run record
    at sequence 0 has ``fork_from``); None otherwise. The batch is checked already."""
    if not records:
        return None
    seq, kind, _, data = records[0]
    point = data.get("fork_from") if seq == 0 and kind == RecordType.RUN else None
    return (point["run"], point["step"]) if point is not None else None


def history_records(rows: list[dict[str, Any]]) -> list[tuple[int, str, float, Any]]:
    """The parent's rows as history records for the ingest's checks (their times: the rows')."""
    return [(i, RecordType.HISTORY, _time(row.get("_timestamp")), row) for i, row in enumerate(rows)]


def _time(value: Any) -> float:
    return float(value) if type(value) in (int, float) and math.isfinite(value) else 0.0
