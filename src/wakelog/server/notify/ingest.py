"""The ingest hook: the events one batch causes, fanned out in the batch's own transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from wakelog.server.notify import rules
from wakelog.server.notify.events import Event, RunRef, alert_event, exit_event
from wakelog.server.notify.fanout import Delivered, fan_out
from wakelog.store.ingest import IngestResult


class IngestNotifier:
    """``apply_batch``'s ``on_applied`` for one request; ``delivered`` says what to tell live after."""

    def __init__(
        self, path: tuple[str, str, str], clock: Callable[[], float], public_url: str | None
    ) -> None:
        self.path, self.clock, self.public_url = path, clock, public_url
        self.delivered = Delivered()

    def __call__(self, conn: sa.Connection, run: Any, result: IngestResult) -> None:
        now = self.clock()
        entity, project, run_id = self.path
        ref = RunRef(run.id, run.project_id, run.created_by, entity, project, run_id, result.name)
        events: list[Event] = [alert_event(ref, alert) for alert in result.alerts]
        if result.series and run.project_has_rules:  # read with the run's row (store/ingest/_apply.py)
            events += rules.crossed(conn, ref, result.series, now)
        if result.exit is not None:
            end = exit_event(ref, result.exit, now)
            events += [end] if end is not None else []
        for event in events:
            self.delivered.merge(fan_out(conn, event, now, self.public_url))
