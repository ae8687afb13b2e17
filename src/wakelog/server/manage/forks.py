"""A new fork's parent, looked up for the ingest to copy from (``store/fork.py``).

Both clients' forks come here: the stock wandb client's first upsert (``wandb_compat``) and the
first batch of wakelog's SDK (``routes/ingest.py``). The parent is looked up in the fork's own
project (W&B's rule). The stock client is answered as W&B answers it: 404 for a parent the server
does not have. The SDK's run log has been written already (an offline fork is synced later, its
parent maybe gone), so its fork is never refused: the parent is named in the run's metadata and
nothing is copied, with the reason noted there.
"""

from __future__ import annotations

from wakelog.server.http import not_found
from wakelog.server.query.runs import find_run
from wakelog.store.database import Database
from wakelog.store.fork import Inheritance


def inheritance(
    db: Database, entity: str, project: str, parent: str, step: int, *, strict: bool = True
) -> Inheritance:
    """The fork's parent and step for the ingest to copy from; ``strict``: a missing parent is
    refused (404), else it is noted and nothing copied (see the module)."""
    with db.read() as conn:
        found = find_run(conn, entity, project, parent)
    if found is not None:
        return Inheritance(parent, step, parent_pk=found.pk)
    if strict:
        raise not_found(f"run {entity}/{project}/{parent} (fork_from {parent}?_step={step})")
    return Inheritance(parent, step, not_copied=f"run {parent} was not found in {entity}/{project}")
