"""What a new fork starts with, read from its parent for the ingest to copy (``store/fork.py``).

Both clients' forks come here: the stock wandb client's first upsert (``wandb_compat``) and the
first batch of wakelog's SDK (``routes/ingest.py``). The parent is looked up in the fork's own
project (W&B's rule). The stock client is answered as W&B answers it: 404 for a parent the server
does not have, 400 for one too long to copy. The SDK's run log has been written already (an offline
fork is synced later, its parent maybe gone), so its fork is never refused: the parent is named
in the run's metadata and nothing is copied, with the reason noted there.
"""

from __future__ import annotations

from typing import Any

from wakelog.server.errors import InvalidRequest
from wakelog.server.http import not_found
from wakelog.server.query.history import iter_windows, run_keys, window_rows
from wakelog.server.query.runs import clean_json, find_run
from wakelog.store.database import Database
from wakelog.store.fork import MAX_FORK_ROWS, Inheritance, history_records
from wakelog.store.ingest import validate
from wakelog.store.schema import STREAM_HISTORY


def inheritance(
    db: Database, entity: str, project: str, parent: str, step: int, *, strict: bool = True
) -> Inheritance:
    """The parent's history up to ``step`` for the fork to start with; ``strict``: a missing or
    too long parent is refused (404, 400), else it is noted and nothing copied (see the module)."""
    where = f"fork_from {parent}?_step={step}"
    rows = _rows(db, entity, project, parent, step)
    if rows is None:
        if strict:
            raise not_found(f"run {entity}/{project}/{parent} ({where})")
        return Inheritance(parent, step, not_copied=f"run {parent} was not found in {entity}/{project}")
    if len(rows) > MAX_FORK_ROWS:
        reason = f"the parent has more than {MAX_FORK_ROWS} rows up to step {step}"
        if strict:
            raise InvalidRequest(f"{where}: {reason}")
        return Inheritance(parent, step, not_copied=reason)
    return Inheritance(parent, step, validate(history_records(rows)))


def _rows(db: Database, entity: str, project: str, parent: str, step: int) -> list[dict[str, Any]] | None:
    """The parent's history rows up to ``step`` (at most one more than a fork copies); None if
    there is no such run (or it is in the trash)."""
    rows: list[dict[str, Any]] = []
    with db.read() as conn:
        found = find_run(conn, entity, project, parent)
        if found is None:
            return None
        numeric, objects = run_keys(conn, found.pk, STREAM_HISTORY)
        columns = sorted(set(numeric) | set(objects))
        for window in iter_windows(conn, found.pk, STREAM_HISTORY, None, None, step):
            rows.extend(window_rows(window, columns))
            if len(rows) > MAX_FORK_ROWS:
                break
    return [clean_json(row) for row in rows]
