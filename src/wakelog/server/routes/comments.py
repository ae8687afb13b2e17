"""Comments on runs: threads, replies, edits, deletes, resolving, and whom ``@`` can name.

Under ``/api/v1/runs/{entity}/{project}/{run_id}``: ``GET …/threads`` lists the run's threads
(viewers); ``POST …/threads`` starts one, ``POST …/threads/{thread_id}/comments`` replies,
``PATCH …/threads/{thread_id}`` resolves or reopens, ``PATCH``/``DELETE …/comments/{comment_id}``
edit or delete a comment (members; editing only your own, deleting your own or, as an entity
admin, anyone's). ``GET /api/v1/entities/{entity}/mentionable?q=`` lists the entity's members
whose names start with ``q`` (for ``@`` autocomplete). What each does: ``server/comments.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, StringConstraints
from starlette.concurrency import run_in_threadpool

from wakelog.server import comments
from wakelog.server.body import json_body_schema, read_json
from wakelog.server.http import RowId, check_texts, entity_name, refuse_nul, run_path
from wakelog.server.notify.inbox import tell
from wakelog.server.permissions import Viewer, Writer

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
RUN = "/runs/{entity}/{project}/{run_id}"
Body = Annotated[str, StringConstraints(min_length=1, max_length=comments.MAX_BODY)]


class CommentText(BaseModel):
    body: Body


class ThreadState(BaseModel):
    resolved: bool


class Comment(BaseModel):
    id: int
    thread_id: int
    author: str
    body: str
    created_at: float
    edited_at: float | None
    can_edit: bool
    can_delete: bool


class Target(BaseModel):
    kind: str
    run_id: str


class Thread(BaseModel):
    id: int
    target: Target
    created_at: float
    resolved_at: float | None
    resolved_by: str | None
    comments: list[Comment]


class Mentionable(BaseModel):
    users: list[str]


async def _text(request: Request) -> str:
    body = await read_json(request, CommentText, comments.MAX_BODY * 4 + 1024)
    check_texts(body.body)
    return body.body


def _told(request: Request, changed: comments.Changed) -> Any:
    tell(request.app.state.live, changed.delivered)
    return changed.answer


@router.get(f"{RUN}/threads", response_model=list[Thread])
def list_threads(entity: str, project: str, run_id: str, request: Request, user: Viewer) -> Any:
    """The run's comment threads, oldest first, each with its comments."""
    entity, project, run_id = run_path(entity, project, run_id)
    return comments.threads(request.app.state.db, user, entity, project, run_id)


@router.post(
    f"{RUN}/threads", response_model=Thread, status_code=201, openapi_extra=json_body_schema(CommentText)
)
async def start_thread(entity: str, project: str, run_id: str, request: Request, user: Writer) -> Any:
    """Start a thread with a first comment (markdown; ``@name`` notifies that user)."""
    entity, project, run_id = run_path(entity, project, run_id)
    text = await _text(request)
    db = request.app.state.db
    return _told(request, await run_in_threadpool(comments.start, db, user, entity, project, run_id, text))


@router.post(
    f"{RUN}/threads/{{thread_id}}/comments",
    response_model=Comment,
    status_code=201,
    openapi_extra=json_body_schema(CommentText),
)
async def reply(
    entity: str, project: str, run_id: str, thread_id: RowId, request: Request, user: Writer
) -> Any:
    """Add a comment to the thread."""
    entity, project, run_id = run_path(entity, project, run_id)
    text = await _text(request)
    db = request.app.state.db
    done = await run_in_threadpool(comments.reply, db, user, entity, project, run_id, thread_id, text)
    return _told(request, done)


@router.patch(
    f"{RUN}/threads/{{thread_id}}", response_model=Thread, openapi_extra=json_body_schema(ThreadState)
)
async def resolve_thread(
    entity: str, project: str, run_id: str, thread_id: RowId, request: Request, user: Writer
) -> Any:
    """Resolve (``resolved: true``) or reopen the thread."""
    entity, project, run_id = run_path(entity, project, run_id)
    body = await read_json(request, ThreadState)
    db = request.app.state.db
    return await run_in_threadpool(
        comments.resolve, db, user, entity, project, run_id, thread_id, body.resolved
    )


@router.patch(
    f"{RUN}/comments/{{comment_id}}", response_model=Comment, openapi_extra=json_body_schema(CommentText)
)
async def edit_comment(
    entity: str, project: str, run_id: str, comment_id: RowId, request: Request, user: Writer
) -> Any:
    """Replace the text of your own comment (users it newly mentions are notified)."""
    entity, project, run_id = run_path(entity, project, run_id)
    text = await _text(request)
    db = request.app.state.db
    done = await run_in_threadpool(comments.edit, db, user, entity, project, run_id, comment_id, text)
    return _told(request, done)


@router.delete(f"{RUN}/comments/{{comment_id}}", status_code=204)
def delete_comment(
    entity: str, project: str, run_id: str, comment_id: RowId, request: Request, user: Writer
) -> Response:
    """Delete your own comment (an entity admin: anyone's); a thread left empty goes with it."""
    entity, project, run_id = run_path(entity, project, run_id)
    comments.remove(request.app.state.db, user, entity, project, run_id, comment_id)
    return Response(status_code=204)


@router.get("/entities/{entity}/mentionable", response_model=Mentionable)
def mentionable(
    entity: str,
    request: Request,
    user: Viewer,
    q: Annotated[str, Query(max_length=64, description="the start of a username")] = "",
) -> Any:
    """The entity's members whose usernames start with ``q`` (at most 20), for ``@`` autocomplete."""
    check_texts(q)
    return {"users": comments.mentionable(request.app.state.db, entity_name(entity), q)}
