"""The resolvers of the GraphQL operations the wandb client sends while logging a run.

Each one checks the role it needs under the entity its arguments name (``permissions.py``), as
the REST routes do: writing needs ``member``, reading ``viewer``. They run in a worker thread
(``routes/wandb.py``); writes go through ``records.apply_in_thread``.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from anyio import from_thread
from fastapi import BackgroundTasks

from wakelog._names import check_file_name
from wakelog._version import __version__
from wakelog.runlog import RecordType
from wakelog.server.auth import User
from wakelog.server.errors import InvalidRequest
from wakelog.server.http import not_found, project_path, run_path
from wakelog.server.manage import forks
from wakelog.server.manage import runs as manage
from wakelog.server.permissions import require, require_writer
from wakelog.server.wandb_compat import artifact_edits, artifact_lists, artifacts, branches, reads, uploads
from wakelog.server.wandb_compat.graphql import Field, Resolver, Strict
from wakelog.server.wandb_compat.mapping import config_values, loads, metric_definitions, wandb_config
from wakelog.server.wandb_compat.records import LIVE_STATES, Made, apply_in_thread
from wakelog.store.ingest import MAX_INT64
from wakelog.store.schema import console_lines, entities, entity_members, projects, runs

#: Where a run goes when the client names no project (wandb's own default).
DEFAULT_PROJECT = "uncategorized"


@dataclass(frozen=True)
class Context:
    state: Any
    user: User
    base_url: str
    key_hash: str | None
    #: What to do once the answer is sent (a sorted page's key indexed: server/sort_indexing.py).
    later: BackgroundTasks


def _id(kind: str, number: int) -> str:
    """An opaque node id like W&B's (base64 of ``Kind:number``)."""
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


def _string(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string")
    return value


def viewer(ctx: Context, _args: dict[str, Any]) -> dict[str, Any]:
    user = ctx.user
    with ctx.state.db.read() as conn:
        teams = conn.execute(
            sa.select(entities.c.name)
            .join(entity_members, entity_members.c.entity_id == entities.c.id)
            .where(entity_members.c.user_id == user.id)
            .order_by(entities.c.name)
        ).scalars()
        names = [name for name in teams if name != user.username]
    return {
        "id": _id("User", user.id),
        "entity": user.username,  # the personal entity: where a run without entity= goes
        "username": user.username,
        "email": None,
        "admin": user.is_admin,
        "flags": "{}",
        "teams": {"edges": [{"node": {"name": name}} for name in names]},
    }


def server_info(_ctx: Context, _args: dict[str, Any]) -> dict[str, Any]:
    """No version nagging, and one optional server feature: the client takes its plain paths."""
    return {
        "cliVersionInfo": {},
        "latestLocalVersionInfo": {
            "outOfDate": False,
            "latestVersionString": __version__,
            "versionOnThisInstanceString": __version__,
        },
        # Only what wakelog answers as W&B does: linkArtifact's answer holds the link itself
        # (the client then reads no registry path back, which wakelog does not serve).
        "features": [{"name": "ARTIFACT_MEMBERSHIP_IN_LINK_ARTIFACT_RESPONSE", "isEnabled": True}],
    }


def entity(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """An entity by name; wakelog has no organizations (the client asks for CoreWeave's)."""
    name = _string(args, "name") or ctx.user.username
    return {"id": _id("Entity", 0), "name": name, "organization": None}


def _path(ctx: Context, entity: str | None, project: str | None, run_id: Any) -> tuple[str, str, str]:
    if not isinstance(run_id, str) or not run_id:
        raise InvalidRequest("the run's name (its id) is required")
    return run_path(entity or ctx.user.username, project or DEFAULT_PROJECT, run_id)


def _run_fields(given: dict[str, Any]) -> dict[str, Any]:
    """An upsert's run fields as a run record's: display name, group, job type, notes, tags."""
    fields: dict[str, Any] = {}
    for source, target in (("displayName", "name"), ("groupName", "group"), ("jobType", "job_type")):
        if _string(given, source) is not None:
            fields[target] = given[source]
    notes = _string(given, "notes") if given.get("notes") is not None else _string(given, "description")
    if notes is not None:
        fields["notes"] = notes
    if given.get("tags") is not None:
        tags = given["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InvalidRequest("tags must be a list of strings")
        fields["tags"] = tags
    return fields


def _summary(given: dict[str, Any]) -> dict[str, Any] | None:
    if not given.get("summaryMetrics"):
        return None
    summary = loads(given["summaryMetrics"], "summaryMetrics")
    if not isinstance(summary, dict):
        raise InvalidRequest("summaryMetrics must be a JSON object")
    return {k: v for k, v in summary.items() if k != "_wandb"}


def upsert_bucket(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Create or update a run: display name, group, job type, tags, notes, config, summary."""
    given = args.get("input")
    if not isinstance(given, dict):
        raise InvalidRequest("upsertBucket needs an input object")
    path = _path(ctx, _string(given, "entityName"), _string(given, "modelName"), given.get("name"))
    fields = _run_fields(given)
    raw = loads(given["config"], "config") if given.get("config") is not None else None
    config = config_values(raw) if raw is not None else None
    metrics = metric_definitions(raw)
    fork = branches.fork_point(raw)
    summary = _summary(given)
    now = time.time()

    def make(conn: sa.Connection, run: Any) -> list[Made]:
        made: list[Made] = []
        if run.last_seq < 0:
            made.append((RecordType.RUN, now, {**fields, "start_time": now}))
        elif run.state not in LIVE_STATES:  # an ended run upserted again: resumed, it runs again
            made.append((RecordType.RUN, now, fields))
            if run.stop_requested_at is not None:  # a stop asked of its last life is not for this one
                conn.execute(runs.update().where(runs.c.id == run.id).values(stop_requested_at=None))
        elif fields:
            made.append((RecordType.RUN, now, {**fields, "update": True}))
        if config is not None:
            made.append((RecordType.CONFIG, now, {"update": config}))
        if summary:
            made.append((RecordType.SUMMARY, now, {"update": summary}))
        # the client sends every definition with each config change: only new or changed ones
        held = run.metric_defs or {}
        made.extend((RecordType.METRIC, now, d) for d in metrics if held.get(d["name"]) != d)
        return made

    with ctx.state.db.read() as conn:
        require_writer(conn, ctx.user, path[0])
    inherit = None
    if fork is not None and fork[0] != path[2] and _read_run(ctx, *path) is None:
        # a fork's first upsert: the parent's history up to the fork step comes first
        inherit = forks.inheritance(ctx.state.db, *path[:2], *fork)
    result = apply_in_thread(ctx.state, path, ctx.user, make, inherit)
    with ctx.state.db.read() as conn:
        run = conn.execute(sa.select(runs).where(runs.c.id == result.run_pk)).one()
    return {"bucket": _bucket(run, path), "inserted": result.new_run}


def _bucket(run: Any, path: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "id": _id("Run", run.id),
        "name": run.run_id,
        "displayName": run.name,
        "description": run.notes,
        "notes": run.notes,
        "tags": run.tags or [],
        "config": json.dumps(wandb_config(run.config or {})),
        "summaryMetrics": json.dumps(run.summary or {}),
        "sweepName": None,
        "historyLineCount": run.last_step + 1,
        "project": {
            "id": _id("Project", run.project_id),
            "name": path[1],
            "entity": {"id": _id("Entity", 0), "name": path[0]},
        },
    }


def _read_run(ctx: Context, entity: str, project: str, run_id: str) -> Any:
    with ctx.state.db.read() as conn:
        require(conn, ctx.user, entity, "viewer", missing=f"project {entity}/{project}", project=project)
        return conn.execute(
            sa.select(runs)
            .join(projects, projects.c.id == runs.c.project_id)
            .join(entities, entities.c.id == projects.c.entity_id)
            .where(entities.c.name == entity, projects.c.name == project, runs.c.run_id == run_id)
            .where(runs.c.deleted_at.is_(None))
        ).first()


def project(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """``project``/``model``: the run's stop status (``run``) and resume status (``bucket``)."""
    entity, name = project_path(
        _string(args, "entityName") or ctx.user.username, _string(args, "name") or DEFAULT_PROJECT
    )

    def run_status(run_args: dict[str, Any]) -> dict[str, Any] | None:
        run = _read_run(ctx, entity, name, *_path(ctx, entity, name, run_args.get("name"))[2:])
        if run is None:
            if run_args.get("missingOk"):
                return None
            raise not_found(f"run {entity}/{name}/{run_args.get('name')}")
        # What wandb.Api reads of the run, then what the logging client reads (resume, stop).
        node: dict[str, Any] = reads.find_run(ctx.state, ctx.user, entity, name, run.run_id) or {}
        fields = {**node, **_bucket(run, (entity, name, run.run_id)), **_resume(ctx, run),
                  **artifact_lists.run_fields(ctx, entity, name, run.run_id)}  # fmt: skip
        # No parquet export of history: wandb-core then pages the history (``HistoryPage``).
        return Strict("Run", {**fields, "parquetHistory": None})

    return {
        **reads.project_fields(ctx, entity, name),
        **artifacts.project_fields(ctx, entity, name),
        **artifact_lists.project_fields(ctx, entity, name),
        "id": _id("Project", 0),
        "name": name,
        "entity": {"id": _id("Entity", 0), "name": entity},
        "run": Field(run_status),
        "bucket": Field(run_status),
    }


def _resume(ctx: Context, run: Any) -> dict[str, Any]:
    """What a resuming client reads back: where history and console go on, and that it stopped."""
    with ctx.state.db.read() as conn:
        lines = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(console_lines.c.line), -1)).where(
                console_lines.c.run_pk == run.id
            )
        ).scalar_one()
    tail = [json.dumps({"_step": run.last_step})] if run.last_step >= 0 else []
    return {
        "stopped": stop_requested(run),
        "logLineCount": lines + 1,
        "eventsLineCount": 0,
        "historyTail": json.dumps(tail),
        "eventsTail": "[]",
        "wandbConfig": json.dumps({"t": {}} if run.last_seq >= 0 else {}),
    }


def stop_requested(run: Any) -> bool:
    """Whether someone asked the run to stop (``POST …/stop``, the web app's button) while it runs."""
    return run.stop_requested_at is not None and run.state in LIVE_STATES


def stop_requested_of(state: Any, run_pk: int) -> bool:
    """``stop_requested`` of the run with this primary key (the file stream's answer)."""
    with state.db.read() as conn:
        run = conn.execute(sa.select(runs.c.state, runs.c.stop_requested_at).where(runs.c.id == run_pk)).one()
    return stop_requested(run)


def create_run_files(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Signed upload URLs for the run's files (a name wakelog does not take gets none)."""
    given = args.get("input")
    if not isinstance(given, dict) or not isinstance(given.get("files"), list):
        raise InvalidRequest("createRunFiles needs an input with files")
    path = _path(ctx, _string(given, "entityName"), _string(given, "projectName"), given.get("runName"))
    now = time.time()
    with ctx.state.db.read() as conn:
        require_writer(conn, ctx.user, path[0])
        key_id = uploads.key_of(conn, ctx.key_hash)
    files = []
    for name in given["files"]:
        try:
            check_file_name(name)
        except ValueError:
            files.append({"name": str(name)[:1024], "uploadUrl": None})
            continue
        target = uploads.Target(*path, name)
        assert ctx.key_hash is not None  # key_of found the key by it
        files.append(
            {"name": name, "uploadUrl": uploads.upload_url(ctx.base_url, key_id, ctx.key_hash, target, now)}
        )
    return {"runID": path[2], "uploadHeaders": [], "files": files}


def rewind_run(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """``rewindRun`` (``resume_from``, see ``branches.py``): the run's history cut after the step
    ``metricValue`` names; the run as ``upsertBucket`` answers it, ``historyLineCount`` being the
    rows kept."""
    given = args.get("input")
    if not isinstance(given, dict):
        raise InvalidRequest("rewindRun needs an input object")
    metric, step = given.get("metricName"), given.get("metricValue")
    if metric != "_step":
        raise InvalidRequest(f"rewindRun: a run rewinds by _step only (as on W&B), not by {metric!r}")
    if type(step) not in (int, float) or not 0 <= step <= MAX_INT64 or step != int(step):
        raise InvalidRequest(f"rewindRun: the step must be a whole number from 0 to 2**63-1, not {step!r}")
    path = _path(ctx, _string(given, "entityName"), _string(given, "projectName"), given.get("runName"))
    with ctx.state.db.read() as conn:
        require_writer(conn, ctx.user, path[0])
    done = manage.rewind(ctx.state.db, ctx.user, *path, int(step))
    from_thread.run_sync(ctx.state.live.publish_rewound, *path, done.keys, done.cut)
    return {"rewoundRun": {**_bucket(done.run, path), "historyLineCount": done.rows}}


def notify_alert(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    given = args.get("input")
    if not isinstance(given, dict):
        raise InvalidRequest("notifyScriptableRunAlert needs an input object")
    path = _path(ctx, _string(given, "entityName"), _string(given, "projectName"), given.get("runName"))
    # wandb's client sends ``wait_duration`` in milliseconds (``Run.alert`` converts the seconds
    # or timedelta it is given); wakelog's records hold seconds, as its own SDK writes them.
    wait = given.get("waitDuration")
    alert = {
        "title": _string(given, "title") or "",
        "text": _string(given, "text") or "",
        "level": str(given.get("severity") or "INFO"),
        "wait_duration": wait / 1000
        if isinstance(wait, (int, float)) and not isinstance(wait, bool)
        else None,
    }
    with ctx.state.db.read() as conn:
        require_writer(conn, ctx.user, path[0])
    apply_in_thread(ctx.state, path, ctx.user, lambda _c, _r: [(RecordType.ALERT, time.time(), alert)])
    return {"success": True}


RESOLVERS: dict[tuple[str, str], Resolver] = {
    ("query", "viewer"): viewer,
    ("query", "serverInfo"): server_info,
    ("query", "entity"): entity,
    ("query", "project"): project,
    ("query", "model"): project,
    ("query", "artifact"): artifacts.artifact_by_id,
    ("query", "artifactCollection"): artifact_lists.collection_by_id,
    ("mutation", "upsertBucket"): upsert_bucket,
    ("mutation", "createRunFiles"): create_run_files,
    ("mutation", "notifyScriptableRunAlert"): notify_alert,
    ("mutation", "rewindRun"): rewind_run,
    ("mutation", "createArtifact"): artifacts.create_artifact,
    ("mutation", "createArtifactManifest"): artifacts.create_manifest,
    ("mutation", "updateArtifactManifest"): artifacts.update_manifest,
    ("mutation", "createArtifactFiles"): artifacts.create_files,
    ("mutation", "commitArtifact"): artifacts.commit_artifact,
    ("mutation", "useArtifact"): artifacts.use_artifact,
    ("mutation", "updateArtifact"): artifact_edits.update_artifact,
    ("mutation", "addAliases"): artifact_edits.add_aliases,
    ("mutation", "deleteAliases"): artifact_edits.delete_aliases,
    ("mutation", "linkArtifact"): artifact_edits.link_artifact,
    ("mutation", "unlinkArtifact"): artifact_edits.unlink_artifact,
    ("mutation", "deleteArtifact"): artifact_edits.delete_artifact,
}
