"""Applying a checked batch to its run in one write transaction: the run found or made, the sequence
checked, then each table written from what ``gather`` collected, the run's row last (with the ack)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa

from wakelog.store import fork, key_registry
from wakelog.store.database import Database
from wakelog.store.driver import fetch_first
from wakelog.store.fork import FORKED_FROM, Inheritance
from wakelog.store.ingest import _tail_cache
from wakelog.store.ingest._columns import fit_run_fields, json_safe
from wakelog.store.ingest._errors import InTrash, SequenceGap
from wakelog.store.ingest._gather import Batch, Points, gather
from wakelog.store.ingest._series import Encoded, encode_appends, seal, write_series
from wakelog.store.ingest._summaries import batch_statistics, write_summaries
from wakelog.store.ingest._validate import Record, last_seq
from wakelog.store.members import create_entity
from wakelog.store.schema import (
    STREAM_HISTORY,
    alert_rules,
    alerts,
    console_lines,
    entities,
    history_objects,
    projects,
    run_files,
    runs,
)
from wakelog.store.upsert import insert_missing, insert_rows, upsert


@dataclass
class IngestResult:
    ack: int
    run_pk: int
    project_id: int
    applied: int = 0
    points: int = 0
    new_run: bool = False
    state: str | None = None
    keys: set[str] = field(default_factory=set)
    refused_files: list[dict[str, str]] = field(default_factory=list)
    #: What a hook (``apply_batch``'s ``on_applied``) may act on: the alerts to deliver (those
    #: within their title's ``wait_duration`` left out), the run's end, and the batch's points.
    alerts: list[dict[str, Any]] = field(default_factory=list)
    exit: dict[str, Any] | None = None
    series: Points | None = None
    name: str | None = None  # the run's display name after the batch
    #: Someone asked the run to stop (the web app's Stop button): the uploader tells the training.
    stop_requested: bool = False


#: Makes a batch inside its transaction, from the run's row as it is (locked on PostgreSQL; SQLite
#: has one writer): (connection, the run's row) → records numbered from ``run.last_seq + 1``.
RecordSource = Callable[[sa.Connection, Any], list[Record]]
#: Called inside the batch's transaction, last: (connection, the run's row as it was, the result).
IngestHook = Callable[[sa.Connection, Any, IngestResult], None]
#: wandb's default ``wait_duration``: repeats of an alert's title within a minute are not sent.
DEFAULT_ALERT_WAIT = 60.0


#: Whether the run's project has alert rules, read with the run's row: the ingest hook looks the
#: rules up only then (server/notify/rules.py), one statement less for most projects' every batch.
_PROJECT_HAS_RULES = (
    sa.exists().where(alert_rules.c.project_id == runs.c.project_id).label("project_has_rules")
)

#: The run's columns a batch reads only when it changes them (config, metadata and metric definitions
#: records): large JSON (a detection model's flattened config runs to tens of KB), which every live
#: batch would otherwise decode (a 40 KB config: +0.5 ms of the server's CPU per batch).
ON_DEMAND = ("config", "run_metadata", "metric_defs")
#: The rest, read with the run at every batch.
_EVERY_BATCH = tuple(column for column in runs.c if column.name not in ON_DEMAND)
_READ_ON_DEMAND = sa.select(*(runs.c[name] for name in ON_DEMAND)).where(runs.c.id == sa.bindparam("run"))


class RunRow:
    """A run's row as a batch reads it: ``ON_DEMAND``'s columns are read by the run's primary key,
    in the same transaction, the first time one is asked for; the rest come from ``row``."""

    def __init__(self, conn: sa.Connection, values: Mapping[str, Any]) -> None:
        # plain attributes, so that only ON_DEMAND's first read comes to __getattr__ (a batch
        # reads the run's columns dozens of times)
        self.__dict__.update(values)
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        if name not in ON_DEMAND:
            raise AttributeError(name)
        self.__dict__.update(self._conn.execute(_READ_ON_DEMAND, {"run": self.id}).one()._mapping)
        return self.__dict__[name]


#: A run's row as a batch reads it, with when its project went into the trash (None: it is not
#: there) and whether the project has alert rules.
_RUN_ROW = sa.select(
    *_EVERY_BATCH, projects.c.deleted_at.label("project_deleted_at"), _PROJECT_HAS_RULES
).join(projects, projects.c.id == runs.c.project_id)

#: An existing run's row by its path, locked for update on PostgreSQL (built once: a live run's
#: every batch asks).
_EXISTING_RUN = (
    _RUN_ROW.join(entities, entities.c.id == projects.c.entity_id)
    .where(
        entities.c.name == sa.bindparam("entity"),
        projects.c.name == sa.bindparam("project"),
        runs.c.run_id == sa.bindparam("run_id"),
    )
    .with_for_update(of=runs)
)

#: The same by the project's id, for a batch that just made (or found) the project.
_RUN_IN_PROJECT = _RUN_ROW.where(
    runs.c.project_id == sa.bindparam("project_id"), runs.c.run_id == sa.bindparam("run_id")
).with_for_update(of=runs)


#: Sets the columns its parameters name (besides ``at_run``, the run's primary key).
_UPDATE_RUN = runs.update().where(runs.c.id == sa.bindparam("at_run"))


def ensure_run(
    conn: sa.Connection, entity: str, project: str, run_id: str, user_id: int | None
) -> tuple[RunRow, bool]:
    """The run's row (locked for update on PostgreSQL), created with its project (and entity) if new;
    besides the run's columns, ``project_deleted_at`` and ``project_has_rules`` (alert rules). Use
    it within ``conn``'s transaction: ``ON_DEMAND``'s columns are read when first asked for.

    Creation is INSERT … ON CONFLICT DO NOTHING and a second look: two transactions creating the
    same entity, project or run at once (two replicas, two server threads) both succeed, and on
    PostgreSQL the second waits for the first and then locks the row it made. Whether ``user_id``
    may write there, or create the entity, is for the caller to check (server/permissions.py).
    """
    found = fetch_first(conn, _EXISTING_RUN, {"entity": entity, "project": project, "run_id": run_id})
    if found is not None:
        return RunRow(conn, found), False  # the usual case: one statement
    now = time.time()
    project_id = ensure_project(conn, entity, project, user_id)
    where = {"project_id": project_id, "run_id": run_id}
    found = fetch_first(conn, _RUN_IN_PROJECT, where)
    if found is not None:
        return RunRow(conn, found), False
    created = insert_missing(
        conn,
        runs,
        {
            "project_id": project_id,
            "run_id": run_id,
            "state": "running",
            "tags": [],
            "config": {},
            "summary": {},
            "run_metadata": {},
            "metric_defs": {},
            "created_by": user_id,
            "created_at": now,
            "updated_at": now,
            "heartbeat_at": now,
            "last_step": -1,
            "last_seq": -1,
        },
        ["project_id", "run_id"],
    )
    made = fetch_first(conn, _RUN_IN_PROJECT, where)
    assert made is not None  # inserted above, or by a transaction that committed first
    return RunRow(conn, made), created


def ensure_project(conn: sa.Connection, entity: str, project: str, user_id: int | None) -> int:
    """The project's id, created with its entity if new (concurrent creators both succeed)."""
    now = time.time()
    entity_id, _ = create_entity(conn, entity, user_id)  # a new entity's creator administers it
    return _get_or_create(
        conn,
        projects,
        {"entity_id": entity_id, "name": project},
        {"created_at": now, "updated_at": now},
        ["entity_id", "name"],
    )


def _get_or_create(
    conn: sa.Connection, table: sa.Table, identity: dict[str, Any], extra: dict[str, Any], keys: list[str]
) -> int:
    query = sa.select(table.c.id).where(*(table.c[name] == value for name, value in identity.items()))
    found: int | None = conn.execute(query).scalar()
    if found is None:
        insert_missing(conn, table, {**identity, **extra}, keys)
        found = conn.execute(query).scalar_one()
    return found


def apply_batch(
    db: Database,
    entity: str,
    project: str,
    run_id: str,
    records: list[Record] | RecordSource,
    user_id: int | None = None,
    on_applied: IngestHook | None = None,
    inherit: Inheritance | None = None,
) -> IngestResult:
    """Apply ``records`` (already validated) to the run; returns the new ack. ``on_applied`` runs
    in the same transaction once the batch is written (the server's notifications), so what it
    writes is there exactly when the batch is. ``records`` may be a ``RecordSource``: a client
    that numbers nothing itself (the stock wandb client) has its records made under the run's lock.
    ``inherit``: the run is a fork (``store/fork.py``); if this batch is the run's first, the
    parent's rows go in before the batch's own and the run's metadata names its parent."""
    noted = Noted()
    with db.writer_turn():
        ready = None if callable(records) else _prepare(records)
        result = _apply(db, entity, project, run_id, records, user_id, on_applied, noted, inherit, ready)
    # committed: this process need not add those keys again, nor look up those tails
    key_registry.remember(noted.keys)
    _tail_cache.tail_cache.remember(noted.tails)
    return result


@dataclass
class Noted:
    """What a batch's transaction noted for this process to remember once it has committed."""

    keys: list[key_registry.Pending | None] = field(default_factory=list)
    tails: _tail_cache.Pending | None = None


class Prepared(NamedTuple):
    """What a batch's records come to without the database: gathered per table, the staged appends
    encoded, the summaries' statistics. Made before the write transaction, in the process's turn
    to write (``Database.writer_turn``), so that SQLite's write lock, which the server's
    ``--workers`` queue on, is held only for the writes: about a fifth of a live batch's time."""

    batch: Batch
    encoded: Encoded
    statistics: list[dict[str, Any]]
    logged: list[str]  # the keys with a summaries row


def _prepare(records: list[Record]) -> Prepared:
    """``records`` prepared (again inside the transaction when some were applied before: a resend)."""
    batch = gather(records)
    logged = key_registry.summary_keys(batch.points)
    return Prepared(batch, encode_appends(batch.points), batch_statistics(batch.points, logged), logged)


def _apply(
    db: Database,
    entity: str,
    project: str,
    run_id: str,
    records: list[Record] | RecordSource,
    user_id: int | None,
    on_applied: IngestHook | None,
    noted: Noted,
    inherit: Inheritance | None,
    ready: Prepared | None,
) -> IngestResult:
    with db.write() as conn:
        run, created = ensure_run(conn, entity, project, run_id, user_id)
        _refuse_trashed(run, f"{entity}/{project}")
        if callable(records):
            records = records(conn, run)
        fresh = [r for r in records if r[0] > run.last_seq]
        result = IngestResult(
            ack=run.last_seq,
            run_pk=run.id,
            project_id=run.project_id,
            new_run=created,
            stop_requested=run.stop_requested_at is not None,
        )
        if not fresh:
            # Nothing new (a retry, or an empty batch the uploader sends as a heartbeat): the run
            # is still alive, which is what keeps it from being reported as crashed.
            conn.execute(_UPDATE_RUN, {"at_run": run.id, "heartbeat_at": time.time()})
            return result
        if fresh[0][0] != run.last_seq + 1:
            raise SequenceGap(run.last_seq, fresh[0][0])
        # a fork's first batch (applied once: a resend is below the ack) starts with the parent's rows
        forking = inherit if inherit is not None and run.last_seq < 0 else None
        if forking is not None:
            forking, result.points = fork.inherit(conn, run, forking)
            run, _ = ensure_run(conn, entity, project, run_id, user_id)  # its summary and last step copied
        ready = ready if ready is not None and len(fresh) == len(records) else _prepare(fresh)
        batch = ready.batch
        if "stop_requested_at" in batch.run_fields:  # the run (re)starts: an old stop is over
            result.stop_requested = False
        known = _tail_cache.tail_cache.known(run)
        written = write_series(conn, run.id, batch.points, ready.encoded, known)
        result.points += written.points
        if batch.exit is not None:
            seal(conn, run.id)
        logged = ready.logged
        write_summaries(conn, run.id, run.project_id, ready.statistics, batch.summary_remove)
        _write_rows(conn, run.id, batch)
        result.alerts = _write_alerts(conn, run.id, batch.alerts)
        values = _run_values(run, batch)
        found = key_registry.entries(batch.config, batch.metric_defs, logged)
        if "summary" in values:  # a number set without logging makes its key "loose" (sorting reads JSON)
            found.update(key_registry.loose_entries(conn, run, _changed_summary(batch, values), logged))
        noted.keys.append(key_registry.register(conn, run, found))
        _note_parent(run, values, forking)
        values["last_seq"] = result.ack = last_seq(fresh[-1])
        conn.execute(_UPDATE_RUN, {"at_run": run.id, **values})
        if batch.exit is None and forking is None:  # sealed or inherited: left to be looked up
            noted.tails = _tail_cache.pending(run, values, {**known, **written.tails})
        result.applied = len(fresh)
        result.state = values.get("state")
        result.refused_files = batch.refused_files
        result.keys = {key for stream, key in batch.points if stream == STREAM_HISTORY}
        result.exit, result.series, result.name = batch.exit, batch.points, values.get("name", run.name)
        if on_applied is not None:
            on_applied(conn, run, result)
        return result


def _note_parent(run: Any, values: dict[str, Any], forking: Inheritance | None) -> None:
    """A fork's first batch names the run's parent in its metadata."""
    if forking is not None:
        metadata = values.get("run_metadata", run.run_metadata or {})
        values["run_metadata"] = {**metadata, FORKED_FROM: forking.note()}


def _refuse_trashed(run: Any, project: str) -> None:
    if run.deleted_at is not None:
        raise InTrash(f"run {project}/{run.run_id}")
    if run.project_deleted_at is not None:
        raise InTrash(f"project {project}")


def _write_rows(conn: sa.Connection, run_pk: int, batch: Batch) -> None:
    """The batch's rows outside the series: non-numeric history values, console lines, files."""
    if batch.objects:
        upsert(
            conn,
            history_objects,
            [{"run_pk": run_pk, **o, "value": json_safe(o["value"])} for o in batch.objects],
            ["run_pk", "key", "step"],
        )
    if batch.lines:
        _write_lines(conn, run_pk, batch.lines)
    if batch.files:
        now = time.time()
        rows = [{"run_pk": run_pk, "name": n, "policy": p, "updated_at": now} for n, p in batch.files.items()]
        upsert(conn, run_files, rows, ["run_pk", "name"], update=["policy", "updated_at"])


def _write_alerts(
    conn: sa.Connection, run_pk: int, batch_alerts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Store the alerts; returns those to deliver. As in wandb, an alert is not delivered when one
    of the same title was, less than its ``wait_duration`` (default a minute) before: times are
    the run log's, so a replayed or synced run decides the same way."""
    if not batch_alerts:
        return []
    last_sent: dict[str, float] = {}
    for title in {a["title"] for a in batch_alerts}:
        sent = conn.execute(
            sa.select(sa.func.max(alerts.c.time)).where(
                alerts.c.run_pk == run_pk, alerts.c.title == json_safe(title), alerts.c.delivered
            )
        ).scalar()
        if sent is not None:
            last_sent[title] = sent
    delivered = []
    for alert in batch_alerts:
        wait = alert["wait_duration"] or DEFAULT_ALERT_WAIT
        previous = last_sent.get(alert["title"])
        alert["delivered"] = previous is None or alert["time"] - previous >= wait
        if alert["delivered"]:
            last_sent[alert["title"]] = alert["time"]
            delivered.append(alert)
    conn.execute(alerts.insert(), [{"run_pk": run_pk, **json_safe(a)} for a in batch_alerts])
    return delivered


def _run_values(run: Any, batch: Batch) -> dict[str, Any]:
    """The run row's new column values (all but ``last_seq``): fields, config, metrics, summary."""
    now = time.time()
    values = fit_run_fields(_newer_than_edits(run, batch))
    values.update(heartbeat_at=now, updated_at=now)
    if batch.last_step > run.last_step:
        values["last_step"] = batch.last_step
    if batch.config:
        values["config"] = {**(run.config or {}), **json_safe(batch.config)}
    if batch.metric_defs:
        values["metric_defs"] = {**(run.metric_defs or {}), **json_safe(batch.metric_defs)}
    if batch.final_summary is not None:
        values["summary"] = json_safe(batch.final_summary)
    elif batch.summary_update or batch.summary_remove:
        summary = {k: v for k, v in (run.summary or {}).items() if k not in batch.summary_remove}
        summary.update(json_safe(batch.summary_update))
        values["summary"] = summary
    _note_lost(run, batch, values)
    return values


def _changed_summary(batch: Batch, values: dict[str, Any]) -> dict[str, Any]:
    """The part of the run's new summary JSON the batch set: the rest was there before, its loose
    keys registered then (a live batch changes only its logged keys, 50 of them a second)."""
    summary: dict[str, Any] = values["summary"]
    if batch.final_summary is not None:
        return summary  # sent whole: anything in it may be new
    return {key: summary[key] for key in batch.summary_update if key in summary}


def _newer_than_edits(run: Any, batch: Batch) -> dict[str, Any]:
    """The batch's run fields but those a person edited (through the API) after the run log
    recorded them: last writer wins, by the time each side wrote."""
    edited = run.edited_at or {}
    return {
        column: value
        for column, value in batch.run_fields.items()
        if column not in edited or batch.field_times.get(column, 0.0) > edited[column]
    }


#: What the server notes in a run's metadata besides ``lost_records`` (``store/rewind.py``,
#: ``store/fork.py``): kept as it is when the client sends new metadata.
_SERVER_NOTES = ("rewinds", FORKED_FROM)


def _note_lost(run: Any, batch: Batch, values: dict[str, Any]) -> None:
    """Declared gaps go to the run's metadata (``lost_records``); what the server noted there is
    kept when new metadata arrives."""
    if not batch.lost and "run_metadata" not in values:
        return  # the metadata is not read (most batches)
    held = run.run_metadata or {}
    known = held.get("lost_records") or []
    if batch.lost or (known and "run_metadata" in values):
        metadata = values.get("run_metadata", held)
        values["run_metadata"] = {**metadata, "lost_records": [*known, *json_safe(batch.lost)]}
    if "run_metadata" in values:
        kept = {key: held[key] for key in _SERVER_NOTES if key in held}
        values["run_metadata"] = {**values["run_metadata"], **kept}


def _write_lines(conn: sa.Connection, run_pk: int, lines: list[tuple[str, float, str]]) -> None:
    start = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(console_lines.c.line), -1)).where(
            console_lines.c.run_pk == run_pk
        )
    ).scalar_one()
    insert_rows(
        conn,
        console_lines,
        [
            {"run_pk": run_pk, "line": start + 1 + i, "stream": stream, "time": when, "text": json_safe(text)}
            for i, (stream, when, text) in enumerate(lines)
        ],
    )
