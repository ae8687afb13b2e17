"""The tails of each run's series as this process's last batch for it left them (``_series.Tail``):
a live run's next batch appends after them without looking them up (50 keys' tails: a sixteenth of
the batch's server CPU on SQLite, a round trip more on PostgreSQL).

An entry holds for the run's row as that batch left it: its ``last_seq`` and ``updated_at``. Any
other change of the run's series moves one of them: another process's batch (a replica, another
``--workers`` process) moves both, a rewind (``store/rewind.py``) and ``_series.seal`` (the
dispatcher's, for a run gone quiet) move ``updated_at``. ``_series.compact`` leaves every tail as it
was: it joins main chunks before the last. Like the key registry's memory, an entry is noted only
once its batch's transaction has committed (``remember``), so a rolled-back batch leaves none.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from wakelog.store.ingest._series import Series, Tail

#: Series whose tails this process keeps, least recently written runs forgotten first (some 300
#: bytes a series: 1,000 live runs of 50 keys take 15 MB); a run of more is not kept.
KEPT_SERIES = 100_000

#: A run as the cache knows it: pk, creation time, project (a purged run's reused pk is another).
RunKey = tuple[int, float, int]
#: The run's row as a batch left it: last_seq, updated_at.
Stamp = tuple[int, float]
#: What ``remember`` notes once the batch has committed: the run, its stamp, its series' tails.
Pending = tuple[RunKey, Stamp, dict[Series, Tail]]


def run_key(run: Any) -> RunKey:
    return int(run.id), float(run.created_at), int(run.project_id)


class TailCache:
    def __init__(self, kept: int = KEPT_SERIES) -> None:
        self._runs: OrderedDict[RunKey, tuple[Stamp, dict[Series, Tail]]] = OrderedDict()
        self._kept = kept
        self._series = 0  # how many tails are kept, all runs together
        self._lock = threading.Lock()

    def known(self, run: Any) -> dict[Series, Tail]:
        """The tails of ``run`` (its row as read in the batch's transaction) that still hold: all
        this process noted, if the row is as its last batch left it, else none."""
        with self._lock:
            entry = self._runs.get(run_key(run))
        if entry is None or entry[0] != (int(run.last_seq), float(run.updated_at)):
            return {}
        return entry[1]

    def remember(self, pending: Pending | None) -> None:
        """Note the tails a committed batch left (``pending``), in place of what was noted before."""
        if pending is None:
            return
        run, stamp, tails = pending
        with self._lock:
            _, before = self._runs.pop(run, (None, {}))
            self._series -= len(before)
            if len(tails) > self._kept:
                return
            self._runs[run] = (stamp, tails)
            self._series += len(tails)
            while self._series > self._kept:
                _, (_, forgotten) = self._runs.popitem(last=False)
                self._series -= len(forgotten)


def pending(run: Any, values: Mapping[str, Any], tails: dict[Series, Tail]) -> Pending:
    """What to ``remember`` of a batch that wrote the run's row with ``values`` (its ``last_seq``
    and ``updated_at``) and left ``tails``."""
    return run_key(run), (int(values["last_seq"]), float(values["updated_at"])), tails


#: This process's.
tail_cache = TailCache()
