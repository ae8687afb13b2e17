"""Query API: metric histories — downsampled for charts, or whole for export and scanning.

* ``POST /api/v1/projects/{entity}/{project}/history`` (or ``GET`` with query parameters): many
  runs × keys at once, each series downsampled on the server to at most ``points`` points that
  keep the min/max envelope, in columnar arrays ``{steps, values, min, max[, x]}``.
* ``GET /api/v1/runs/{entity}/{project}/{run_id}/history`` and ``…/system``: the same for one run
  (``system`` = system metrics, whose steps are milliseconds of runtime).
* ``GET …/history/export?format=csv|jsonl``: every point, streamed.
* ``GET …/history/rows``: every point as row dicts, a page at a time (``wakelog.Api`` scans with it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from wakelog.server.body import MAX_QUERY_BODY, json_body_schema, read_json
from wakelog.server.errors import InvalidRequest
from wakelog.server.http import (
    INT64_MAX,
    Step,
    Timer,
    XValue,
    array_encoder,
    binary_array,
    check_texts,
    json_numbers,
    json_response,
    msgpack_response,
    not_found,
    project_path,
    refuse_nul,
    run_path,
    series_json_response,
    wants_msgpack,
)
from wakelog.server.permissions import Viewer
from wakelog.server.query import runs as q
from wakelog.server.query.history import (
    MAX_KEY_PARAMS,
    MAX_POINTS,
    STREAMS,
    RunRef,
    Series,
    csv_header,
    csv_lines,
    iter_windows,
    jsonl_lines,
    read_history,
    run_keys,
    window_rows,
)
from wakelog.store.schema import STREAM_SYSTEM

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
MAX_RUNS = 1000
MAX_KEYS = 200
MAX_SERIES = 5000
StreamName = Literal["history", "default", "system", "events"]


class HistoryQuery(BaseModel):
    runs: list[str] = Field(description="run ids in the project")
    keys: list[str] = Field(description="metric keys")
    points: int = Field(1000, ge=1, le=MAX_POINTS, description="at most this many points per series")
    x_axis: str = Field("_step", description="_step, _runtime, _timestamp or any metric key")
    stream: StreamName = "history"
    min_step: int | None = Field(None, ge=-INT64_MAX, le=INT64_MAX)
    max_step: int | None = Field(None, ge=-INT64_MAX, le=INT64_MAX)
    x_min: float | None = Field(None, allow_inf_nan=False, description="zoom: smallest x (in x_axis units)")
    x_max: float | None = Field(None, allow_inf_nan=False, description="zoom: largest x (in x_axis units)")


class SeriesOut(BaseModel):
    run: str
    key: str
    downsampled: bool = Field(description="true when points were merged into min/max bins")
    count: int = Field(description="raw points in the range")
    steps: list[int]
    values: list[float | str]
    min: list[float | str]
    max: list[float | str]
    x: list[float | str] | None = Field(None, description="x_axis values (absent for _step)")


class HistoryOut(BaseModel):
    x_axis: str
    points: int
    stream: str
    series: list[SeriesOut]


class RowsOut(BaseModel):
    rows: list[dict[str, Any]]
    next_step: int | None


def _body(series: list[Series], query: HistoryQuery, msgpack: bool) -> dict[str, Any]:
    encode = array_encoder(msgpack)
    items = []
    for s in series:
        item = {
            "run": s.run_id,
            "key": s.key,
            "downsampled": s.downsampled,
            "count": s.count,
            "steps": binary_array(s.steps) if msgpack else json_numbers(s.steps),
            "values": encode(s.values),
            "min": encode(s.mins),
            "max": encode(s.maxs),
        }
        if s.x is not None:
            item["x"] = encode(s.x)
        items.append(item)
    return {"x_axis": query.x_axis, "points": query.points, "stream": query.stream, "series": items}


def _check_sizes(query: HistoryQuery) -> None:
    if len(query.runs) > MAX_RUNS or len(query.keys) > MAX_KEYS:
        raise InvalidRequest(f"at most {MAX_RUNS} runs and {MAX_KEYS} keys per request")
    if len(query.runs) * len(query.keys) > MAX_SERIES:
        raise InvalidRequest(f"at most {MAX_SERIES} series (runs × keys) per request")
    if any(not isinstance(k, str) or not k or len(k) > 256 for k in query.keys):
        raise InvalidRequest("keys must be 1-256 characters")
    check_texts(query.runs, query.keys, query.x_axis)


def _answer(
    request: Request,
    conn: sa.Connection,
    refs: list[RunRef],
    query: HistoryQuery,
    msgpack: bool,
    timer: Timer,
) -> Any:
    series = read_history(
        conn,
        refs,
        query.keys,
        points=query.points,
        x_axis=query.x_axis,
        stream=STREAMS[query.stream],
        min_step=query.min_step,
        max_step=query.max_step,
        x_min=query.x_min,
        x_max=query.x_max,
    )
    body = _body(series, query, msgpack)
    return msgpack_response(body, timer) if msgpack else series_json_response(body, timer)


def _project_history(
    entity: str, project: str, query: HistoryQuery, request: Request, fmt: str | None
) -> Any:
    timer = Timer()
    entity, project = project_path(entity, project)
    _check_sizes(query)
    msgpack = wants_msgpack(request, fmt)
    with request.app.state.db.read() as conn:
        found = q.find_runs(conn, entity, project, query.runs)
        if not found and q.project_id(conn, entity, project) is None:
            raise not_found(f"project {entity}/{project}")
        refs = [RunRef(r.pk, r.run_id, r.created_at) for r in found]
        return _answer(request, conn, refs, query, msgpack, timer)


@router.post(
    "/projects/{entity}/{project}/history",
    response_model=HistoryOut,
    openapi_extra=json_body_schema(HistoryQuery),
)
async def project_history(
    entity: str,
    project: str,
    request: Request,
    user: Viewer,
    format: Annotated[str | None, Query(description="json (default) or msgpack")] = None,
) -> Any:
    """Histories of many runs × keys, downsampled to ``points`` per series (min/max envelope).

    The body is a ``HistoryQuery``. Unknown runs are left out; a run without a key gets an empty
    series. NaN and ±Inf come as the strings "NaN", "Infinity", "-Infinity" in JSON (as floats in
    MessagePack)."""
    query = await read_json(request, HistoryQuery, MAX_QUERY_BODY)
    return await run_in_threadpool(_project_history, entity, project, query, request, format)


@router.get("/projects/{entity}/{project}/history", response_model=HistoryOut)
def project_history_get(
    entity: str,
    project: str,
    request: Request,
    user: Viewer,
    runs: Annotated[list[str], Query(description="run ids (repeat the parameter)")],
    keys: Annotated[list[str], Query(description="metric keys (repeat the parameter)")],
    points: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 1000,
    x_axis: str = "_step",
    stream: StreamName = "history",
    min_step: Step = None,
    max_step: Step = None,
    x_min: XValue = None,
    x_max: XValue = None,
    format: str | None = None,
) -> Any:
    """The same as ``POST …/history``, with the query in the URL."""
    query = HistoryQuery(
        runs=runs,
        keys=keys,
        points=points,
        x_axis=x_axis,
        stream=stream,
        min_step=min_step,
        max_step=max_step,
        x_min=x_min,
        x_max=x_max,
    )
    return _project_history(entity, project, query, request, format)


def _run_ref(conn: sa.Connection, entity: str, project: str, run_id: str) -> RunRef:
    found = q.find_run(conn, entity, project, run_id)
    if found is None:
        raise not_found(f"run {entity}/{project}/{run_id}")
    return RunRef(found.pk, found.run_id, found.created_at)


def _run_history(
    entity: str,
    project: str,
    run_id: str,
    request: Request,
    keys: list[str] | None,
    stream: str,
    fmt: str | None,
    **options: Any,
) -> Any:
    timer = Timer()
    entity, project, run_id = run_path(entity, project, run_id)
    msgpack = wants_msgpack(request, fmt)
    with request.app.state.db.read() as conn:
        ref = _run_ref(conn, entity, project, run_id)
        if not keys:
            numeric, _ = run_keys(conn, ref.pk, STREAMS[stream])
            keys = [k for k in numeric if not k.startswith("_")][:MAX_KEYS]
        query = HistoryQuery(runs=[run_id], keys=keys, stream=stream, **options)
        _check_sizes(query)
        return _answer(request, conn, [ref], query, msgpack, timer)


@router.get("/runs/{entity}/{project}/{run_id}/history", response_model=HistoryOut)
def run_history(
    entity: str,
    project: str,
    run_id: str,
    request: Request,
    user: Viewer,
    keys: Annotated[list[str] | None, Query(description="metric keys; default: all but _-prefixed")] = None,
    points: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 1000,
    x_axis: str = "_step",
    min_step: Step = None,
    max_step: Step = None,
    x_min: XValue = None,
    x_max: XValue = None,
    format: str | None = None,
) -> Any:
    """One run's metric histories, downsampled to ``points`` per key."""
    return _run_history(
        entity,
        project,
        run_id,
        request,
        keys,
        "history",
        format,
        points=points,
        x_axis=x_axis,
        min_step=min_step,
        max_step=max_step,
        x_min=x_min,
        x_max=x_max,
    )


@router.get("/runs/{entity}/{project}/{run_id}/system", response_model=HistoryOut)
def run_system(
    entity: str,
    project: str,
    run_id: str,
    request: Request,
    user: Viewer,
    keys: Annotated[list[str] | None, Query(description="system metric keys; default: all")] = None,
    points: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 1000,
    x_axis: Annotated[str, Query(description="_runtime (s, default), _timestamp or _step (ms)")] = "_runtime",
    min_step: Step = None,
    max_step: Step = None,
    x_min: XValue = None,
    x_max: XValue = None,
    format: str | None = None,
) -> Any:
    """One run's system metrics (steps are milliseconds of runtime), downsampled like histories."""
    return _run_history(
        entity,
        project,
        run_id,
        request,
        keys,
        "system",
        format,
        points=points,
        x_axis=x_axis,
        min_step=min_step,
        max_step=max_step,
        x_min=x_min,
        x_max=x_max,
    )


def _export_keys(
    conn: sa.Connection, ref: RunRef, stream: int, keys: list[str] | None
) -> tuple[list[str], list[str] | None]:
    """The columns, and the keys to select by (``None``: every key, with no list in the SQL)."""
    if keys:
        if len(keys) > MAX_KEY_PARAMS:
            raise InvalidRequest(f"at most {MAX_KEY_PARAMS} keys parameters")
        chosen = list(dict.fromkeys(keys))
        return chosen, chosen
    numeric, objects = run_keys(conn, ref.pk, stream)
    return sorted(set(numeric) | set(objects)), None


@router.get(
    "/runs/{entity}/{project}/{run_id}/history/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def export_history(
    entity: str,
    project: str,
    run_id: str,
    request: Request,
    user: Viewer,
    format: Annotated[Literal["csv", "jsonl"], Query()] = "csv",
    keys: Annotated[list[str] | None, Query(description="default: every key")] = None,
    stream: StreamName = "history",
    min_step: Step = None,
    max_step: Step = None,
) -> Any:
    """Every logged point at full resolution, streamed: CSV (one column per key, empty where a key
    has no value at a step; nan/inf as Python writes them) or JSON lines (one object per step with
    the keys present there; NaN/Infinity as Python's json writes them). Non-numeric values (media
    stubs, strings) are JSON. System metrics are keyed by ``_runtime`` in seconds."""
    entity, project, run_id = run_path(entity, project, run_id)
    db = request.app.state.db
    stream_id = STREAMS[stream]
    with db.read() as conn:
        ref = _run_ref(conn, entity, project, run_id)
        columns, selected = _export_keys(conn, ref, stream_id, keys)
    step_key = "_runtime" if stream_id == STREAM_SYSTEM else "_step"

    def steps_text(window: Any) -> list[str]:
        if stream_id == STREAM_SYSTEM:
            return [repr(s / 1000.0) for s in window.steps.tolist()]
        return [str(s) for s in window.steps.tolist()]

    def generate() -> Iterator[str]:
        if format == "csv":
            yield csv_header(columns, step_key)
        with db.read() as conn:
            for window in iter_windows(conn, ref.pk, stream_id, selected, min_step, max_step):
                if format == "csv":
                    yield csv_lines(window, columns, steps_text(window))
                else:
                    yield jsonl_lines(window, columns, steps_text(window), step_key)

    media_type = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    name = f"{run_id}-{stream if stream_id == STREAM_SYSTEM else 'history'}.{format}"
    from urllib.parse import quote

    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(generate(), media_type=media_type, headers=headers)


@router.get("/runs/{entity}/{project}/{run_id}/history/rows", response_model=RowsOut)
def history_rows(
    entity: str,
    project: str,
    run_id: str,
    request: Request,
    user: Viewer,
    keys: Annotated[list[str] | None, Query(description="default: every key")] = None,
    min_step: Step = None,
    max_step: Step = None,
    page_size: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    require: Annotated[Literal["all", "any"], Query(description="rows with all keys, or any")] = "any",
    stream: StreamName = "history",
    format: str | None = None,
) -> Any:
    """Full-resolution rows ``{"_step": s, key: value, …}`` from ``min_step`` on, at most
    ``page_size`` of them; ask again from ``next_step`` (null at the end). With
    ``require=all`` only rows holding every requested key count, so sparse keys scan fast."""
    timer = Timer()
    entity, project, run_id = run_path(entity, project, run_id)
    msgpack = wants_msgpack(request, format)
    stream_id = STREAMS[stream]
    rows: list[dict[str, Any]] = []
    more = False
    with request.app.state.db.read() as conn:
        ref = _run_ref(conn, entity, project, run_id)
        columns, selected = _export_keys(conn, ref, stream_id, keys)
        for window in iter_windows(conn, ref.pk, stream_id, selected, min_step, max_step):
            rows.extend(window_rows(window, columns, require_all=require == "all" and bool(keys)))
            if len(rows) >= page_size:
                more = True
                break
    if len(rows) > page_size:
        rows = rows[:page_size]
    next_step = rows[-1]["_step"] + 1 if more and rows else None
    if stream_id == STREAM_SYSTEM:
        for row in rows:
            row["_runtime"] = row["_step"] / 1000.0
    if not msgpack:
        rows = [q.clean_json(row) for row in rows]
    body = {"rows": rows, "next_step": next_step}
    return msgpack_response(body, timer) if msgpack else json_response(body, timer)
