"""What the public ``wandb.Api`` reads: a project's runs (filtered, sorted, paged), a run's fields,
config and summary, and its history (``history()``, ``scan_history()``).

Runs come from ``server/query/runs.list_runs`` with wandb's filters translated to wakelog's filter
tree (``filters.py``); history rows from ``server/query/history`` (``iter_windows``), as the REST
routes read them. Every object here is a ``Strict`` one: a field wakelog does not answer is refused
by name. Reading needs the ``viewer`` role under the entity, like the REST routes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from wakelog.server.errors import InvalidRequest
from wakelog.server.http import not_found
from wakelog.server.permissions import require
from wakelog.server.query import runs as q
from wakelog.server.query.history import iter_windows, run_keys, window_rows
from wakelog.server.sort_indexing import index_later
from wakelog.server.wandb_compat import filters
from wakelog.server.wandb_compat.graphql import Field, Strict
from wakelog.server.wandb_compat.mapping import wandb_config
from wakelog.store.schema import STREAM_HISTORY, STREAM_SYSTEM

#: ``history(samples=)`` and ``sampledHistory`` answer at most this many rows (W&B's own cap).
MAX_SAMPLES = 10_000
#: ``HistoryPage`` (``scan_history``'s pages) answers at most this many rows.
MAX_PAGE_ROWS = 100_000


def iso(seconds: float | None) -> str | None:
    """A time as W&B writes it (UTC, to the second, no zone)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _int(args: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = args.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{name} must be an integer")
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}")
    return value


def _sample(rows: list[dict[str, Any]], samples: int) -> list[dict[str, Any]]:
    """At most ``samples`` rows, evenly spread over the run, the first and last kept."""
    if len(rows) <= samples:
        return rows
    if samples == 1:
        return [rows[-1]]
    last = len(rows) - 1
    return [rows[round(i * last / (samples - 1))] for i in range(samples)]


class RunReader:
    """One run's history, read on demand by the fields that ask for it."""

    def __init__(self, state: Any, entity: str, project: str, run_id: str) -> None:
        self.state, self.entity, self.project, self.run_id = state, entity, project, run_id

    def _rows(
        self,
        stream: int,
        keys: list[str] | None,
        min_step: int | None = None,
        max_step: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        with self.state.db.read() as conn:
            found = q.find_run(conn, self.entity, self.project, self.run_id)
            if found is None:
                raise not_found(f"run {self.entity}/{self.project}/{self.run_id}")
            if keys is None:
                numeric, objects = run_keys(conn, found.pk, stream)
                columns = sorted(set(numeric) | set(objects))
            else:
                columns = keys
            for window in iter_windows(conn, found.pk, stream, keys, min_step, max_step):
                rows.extend(window_rows(window, columns, require_all=keys is not None))
                if limit is not None and len(rows) >= limit:
                    del rows[limit:]
                    break
        if stream == STREAM_SYSTEM:
            for row in rows:
                row["_runtime"] = row.pop("_step") / 1000.0
        return [q.clean_json(row) for row in rows]

    def history_rows(self, max_step: int, limit: int) -> list[dict[str, Any]]:
        """The run's history rows up to ``max_step`` (a fork's start), at most ``limit``."""
        return self._rows(STREAM_HISTORY, None, None, max_step, limit)

    def history_keys(self, last_step: int) -> dict[str, Any]:
        with self.state.db.read() as conn:
            found = q.find_run(conn, self.entity, self.project, self.run_id)
            numeric, objects = run_keys(conn, found.pk, STREAM_HISTORY) if found else ([], [])
        return {"lastStep": last_step, "keys": {key: {} for key in sorted(set(numeric) | set(objects))}}

    def history(self, args: dict[str, Any], stream: int) -> list[str]:
        """``history(samples:)`` (``events`` for system metrics), or a ``scan_history`` page
        ``history(minStep:, maxStep:, samples:)`` (``maxStep`` exclusive): JSON lines."""
        if "minStep" in args or "maxStep" in args:
            low = _int(args, "minStep", 0, -(2**63), 2**63 - 1)
            high = _int(args, "maxStep", 2**63 - 1, -(2**63), 2**63 - 1)
            size = _int(args, "samples", 1000, 1, MAX_PAGE_ROWS)
            rows = self._rows(stream, None, low, high - 1, size) if high > low else []
        else:
            rows = _sample(self._rows(stream, None), _int(args, "samples", 500, 1, MAX_SAMPLES))
        return [json.dumps(row, ensure_ascii=False) for row in rows]

    def sampled_history(self, args: dict[str, Any]) -> list[list[dict[str, Any]]]:
        """``sampledHistory(specs:)``: per spec ``{"keys": [...], "samples": n}``, the rows holding
        every key, sampled."""
        specs = args.get("specs")
        if not isinstance(specs, list) or len(specs) > 16:
            raise InvalidRequest("specs must be a list of at most 16 JSON specs")
        answers = []
        for raw in specs:
            try:
                spec = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                raise InvalidRequest("a spec is not JSON") from None
            keys = spec.get("keys") if isinstance(spec, dict) else None
            if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
                raise InvalidRequest("a spec needs keys: a non-empty list of strings")
            samples = _int(spec, "samples", 500, 1, MAX_SAMPLES)
            # scan_history(keys=) pages with minStep/maxStep, both inclusive (wandb-core's pages)
            low = _int(spec, "minStep", 0, -(2**63), 2**63 - 1) if "minStep" in spec else None
            high = _int(spec, "maxStep", 0, -(2**63), 2**63 - 1) if "maxStep" in spec else None
            wanted = [k for k in dict.fromkeys(keys) if k != "_step"]
            rows = (
                self._rows(STREAM_HISTORY, wanted or None, low, high)
                if low is None or high is None or high >= low
                else []
            )
            answers.append(_sample(rows, samples))
        return answers


def run_node(state: Any, entity: str, project: str, run: dict[str, Any], project_pk: Any) -> Strict:
    """A run (``query.runs.run_dict``) as wandb's ``Run`` object."""
    reader = RunReader(state, entity, project, run["id"])
    user = {"name": run["user"], "username": run["user"]} if run["user"] else None
    return Strict(
        "Run",
        {
            "id": run["id"],
            "name": run["id"],
            "displayName": run["name"],
            "projectId": project_pk,
            "tags": run["tags"],
            "state": run["state"],
            "group": run["group"],
            "jobType": run["job_type"],
            "description": run["notes"],
            "notes": run["notes"],
            "sweepName": None,
            "commit": None,
            "readOnly": False,
            "createdAt": iso(run["created_at"]),
            "heartbeatAt": iso(run["heartbeat_at"]),
            "config": json.dumps(wandb_config(run["config"])),
            "summaryMetrics": json.dumps(run["summary"]),
            "systemMetrics": "{}",
            "historyLineCount": run["last_step"] + 1,
            "user": Strict("User", user) if user else None,
            "historyKeys": Field(lambda _a: reader.history_keys(run["last_step"])),
            "history": Field(lambda a: reader.history(a, STREAM_HISTORY)),
            "events": Field(lambda a: reader.history(a, STREAM_SYSTEM)),
            "sampledHistory": Field(reader.sampled_history),
        },
    )


def find_run(state: Any, user: Any, entity: str, project: str, run_id: str) -> Strict | None:
    """``project { run(name:) }`` for reading: the run, or None."""
    with state.db.read() as conn:
        require(conn, user, entity, "viewer", missing=f"project {entity}/{project}", project=project)
        found = q.run_detail(conn, entity, project, run_id, q.context(conn, state.config))
        project_pk = q.project_id(conn, entity, project)
    return None if found is None else run_node(state, entity, project, found, project_pk)


def project_fields(ctx: Any, entity: str, project: str) -> dict[str, Any]:
    """The fields of ``project`` that list its runs: ``internalId``, ``runCount``, ``runs``."""
    state, user = ctx.state, ctx.user

    def read(args: dict[str, Any], limit: int, offset: int) -> q.RunPage:
        where = filters.to_node(args.get("filters"))
        sort = filters.to_order(args.get("order"))
        with state.db.read() as conn:
            require(conn, user, entity, "viewer", missing=f"project {entity}/{project}", project=project)
            page = q.list_runs(
                conn,
                entity,
                project,
                where,
                sort,
                ctx=q.context(conn, state.config),
                limit=limit,
                offset=offset,
            )
        if page is None:
            raise not_found(f"project {entity}/{project}")
        index_later(ctx.later, state.db, page)
        return page

    def run_count(args: dict[str, Any]) -> int:
        return read(args, 1, 0).total

    def run_list(args: dict[str, Any]) -> Strict:
        limit = _int(args, "first", 50, 1, q.MAX_PAGE)
        after = args.get("after")
        if after is None:
            offset = 0
        elif isinstance(after, str) and after.isdigit() and len(after) < 12:
            offset = int(after)
        else:
            raise InvalidRequest("after must be a cursor this server handed out")
        page = read(args, limit, offset)
        with state.db.read() as conn:
            project_pk = q.project_id(conn, entity, project)
        edges = [
            Strict(
                "RunEdge",
                {"node": run_node(state, entity, project, run, project_pk), "cursor": str(offset + i + 1)},
            )
            for i, run in enumerate(page.runs)
        ]
        end = offset + len(page.runs)
        return Strict(
            "RunConnection",
            {
                "edges": edges,
                "pageInfo": Strict(
                    "PageInfo", {"endCursor": str(end) if edges else None, "hasNextPage": end < page.total}
                ),
            },
        )

    def internal_id(_args: dict[str, Any]) -> Any:
        with state.db.read() as conn:
            require(conn, user, entity, "viewer", missing=f"project {entity}/{project}", project=project)
            return q.project_id(conn, entity, project)

    return {
        "internalId": Field(internal_id),
        "readOnly": False,
        "runCount": Field(run_count),
        "runs": Field(run_list),
    }
