"""Query API: live push as server-sent events, per project and per run.

``GET /api/v1/projects/{entity}/{project}/events`` and ``GET /api/v1/runs/{entity}/{project}/{run_id}/events``
stream ``text/event-stream``. The first event is ``ready`` (the subscription is in place); then:

* ``run_created`` ``{"run_id"}`` — the server saw a run for the first time;
* ``points`` ``{"run_id", "keys", "points", "ack"}`` — new history points for these keys (with
  ``"rewound": true``: a rewind cut that many of their points; the series are loaded again alike);
* ``state`` ``{"run_id", "state"}`` — the run's state changed (running, finished, failed…);
* ``run_updated`` ``{"run_id", "ack"}`` — anything else (config, summary, console, files).

``GET /api/v1/notifications/events`` streams the signed-in user's own: ``notification``
``{"ids"}`` — new notifications under the bell (the client refetches the list and unread count).

A comment line is sent every 15 s to keep proxies from closing an idle stream. Events are not
replayed: a client that reconnects refetches what it shows. A slow client drops events rather
than holding others up.

A stream checks again that its client may read it (the key or session still valid, still a
member) every ``access_recheck_seconds``, and at once when this server hears that the user's
access changed (a key revoked, a session ended, a member removed: the ``access`` channel); when
it may not, the stream sends ``denied`` and ends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from wakelog.server.auth import User, authenticate, authenticate_now
from wakelog.server.errors import ServerError
from wakelog.server.http import project_path, refuse_nul, run_path
from wakelog.server.live import ACCESS_CHANNEL
from wakelog.server.notify.inbox import user_channel
from wakelog.server.permissions import Viewer, check_viewer

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
PING_SECONDS = 15


def translate(event: dict[str, Any]) -> list[ServerSentEvent]:
    """One hub event (an ingest batch, or a user's new notifications) as the SSE events a client
    cares about."""
    if event.get("type") == "notification":
        return [ServerSentEvent(json.dumps({"ids": event.get("ids", [])}), event="notification")]
    run_id = event.get("run_id")
    out = []
    if event.get("type") == "run_created":
        out.append(ServerSentEvent(json.dumps({"run_id": run_id}), event="run_created"))
    if event.get("points"):
        data = {
            "run_id": run_id,
            "keys": event.get("keys", []),
            "points": event["points"],
            "ack": event.get("ack"),
        }
        if event.get("rewound"):
            data["rewound"] = True
        out.append(ServerSentEvent(json.dumps(data), event="points"))
    if event.get("state"):
        out.append(ServerSentEvent(json.dumps({"run_id": run_id, "state": event["state"]}), event="state"))
    if not out:
        out.append(
            ServerSentEvent(json.dumps({"run_id": run_id, "ack": event.get("ack")}), event="run_updated")
        )
    return out


def _still_allowed(request: Request) -> bool:
    """Whether the request's credentials still let it read its entity: the checks it passed when
    the stream opened, made again (two small reads)."""
    try:
        check_viewer(request, authenticate_now(request))
    except ServerError:
        return False
    return True


def _still_signed_in(request: Request) -> bool:
    """For a user's own stream: whether the key or session still holds."""
    try:
        authenticate_now(request)
    except ServerError:
        return False
    return True


async def _stream(
    request: Request, channel: str, user: User, allowed: Callable[[Request], bool] = _still_allowed
) -> AsyncIterator[ServerSentEvent]:
    loop = asyncio.get_running_loop()
    every = request.app.state.config.access_recheck_seconds
    async with request.app.state.live.subscribe(channel, ACCESS_CHANNEL) as queue:
        yield ServerSentEvent(json.dumps({"channel": channel}), event="ready", retry=3000)
        due = loop.time() + every
        while True:
            try:
                wait = max(0.0, due - loop.time())
                event: dict[str, Any] | None = await asyncio.wait_for(queue.get(), wait)
            except asyncio.TimeoutError:
                event = None
            if event is None or event.get("type") == "access":
                if event is not None and event.get("username") != user.username:
                    continue
                if not await run_in_threadpool(allowed, request):
                    yield ServerSentEvent(json.dumps({"reason": "access withdrawn"}), event="denied")
                    return
                due = loop.time() + every
                continue
            for item in translate(event):
                yield item


@router.get("/projects/{entity}/{project}/events", response_class=EventSourceResponse)
async def project_events(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """Server-sent events about every run of the project: new runs, new points, state changes."""
    entity, project = project_path(entity, project)
    return EventSourceResponse(_stream(request, f"project:{entity}/{project}", user), ping=PING_SECONDS)


@router.get("/runs/{entity}/{project}/{run_id}/events", response_class=EventSourceResponse)
async def run_events(entity: str, project: str, run_id: str, request: Request, user: Viewer) -> Any:
    """Server-sent events about one run: new points and state changes."""
    entity, project, run_id = run_path(entity, project, run_id)
    return EventSourceResponse(_stream(request, f"run:{entity}/{project}/{run_id}", user), ping=PING_SECONDS)


@router.get("/notifications/events", response_class=EventSourceResponse)
async def notification_events(request: Request, user: Annotated[User, Depends(authenticate)]) -> Any:
    """Server-sent events about your own notifications: ``notification`` when new ones arrive."""
    stream = _stream(request, user_channel(user.id), user, _still_signed_in)
    return EventSourceResponse(stream, ping=PING_SECONDS)
