"""Each project's registry of the keys its runs used (``project_keys``): config keys as dotted
paths, summary metric keys, and the step metric each ``define_metric`` name declared last. The run
table's column picker reads it in one indexed query instead of every run's config.

Ingest adds the keys of each batch with INSERT … ON CONFLICT DO NOTHING (never an update of a
shared row, so concurrent ingests of a project do not wait on each other; only a step metric
declared anew, once per run start, updates its entry), and skips the keys this
process already added for the run: a live run's batches repeat the same keys, and cost no
statement after its first. That memory is filled only once the batch's transaction has committed
(``remember``), so a rolled-back batch never hides a key. A moved run's keys are added to the target
project (``register_runs``). Keys are never removed: one whose runs were trashed, purged or moved
away stays listed (a column that shows nothing for the runs left).

A "loose" entry marks a summary key some run of the project holds as a number in its summary JSON
without a row in ``summaries`` (a value set with ``run.summary[k] = v``, never logged). The run
table sorts by such a key from every run's JSON; by any other key it walks the sort index
(server/query/summary_sort.py). Like the others, a loose entry is never removed.

A "sorted" entry marks a key the project's run table was sorted by, whose summaries the sort index
holds (store/sort_index.py). The column picker lists neither kind.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Container, Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from wakelog.store.chunks import chunked
from wakelog.store.schema import STREAM_HISTORY, project_keys, runs, summaries
from wakelog.store.upsert import upsert

#: (kind, key) → the step metric of a "step" entry, else None.
Entries = dict[tuple[str, str], str | None]
#: One entry as this process remembers it: kind, key, step metric.
Entry = tuple[str, str, str | None]
#: The longest key the registry keeps (its column's size): a longer config path is left out of it.
MAX_KEY = 1024
#: Runs whose added keys this process remembers (least recently used forgotten first).
REMEMBERED_RUNS = 20_000


def flat_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config's leaves by dotted path (``{"optimizer": {"lr": 0.1}}`` → ``optimizer.lr``), as the
    run table's config columns name them; an empty dict, and anything deeper than 8 levels, is a leaf."""
    out: dict[str, Any] = {}
    _flatten(config, "", out, 0)
    return out


def _flatten(value: Mapping[str, Any], prefix: str, out: dict[str, Any], depth: int) -> None:
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, dict) and item and depth < 8:
            _flatten(item, path + ".", out, depth + 1)
        else:
            out[path] = item


def entries(
    config: Mapping[str, Any] | None,
    metric_defs: Mapping[str, Any] | None,
    summary_keys: Iterable[str],
) -> Entries:
    """The registry entries of a config (or a config update), metric definitions and summary keys."""
    found: Entries = {("config", path): None for path in flat_config(config or {})}
    for name, definition in (metric_defs or {}).items():
        step = definition.get("step_metric") if isinstance(definition, dict) else None
        if isinstance(step, str) and step and len(step) <= MAX_KEY:
            found[("step", str(name))] = step
    found.update({("summary", key): None for key in summary_keys})
    return {entry: step for entry, step in found.items() if len(entry[1]) <= MAX_KEY}


def summary_keys(points: Iterable[Any]) -> list[str]:
    """The history keys of a batch's points ((stream, key) pairs) that ``write_summaries`` keeps a
    summary row for: all but the ``_``-prefixed (``_runtime``, ``_timestamp``)."""
    return [key for stream, key in points if stream == STREAM_HISTORY and not key.startswith("_")]


def summary_numbers(summary: Mapping[str, Any], skip: Container[str] = ()) -> set[str]:
    """The fields a summary JSON answers with a number: its top-level numbers, and ``acc.max`` for
    a number one level down (``{"acc": {"max": 0.9}}``, what ``define_metric(summary="max")`` keeps);
    none named in ``skip`` (looked up before the value: a live batch's 50 keys are all skipped)."""
    found: set[str] = set()
    for key, value in summary.items():
        if isinstance(value, dict):
            nested = (f"{key}.{view}" for view, inner in value.items() if _is_number(inner))
            found.update(name for name in nested if name not in skip)
        elif key not in skip and _is_number(value):
            found.add(str(key))
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def loose_entries(
    conn: sa.Connection, run: Any, summary: Mapping[str, Any] | None, logged: Iterable[str] = ()
) -> Entries:
    """The "loose" entries of a run's (a runs row's) summary JSON: its numbers whose key has no
    ``summaries`` row for the run. Not looked up: ``logged``, keys known to have one (the batch's
    own history keys), and the loose entries this process added for the run already (the wandb
    client sends its whole summary, ``_runtime`` and all, with every batch)."""
    numbers = summary_numbers(summary or {}, skip=frozenset(logged))
    candidates: Entries = {("loose", key): None for key in numbers if len(key) <= MAX_KEY}
    found = {key for _, key in _memory.unknown(_incarnation(run), candidates)}
    for some in chunked(found):
        rows = sa.select(summaries.c.key).where(summaries.c.run_pk == run.id, summaries.c.key.in_(some))
        found.difference_update(conn.execute(rows).scalars())
    return dict.fromkeys((("loose", key) for key in found), None)


class _Memory:
    """The entries this process added for each run, keyed by the run's incarnation (pk, creation
    time, project): a purged run's reused pk or a moved run is a new one."""

    def __init__(self, runs_kept: int) -> None:
        self._runs: OrderedDict[tuple[int, float, int], set[Entry]] = OrderedDict()
        self._kept = runs_kept
        self._lock = threading.Lock()

    def unknown(self, run: tuple[int, float, int], found: Entries) -> Entries:
        """The entries not yet added for ``run``; step metrics always (the one declared last is
        the project's, and another run may have declared another since this one's)."""
        with self._lock:
            known = self._runs.get(run, set())
        return {
            entry: step for entry, step in found.items() if entry[0] == "step" or (*entry, step) not in known
        }

    def add(self, run: tuple[int, float, int], added: Iterable[Entry]) -> None:
        with self._lock:
            self._runs.setdefault(run, set()).update(added)
            self._runs.move_to_end(run)
            while len(self._runs) > self._kept:
                self._runs.popitem(last=False)


_memory = _Memory(REMEMBERED_RUNS)
#: What ``register`` added and ``remember`` notes once committed: (run incarnation, entries).
Pending = tuple[tuple[int, float, int], list[Entry]]


def _incarnation(run: Any) -> tuple[int, float, int]:
    return int(run.id), float(run.created_at), int(run.project_id)


def register(conn: sa.Connection, run: Any, found: Entries) -> Pending | None:
    """Add the entries ``run`` (a runs row) brought that this process has not added for it yet;
    what to ``remember`` once the transaction commits, or None if nothing was new."""
    incarnation = _incarnation(run)
    new = _memory.unknown(incarnation, found)
    if not new:
        return None
    add(conn, run.project_id, new)
    return incarnation, [(*entry, step) for entry, step in new.items()]


def remember(pending: Iterable[Pending | None]) -> None:
    """Note what ``register`` added, once its transaction has committed."""
    for one in pending:
        if one is not None:
            _memory.add(*one)


def add(conn: sa.Connection, project_id: int, found: Entries) -> None:
    """Insert the entries a project lacks, and set the step metrics declared (sorted: concurrent
    writers take key locks in one order)."""
    rows = [
        {"project_id": project_id, "kind": kind, "key": key, "step_metric": step}
        for (kind, key), step in sorted(found.items())
    ]
    keys = ["project_id", "kind", "key"]
    upsert(conn, project_keys, [r for r in rows if r["kind"] != "step"], keys)
    upsert(conn, project_keys, [r for r in rows if r["kind"] == "step"], keys, update=["step_metric"])


def register_runs(conn: sa.Connection, project_id: int, run_pks: list[int]) -> None:
    """Add the keys of runs (moved into ``project_id``) to its registry."""
    found: Entries = {}
    columns = (
        runs.c.id,
        runs.c.created_at,
        runs.c.project_id,
        runs.c.config,
        runs.c.metric_defs,
        runs.c.summary,
    )
    for run in conn.execute(sa.select(*columns).where(runs.c.id.in_(run_pks))):
        found.update({k: v for k, v in entries(run.config, run.metric_defs, ()).items() if k not in found})
        found.update(loose_entries(conn, run, run.summary))
    keys = conn.execute(sa.select(summaries.c.key).where(summaries.c.run_pk.in_(run_pks)).distinct())
    found.update(entries(None, None, keys.scalars()))
    add(conn, project_id, found)


def read(conn: sa.Connection, project_id: Any) -> dict[str, Any]:
    """The project's summary keys and config keys, sorted, and its step metrics by name."""
    c = project_keys.c
    found: dict[str, Any] = {"summary": [], "config": [], "step_metrics": {}}
    rows = conn.execute(
        sa.select(c.kind, c.key, c.step_metric).where(c.project_id == project_id).order_by(c.key)
    )
    for kind, key, step in rows:
        if kind == "step":
            found["step_metrics"][key] = step
        elif kind in ("summary", "config"):
            found[kind].append(key)
    found["config"].sort()  # as Python orders them (the summary keys: as the database does)
    return found
