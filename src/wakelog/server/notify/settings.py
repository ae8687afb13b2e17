"""Subscription settings: which events go to which channels, for whom.

A settings document is a list of targets, each ``{"channel", "events", …}``:

* ``inapp`` — a notification under the bell of the user whose settings these are;
* ``email`` — a mail to ``address`` through the server's SMTP server;
* ``webhook`` — a POST to ``url`` in ``format`` (``json``, ``slack``, ``feishu``, ``dingtalk``,
  ``wecom``), signed with ``secret`` where the platform signs (Feishu, DingTalk).

Three scopes hold one document each: a user's own runs anywhere (``user:<id>``; without one, the
default: in-app for every event), a user's subscription to every run of a project
(``user:<id>/project:<id>``), and a project's team channels (``project:<id>``: e-mail and webhooks
only, set by the entity's admins).
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationError, field_validator

from wakelog.server.errors import InvalidRequest
from wakelog.server.notify.events import EVENTS
from wakelog.store.schema import notification_settings
from wakelog.store.upsert import upsert

MAX_TARGETS = 20
FORMATS = ("json", "slack", "feishu", "dingtalk", "wecom")
#: A user who never saved settings hears of every event of their own runs in the app.
DEFAULT_TARGETS: list[dict[str, Any]] = [{"channel": "inapp", "events": list(EVENTS)}]
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")

EventName = Literal["alert", "finished", "failed", "crashed", "threshold"]


class Target(BaseModel):
    channel: Literal["inapp", "email", "webhook"]
    events: list[EventName] = Field(default_factory=lambda: list(EVENTS), max_length=len(EVENTS))
    address: str | None = Field(default=None, max_length=254, description="email: where to")
    url: str | None = Field(default=None, max_length=2048, description="webhook: the http(s) URL to POST to")
    format: Literal["json", "slack", "feishu", "dingtalk", "wecom"] = "json"
    secret: str | None = Field(
        default=None, max_length=256, description="webhook: Feishu/DingTalk signing secret"
    )

    @field_validator("events")
    @classmethod
    def _unique(cls, events: list[str]) -> list[str]:
        return sorted(set(events), key=EVENTS.index)


class Settings(BaseModel):
    targets: list[Target] = Field(max_length=MAX_TARGETS)


def check_targets(settings: Settings, *, personal: bool) -> list[dict[str, Any]]:
    """The targets as stored, or ``InvalidRequest`` naming the first bad one."""
    for number, target in enumerate(settings.targets, 1):
        where = f"target {number} ({target.channel})"
        if target.channel == "inapp" and not personal:
            raise InvalidRequest(
                f"{where}: in-app notifications belong to users; a project has e-mail and webhooks"
            )
        if target.channel == "email" and not (target.address and _ADDRESS.match(target.address)):
            raise InvalidRequest(f"{where}: address {target.address!r} is not an e-mail address")
        if target.channel == "webhook" and not (target.url and re.match(r"^https?://[^\s/]+", target.url)):
            raise InvalidRequest(f"{where}: url {target.url!r} is not an http:// or https:// URL")
    return [target.model_dump(exclude_none=True) for target in settings.targets]


def user_scope(user_id: int, project_id: int | None = None) -> str:
    return f"user:{user_id}" + (f"/project:{project_id}" if project_id is not None else "")


def project_scope(project_id: int) -> str:
    return f"project:{project_id}"


def read(conn: sa.Connection, scope: str, default: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    row = conn.execute(
        sa.select(notification_settings.c.targets, notification_settings.c.updated_at).where(
            notification_settings.c.scope == scope
        )
    ).first()
    if row is None:
        return {"targets": default or [], "updated_at": None}
    return {"targets": row.targets, "updated_at": row.updated_at}


def write(
    conn: sa.Connection,
    scope: str,
    targets: list[dict[str, Any]],
    user_id: int | None,
    project_id: int | None,
) -> dict[str, Any]:
    now = time.time()
    row = {
        "scope": scope,
        "user_id": user_id,
        "project_id": project_id,
        "targets": targets,
        "updated_at": now,
    }
    upsert(conn, notification_settings, [row], ["scope"], update=["targets", "updated_at"])
    return {"targets": targets, "updated_at": now}


def stored_targets(raw: Any) -> list[Target]:
    """Stored targets back as models (a row written by a newer server with unknown fields is skipped)."""
    targets = []
    for item in raw or []:
        try:
            targets.append(Target.model_validate(item))
        except ValidationError:
            continue
    return targets
