"""A report's data bundle: everything its panels draw, resolved on the server in one answer.

The editor's preview, the viewer, share links and the HTML export all read this one shape (see
REPORTS_API.md "The bundle"). Run sets are resolved with the run table's own filter language and
query (``query/runs.list_runs``), line panels' series with the history route's downsampling
(``query/history.read_history``, ≤ 1,000 points per series), importance panels' ratings with
the importance route's (``query/project_importance.rate``, over the block's shown runs), so a
report shows what the workspace shows. Each run also carries its environment: the git commit
from its metadata, the sha256 of its ``diff.patch`` and the packages of its ``requirements.txt``
(run files the SDK uploads), which is what an auditor's archive needs.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from wakelog._names import check_file_name
from wakelog.server.http import json_array
from wakelog.server.query.filters import Field, InList, Node, parse
from wakelog.server.query.history import RunRef, read_history
from wakelog.server.query.project_importance import rate
from wakelog.server.query.runs import LIVE, Context, clean_json, list_runs, project_id_subquery
from wakelog.server.reports.spec import MAX_RUNS
from wakelog.server.routes.runs import file_url
from wakelog.store.blobs import BlobStore
from wakelog.store.chunks import chunked
from wakelog.store.schema import STREAM_HISTORY, history_objects, run_files, runs, series_chunks

POINTS = 1000
#: Metrics one line panel draws at most (after expanding globs), and its series (runs × metrics).
MAX_PANEL_KEYS = 50
MAX_PANEL_SERIES = 5000
#: A histogram panel: runs drawn when it sets no ``max_runs`` (a heatmap each), and logged steps
#: sent per run at most (evenly picked from more).
HISTOGRAM_RUNS = 6
HISTOGRAM_STEPS = 500
#: requirements.txt larger than this is not read for the package list.
MAX_REQUIREMENTS = 1024 * 1024
#: Run colours by position when a run set gives none (Tableau 10, as the workspace's charts).
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip


@dataclass
class Bundle:
    """The bundle (``data``) and, for the HTML export, the run files its media items point at
    (url → run row id and file name), looked up in ``run_files``, never taken from a stub."""

    data: dict[str, Any]
    files: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class _Runs:
    """The runs resolved so far: their rows (as the run table shows them) and row ids."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    pks: dict[str, int] = field(default_factory=dict)


def build(conn: sa.Connection, blobs: BlobStore, ctx: Context, report: dict[str, Any]) -> Bundle:
    entity, project = report["entity"], report["project"]
    found, runsets = _Runs(), {}
    panel_blocks = [b for b in report["spec"]["blocks"] if b["type"] == "panels"]
    colors: dict[str, str] = {}
    for block in panel_blocks:
        for runset in block["runsets"]:
            ids = _resolve(conn, ctx, entity, project, runset, found)
            runsets[runset["id"]] = ids
            for run_id in ids:
                if run_id not in colors:
                    colors[run_id] = runset["colors"].get(run_id) or PALETTE[len(colors) % len(PALETTE)]
    _row_ids(conn, entity, project, found)
    bundle = Bundle({})
    data = _panel_data(conn, entity, project, panel_blocks, runsets, found, bundle)
    environments = _environments(conn, blobs, found.pks)
    bundle.data = {
        "report": report,
        "runs": {
            run_id: _run(row, colors[run_id], environments.get(run_id, _no_environment()))
            for run_id, row in found.rows.items()
        },
        "runsets": runsets,
        **data,
        "generated_at": time.time(),
    }
    return bundle


def _panel_data(
    conn: sa.Connection,
    entity: str,
    project: str,
    panel_blocks: list[dict[str, Any]],
    runsets: dict[str, list[str]],
    found: _Runs,
    bundle: Bundle,
) -> dict[str, dict[str, Any]]:
    """What the panels draw beyond the runs' rows, by kind and panel id: ``series`` (line panels),
    ``media``, ``importance`` ratings and ``histograms`` (their steps)."""
    data: dict[str, dict[str, Any]] = {"series": {}, "media": {}, "importance": {}, "histograms": {}}
    for block in panel_blocks:
        shown = list(dict.fromkeys(r for s in block["runsets"] for r in runsets[s["id"]]))
        hidden = {r for s in block["runsets"] for r in s["hidden"]}
        refs = [RunRef(found.pks[r], r, found.rows[r]["created_at"]) for r in shown if r in found.pks]
        for panel in block["panels"]:
            kind, panel_id, config = panel["kind"], panel["id"], panel["config"]
            if kind == "line":
                data["series"][panel_id] = _line(conn, refs, config)
            elif kind == "media":
                data["media"][panel_id] = _media(conn, entity, project, refs, config, bundle)
            elif kind == "importance":
                rows = [(found.rows[r]["config"], found.rows[r]["summary"]) for r in shown if r not in hidden]
                data["importance"][panel_id] = rate(rows, config["metric"])
            elif kind == "histogram":
                data["histograms"][panel_id] = _histograms(conn, refs, config)
    return data


def _resolve(
    conn: sa.Connection, ctx: Context, entity: str, project: str, runset: dict[str, Any], found: _Runs
) -> list[str]:
    """The run ids of a run set now: its fixed list (in that order, gone runs left out), or the
    runs its filter matches, newest first; at most 500."""
    where: Node | None
    if runset["runs"] is not None:
        if not runset["runs"]:
            return []
        where = InList(Field("id"), tuple(runset["runs"]))
    else:
        where = parse(runset["filter"])
    page = list_runs(conn, entity, project, where, [], ctx=ctx, limit=MAX_RUNS)
    rows = {row["id"]: row for row in page.runs} if page else {}
    found.rows.update(rows)
    order = runset["runs"] if runset["runs"] is not None else list(rows)
    return [run_id for run_id in order if run_id in rows]


def _row_ids(conn: sa.Connection, entity: str, project: str, found: _Runs) -> None:
    for some in chunked(found.rows):
        query = sa.select(runs.c.id, runs.c.run_id).where(
            runs.c.project_id == project_id_subquery(entity, project), runs.c.run_id.in_(some), LIVE
        )
        found.pks.update({row.run_id: row.id for row in conn.execute(query)})


def _run(row: dict[str, Any], color: str, environment: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "name", "state", "group", "job_type", "tags", "config", "summary", "created_at")
    return {**{k: row[k] for k in keep}, "color": color, "environment": environment}


def _no_environment() -> dict[str, Any]:
    return {"git_commit": None, "git_diff_sha256": None, "packages": {}}


def _environments(conn: sa.Connection, blobs: BlobStore, pks: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Each run's git commit (its metadata), the sha256 of its ``diff.patch`` and the packages of
    its ``requirements.txt`` (run files), a few queries for all the runs."""
    run_ids = {pk: run_id for run_id, pk in pks.items()}
    found = {run_id: _no_environment() for run_id in pks}
    files: dict[str, Any] = {}
    for some in chunked(run_ids):
        for row in conn.execute(sa.select(runs.c.id, runs.c.run_metadata).where(runs.c.id.in_(some))):
            git = row.run_metadata.get("git") if isinstance(row.run_metadata, dict) else None
            commit = git.get("commit") if isinstance(git, dict) else None
            found[run_ids[row.id]]["git_commit"] = commit if isinstance(commit, str) else None
        query = sa.select(run_files.c.run_pk, run_files.c.name, run_files.c.sha256, run_files.c.size).where(
            run_files.c.run_pk.in_(some), run_files.c.name.in_(["diff.patch", "requirements.txt"])
        )
        for row in conn.execute(query):
            if row.name == "diff.patch":
                found[run_ids[row.run_pk]]["git_diff_sha256"] = row.sha256
            else:
                files[run_ids[row.run_pk]] = row
    packages: dict[str | None, dict[str, str]] = {}  # runs of one environment share their file
    for run_id, file in files.items():
        if file.sha256 not in packages:
            packages[file.sha256] = _packages(blobs, file)
        found[run_id]["packages"] = dict(packages[file.sha256])
    return found


def _packages(blobs: BlobStore, file: Any) -> dict[str, str]:
    """``name==version`` lines of a requirements.txt run file (other lines are left out)."""
    if (
        file is None
        or file.sha256 is None
        or (file.size or 0) > MAX_REQUIREMENTS
        or not blobs.exists(file.sha256)
    ):
        return {}
    text = b"".join(blobs.open(file.sha256)).decode("utf-8", "replace")
    found = {}
    for line in text.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and name and version and not name.startswith("#"):
            found[name.strip()] = version.strip()
    return found


def _history_keys(conn: sa.Connection, refs: list[RunRef]) -> list[str]:
    keys: set[str] = set()
    for some in chunked([ref.pk for ref in refs]):
        query = (
            sa.select(series_chunks.c.key)
            .where(series_chunks.c.run_pk.in_(some), series_chunks.c.stream == STREAM_HISTORY)
            .distinct()
        )
        keys.update(conn.execute(query).scalars())
    return sorted(keys)


def _expand(patterns: list[str], known: list[str]) -> list[str]:
    """Metric names and globs (``eval/*``) to the metrics the runs logged, in the order given."""
    out: dict[str, None] = {}
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            out.update(
                dict.fromkeys(k for k in known if fnmatch.fnmatchcase(k, pattern) and not k.startswith("_"))
            )
        else:
            out[pattern] = None
    return list(out)[:MAX_PANEL_KEYS]


def _line(conn: sa.Connection, refs: list[RunRef], config: dict[str, Any]) -> dict[str, Any]:
    if not refs:
        return {}
    keys = _expand(config["metrics"], _history_keys(conn, refs))
    keys = keys[: max(1, MAX_PANEL_SERIES // len(refs))]
    x = config.get("x", "step")
    x_axis = "_step" if x == "step" else x
    out: dict[str, dict[str, Any]] = {ref.run_id: {} for ref in refs}
    for s in read_history(conn, refs, keys, points=POINTS, x_axis=x_axis):
        xs = s.x if s.x is not None else s.steps
        out[s.run_id][s.key] = {"x": json_array(xs), "y": json_array(s.values)}
    return out


def _media(
    conn: sa.Connection, entity: str, project: str, refs: list[RunRef], config: dict[str, Any], bundle: Bundle
) -> dict[str, Any]:
    """Each run's media under ``key`` at ``step`` (or the last step at or before it; the last
    step without one)."""
    o = history_objects.c
    out: dict[str, Any] = {}
    for ref in refs:
        query = sa.select(o.step, o.value).where(o.run_pk == ref.pk, o.key == config["key"])
        if config.get("step") is not None:
            query = query.where(o.step <= config["step"])
        row = conn.execute(query.order_by(o.step.desc()).limit(1)).first()
        if row is None:
            continue
        stubs = row.value if isinstance(row.value, list) else [row.value]
        items = []
        for stub in stubs:
            if not isinstance(stub, dict):
                continue
            url = None
            if _is_file_name(stub.get("path")):
                url = file_url(entity, project, ref.run_id, stub["path"])
                bundle.files[url] = (ref.pk, stub["path"])
            caption = stub.get("caption")
            items.append(
                {
                    "type": stub.get("_type"),
                    "url_or_data": url,
                    "caption": caption if isinstance(caption, str) else None,
                }
            )
        out[ref.run_id] = {"step": row.step, "items": items}
    return out


def _histograms(conn: sa.Connection, refs: list[RunRef], config: dict[str, Any]) -> dict[str, Any]:
    """The first ``max_runs`` runs' logged steps of the histogram ``key`` (``[{step, value}]``, the
    value a ``wandb.Histogram`` stub), at most ``HISTOGRAM_STEPS`` each; runs without one left out."""
    o = history_objects.c
    out: dict[str, Any] = {}
    for ref in refs[: config.get("max_runs") or HISTOGRAM_RUNS]:
        query = sa.select(o.step, o.value).where(o.run_pk == ref.pk, o.key == config["key"])
        rows = [r for r in conn.execute(query.order_by(o.step)) if _is_histogram(r.value)]
        if len(rows) > HISTOGRAM_STEPS:
            rows = [rows[i * len(rows) // HISTOGRAM_STEPS] for i in range(HISTOGRAM_STEPS)]
        if rows:
            out[ref.run_id] = [{"step": r.step, "value": clean_json(r.value)} for r in rows]
    return out


def _is_histogram(value: Any) -> bool:
    return isinstance(value, dict) and value.get("_type") == "histogram"


def _is_file_name(path: Any) -> bool:
    try:
        check_file_name(path)
    except ValueError:
        return False
    return True
