"""Sweeps: wandb-compatible hyper-parameter searches that the server coordinates.

``POST /api/v1/projects/{entity}/{project}/sweeps`` creates one from wandb's configuration (an
object or YAML text); ``POST /api/v1/sweeps/validate`` checks a configuration as the UI's editor
types it. Agents register (``…/agents``), ask for work (``…/agents/{agent}/next``) and report
their running trials (``…/heartbeat``, answered with the runs to stop); ``…/control`` pauses,
resumes, stops or cancels; ``…/importance`` rates the parameters. Reading needs the entity's
``viewer`` role, everything else ``member``. docs/sweeps.md ("HTTP API") has the shapes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from wakelog.server.auth import User, authenticate
from wakelog.server.body import MAX_JSON_BODY, MAX_QUERY_BODY, read_json, read_json_object
from wakelog.server.errors import InvalidRequest, InvalidSweepConfig
from wakelog.server.http import json_response, project_path, refuse_nul
from wakelog.server.permissions import Viewer, Writer
from wakelog.server.sweeps import config as sweep_config
from wakelog.server.sweeps import store
from wakelog.server.sweeps.importance import importance

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
#: A sweep configuration (YAML or JSON): parameter lists can be long, but not this long.
MAX_CONFIG_BODY = MAX_QUERY_BODY
#: The most existing runs a new sweep may take in as trials.
MAX_PRIOR_RUNS = 10_000
SweepState = Literal["running", "paused", "finished", "stopping", "canceled"]


class MetricOut(BaseModel):
    name: str
    goal: str


class BestOut(BaseModel):
    run_id: str
    value: float
    params: dict[str, Any] | None = None


class TrialOut(BaseModel):
    run_id: str
    params: dict[str, Any]
    state: str = Field(description="pending | running | finished | failed | crashed | killed")
    agent: str | None
    created_at: float
    metric: float | None = Field(description="the latest value of the sweep's metric, or null")
    stopped_reason: str | None


class SweepSummary(BaseModel):
    id: str
    entity: str
    project: str
    name: str | None
    method: str
    state: SweepState
    metric: MetricOut | None
    created_at: float
    counts: dict[str, int] = Field(description="trials by state")
    best: BestOut | None


class SweepOut(SweepSummary):
    description: str | None
    config: dict[str, Any] = Field(description="the configuration, normalised")
    yaml: str | None = Field(description="the configuration as submitted, if it was YAML")
    created_by: str | None
    run_cap: int | None
    trials: list[TrialOut]


class ConfigProblem(BaseModel):
    key: str
    message: str


class ValidationOut(BaseModel):
    ok: bool
    errors: list[ConfigProblem]
    config: dict[str, Any] | None


class AgentIn(BaseModel):
    host: str = Field(max_length=256)
    pid: int = Field(ge=0, le=2**63 - 1)
    name: str | None = Field(None, max_length=256)


class AgentOut(BaseModel):
    agent_id: str


class NextOut(BaseModel):
    action: Literal["run", "wait", "done"]
    run_id: str | None = None
    params: dict[str, Any] | None = None
    seconds: float | None = None
    reason: str | None = None


class HeartbeatIn(BaseModel):
    running: list[Annotated[str, Field(max_length=128)]] = Field(default_factory=list, max_length=10_000)


class StopOut(BaseModel):
    run_id: str
    reason: str


class HeartbeatOut(BaseModel):
    stop: list[StopOut]
    state: SweepState


class ControlIn(BaseModel):
    action: str = Field(description="pause | resume | stop | cancel")


class ImportanceOut(BaseModel):
    param: str
    importance: float
    correlation: float | None = Field(description="Pearson, for numeric parameters; else null")


# -- configuration --------------------------------------------------------------------------------
def _checked(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The normalised configuration of a request body, and its YAML text if it came as YAML."""
    if "config" not in body:
        raise InvalidRequest("the body needs 'config': the sweep configuration (an object or YAML text)")
    raw = body["config"]
    return sweep_config.normalise(raw), raw if isinstance(raw, str) else None


def _prior_runs(body: dict[str, Any]) -> list[str]:
    """``prior_runs``: ids of the project's existing runs that join the sweep as trials."""
    found = body.get("prior_runs") or []
    if (
        not isinstance(found, list)
        or len(found) > MAX_PRIOR_RUNS
        or not all(isinstance(r, str) and 0 < len(r) <= 128 for r in found)
    ):
        raise InvalidRequest(f"prior_runs must be a list of at most {MAX_PRIOR_RUNS} run ids")
    return found


def _refusal(error: sweep_config.SweepConfigError) -> InvalidSweepConfig:
    return InvalidSweepConfig(str(error), details=[{"key": k, "message": m} for k, m in error.problems])


@router.post("/sweeps/validate", response_model=ValidationOut)
async def validate_config(request: Request, user: Annotated[User, Depends(authenticate)]) -> Any:
    """Check a configuration (for an editor, as you type): never an error for a bad one."""
    body = await read_json_object(request, MAX_CONFIG_BODY)
    try:
        normalised, _ = await run_in_threadpool(_checked, body)
    except sweep_config.SweepConfigError as exc:
        problems = [{"key": key, "message": message} for key, message in exc.problems]
        return {"ok": False, "errors": problems, "config": None}
    return {"ok": True, "errors": [], "config": normalised}


@router.post("/projects/{entity}/{project}/sweeps", status_code=201, response_model=SweepOut)
async def create_sweep(entity: str, project: str, request: Request, user: Writer) -> Any:
    """Create a sweep (and the project, if new); 400 ``invalid_sweep_config`` names what is wrong.
    ``prior_runs`` (run ids of the project) join it as trials, for bayes and for the best run."""
    entity, project = project_path(entity, project)
    body = await read_json_object(request, MAX_CONFIG_BODY)
    prior_runs = _prior_runs(body)
    try:
        normalised, yaml_text = await run_in_threadpool(_checked, body)
    except sweep_config.SweepConfigError as exc:
        raise _refusal(exc) from None
    state = request.app.state

    def create() -> dict[str, Any]:
        with state.db.write() as conn:
            sweep_id = store.create(
                conn, entity, project, normalised, yaml_text, user.id, state.clock(), prior_runs
            )
        return _detail(state, entity, project, sweep_id)

    return json_response(await run_in_threadpool(create), status_code=201)


# -- reading --------------------------------------------------------------------------------------
def _summary(sweep: Any, trials: list[store.Trial], with_params: bool = False) -> dict[str, Any]:
    metric = sweep.config.get("metric")
    top = store.best(sweep, trials)
    best = None
    if top is not None:
        best = {"run_id": top.run_id, "value": top.metric}
        if with_params:
            best["params"] = top.params
    return {
        "id": sweep.sweep_id,
        "entity": sweep.entity,
        "project": sweep.project,
        "name": sweep.name,
        "method": sweep.method,
        "state": store.settled(sweep, trials),
        "metric": {"name": metric["name"], "goal": metric["goal"]} if metric else None,
        "created_at": sweep.created_at,
        "counts": store.counts(trials),
        "best": best,
    }


def _silence(state: Any) -> store.Silence:
    return store.Silence(state.clock(), state.config.sweep_agent_timeout)


def _detail(state: Any, entity: str, project: str, sweep_id: str) -> dict[str, Any]:
    # Read-only: a dead agent's trials read as crashed and a sweep that is over as finished; the
    # next agent request writes both down (viewers poll this, and must not queue for the writer).
    with state.db.read() as conn:
        sweep = store.find(conn, entity, project, sweep_id)
        trials = store.trials(conn, sweep, _silence(state))
        creator = store.user_name(conn, sweep.created_by)
    return {
        **_summary(sweep, trials, with_params=True),
        "description": sweep.description,
        "config": sweep.config,
        "yaml": sweep.yaml,
        "created_by": creator,
        "run_cap": sweep.run_cap,
        "trials": [t.public() for t in trials],
    }


@router.get("/projects/{entity}/{project}/sweeps", response_model=list[SweepSummary])
def list_sweeps(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """The project's sweeps, newest first."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        found = store.project_sweeps(conn, entity, project)
        silence = _silence(request.app.state)
        return json_response([_summary(sweep, store.trials(conn, sweep, silence)) for sweep in found])


@router.get("/sweeps/{entity}/{project}/{sweep}", response_model=SweepOut)
def get_sweep(entity: str, project: str, sweep: str, request: Request, user: Viewer) -> Any:
    """A sweep: its configuration, state, trials (joined to their runs) and best run."""
    entity, project = project_path(entity, project)
    return json_response(_detail(request.app.state, entity, project, sweep))


@router.get("/sweeps/{entity}/{project}/{sweep}/importance", response_model=list[ImportanceOut])
def sweep_importance(entity: str, project: str, sweep: str, request: Request, user: Viewer) -> Any:
    """How much each parameter matters to the metric, over the trials that have a value."""
    entity, project = project_path(entity, project)
    with request.app.state.db.read() as conn:
        found = store.find(conn, entity, project, sweep)
        trials = store.trials(conn, found)
    metric = found.config.get("metric")
    if metric is None:
        return json_response([])
    observed = [(t.params, t.metric) for t in trials if t.metric is not None and t.state != "running"]
    return json_response(importance(found.config["parameters"], observed, metric["goal"]))


# -- agents and control ---------------------------------------------------------------------------
@router.post("/sweeps/{entity}/{project}/{sweep}/agents", status_code=201, response_model=AgentOut)
async def register_agent(entity: str, project: str, sweep: str, request: Request, user: Writer) -> Any:
    """Register an agent; it then asks for work with ``next``."""
    entity, project = project_path(entity, project)
    body = await read_json(request, AgentIn, MAX_JSON_BODY)
    state = request.app.state

    def add() -> str:
        with state.db.write() as conn:
            found = store.find(conn, entity, project, sweep)
            now = state.clock()
            store.reap(conn, found, now, state.config.sweep_agent_timeout)
            return store.add_agent(conn, found, body.host, body.pid, body.name, user.id, now)

    return json_response({"agent_id": await run_in_threadpool(add)}, status_code=201)


@router.post("/sweeps/{entity}/{project}/{sweep}/agents/{agent}/next", response_model=NextOut)
def next_trial(entity: str, project: str, sweep: str, agent: str, request: Request, user: Writer) -> Any:
    """The agent's next trial (``run``), or ``wait`` (paused) or ``done``; no two agents ever get
    the same trial."""
    entity, project = project_path(entity, project)
    state = request.app.state
    with state.db.write() as conn:
        found = store.find(conn, entity, project, sweep)
        now = state.clock()
        agent_pk = store.touch_agent(conn, found, agent, now)
        store.reap(conn, found, now, state.config.sweep_agent_timeout)
        return json_response(store.next_trial(conn, found, agent_pk, now))


@router.post("/sweeps/{entity}/{project}/{sweep}/agents/{agent}/heartbeat", response_model=HeartbeatOut)
async def agent_heartbeat(
    entity: str, project: str, sweep: str, agent: str, request: Request, user: Writer
) -> Any:
    """The agent is alive and runs these trials; answers the ones to stop (hyperband, cancel)."""
    entity, project = project_path(entity, project)
    body = await read_json(request, HeartbeatIn, MAX_QUERY_BODY)
    state = request.app.state

    def beat() -> dict[str, Any]:
        with state.db.write() as conn:
            found = store.find(conn, entity, project, sweep)
            now = state.clock()
            agent_pk = store.touch_agent(conn, found, agent, now)
            store.reap(conn, found, now, state.config.sweep_agent_timeout)
            return store.heartbeat(conn, found, agent_pk, body.running, now)

    return json_response(await run_in_threadpool(beat))


@router.post("/sweeps/{entity}/{project}/{sweep}/control", response_model=SweepOut)
async def control_sweep(entity: str, project: str, sweep: str, request: Request, user: Writer) -> Any:
    """``pause``, ``resume``, ``stop`` (running trials finish) or ``cancel`` (they are stopped)."""
    entity, project = project_path(entity, project)
    body = await read_json(request, ControlIn, MAX_JSON_BODY)
    state = request.app.state

    def apply() -> dict[str, Any]:
        with state.db.write() as conn:
            found = store.find(conn, entity, project, sweep)
            store.control(conn, found, body.action, state.clock())
        return _detail(state, entity, project, sweep)

    return json_response(await run_in_threadpool(apply))
