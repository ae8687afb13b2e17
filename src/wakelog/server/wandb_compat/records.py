"""A wandb run's changes as run-log records, applied by wakelog's ingest exactly once.

The wandb client numbers nothing the way wakelog's uploader does, so the server numbers its
records: ``apply_now`` hands the ingest a maker that runs inside the batch's transaction with the
run's row locked, reads what the run holds already (to drop what the client resends) and numbers
the new records from ``last_seq + 1``. The batch then goes through the same checks, tables,
summaries, live push and notifications as the SDK's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from anyio import from_thread

from wakelog.server.auth import User
from wakelog.server.notify.ingest import IngestNotifier
from wakelog.server.routes.ingest import announce
from wakelog.store.fork import Inheritance
from wakelog.store.ingest import IngestResult, apply_batch, validate

#: The states of a run that has not ended: an exit ends it once, an upsert of any other resumes it.
LIVE_STATES = ("running", "preempting")
#: One record to make: (type, time, data); the sequence number is the ingest's.
Made = tuple[str, float, dict[str, Any]]
#: (connection, the run's row as it is) → the records to apply; runs inside the transaction.
Maker = Callable[[sa.Connection, Any], list[Made]]


def apply_now(
    state: Any,
    path: tuple[str, str, str],
    user: User,
    make: Maker,
    notifier: IngestNotifier,
    inherit: Inheritance | None = None,
) -> IngestResult:
    """Apply what ``make`` returns to the run at ``path`` (created if new), in this worker thread:
    the quota, then the transaction. The caller has checked the disk guard, and announces the
    result on the event loop (``routes.ingest.announce``)."""
    state.quotas.check(user.username, path[0], rows=True)

    def numbered(conn: sa.Connection, run: Any) -> list[tuple[int, str, float, Any]]:
        made = make(conn, run)
        return validate(
            [(run.last_seq + 1 + i, kind, when, data) for i, (kind, when, data) in enumerate(made)]
        )

    return apply_batch(state.db, *path, numbered, user.id, on_applied=notifier, inherit=inherit)


def apply_in_thread(
    state: Any, path: tuple[str, str, str], user: User, make: Maker, inherit: Inheritance | None = None
) -> IngestResult:
    """``apply_now`` with the disk guard, for a worker thread that cannot return to the loop first
    (the GraphQL resolvers): the announcing runs on the loop.
    ``inherit``: the run is a new fork (``store/fork.py``)."""
    state.disk_guard.check()
    notifier = IngestNotifier(path, state.clock, state.config.public_url)
    result = apply_now(state, path, user, make, notifier, inherit)
    from_thread.run_sync(announce, state, path, user, result, notifier)
    return result
