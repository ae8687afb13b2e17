"""Query API: runs — the filtered, sorted, paged run table, one run, its keys, console and media.

``GET /api/v1/projects/{entity}/{project}/runs`` takes ``filter`` (the filter language of
``server/query/filters/``, e.g. ``config.lr < 0.01 and summary.eval/acc > 0.9``), ``order``
(``-summary.acc,created_at``), ``limit`` with ``offset`` or ``after`` (a page's ``next_cursor``)
and shortcuts (``state``, ``tag``, ``group``, ``job_type``) that are and-ed with the filter. A filter
or order that does not parse answers 400 with the position and what was expected there.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from pydantic import BaseModel

from wakelog._names import check_file_name
from wakelog.server.errors import InvalidRequest
from wakelog.server.http import (
    INT64_MAX,
    Offset,
    Step,
    Timer,
    json_response,
    not_found,
    project_path,
    refuse_nul,
    run_path,
)
from wakelog.server.permissions import Viewer
from wakelog.server.query import runs as q
from wakelog.server.query.filters import And, Compare, Field, FilterError, InList, Node, parse, parse_order
from wakelog.server.query.history import MAX_KEY_PARAMS
from wakelog.server.query.runs import MAX_PAGE
from wakelog.server.sort_indexing import index_later
from wakelog.store.schema import STREAM_HISTORY, console_lines, history_objects, series_chunks

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
#: How often ``state=`` and ``tag=`` may each be repeated in a run listing.
MAX_SHORTCUT_VALUES = 100


class RunOut(BaseModel):
    id: str
    entity: str
    project: str
    name: str | None
    state: str
    group: str | None
    job_type: str | None
    tags: list[str]
    notes: str | None
    config: dict[str, Any]
    summary: dict[str, Any]
    host: str | None
    created_at: float
    updated_at: float
    heartbeat_at: float
    finished_at: float | None
    runtime: float | None
    exit_code: int | None
    last_step: int


class RunDetail(RunOut):
    metadata: dict[str, Any]
    metric_defs: dict[str, Any]
    last_seq: int
    #: What an uncaught exception left when the run ended (its last 64 KiB); null otherwise.
    traceback: str | None = None


class RunPageOut(BaseModel):
    runs: list[RunOut]
    total: int
    offset: int
    limit: int
    next_offset: int | None
    #: The page after this one, for ``after`` (keyset paging: no offset to read through); null on
    #: the last page (after a cursor: once a page comes back short).
    next_cursor: str | None = None


class KeyInfo(BaseModel):
    key: str
    count: int
    first_step: int
    last_step: int


class RunKeys(BaseModel):
    history: list[KeyInfo]
    system: list[KeyInfo]
    objects: list[KeyInfo]


class ConsoleLine(BaseModel):
    line: int
    stream: str
    time: float
    text: str


class ConsolePage(BaseModel):
    lines: list[ConsoleLine]
    total: int
    next_offset: int | None


class MediaItem(BaseModel):
    key: str
    step: int
    value: Any
    url: str | None = None


class MediaPage(BaseModel):
    items: list[MediaItem]
    next_offset: int | None


def _shortcuts(
    state: list[str] | None, tag: list[str] | None, group: str | None, job_type: str | None
) -> list[Node]:
    if len(state or ()) > MAX_SHORTCUT_VALUES or len(tag or ()) > MAX_SHORTCUT_VALUES:
        raise InvalidRequest(f"at most {MAX_SHORTCUT_VALUES} state and {MAX_SHORTCUT_VALUES} tag parameters")
    nodes: list[Node] = []
    if state:
        nodes.append(InList(Field("state"), tuple(state)))
    for one in tag or ():
        nodes.append(Compare(Field("tags"), "=", one))
    if group is not None:
        nodes.append(Compare(Field("group"), "=", group))
    if job_type is not None:
        nodes.append(Compare(Field("job_type"), "=", job_type))
    return nodes


@router.get("/projects/{entity}/{project}/runs", response_model=RunPageOut)
def list_runs(
    entity: str,
    project: str,
    request: Request,
    user: Viewer,
    background: BackgroundTasks,
    filter: Annotated[
        str | None,
        Query(description="filter expression, e.g. `config.lr < 0.01 and summary.eval/acc > 0.9`"),
    ] = None,
    order: Annotated[
        str | None, Query(description="comma-separated sort keys, `-` for descending: `-summary.acc`")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Offset = 0,
    after: Annotated[
        str | None,
        Query(max_length=4096, description="the `next_cursor` of the page before, instead of `offset`"),
    ] = None,
    state: Annotated[list[str] | None, Query(description="only runs in these states")] = None,
    tag: Annotated[list[str] | None, Query(description="only runs with all these tags")] = None,
    group: Annotated[str | None, Query()] = None,
    job_type: Annotated[str | None, Query()] = None,
) -> Any:
    """A page of the project's runs; newest first unless ``order`` says otherwise."""
    timer = Timer()
    entity, project = project_path(entity, project)
    where = parse(filter or "")
    try:
        sort = parse_order(order or "")
    except FilterError as exc:
        raise exc.about("order") from None
    parts = ([where] if where is not None else []) + _shortcuts(state, tag, group, job_type)
    where = None if not parts else parts[0] if len(parts) == 1 else And(tuple(parts))
    if after is not None and offset:
        raise InvalidRequest("give one of offset and after")
    with request.app.state.db.read() as conn:
        page = q.list_runs(
            conn,
            entity,
            project,
            where,
            sort,
            ctx=q.context(conn, request.app.state.config),
            limit=limit,
            offset=offset,
            after=after,
        )
    if page is None:
        raise not_found(f"project {entity}/{project}")
    index_later(background, request.app.state.db, page)
    # After a cursor the offset of the page is unknown: its next page is the cursor's alone.
    shown = offset + len(page.runs)
    next_offset = shown if shown < page.total and after is None else None
    body = {
        "runs": page.runs,
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "next_offset": next_offset,
        "next_cursor": page.next_cursor if next_offset is not None or after is not None else None,
    }
    return json_response(body, timer)


@router.get("/runs/{entity}/{project}/{run_id}", response_model=RunDetail)
def run_detail(entity: str, project: str, run_id: str, request: Request, user: Viewer) -> Any:
    """One run: identity, state, config, summary, metadata and metric definitions."""
    entity, project, run_id = run_path(entity, project, run_id)
    with request.app.state.db.read() as conn:
        detail = q.run_detail(conn, entity, project, run_id, q.context(conn, request.app.state.config))
    if detail is None:
        raise not_found(f"run {entity}/{project}/{run_id}")
    return json_response(detail)


def _run(conn: sa.Connection, entity: str, project: str, run_id: str) -> q.RunKey:
    found = q.find_run(conn, entity, project, run_id)
    if found is None:
        raise not_found(f"run {entity}/{project}/{run_id}")
    return found


@router.get("/runs/{entity}/{project}/{run_id}/keys", response_model=RunKeys)
def run_keys(entity: str, project: str, run_id: str, request: Request, user: Viewer) -> Any:
    """The run's metric keys (history and system) and non-numeric (media) keys, with their
    point counts and step ranges. System steps are milliseconds of runtime."""
    entity, project, run_id = run_path(entity, project, run_id)
    c, o = series_chunks.c, history_objects.c
    with request.app.state.db.read() as conn:
        run = _run(conn, entity, project, run_id)
        series = conn.execute(
            sa.select(
                c.stream,
                c.key,
                sa.func.sum(c.count).label("count"),
                sa.func.min(c.first_step).label("first_step"),
                sa.func.max(c.last_step).label("last_step"),
            )
            .where(c.run_pk == run.pk)
            .group_by(c.stream, c.key)
            .order_by(c.stream, c.key)
        ).all()
        objects = conn.execute(
            sa.select(
                o.key,
                sa.func.count().label("count"),
                sa.func.min(o.step).label("first_step"),
                sa.func.max(o.step).label("last_step"),
            )
            .where(o.run_pk == run.pk)
            .group_by(o.key)
            .order_by(o.key)
        ).all()

    def info(row: Any) -> dict[str, Any]:
        return {
            "key": row.key,
            "count": int(row.count),
            "first_step": int(row.first_step),
            "last_step": int(row.last_step),
        }

    return json_response(
        {
            "history": [info(r) for r in series if r.stream == STREAM_HISTORY],
            "system": [info(r) for r in series if r.stream != STREAM_HISTORY],
            "objects": [info(r) for r in objects],
        }
    )


@router.get("/runs/{entity}/{project}/{run_id}/console", response_model=ConsolePage)
def console(
    entity: str,
    project: str,
    run_id: str,
    request: Request,
    user: Viewer,
    tail: Annotated[int | None, Query(ge=1, le=10_000, description="the last N lines")] = None,
    offset: Annotated[
        int | None, Query(ge=0, le=INT64_MAX, description="lines from this line number on")
    ] = None,
    before: Annotated[
        int | None, Query(ge=0, le=INT64_MAX, description="the `limit` lines before this line number")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    stream: Annotated[str | None, Query(description="stdout or stderr only")] = None,
) -> Any:
    """Console output: the tail (default: the last ``limit`` lines), a page from ``offset`` on,
    or the page before ``before`` (scrolling up). Line numbers start at 0."""
    entity, project, run_id = run_path(entity, project, run_id)
    if sum(x is not None for x in (tail, offset, before)) > 1:
        raise InvalidRequest("give one of tail, offset and before")
    c = console_lines.c
    with request.app.state.db.read() as conn:
        run = _run(conn, entity, project, run_id)
        total = (
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(c.line), -1)).where(c.run_pk == run.pk)
            ).scalar_one()
            + 1
        )
        query = sa.select(c.line, c.stream, c.time, c.text).where(c.run_pk == run.pk)
        if stream is not None:
            query = query.where(c.stream == stream)
        if offset is not None:
            rows = conn.execute(query.where(c.line >= offset).order_by(c.line).limit(limit + 1)).all()
            more = len(rows) > limit
            rows = rows[:limit]
            next_offset = rows[-1].line + 1 if more else None
        else:
            if before is not None:
                query = query.where(c.line < before)
            count = tail if tail is not None else limit
            rows = list(reversed(conn.execute(query.order_by(c.line.desc()).limit(count)).all()))
            next_offset = None
    lines = [{"line": r.line, "stream": r.stream, "time": r.time, "text": r.text} for r in rows]
    return json_response({"lines": lines, "total": total, "next_offset": next_offset})


def _file_name(path: Any) -> bool:
    """A stub's path that names a run file: only those get a ``url`` (a ``..`` in one stored before
    ingest refused them would make the link point at another endpoint)."""
    try:
        check_file_name(path)
    except ValueError:
        return False
    return True


def file_url(entity: str, project: str, run_id: str, name: str) -> str:
    from urllib.parse import quote

    return f"/api/v1/runs/{quote(entity)}/{quote(project)}/{quote(run_id, safe='')}/files/{quote(name)}"


@router.get("/runs/{entity}/{project}/{run_id}/media", response_model=MediaPage)
def media(
    entity: str,
    project: str,
    run_id: str,
    request: Request,
    user: Viewer,
    key: Annotated[list[str] | None, Query(description="only these keys")] = None,
    min_step: Step = None,
    max_step: Step = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Offset = 0,
) -> Any:
    """Non-numeric history values — media stubs (images, tables, histograms…), strings, lists —
    by step. Stubs that point at a file get its download ``url``."""
    entity, project, run_id = run_path(entity, project, run_id)
    if key and len(key) > MAX_KEY_PARAMS:
        raise InvalidRequest(f"at most {MAX_KEY_PARAMS} key parameters")
    o = history_objects.c
    with request.app.state.db.read() as conn:
        run = _run(conn, entity, project, run_id)
        query = sa.select(o.key, o.step, o.value).where(o.run_pk == run.pk)
        if key:
            query = query.where(o.key.in_(key))
        if min_step is not None:
            query = query.where(o.step >= min_step)
        if max_step is not None:
            query = query.where(o.step <= max_step)
        rows = conn.execute(query.order_by(o.step, o.key).limit(limit + 1).offset(offset)).all()
    items = []
    for row in rows[:limit]:
        item: dict[str, Any] = {"key": row.key, "step": row.step, "value": q.clean_json(row.value)}
        value = row.value
        if isinstance(value, dict) and _file_name(value.get("path")):
            item["url"] = file_url(entity, project, run_id, value["path"])
        items.append(item)
    return json_response({"items": items, "next_offset": offset + limit if len(rows) > limit else None})
