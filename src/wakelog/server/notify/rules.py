"""A project's metric threshold rules (``eval/acc < 0.5 after step 1000``), checked on ingest.

A rule fires once per run: at the first point of its key, at a step after ``after_step``, whose
value passes the comparison. Checking costs one small SELECT of the project's rules per batch
with history, then a loop over that batch's points of the rules' keys, which ingest already holds
in memory (no SQL per point); ``run_notices`` remembers which runs a rule fired for.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator

from wakelog.server.errors import InvalidRequest
from wakelog.server.notify.events import Event, RunRef
from wakelog.store.ingest import Points
from wakelog.store.schema import STREAM_HISTORY, alert_rules, run_notices
from wakelog.store.upsert import insert_missing

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
MAX_RULES = 100


class NewRule(BaseModel):
    key: str = Field(min_length=1, max_length=256, description="the history key, as logged (eval/acc)")
    op: Literal["<", "<=", ">", ">="]
    value: float
    after_step: int | None = Field(default=None, ge=-1, description="only steps greater than this")
    level: Literal["INFO", "WARN", "ERROR"] = "WARN"

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("the threshold must be a finite number")
        return value


def describe(rule: Any) -> str:
    after = f" after step {rule.after_step}" if rule.after_step is not None else ""
    return f"{rule.key} {rule.op} {rule.value:g}{after}"


def rule_json(rule: Any) -> dict[str, Any]:
    fields = ("id", "key", "op", "value", "after_step", "level", "created_at")
    return {**{name: getattr(rule, name) for name in fields}, "description": describe(rule)}


#: Built once: every ingest batch with history asks it.
_RULES = (
    sa.select(alert_rules)
    .where(alert_rules.c.project_id == sa.bindparam("project"))
    .order_by(alert_rules.c.id)
)


def list_rules(conn: sa.Connection, project_id: int) -> list[Any]:
    return list(conn.execute(_RULES, {"project": project_id}).all())


def create_rule(conn: sa.Connection, project_id: int, rule: NewRule, user_id: int) -> Any:
    if len(list_rules(conn, project_id)) >= MAX_RULES:
        raise InvalidRequest(f"a project has at most {MAX_RULES} alert rules; delete one first")
    values = {**rule.model_dump(), "project_id": project_id, "created_by": user_id, "created_at": time.time()}
    rule_id = conn.execute(alert_rules.insert().values(**values).returning(alert_rules.c.id)).scalar_one()
    return conn.execute(sa.select(alert_rules).where(alert_rules.c.id == rule_id)).one()


def delete_rule(conn: sa.Connection, project_id: int, rule_id: int) -> bool:
    gone = conn.execute(
        alert_rules.delete().where(alert_rules.c.project_id == project_id, alert_rules.c.id == rule_id)
    )
    return bool(gone.rowcount)


def _first_crossing(rule: Any, steps: list[int], values: list[float]) -> tuple[int, float] | None:
    compare, threshold = OPERATORS[rule.op], rule.value
    after = -math.inf if rule.after_step is None else rule.after_step
    for step, value in zip(steps, values, strict=True):
        if step > after and compare(value, threshold):
            return step, value
    return None


def crossed(conn: sa.Connection, run: RunRef, points: Points, now: float) -> list[Event]:
    """The threshold events this batch's points cause (each rule once per run)."""
    logged = {key for stream, key in points if stream == STREAM_HISTORY}
    if not logged:
        return []
    events = []
    for rule in list_rules(conn, run.project_id):
        if rule.key not in logged:
            continue
        hit = _first_crossing(rule, *points[(STREAM_HISTORY, rule.key)])
        notice = {"run_pk": run.pk, "kind": "rule", "key": str(rule.id), "created_at": now}
        if hit is None or not insert_missing(conn, run_notices, notice, ["run_pk", "kind", "key"]):
            continue
        step, value = hit
        text = f"{run.path}: {rule.key} = {value:g} at step {step} ({describe(rule)})"
        extra = {"rule_id": rule.id, "key": rule.key, "step": step, "value": value}
        events.append(Event("threshold", rule.level, describe(rule), text, run, now, extra))
    return events
