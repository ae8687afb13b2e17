"""Entities, projects and runs as the query API shows them.

A run's ``state`` is what the run log said (``running``, ``finished``, ``failed``, ``killed``),
except that a ``running`` run whose heartbeat is older than the crash timeout is reported as
``crashed`` — in lists, details, filters and sorting alike (see :func:`crashed_before`).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wakelog.server.query import keyset, summary_sort
from wakelog.server.query.filters import (
    SUMMARY_VIEWS,
    Context,
    Node,
    SortKey,
    compile_filter,
    runtime_column,
    sort_columns,
    state_column,
)
from wakelog.store import key_registry
from wakelog.store.schema import entities, projects, runs, users

#: Minutes without a heartbeat after which a running run is reported as crashed.
DEFAULT_CRASHED_AFTER_MINUTES = 10.0
CRASHED_AFTER_ENV = "WAKELOG_SERVER_CRASHED_AFTER_MINUTES"
MAX_PAGE = 1000


def crashed_after_minutes(config: Any = None) -> float:
    """The crash timeout: ``ServerConfig.crashed_after_minutes`` if the config has one, else
    ``$WAKELOG_SERVER_CRASHED_AFTER_MINUTES``, else 10 minutes."""
    value = getattr(config, "crashed_after_minutes", None)
    if value is None:
        raw = os.environ.get(CRASHED_AFTER_ENV)
        try:
            value = float(raw) if raw else DEFAULT_CRASHED_AFTER_MINUTES
        except ValueError:
            value = DEFAULT_CRASHED_AFTER_MINUTES
    return max(0.0, float(value))


def crashed_before(config: Any = None, now: float | None = None) -> float:
    """Heartbeats older than this (epoch seconds) mark a running run as crashed."""
    return (time.time() if now is None else now) - crashed_after_minutes(config) * 60.0


def context(conn: sa.Connection, config: Any = None) -> Context:
    return Context(dialect=conn.dialect.name, crashed_before=crashed_before(config))


# -- lookups -------------------------------------------------------------------------------------
def _project_query(entity: str, project: str) -> sa.Select:
    """The project's id; a project in the trash is not found (like its runs)."""
    return (
        sa.select(projects.c.id)
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(entities.c.name == entity, projects.c.name == project, projects.c.deleted_at.is_(None))
    )


def project_id(conn: sa.Connection, entity: str, project: str) -> int | None:
    return conn.execute(_project_query(entity, project)).scalar()


def project_id_subquery(entity: str, project: str) -> sa.ScalarSelect:
    return _project_query(entity, project).scalar_subquery()


#: Runs outside the trash: every listing and lookup keeps only these.
LIVE = runs.c.deleted_at.is_(None)


@dataclass(frozen=True)
class RunKey:
    pk: int
    run_id: str
    created_at: float


def find_runs(conn: sa.Connection, entity: str, project: str, run_ids: list[str]) -> list[RunKey]:
    """The given runs of a project (unknown ids are left out), in the order asked. ``run_ids`` is
    one ``IN`` list: the history route caps it at 1,000."""
    if not run_ids:
        return []
    rows = conn.execute(
        sa.select(runs.c.id, runs.c.run_id, runs.c.created_at).where(
            runs.c.project_id == project_id_subquery(entity, project),
            runs.c.run_id.in_(sorted(set(run_ids))),
            LIVE,
        )
    )
    found = {row.run_id: RunKey(row.id, row.run_id, row.created_at) for row in rows}
    return [found[r] for r in dict.fromkeys(run_ids) if r in found]


def find_run(conn: sa.Connection, entity: str, project: str, run_id: str) -> RunKey | None:
    found = find_runs(conn, entity, project, [run_id])
    return found[0] if found else None


# -- output --------------------------------------------------------------------------------------
def clean_json(value: Any) -> Any:
    """JSON-safe copy: NaN and ±Inf become the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value


def summary_field(summary: dict[str, Any], field: str) -> Any:
    """A summary value by the name filters use: the key's own value, or for ``acc.max`` the value
    ``define_metric("acc", summary="max")`` keeps at ``{"acc": {"max": …}}``."""
    if field in summary:
        return summary[field]
    head, _, view = field.rpartition(".")
    entry = summary.get(head) if head and view in SUMMARY_VIEWS else None
    return entry.get(view) if isinstance(entry, dict) else None


def summary_value(summary: dict[str, Any], field: str) -> Any:
    """A summary field's value as the run table shows it (the web app's ``summaryValue``): as
    :func:`summary_field`, except that the plain key of a ``define_metric`` entry
    (``{"acc": {"max": …}}``) reads its ``last`` view, not the dict: ``acc.max`` names the rest."""
    value = summary_field(summary, field)
    views = isinstance(value, dict) and value and all(k in SUMMARY_VIEWS for k in value)
    return value.get("last") if field in summary and views else value


def _run_columns(ctx: Context, detail: bool) -> list[sa.ColumnElement]:
    columns = [
        runs.c.id.label("pk"),
        runs.c.run_id,
        runs.c.name,
        state_column(ctx.crashed_before).label("state"),
        runs.c.state.label("stored_state"),
        runs.c.group_name,
        runs.c.job_type,
        runs.c.tags,
        runs.c.notes,
        runs.c.config,
        runs.c.summary,
        runs.c.host,
        runs.c.created_at,
        runs.c.updated_at,
        runs.c.heartbeat_at,
        runs.c.finished_at,
        runtime_column().label("runtime"),
        runs.c.exit_code,
        runs.c.last_step,
        # who created the run (whose key first sent it): the run table's "user" column
        sa.select(users.c.username).where(users.c.id == runs.c.created_by).scalar_subquery().label("user"),
    ]
    if detail:
        columns += [runs.c.run_metadata, runs.c.metric_defs, runs.c.last_seq, runs.c.traceback]
    return columns


def run_dict(row: Any, entity: str, project: str, detail: bool = False) -> dict[str, Any]:
    out = {
        "id": row.run_id,
        "entity": entity,
        "project": project,
        "name": row.name,
        "state": row.state,
        "group": row.group_name,
        "job_type": row.job_type,
        "tags": list(row.tags or []),
        "notes": row.notes,
        "config": clean_json(row.config or {}),
        "summary": clean_json(row.summary or {}),
        "host": row.host,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "heartbeat_at": row.heartbeat_at,
        "finished_at": row.finished_at,
        "runtime": row.runtime,
        "exit_code": row.exit_code,
        "last_step": row.last_step,
        "user": row.user,
    }
    if detail:
        out["metadata"] = clean_json(row.run_metadata or {})
        out["metric_defs"] = clean_json(row.metric_defs or {})
        out["last_seq"] = row.last_seq
        out["traceback"] = row.traceback
    return out


@dataclass
class RunPage:
    runs: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
    #: The cursor of the page's last row when more may follow (``list_runs(after=…)``), else None.
    next_cursor: str | None = None
    #: The project id and summary key to index (``store/sort_index.add``) for the next page to be
    #: walked, where this one was sorted the general way only for want of it.
    unindexed: tuple[int, str] | None = None


def list_runs(
    conn: sa.Connection,
    entity: str,
    project: str,
    where: Node | None,
    sort: list[SortKey],
    *,
    ctx: Context,
    limit: int = 50,
    offset: int = 0,
    after: str | None = None,
) -> RunPage | None:
    """One page of a project's runs, filtered and sorted in SQL, or ``None`` if the project does
    not exist. ``after`` (a page's ``next_cursor``) starts the page after that page's last row,
    with no OFFSET to read through.

    The page is found on the sort columns and the run's id alone, and only its rows are read
    whole: the sort then carries a few values per run, not every run's config and summary. Sorted
    by a summary key alone, the page is walked from the sort index (``summary_sort``). The
    total is the project's maintained count of live runs without a filter (migration 0017), and
    a count of the runs the filter keeps with one (exact, as W&B shows it: one pass over the
    project's runs, without sorting)."""
    found = conn.execute(
        sa.select(projects.c.id, projects.c.live_run_count).where(
            projects.c.id == project_id_subquery(entity, project)
        )
    ).first()
    if found is None:
        return None
    if not sort:
        from wakelog.server.query.filters import Field

        sort = [SortKey(Field("created_at"), descending=True)]
    kept = sa.and_(runs.c.project_id == found.id, LIVE, compile_filter(where, ctx))
    plan = summary_sort.plan(conn, found.id, where, sort)
    if plan == "walk":
        walked = summary_sort.page_keys(conn, found.id, sort[0], ctx, limit, offset, after)
        keys = [_Keys(row, 0) for row in walked]
    else:
        columns = sort_columns(sort, ctx)
        keys = _page_keys(conn, columns, kept, limit, offset, after, counted=where is not None)
    pks = [row.k[-1] for row in keys]
    whole = sa.select(*_run_columns(ctx, False)).where(runs.c.id.in_(pks))
    rows = {row.pk: row for row in conn.execute(whole)}
    if where is None:
        total = found.live_run_count
    elif keys:
        total = keys[0].total
    else:
        total = conn.execute(sa.select(sa.func.count()).select_from(runs).where(kept)).scalar_one()
    more = len(keys) == limit
    return RunPage(
        [run_dict(rows[pk], entity, project) for pk in pks if pk in rows],
        total,
        offset,
        limit,
        keyset.encode(list(keys[-1].k)) if more and keys else None,
        (found.id, sort[0].field.path[0]) if plan == "unindexed" else None,
    )


@dataclass(frozen=True)
class _Keys:
    #: The row's sort values, its id last.
    k: tuple[Any, ...]
    #: How many rows the filter keeps (counted with a filter only).
    total: int


def _page_keys(
    conn: sa.Connection,
    columns: list[tuple[sa.ColumnElement, bool]],
    kept: sa.ColumnElement[bool],
    limit: int,
    offset: int,
    after: str | None,
    *,
    counted: bool,
) -> list[_Keys]:
    """The sort values and ids of a page's rows. Each sort value is computed once per run: ordered
    by its label, and after a cursor compared on a materialised list of them (a WHERE on the
    expressions themselves would compute each again per comparison)."""
    labelled = [column.label(f"k{i}") for i, (column, _) in enumerate(columns)]
    extra = [sa.func.count().over().label("total")] if counted else []  # of every row kept
    query = sa.select(*labelled, *extra).where(kept)
    if after is not None:
        values = keyset.decode(after, len(columns))
        listed = query.cte("keys").prefix_with("MATERIALIZED")
        labelled = [listed.c[f"k{i}"] for i in range(len(columns))]
        named = [(label, descending) for label, (_, descending) in zip(labelled, columns, strict=True)]
        query = sa.select(*listed.c).where(keyset.after(named, values))
    ordering = [
        (label.desc() if descending else label.asc()).nulls_last()
        for label, (_, descending) in zip(labelled, columns, strict=True)
    ]
    rows = conn.execute(query.order_by(*ordering).limit(limit).offset(offset)).all()
    width = len(columns)
    return [_Keys(tuple(row[:width]), row.total if counted else 0) for row in rows]


def run_detail(conn: sa.Connection, entity: str, project: str, run_id: str, ctx: Context) -> dict | None:
    row = conn.execute(
        sa.select(*_run_columns(ctx, True)).where(
            runs.c.project_id == project_id_subquery(entity, project), runs.c.run_id == run_id, LIVE
        )
    ).first()
    return None if row is None else run_dict(row, entity, project, detail=True)


# -- entities and projects -------------------------------------------------------------------------
def list_entities(conn: sa.Connection, visible: sa.ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """Entities with their project counts; only those ``visible`` (a clause on ``entities``) keeps."""
    counts = (
        sa.select(projects.c.entity_id, sa.func.count().label("n"))
        .where(projects.c.deleted_at.is_(None))
        .group_by(projects.c.entity_id)
        .subquery()
    )
    query = (
        sa.select(entities.c.name, entities.c.created_at, sa.func.coalesce(counts.c.n, 0).label("projects"))
        .outerjoin(counts, counts.c.entity_id == entities.c.id)
        .order_by(entities.c.name)
    )
    if visible is not None:
        query = query.where(visible)
    return [{"name": r.name, "created_at": r.created_at, "projects": r.projects} for r in conn.execute(query)]


def list_projects(
    conn: sa.Connection,
    entity: str | None = None,
    name: str | None = None,
    visible: sa.ColumnElement[bool] | None = None,
) -> list[dict[str, Any]]:
    """Projects, most recently active first; only ``entity``'s, named ``name``, of the entities
    ``visible`` (a clause on ``entities``) keeps, when given."""
    # The run count is the project's maintained ``live_run_count`` (migration 0017). Last activity
    # is the newest run update, read here rather than written by every ingest: a shared project row
    # would serialise all ingests of a project on PostgreSQL. It is one search of the index of the
    # project's live runs by update time, never a grouping over every run of the server.
    newest = (
        sa.select(sa.func.max(runs.c.updated_at))
        .where(runs.c.project_id == projects.c.id, LIVE)
        .scalar_subquery()
    )
    active = sa.func.coalesce(newest, projects.c.updated_at).label("updated_at")
    query = (
        sa.select(
            entities.c.name.label("entity"),
            projects.c.name,
            projects.c.created_at,
            active,
            projects.c.live_run_count.label("runs"),
        )
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(projects.c.deleted_at.is_(None))
        .order_by(active.desc(), projects.c.id)
    )
    if entity is not None:
        query = query.where(entities.c.name == entity)
    if name is not None:
        query = query.where(projects.c.name == name)
    if visible is not None:
        query = query.where(visible)
    return [
        {
            "entity": r.entity,
            "name": r.name,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "runs": r.runs,
        }
        for r in conn.execute(query)
    ]


def project_detail(conn: sa.Connection, entity: str, project: str, ctx: Context) -> dict[str, Any] | None:
    found = list_projects(conn, entity, project)
    if not found:
        return None
    per_run = (
        sa.select(state_column(ctx.crashed_before).label("state"))
        .where(runs.c.project_id == project_id_subquery(entity, project), LIVE)
        .subquery()
    )
    states = conn.execute(sa.select(per_run.c.state, sa.func.count().label("n")).group_by(per_run.c.state))
    detail = found[0]
    detail["states"] = {row.state: row.n for row in states}
    return detail


def project_keys(conn: sa.Connection, entity: str, project: str) -> dict[str, Any]:
    """The summary metric keys and config keys (dotted paths) a project's runs have used, and the
    ``step_metric`` each ``define_metric`` name (or trailing-``*`` glob) declared, the last declared
    where runs differ: the x axis the web app draws such a metric against by default. Read from the
    project's key registry (``store/key_registry.py``), one indexed query at any number of runs."""
    return key_registry.read(conn, project_id_subquery(entity, project))
