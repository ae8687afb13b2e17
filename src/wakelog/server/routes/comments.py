"""Comments on runs and reports: threads, replies, edits, deletes, resolving, and whom ``@`` can name.

The same routes under ``/api/v1/runs/{entity}/{project}/{run_id}`` and
``/api/v1/reports/{entity}/{project}/{report_id}``: ``GET …/threads`` lists the threads (viewers;
a report's as its readers see it); ``POST …/threads`` starts one (on a report, ``panel_id`` may
attach it to one of its panels), ``POST …/threads/{thread_id}/comments`` replies,
``PATCH …/threads/{thread_id}`` resolves or reopens, ``PATCH``/``DELETE …/comments/{comment_id}``
edit or delete a comment (members; editing only your own, deleting your own or, as an entity
admin, anyone's). ``GET /api/v1/entities/{entity}/mentionable?q=`` lists the entity's members
whose names start with ``q`` (for ``@`` autocomplete). What each does: ``server/comments.py``.

(No ``from __future__ import annotations`` here: ``_add_routes`` makes each family's handlers in
a function, and FastAPI reads their annotations, which name its arguments.)
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, StringConstraints
from starlette.concurrency import run_in_threadpool

from wakelog.server import comments
from wakelog.server.body import json_body_schema, read_json
from wakelog.server.http import RowId, check_texts, entity_name, project_path, refuse_nul, run_path
from wakelog.server.notify.inbox import tell
from wakelog.server.permissions import Viewer, Writer
from wakelog.server.reports.store import check_report_id

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
Body = Annotated[str, StringConstraints(min_length=1, max_length=comments.MAX_BODY)]


class CommentText(BaseModel):
    body: Body


class ReportThreadStart(BaseModel):
    body: Body
    panel_id: str | None = None


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


class RunTarget(BaseModel):
    kind: Literal["run"]
    run_id: str


class ReportTarget(BaseModel):
    kind: Literal["report"]
    report_id: str
    panel_id: str | None


class Thread(BaseModel):
    id: int
    target: RunTarget | ReportTarget
    created_at: float
    resolved_at: float | None
    resolved_by: str | None
    comments: list[Comment]


class Mentionable(BaseModel):
    users: list[str]


def run_target(entity: str, project: str, run_id: str) -> comments.Target:
    entity, project, run_id = run_path(entity, project, run_id)
    return comments.Target(comments.RUN, entity, project, run_id)


def report_target(entity: str, project: str, report_id: str) -> comments.Target:
    entity, project = project_path(entity, project)
    return comments.Target(comments.REPORT, entity, project, check_report_id(report_id))


async def _text(request: Request) -> str:
    body = await read_json(request, CommentText, comments.MAX_BODY * 4 + 1024)
    check_texts(body.body)
    return body.body


def _told(request: Request, changed: comments.Changed) -> Any:
    tell(request.app.state.live, changed.delivered)
    return changed.answer


def _add_routes(
    kind: str, prefix: str, find: Callable[..., comments.Target], start_body: type[BaseModel]
) -> None:
    """The six thread routes of one kind of target under ``prefix``; ``find`` turns the path into
    the target (a dependency, so its path parameters are documented)."""
    Where = Annotated[comments.Target, Depends(find)]

    def name(handler: str) -> str:  # run routes keep the names (and operation ids) they always had
        return handler if kind == comments.RUN else f"{kind}_{handler}"

    @router.get(f"{prefix}/threads", response_model=list[Thread], name=name("list_threads"))
    def list_threads(request: Request, user: Viewer, target: Where) -> Any:
        """The comment threads, oldest first, each with its comments."""
        return comments.threads(request.app.state.db, user, target)

    @router.post(
        f"{prefix}/threads",
        response_model=Thread,
        status_code=201,
        openapi_extra=json_body_schema(start_body),
        name=name("start_thread"),
    )
    async def start_thread(request: Request, user: Writer, target: Where) -> Any:
        """Start a thread with a first comment (markdown; ``@name`` notifies that user)."""
        body = await read_json(request, start_body, comments.MAX_BODY * 4 + 1024)
        text, panel_id = body.body, getattr(body, "panel_id", None)  # type: ignore[attr-defined]
        check_texts(text, panel_id)
        db = request.app.state.db
        started = await run_in_threadpool(comments.start, db, user, target, text, panel_id)
        return _told(request, started)

    @router.post(
        f"{prefix}/threads/{{thread_id}}/comments",
        response_model=Comment,
        status_code=201,
        openapi_extra=json_body_schema(CommentText),
        name=name("reply"),
    )
    async def reply(thread_id: RowId, request: Request, user: Writer, target: Where) -> Any:
        """Add a comment to the thread."""
        text = await _text(request)
        done = await run_in_threadpool(comments.reply, request.app.state.db, user, target, thread_id, text)
        return _told(request, done)

    @router.patch(
        f"{prefix}/threads/{{thread_id}}",
        response_model=Thread,
        openapi_extra=json_body_schema(ThreadState),
        name=name("resolve_thread"),
    )
    async def resolve_thread(thread_id: RowId, request: Request, user: Writer, target: Where) -> Any:
        """Resolve (``resolved: true``) or reopen the thread."""
        body = await read_json(request, ThreadState)
        db = request.app.state.db
        return await run_in_threadpool(comments.resolve, db, user, target, thread_id, body.resolved)

    @router.patch(
        f"{prefix}/comments/{{comment_id}}",
        response_model=Comment,
        openapi_extra=json_body_schema(CommentText),
        name=name("edit_comment"),
    )
    async def edit_comment(comment_id: RowId, request: Request, user: Writer, target: Where) -> Any:
        """Replace the text of your own comment (users it newly mentions are notified)."""
        text = await _text(request)
        done = await run_in_threadpool(comments.edit, request.app.state.db, user, target, comment_id, text)
        return _told(request, done)

    @router.delete(f"{prefix}/comments/{{comment_id}}", status_code=204, name=name("delete_comment"))
    def delete_comment(comment_id: RowId, request: Request, user: Writer, target: Where) -> Response:
        """Delete your own comment (an entity admin: anyone's); a thread left empty goes with it."""
        comments.remove(request.app.state.db, user, target, comment_id)
        return Response(status_code=204)


_add_routes(comments.RUN, "/runs/{entity}/{project}/{run_id}", run_target, CommentText)
_add_routes(comments.REPORT, "/reports/{entity}/{project}/{report_id}", report_target, ReportThreadStart)


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
