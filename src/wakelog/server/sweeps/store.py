"""Sweeps in the database: creating them, handing out trials, agents' heartbeats, control.

All state lives in the tables ``sweeps``, ``sweep_agents`` and ``sweep_trials`` (store/schema.py),
so replicas share it and a restart loses nothing. A trial is handed out by a conditional UPDATE
that raises the sweep's ``trials`` counter only while the sweep runs and is under its limit: on
PostgreSQL the row lock makes concurrent agents (on any replica) take turns and each gets its own
sequence number; on SQLite writes are serialised anyway. ``(sweep, seq)`` and ``(sweep, run_id)``
are unique besides.

A trial's state is what the server decided (``pending`` until its run reports, ``crashed`` when its
agent died, ``killed`` for a pending trial of a canceled sweep) until its run exists; then the
run's state, and a run that ended has the last word. Functions here take ``now`` (the caller's
clock) so tests control time.

A trial whose run is in the project's trash is left out: it does not count toward ``run_cap``,
the search does not learn from it, and the sweep's pages do not list it; restoring the run brings
it back (the trial's row stays, so the grid point or sequence number it took is not handed out
again).
"""

from __future__ import annotations

import math
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from wakelog.server.errors import Conflict, InvalidRequest, NotFound
from wakelog.server.sweeps import hyperband, impute, search
from wakelog.server.sweeps import space as sp
from wakelog.store import series as codec
from wakelog.store.database import binary_results
from wakelog.store.ingest import ensure_project
from wakelog.store.schema import (
    STREAM_HISTORY,
    entities,
    projects,
    runs,
    series_chunks,
    summaries,
    sweep_agents,
    sweep_trials,
    sweeps,
    users,
)

STATES = ("running", "paused", "finished", "stopping", "canceled")
ACTIVE = ("pending", "running")
ENDED = ("finished", "failed", "crashed", "killed")
ACTIONS = ("pause", "resume", "stop", "cancel")
#: How long ``next`` tells an agent of a paused sweep to wait before asking again.
PAUSED_WAIT = 5.0
INT64_MAX = 2**63 - 1
_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    """8 lowercase letters and digits, like run ids."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class Trial:
    seq: int
    run_id: str
    params: dict[str, Any]
    point: dict[str, Any]
    state: str
    agent: str | None
    created_at: float
    metric: float | None
    stopped_reason: str | None
    run_pk: int | None
    #: The smallest and largest value the run logged for the metric (None when it logged none).
    extremes: tuple[float | None, float | None] = (None, None)

    def public(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "params": self.params,
            "state": self.state,
            "agent": self.agent,
            "created_at": self.created_at,
            "metric": self.metric,
            "stopped_reason": self.stopped_reason,
        }


def trial_state(decided: str, run_state: str | None) -> str:
    if run_state in ENDED:
        return run_state
    if decided in ENDED:
        return decided
    return run_state or decided


@dataclass(frozen=True)
class Silence:
    """When an agent counts as dead: no heartbeat for ``timeout`` seconds before ``now``."""

    now: float
    timeout: float

    @property
    def reason(self) -> str:
        return f"its agent sent no heartbeat for {self.timeout:g} s"

    def took(self, row: Any) -> bool:
        """Whether the trial of ``row`` is one a dead agent left unfinished."""
        return (
            row.state in ACTIVE
            and row.agent_heartbeat_at is not None
            and row.agent_heartbeat_at < self.now - self.timeout
        )


# -- creating and finding -------------------------------------------------------------------------
def trial_limit(config: dict[str, Any]) -> int | None:
    """The most trials the sweep hands out (with none in the trash): its run_cap, and for a grid
    the grid's size."""
    limits = [config["run_cap"]] if "run_cap" in config else []
    if config["method"] == "grid":
        limits.append(grid_size(config))
    return min(*limits, INT64_MAX) if limits else None


def grid_size(config: dict[str, Any]) -> int:
    return sp.grid_size(sp.params(config["parameters"]))


def _trashed_trials(sweep_pk: Any) -> sa.ScalarSelect[Any]:
    """How many trials the sweep handed out (prior runs are not) whose run is in the trash."""
    joined = sweep_trials.join(
        runs,
        sa.and_(
            runs.c.project_id == sweeps.c.project_id,
            runs.c.run_id == sweep_trials.c.run_id,
            runs.c.deleted_at.is_not(None),
        ),
    )
    return (
        sa.select(sa.func.count())
        .select_from(joined)
        .where(sweep_trials.c.sweep_pk == sweep_pk, sweep_trials.c.seq >= 0)
        .scalar_subquery()
    )


def create(
    conn: sa.Connection,
    entity: str,
    project: str,
    config: dict[str, Any],
    yaml_text: str | None,
    user_id: int | None,
    now: float,
    prior_runs: list[str] | None = None,
) -> str:
    project_id = ensure_project(conn, entity, project, user_id)
    priors = _prior_runs(conn, project_id, f"{entity}/{project}", prior_runs or [])
    while True:
        sweep_id = new_id()
        taken = conn.execute(
            sa.select(sweeps.c.id).where(sweeps.c.project_id == project_id, sweeps.c.sweep_id == sweep_id)
        ).first()
        if taken is None:
            break
    made = conn.execute(
        sweeps.insert().values(
            project_id=project_id,
            sweep_id=sweep_id,
            name=config.get("name"),
            description=config.get("description"),
            method=config["method"],
            state="running",
            config=config,
            yaml=yaml_text,
            run_cap=config.get("run_cap"),
            trials=0,
            trial_limit=trial_limit(config),
            seed=secrets.randbits(31),
            created_by=user_id,
            created_at=now,
            updated_at=now,
        )
    )
    if priors:  # numbered -n…-1: before every handed-out trial, and not counted against the limit
        space = sp.params(config["parameters"])
        conn.execute(
            sweep_trials.insert(),
            [
                _prior_trial(made.inserted_primary_key[0], i - len(priors), run, space, now)
                for i, run in enumerate(priors)
            ],
        )
    return sweep_id


def _prior_runs(conn: sa.Connection, project_id: int, where: str, run_ids: list[str]) -> list[Any]:
    """The runs ``prior_runs`` names, in its order (each once); a missing one is refused by name."""
    wanted = list(dict.fromkeys(run_ids))
    if not wanted:
        return []
    found = {
        row.run_id: row
        for row in conn.execute(
            sa.select(runs.c.run_id, runs.c.state, runs.c.config).where(
                runs.c.project_id == project_id, runs.c.run_id.in_(wanted)
            )
        )
    }
    missing = [run_id for run_id in wanted if run_id not in found]
    if missing:
        raise InvalidRequest(f"prior_runs: no run {', '.join(map(repr, missing))} in project {where}")
    return [found[run_id] for run_id in wanted]


def _prior_trial(sweep_pk: int, seq: int, run: Any, space: list[sp.Param], now: float) -> dict[str, Any]:
    """A run made before the sweep, as one of its trials: its config's values of the sweep's
    parameters, and where they sit in the search space (bayes learns from those it can place)."""
    flat = sp.flatten(run.config or {}, space)
    point = {}
    for param in space:
        if sp.is_searched(param) and param.key in flat:
            located = sp.locate(param, flat[param.key])
            if located is not None:
                point[param.key] = located
    searched = [p for p in space if sp.is_searched(p)]
    return {
        "sweep_pk": sweep_pk,
        "seq": seq,
        "run_id": run.run_id,
        "agent_pk": None,
        "params": sp.nest({p.path: flat[p.key] for p in space if p.key in flat}),
        "point": point if len(point) == len(searched) else {},
        # its run's state rules once the run ends; until then it runs
        "state": run.state if run.state in ENDED else "running",
        "created_at": now,
        "updated_at": now,
    }


def _sweep_query() -> sa.Select[Any]:
    return (
        sa.select(sweeps, entities.c.name.label("entity"), projects.c.name.label("project"))
        .join(projects, projects.c.id == sweeps.c.project_id)
        .join(entities, entities.c.id == projects.c.entity_id)
    )


def find(conn: sa.Connection, entity: str, project: str, sweep_id: str) -> Any:
    row = conn.execute(
        _sweep_query().where(
            entities.c.name == entity, projects.c.name == project, sweeps.c.sweep_id == sweep_id
        )
    ).first()
    if row is None:
        raise NotFound(f"sweep {entity}/{project}/{sweep_id} not found")
    return row


def user_name(conn: sa.Connection, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    name: str | None = conn.execute(sa.select(users.c.username).where(users.c.id == user_id)).scalar()
    return name


def project_sweeps(conn: sa.Connection, entity: str, project: str) -> list[Any]:
    found = conn.execute(
        _sweep_query()
        .where(entities.c.name == entity, projects.c.name == project)
        .order_by(sweeps.c.created_at.desc(), sweeps.c.id.desc())
    ).all()
    if (
        not found
        and conn.execute(
            sa.select(projects.c.id)
            .join(entities, entities.c.id == projects.c.entity_id)
            .where(entities.c.name == entity, projects.c.name == project)
        ).first()
        is None
    ):
        raise NotFound(f"project {entity}/{project} not found")
    return list(found)


def trials(conn: sa.Connection, sweep: Any, dead: Silence | None = None) -> list[Trial]:
    """The sweep's trials joined to their runs, with the sweep's metric (latest value and extremes).

    With ``dead``, a trial whose agent has been silent too long reads as ``crashed`` even before
    ``reap`` writes it down: readers see what the next agent's request will record, without writing.
    """
    metric = (sweep.config.get("metric") or {}).get("name", "")
    joined = (
        sweep_trials.outerjoin(
            runs, sa.and_(runs.c.project_id == sweep.project_id, runs.c.run_id == sweep_trials.c.run_id)
        )
        .outerjoin(summaries, sa.and_(summaries.c.run_pk == runs.c.id, summaries.c.key == metric))
        .outerjoin(sweep_agents, sweep_agents.c.id == sweep_trials.c.agent_pk)
    )
    rows = conn.execute(
        sa.select(
            sweep_trials,
            runs.c.id.label("run_pk"),
            runs.c.state.label("run_state"),
            summaries.c.last.label("metric"),
            summaries.c.min.label("metric_min"),
            summaries.c.max.label("metric_max"),
            sweep_agents.c.agent_id,
            sweep_agents.c.heartbeat_at.label("agent_heartbeat_at"),
        )
        .select_from(joined)
        .where(sweep_trials.c.sweep_pk == sweep.id, sa.or_(runs.c.id.is_(None), runs.c.deleted_at.is_(None)))
        .order_by(sweep_trials.c.seq)
    ).all()
    out = []
    for row in rows:
        decided, reason = row.state, row.stopped_reason
        if dead is not None and dead.took(row):
            decided, reason = "crashed", dead.reason
        out.append(
            Trial(
                seq=row.seq,
                run_id=row.run_id,
                params=row.params,
                point=row.point,
                state=trial_state(decided, row.run_state),
                agent=row.agent_id,
                created_at=row.created_at,
                metric=_finite(row.metric),
                stopped_reason=reason,
                run_pk=row.run_pk,
                extremes=(_finite(row.metric_min), _finite(row.metric_max)),
            )
        )
    return out


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def best(sweep: Any, found: Iterable[Trial]) -> Trial | None:
    metric = sweep.config.get("metric")
    scored = [t for t in found if t.metric is not None]
    if metric is None or not scored:
        return None
    pick = max if metric["goal"] == "maximize" else min
    return pick(scored, key=lambda t: t.metric if t.metric is not None else 0.0)


def counts(found: Iterable[Trial]) -> dict[str, int]:
    out: dict[str, int] = {}
    for trial in found:
        out[trial.state] = out.get(trial.state, 0) + 1
    return out


# -- agents ---------------------------------------------------------------------------------------
def add_agent(
    conn: sa.Connection, sweep: Any, host: str, pid: int, name: str | None, user_id: int | None, now: float
) -> str:
    while True:
        agent_id = new_id()
        if insert_agent(conn, sweep.id, agent_id, host, pid, name, user_id, now):
            return agent_id


def insert_agent(
    conn: sa.Connection,
    sweep_pk: int,
    agent_id: str,
    host: str,
    pid: int,
    name: str | None,
    user_id: int | None,
    now: float,
) -> bool:
    from wakelog.store.upsert import insert_missing

    row = {
        "sweep_pk": sweep_pk,
        "agent_id": agent_id,
        "host": host,
        "pid": pid,
        "name": name,
        "state": "alive",
        "created_by": user_id,
        "created_at": now,
        "heartbeat_at": now,
    }
    return insert_missing(conn, sweep_agents, row, ["sweep_pk", "agent_id"])


def touch_agent(conn: sa.Connection, sweep: Any, agent_id: str, now: float) -> int:
    """The agent's key, its heartbeat renewed (an agent that was declared dead is alive again;
    the trials it lost stay crashed)."""
    found = conn.execute(
        sa.select(sweep_agents.c.id).where(
            sweep_agents.c.sweep_pk == sweep.id, sweep_agents.c.agent_id == agent_id
        )
    ).scalar()
    if found is None:
        raise NotFound(
            f"agent {agent_id!r} of sweep {sweep.entity}/{sweep.project}/{sweep.sweep_id} not found"
        )
    conn.execute(
        sweep_agents.update().where(sweep_agents.c.id == found).values(heartbeat_at=now, state="alive")
    )
    return int(found)


def reap(conn: sa.Connection, sweep: Any, now: float, timeout: float) -> None:
    """Agents silent for ``timeout`` seconds are dead; their unfinished trials crashed."""
    dead = (
        conn.execute(
            sa.select(sweep_agents.c.id).where(
                sweep_agents.c.sweep_pk == sweep.id,
                sweep_agents.c.state == "alive",
                sweep_agents.c.heartbeat_at < now - timeout,
            )
        )
        .scalars()
        .all()
    )
    if not dead:
        return
    conn.execute(sweep_agents.update().where(sweep_agents.c.id.in_(dead)).values(state="dead"))
    conn.execute(
        sweep_trials.update()
        .where(
            sweep_trials.c.sweep_pk == sweep.id,
            sweep_trials.c.agent_pk.in_(dead),
            sweep_trials.c.state.in_(ACTIVE),
        )
        .values(
            state="crashed",
            stopped_reason=Silence(now, timeout).reason,
            updated_at=now,
        )
    )


# -- the sweep's life -----------------------------------------------------------------------------
def settled(sweep: Any, found: list[Trial]) -> str:
    """The sweep's state, moved on to ``finished`` once nothing runs and nothing more will."""
    state = str(sweep.state)
    if state not in ("running", "stopping"):
        return state
    active = any(t.state in ACTIVE for t in found)
    counted = sum(1 for t in found if t.seq >= 0)  # ``found`` leaves trashed trials out
    exhausted = (sweep.run_cap is not None and counted >= sweep.run_cap) or (
        sweep.method == "grid" and sweep.trials >= grid_size(sweep.config)
    )
    if not active and (state == "stopping" or exhausted or target_reached(sweep, found)):
        return "finished"
    return state


def settle(conn: sa.Connection, sweep: Any, found: list[Trial], now: float) -> str:
    """``settled``, written down."""
    state = settled(sweep, found)
    if state != sweep.state:
        conn.execute(sweeps.update().where(sweeps.c.id == sweep.id).values(state=state, updated_at=now))
    return state


def target_reached(sweep: Any, found: list[Trial]) -> bool:
    """wandb's ``metric.target``: the sweep ends once any run reaches it."""
    metric = sweep.config.get("metric") or {}
    winner = best(sweep, found)
    if "target" not in metric or winner is None or winner.metric is None:
        return False
    if metric["goal"] == "maximize":
        return winner.metric >= metric["target"]
    return winner.metric <= metric["target"]


def claim(conn: sa.Connection, sweep: Any, now: float) -> int | None:
    """The next trial's sequence number, or None when the sweep hands out no more: fewer than
    run_cap trials outside the trash, and for a grid a point left."""
    room = [sweeps.c.trials < sweeps.c.trial_limit]  # the common case, without counting the trash
    if sweep.run_cap is not None:
        under_cap = sweeps.c.trials - _trashed_trials(sweeps.c.id) < sweeps.c.run_cap
        if sweep.method == "grid":
            under_cap = sa.and_(under_cap, sweeps.c.trials < grid_size(sweep.config))
        room.append(under_cap)
    claimed = conn.execute(
        sweeps.update()
        .where(
            sweeps.c.id == sweep.id,
            sweeps.c.state == "running",
            sa.or_(sweeps.c.trial_limit.is_(None), *room),
        )
        .values(trials=sweeps.c.trials + 1, updated_at=now)
    )
    if claimed.rowcount != 1:
        return None
    return int(conn.execute(sa.select(sweeps.c.trials).where(sweeps.c.id == sweep.id)).scalar_one()) - 1


def suggest(sweep: Any, seq: int, found: list[Trial]) -> search.Suggestion:
    config = sweep.config
    if config["method"] == "grid":
        return search.grid(config, seq)
    if config["method"] == "random":
        return search.random_point(config, sweep.seed, seq)
    return search.bayes(config, sweep.seed, seq, impute.observed(config["metric"], found))


def fresh_run_id(conn: sa.Connection, sweep: Any) -> str:
    """A run id no run of the project and no trial of the sweep has."""
    while True:
        run_id = new_id()
        used = conn.execute(
            sa.select(runs.c.id).where(runs.c.project_id == sweep.project_id, runs.c.run_id == run_id)
        ).first()
        if used is None:
            return run_id


def next_trial(conn: sa.Connection, sweep: Any, agent_pk: int, now: float) -> dict[str, Any]:
    """The agent's next piece of work: ``run`` a trial, ``wait``, or ``done``."""
    # The trials matter only to bayes, to a metric target, and to a sweep that may be ending:
    # a grid or random sweep under way hands out its next trial without reading them.
    needs_trials = (
        sweep.method == "bayes"
        or "target" in (sweep.config.get("metric") or {})
        or sweep.state != "running"
        or (sweep.trial_limit is not None and sweep.trials >= sweep.trial_limit)
    )
    found = trials(conn, sweep) if needs_trials else []
    state = settle(conn, sweep, found, now)
    if state == "paused":
        return {"action": "wait", "seconds": PAUSED_WAIT}
    if state != "running":
        return {"action": "done", "reason": f"the sweep is {state}"}
    if target_reached(sweep, found):
        conn.execute(sweeps.update().where(sweeps.c.id == sweep.id).values(state="stopping", updated_at=now))
        return {"action": "done", "reason": "a run reached the metric's target"}
    seq = claim(conn, sweep, now)
    if seq is None:
        grid_done = sweep.method == "grid" and sweep.trials >= grid_size(sweep.config)
        return {
            "action": "done",
            "reason": "the grid is exhausted" if grid_done else f"run_cap {sweep.run_cap} reached",
        }
    suggestion = suggest(sweep, seq, found)
    run_id = fresh_run_id(conn, sweep)
    conn.execute(
        sweep_trials.insert().values(
            sweep_pk=sweep.id,
            seq=seq,
            run_id=run_id,
            agent_pk=agent_pk,
            params=suggestion.params,
            point=suggestion.point,
            state="pending",
            created_at=now,
            updated_at=now,
        )
    )
    return {"action": "run", "run_id": run_id, "params": suggestion.params}


def heartbeat(
    conn: sa.Connection, sweep: Any, agent_pk: int, running: list[str], now: float
) -> dict[str, Any]:
    """Note what the agent runs; answer which of those runs to stop, and why."""
    reported = set(running)
    if reported:
        conn.execute(
            sweep_trials.update()
            .where(
                sweep_trials.c.sweep_pk == sweep.id,
                sweep_trials.c.run_id.in_(reported),
                sweep_trials.c.state == "pending",
            )
            .values(state="running", updated_at=now)
        )
    found = trials(conn, sweep)
    state = settle(conn, sweep, found, now)
    mine = [t for t in found if t.run_id in reported]
    stop = {t.run_id: t.stopped_reason for t in mine if t.stopped_reason}
    if state == "canceled":
        stop = {t.run_id: stop.get(t.run_id) or "sweep canceled" for t in mine}
    elif "early_terminate" in sweep.config:
        live = [t.run_id for t in mine if t.run_id not in stop and t.state in ACTIVE]
        for cut in _hyperband(conn, sweep, found, live):
            stop[cut.run_id] = cut.reason
            _record_stop(conn, sweep, cut.run_id, cut.reason, now)
    return {"stop": [{"run_id": run_id, "reason": reason} for run_id, reason in stop.items()], "state": state}


def _record_stop(conn: sa.Connection, sweep: Any, run_id: str, reason: str, now: float) -> None:
    conn.execute(
        sweep_trials.update()
        .where(sweep_trials.c.sweep_pk == sweep.id, sweep_trials.c.run_id == run_id)
        .values(stopped_reason=reason, updated_at=now)
    )


def _hyperband(conn: sa.Connection, sweep: Any, found: list[Trial], live: list[str]) -> list[hyperband.Cut]:
    if not live:
        return []
    config = sweep.config
    by_pk = {t.run_pk: t.run_id for t in found if t.run_pk is not None}
    histories = metric_histories(conn, list(by_pk), config["metric"]["name"])
    named = {by_pk[pk]: values for pk, values in histories.items()}
    return hyperband.decide(config["early_terminate"], config["metric"]["goal"], named, live)


def metric_histories(conn: sa.Connection, run_pks: list[int], key: str) -> dict[int, list[float]]:
    """Every logged value of ``key`` for each run, in logged order."""
    out: dict[int, list[float]] = {}
    if not run_pks:
        return out
    rows = conn.execute(
        binary_results(
            sa.select(series_chunks.c.run_pk, series_chunks.c.data)
            .where(
                series_chunks.c.run_pk.in_(run_pks),
                series_chunks.c.stream == STREAM_HISTORY,
                series_chunks.c.key == key,
            )
            .order_by(series_chunks.c.run_pk, series_chunks.c.chunk)
        )
    )
    for run_pk, data in rows:
        out.setdefault(run_pk, []).extend(codec.decode(data).values.tolist())
    return out


def control(conn: sa.Connection, sweep: Any, action: str, now: float) -> None:
    """pause / resume / stop / cancel, as docs/sweeps.md describes them."""
    state = str(sweep.state)
    if action not in ACTIONS:
        raise InvalidRequest(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    target = _transition(state, action)
    if target is None:
        raise Conflict(f"cannot {action} a sweep that is {state}")
    if target != state:
        conn.execute(sweeps.update().where(sweeps.c.id == sweep.id).values(state=target, updated_at=now))
    if action == "cancel":
        conn.execute(
            sweep_trials.update()
            .where(sweep_trials.c.sweep_pk == sweep.id, sweep_trials.c.state == "pending")
            .values(state="killed", stopped_reason="sweep canceled", updated_at=now)
        )
        conn.execute(
            sweep_trials.update()
            .where(sweep_trials.c.sweep_pk == sweep.id, sweep_trials.c.state == "running")
            .values(stopped_reason="sweep canceled", updated_at=now)
        )


_TRANSITIONS = {
    "pause": {"running": "paused", "paused": "paused"},
    "resume": {"paused": "running", "running": "running"},
    "stop": {"running": "stopping", "paused": "stopping", "stopping": "stopping", "finished": "finished"},
    "cancel": {"running": "canceled", "paused": "canceled", "stopping": "canceled", "canceled": "canceled"},
}


def _transition(state: str, action: str) -> str | None:
    return _TRANSITIONS[action].get(state)
