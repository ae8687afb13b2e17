"""Index the summary key a run table page was sorted by, after the response (store/sort_index.py).

The page itself was sorted the general way (every run's value, one pass over the project); the
pages after it walk the index. Done after the response, so the first sort costs no more than it
did before the index: copying the key's rows is a pass over the project's runs too.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from fastapi import BackgroundTasks

from wakelog.server.query.runs import RunPage
from wakelog.store import sort_index
from wakelog.store.database import Database

_log = logging.getLogger(__name__)


#: The keys this process is indexing now: the sorts by one meanwhile do not start another copy.
_under_way: set[tuple[int, str]] = set()
_under_way_lock = threading.Lock()


def index_later(tasks: BackgroundTasks, db: Database, page: RunPage) -> None:
    """Index the key ``page`` was sorted by once it is answered, where it is not indexed yet."""
    if page.unindexed is not None:
        tasks.add_task(_index, db, *page.unindexed)


def _index(db: Database, project_id: int, key: str) -> None:
    with _under_way_lock:
        if (project_id, key) in _under_way:
            return
        _under_way.add((project_id, key))
    try:
        sort_index.add(db, project_id, key)
    except (sa.exc.SQLAlchemyError, OSError) as exc:  # a full disk, a lost database: sorted as before
        _log.warning("the run table's sort by summary.%s was not indexed (sorted without it): %s", key, exc)
    finally:
        with _under_way_lock:
            _under_way.discard((project_id, key))
