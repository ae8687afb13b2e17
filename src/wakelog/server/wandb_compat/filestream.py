"""wandb's file stream (``POST /files/{entity}/{project}/{run}/file_stream``) onto wakelog's records.

The body carries per-file chunks ``{"offset": line, "content": [lines]}`` for
``wandb-history.jsonl`` (history rows), ``wandb-events.jsonl`` (system metrics),
``wandb-summary.json`` (the whole summary, one line) and ``output.log`` (console lines, which the
client may send again at the same offset once a ``\\r`` progress bar changes them), plus
``complete``/``exitcode`` at the end and ``preempting``.

The client resends a request it got no answer for, also after a server restart. What the run
already holds decides what is new, inside the batch's transaction: history rows by ``_step``
(the client's steps only increase), system metrics by their ``_runtime`` (as wakelog keys them),
console lines by their line number (an existing line is rewritten, which is what a resent or
redrawn line means), the exit by the run having ended. Nothing is applied twice or lost.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from wakelog.runlog import RecordType
from wakelog.server.errors import InvalidRequest
from wakelog.server.wandb_compat.mapping import console_line, loads, system_key
from wakelog.server.wandb_compat.records import LIVE_STATES, Made, Maker
from wakelog.store.ingest import MAX_INT32, MAX_INT64, json_safe
from wakelog.store.schema import STREAM_SYSTEM, console_lines, series_chunks

HISTORY, EVENTS, SUMMARY, OUTPUT = (
    "wandb-history.jsonl",
    "wandb-events.jsonl",
    "wandb-summary.json",
    "output.log",
)


class Chunk(BaseModel):
    offset: int = Field(ge=0, le=MAX_INT64)
    content: list[str]


class FileStreamBody(BaseModel):
    """What the client sends; fields it may add later are ignored."""

    model_config = ConfigDict(extra="ignore")
    files: dict[str, Chunk] = Field(default_factory=dict)
    uploaded: list[str] = Field(default_factory=list)
    preempting: bool | None = None
    complete: bool | None = None
    exitcode: int | None = Field(default=None, ge=-MAX_INT32 - 1, le=MAX_INT32)


def _objects(chunk: Chunk | None, name: str) -> list[dict[str, Any]]:
    rows = []
    for index, line in enumerate(chunk.content if chunk else ()):
        row = loads(line, f"{name} line {index}")
        if not isinstance(row, dict):
            raise InvalidRequest(f"{name} line {index} must be a JSON object")
        rows.append(row)
    return rows


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def _time(row: dict[str, Any], fallback: float) -> float:
    """A line's ``_timestamp``, or ``fallback`` when it has none."""
    when = row.get("_timestamp")
    return float(when) if isinstance(when, (int, float)) else fallback


def _exit(code: int | None, run: Any, now: float) -> Made:
    code = code or 0
    state = "finished" if code == 0 else "failed"
    return (
        RecordType.EXIT,
        now,
        {"exit_code": code, "state": state, "runtime": max(0.0, now - run.created_at)},
    )


def _checked(
    body: FileStreamBody,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
    """History rows, system-metric samples and the last summary of a body; 400 for a bad line."""
    history = _objects(body.files.get(HISTORY), HISTORY)
    for index, row in enumerate(history):
        if type(row.get("_step")) is not int:
            raise InvalidRequest(f"{HISTORY} line {index} needs an integer _step")
    events = _objects(body.files.get(EVENTS), EVENTS)
    for index, row in enumerate(events):
        if not _number(row.get("_runtime")):
            raise InvalidRequest(f"{EVENTS} line {index} needs a number _runtime")
    summaries = _objects(body.files.get(SUMMARY), SUMMARY)
    return history, events, summaries[-1] if summaries else None


def maker(body: FileStreamBody) -> Maker:
    """The records a body adds to its run, decided against what the run holds (in its transaction).
    The body's JSON is read here, before the transaction: a bad line refuses the request (400)."""
    history, events, summary = _checked(body)
    output = body.files.get(OUTPUT)
    now = time.time()

    def make(conn: sa.Connection, run: Any) -> list[Made]:
        made: list[Made] = []
        if run.last_seq < 0:  # streaming to a run the client never upserted: it starts here
            made.append((RecordType.RUN, now, {}))
        made.extend(_history(history, run.last_step, now))
        made.extend(_stats(events, _last_stats_step(conn, run.id)))
        if summary is not None:
            update = {k: v for k, v in summary.items() if k != "_wandb"}
            made.append((RecordType.SUMMARY, now, {"update": update, "whole": True}))
        if output is not None and output.content:
            made.extend(_console(conn, run.id, output, now))
        if body.preempting:
            made.append((RecordType.RUN, now, {"update": True, "preempting": True}))
        if body.complete and run.state in LIVE_STATES:  # once: a resent exit finds the run ended
            made.append(_exit(body.exitcode, run, now))
        return made

    return make


def _history(rows: list[dict[str, Any]], last_step: int, now: float) -> list[Made]:
    made: list[Made] = []
    for row in rows:
        if row["_step"] <= last_step:
            continue  # resent
        last_step = row["_step"]
        made.append((RecordType.HISTORY, _time(row, now), row))
    return made


def _last_stats_step(conn: sa.Connection, run_pk: int) -> int:
    found = conn.execute(
        sa.select(sa.func.max(series_chunks.c.last_step)).where(
            series_chunks.c.run_pk == run_pk, series_chunks.c.stream == STREAM_SYSTEM
        )
    ).scalar()
    return -1 if found is None else int(found)


def _stats(rows: list[dict[str, Any]], last: int) -> list[Made]:
    """System-metric samples newer than the run's last one, under wakelog's names (its sampler's
    keys are ``round(_runtime * 1000)``, so that is what tells a resent sample)."""
    made: list[Made] = []
    for row in rows:
        runtime = float(row["_runtime"])
        step = round(runtime * 1000)
        if step <= last:
            continue
        last = step
        sample: dict[str, Any] = {"_runtime": runtime}
        for key, value in row.items():
            mapped = system_key(key)
            if mapped is not None and _number(value):
                sample[mapped[0]] = value * mapped[1]
        made.append((RecordType.STATS, _time(row, time.time()), sample))
    return made


def _console(conn: sa.Connection, run_pk: int, chunk: Chunk, now: float) -> list[Made]:
    """Lines past the run's last become an output record; lines it has are rewritten in place
    (a redrawn progress bar), unless what is there is newer."""
    held = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(console_lines.c.line), -1)).where(
            console_lines.c.run_pk == run_pk
        )
    ).scalar_one()
    lines = [console_line(text, now) for text in chunk.content]
    for index, (when, stream, text) in enumerate(lines):
        number = chunk.offset + index
        if number <= held:
            conn.execute(
                console_lines.update()
                .where(console_lines.c.run_pk == run_pk, console_lines.c.line == number)
                .where(console_lines.c.time <= when)  # a late replay of an older request changes nothing
                .values(time=when, stream=stream, text=json_safe(text))
            )
    new = [line for index, line in enumerate(lines) if chunk.offset + index > held]
    return [(RecordType.OUTPUT, new[0][0], {"lines": [list(line) for line in new]})] if new else []
