"""``wandb.init(fork_from=…)`` and ``resume_from=…``: a run branched from a step of a run's history.

**Forks** (``fork_from="<run>?_step=N"``): a new run that starts with its parent's history.

The client says where it forks in the new run's config (``_wandb.branch_point``: the parent's id
and step) and logs from step N+1 on; it is the server's part to give the new run the parent's
history up to step N. The new run's first upsert copies those rows through the same ingest, in
its transaction, so the fork reads back as a run that logged them itself, and its metadata names
the parent (``forked_from``): the fork step shared with wakelog's SDK (``server/manage/forks.py``,
``store/fork.py``). The parent is looked up in the new run's project (W&B's rule as well).

**Rewinds** (``resume_from="<run>?_step=N"``): before its first upsert the client sends
``rewindRun(runName, entity, project, metricName: "_step", metricValue: N)``; the server cuts the
run's history after N (``operations.rewind_run`` → ``server/manage/runs.rewind`` →
``store/rewind.py``) and answers the run with ``historyLineCount``, the rows kept, where the
client continues its history file. The client then
upserts the run (``_wandb.branch_point`` names the run itself, which is no fork) and logs from
N+1. W&B rewinds by ``_step`` only; another metric is refused by name.
"""

from __future__ import annotations

from typing import Any

from wakelog.server.errors import InvalidRequest
from wakelog.store.ingest import MAX_INT64


def fork_point(config: Any) -> tuple[str, int] | None:
    """(parent run id, step) of ``_wandb.branch_point`` in wandb's raw config; None if absent."""
    internal = config.get("_wandb") if isinstance(config, dict) else None
    internal = internal.get("value") if isinstance(internal, dict) else None
    point = internal.get("branch_point") if isinstance(internal, dict) else None
    if point is None:
        return None
    parent, step = point.get("run_id") if isinstance(point, dict) else None, None
    if isinstance(point, dict) and type(point.get("step")) in (int, float):
        step = point["step"]
    if not isinstance(parent, str) or not parent or step is None or not 0 <= step <= MAX_INT64:
        raise InvalidRequest("config._wandb.branch_point needs a run_id and a step from 0 to 2**63-1")
    if step != int(step):
        raise InvalidRequest("config._wandb.branch_point: the step must be a whole number")
    return parent, int(step)
