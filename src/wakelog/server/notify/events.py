"""The events users subscribe to, and what one says (the message every channel renders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Every event kind, in the order settings pages show them.
EVENTS = ("alert", "finished", "failed", "crashed", "threshold")
LEVELS = ("INFO", "WARN", "ERROR")


@dataclass
class RunRef:
    """The run an event is about, as it was addressed when the event happened."""

    pk: int
    project_id: int
    created_by: int | None
    entity: str
    project: str
    run_id: str
    name: str | None

    def subject(self) -> dict[str, Any]:
        return {"entity": self.entity, "project": self.project, "run_id": self.run_id, "name": self.name}

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.run_id}"

    @property
    def label(self) -> str:
        return f"run {self.name or self.run_id}"


@dataclass(frozen=True)
class ReportRef:
    """A report (or one of its panels) a mention is about: its notification names no run
    (``pk`` None) and its subject links to the report."""

    project_id: int
    entity: str
    project: str
    report_id: str
    title: str
    panel_id: str | None = None
    pk: None = None
    created_by: None = None

    def subject(self) -> dict[str, Any]:
        subject = {"entity": self.entity, "project": self.project, "report_id": self.report_id}
        return {**subject, "name": self.title, "panel_id": self.panel_id}

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/reports/{self.report_id}"

    @property
    def label(self) -> str:
        return f"report {self.title}"


@dataclass
class Event:
    kind: str
    level: str
    title: str
    text: str
    run: RunRef | ReportRef  # a report only for mentions in its comments
    time: float
    extra: dict[str, Any] = field(default_factory=dict)

    def message(self, public_url: str | None = None) -> dict[str, Any]:
        """The JSON every channel renders (and the generic webhook sends as is)."""
        message = {
            "event": self.kind,
            "level": self.level,
            "title": self.title,
            "text": self.text,
            "run": self.run.subject(),
            "time": self.time,
            **self.extra,
        }
        if public_url:
            message["url"] = f"{public_url.rstrip('/')}/{self.run.path}"
        return message


def alert_event(run: RunRef, alert: dict[str, Any]) -> Event:
    level = alert["level"] if alert["level"] in LEVELS else "INFO"
    return Event("alert", level, alert["title"], alert["text"], run, alert["time"])


def exit_event(run: RunRef, end: dict[str, Any], when: float) -> Event | None:
    """``finished`` or ``failed`` (a killed run counts as failed) for the run's end record."""
    state, name = end["state"], run.name or run.run_id
    if state == "finished":
        return Event("finished", "INFO", f"Run {name} finished", f"{run.path} finished.", run, when)
    if state not in ("failed", "killed"):
        return None
    error = end.get("error")
    text = f"{run.path} {state} (exit code {end.get('exit_code')})" + (f": {error}" if error else ".")
    return Event("failed", "ERROR", f"Run {name} {state}", text, run, when, {"error": error, "state": state})


def crash_event(run: RunRef, heartbeat_at: float, when: float) -> Event:
    name = run.name or run.run_id
    text = f"{run.path} sent nothing since its last heartbeat; it is reported as crashed."
    return Event("crashed", "ERROR", f"Run {name} crashed", text, run, when, {"heartbeat_at": heartbeat_at})
