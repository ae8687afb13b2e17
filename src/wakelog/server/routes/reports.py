"""Reports and dashboards: documents of markdown and live panels, their revisions, share links,
the data bundle their panels draw, and the static HTML export.

The contract with the web app is ``REPORTS_API.md``; what each call does is in
``server/reports/store.py`` (who sees what, auditing), ``spec.py`` (what a report may hold),
``bundle.py`` (the data) and ``export.py`` (the HTML file). ``GET /api/v1/shared/{token}`` is the
one route without sign-in: a share token opens that report's published bundle and nothing else;
wrong tokens are throttled per address like wrong API keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from starlette.concurrency import run_in_threadpool

from wakelog.server.body import json_body_schema, read_json_object
from wakelog.server.errors import InvalidRequest
from wakelog.server.http import INT32_MAX, json_response, not_found, project_path, refuse_nul
from wakelog.server.limits import client_address, too_many
from wakelog.server.permissions import Viewer, Writer
from wakelog.server.query.runs import context
from wakelog.server.reports import bundle as bundles
from wakelog.server.reports import export, store
from wakelog.server.reports.diff import diff
from wakelog.server.reports.spec import KINDS, MAX_SPEC_BYTES
from wakelog.server.routes.importance import ProjectImportanceOut

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
PROJECT = "/projects/{entity}/{project}"
REPORT = "/reports/{entity}/{project}/{report_id}"
#: A report's JSON body at most: the spec (1 MiB) and the rest.
MAX_BODY = MAX_SPEC_BYTES + 64 * 1024
Version = Annotated[int | None, Query(ge=1, le=INT32_MAX, description="a revision (members only)")]


# -- models (OpenAPI; bodies are read with read_json_object and checked by reports/spec.py) --------
class MarkdownBlock(BaseModel):
    id: str
    type: Literal["markdown"]
    text: str


class RunSet(BaseModel):
    id: str
    name: str = ""
    filter: str = PydanticField("", description="the run-table filter language; empty: every run")
    runs: list[str] | None = PydanticField(None, description="a fixed list of run ids instead of the filter")
    group_by: str | None = PydanticField(None, description="group, job_type or config.<key>")
    colors: dict[str, str] = PydanticField(default_factory=dict, description="run id → #rrggbb")
    hidden: list[str] = PydanticField(default_factory=list)


class Panel(BaseModel):
    id: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    title: str = ""
    config: dict[str, Any] = PydanticField(default_factory=dict)


class PanelsBlock(BaseModel):
    id: str
    type: Literal["panels"]
    runsets: list[RunSet]
    panels: list[Panel]


class ReportSpec(BaseModel):
    blocks: list[MarkdownBlock | PanelsBlock]  # told apart by ``type``


class Share(BaseModel):
    prefix: str = PydanticField(description="the token's first characters (the whole token is shown once)")
    created_at: float


class Report(BaseModel):
    id: str
    entity: str
    project: str
    title: str
    description: str
    spec: ReportSpec
    status: Literal["draft", "published"]
    version: int
    published_version: int | None
    pinned: bool
    created_by: str
    created_at: float
    updated_by: str
    updated_at: float
    share: Share | None = PydanticField(description="members only")


class ReportListed(BaseModel):
    id: str
    title: str
    description: str
    status: Literal["draft", "published"]
    pinned: bool
    version: int
    published_version: int | None
    updated_by: str
    updated_at: float


class ReportNew(BaseModel):
    title: str = PydanticField(min_length=1, max_length=200)
    description: str = PydanticField("", max_length=2000)
    spec: ReportSpec | None = None


class ReportSave(BaseModel):
    title: str = PydanticField(min_length=1, max_length=200)
    description: str = PydanticField(max_length=2000)
    spec: ReportSpec
    base_version: int = PydanticField(description="the version you edited; 409 if it is no longer current")


class RevertTo(BaseModel):
    version: int


class DuplicateTo(BaseModel):
    title: str | None = None
    entity: str | None = PydanticField(None, description="default: the report's own")
    project: str | None = None


class ShareMade(BaseModel):
    token: str
    url: str
    created_at: float


class Revision(BaseModel):
    version: int
    title: str
    saved_by: str
    saved_at: float
    published: bool


class BlockChange(BaseModel):
    block_id: str
    change: Literal["added", "removed", "changed", "moved"]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class TitleChange(BaseModel):
    before: str
    after: str


class Diff(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: int = PydanticField(alias="from")
    to: int
    changes: list[BlockChange]
    title: TitleChange | None


class Environment(BaseModel):
    git_commit: str | None
    git_diff_sha256: str | None
    packages: dict[str, str]


class BundleRun(BaseModel):
    id: str
    name: str | None
    state: str
    color: str
    group: str | None
    job_type: str | None
    tags: list[str]
    config: dict[str, Any]
    summary: dict[str, Any]
    created_at: float
    environment: Environment


class XY(BaseModel):
    x: list[float | str]
    y: list[float | str]


class MediaEntry(BaseModel):
    type: str | None
    url_or_data: str | None
    caption: str | None


class MediaShown(BaseModel):
    step: int
    items: list[MediaEntry]


class HistogramStep(BaseModel):
    step: int
    value: dict[str, Any] = PydanticField(description="the logged wandb.Histogram: {_type, values, bins}")


class BundleOut(BaseModel):
    report: Report
    runs: dict[str, BundleRun]
    runsets: dict[str, list[str]]
    series: dict[str, dict[str, dict[str, XY]]] = PydanticField(description="panel → run → metric")
    media: dict[str, dict[str, MediaShown]] = PydanticField(description="panel → run")
    importance: dict[str, ProjectImportanceOut] = PydanticField(description="panel → its rating")
    histograms: dict[str, dict[str, list[HistogramStep]]] = PydanticField(description="panel → run → steps")
    generated_at: float


# -- helpers ---------------------------------------------------------------------------------------
def _path(entity: str, project: str, report_id: str) -> tuple[str, str, str]:
    entity, project = project_path(entity, project)
    return entity, project, store.check_report_id(report_id)


async def _body(request: Request, fields: dict[str, bool]) -> dict[str, Any]:
    """The JSON object body with only ``fields`` (name → required); 400 naming any other."""
    body = await read_json_object(request, MAX_BODY)
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise InvalidRequest(f"unknown field {unknown[0]!r} (allowed: {', '.join(fields)})")
    missing = [name for name, required in fields.items() if required and name not in body]
    if missing:
        raise InvalidRequest(f"the body needs {missing[0]!r}")
    return body


def _text_or_none(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string")
    return value


def _bundle(request: Request, report: dict[str, Any], *, embed: bool) -> bundles.Bundle:
    state = request.app.state
    with state.db.read() as conn:
        made = bundles.build(conn, state.blobs, context(conn, state.config), report)
        if embed:
            export.embed_media(conn, state.blobs, made)
    return made


# -- reports ---------------------------------------------------------------------------------------
@router.get(f"{PROJECT}/reports", response_model=list[ReportListed])
def list_reports(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """The project's reports, newest first: published ones, and for members drafts too."""
    entity, project = project_path(entity, project)
    return json_response(store.listing(request.app.state.db, user, entity, project))


@router.post(
    f"{PROJECT}/reports", response_model=Report, status_code=201, openapi_extra=json_body_schema(ReportNew)
)
async def create_report(entity: str, project: str, request: Request, user: Writer) -> Any:
    """A new draft (version 1)."""
    entity, project = project_path(entity, project)
    body = await _body(request, {"title": True, "description": False, "spec": False})
    made = store.content(body["title"], body.get("description", ""), body.get("spec"))
    answer = await run_in_threadpool(store.create, request.app.state.db, user, entity, project, made)
    return json_response(answer, status_code=201)


@router.get(REPORT, response_model=Report)
def get_report(
    entity: str, project: str, report_id: str, request: Request, user: Viewer, version: Version = None
) -> Any:
    """Readers get the published revision; members the latest, or ``version``."""
    entity, project, report_id = _path(entity, project, report_id)
    return json_response(store.get(request.app.state.db, user, entity, project, report_id, version))


@router.put(REPORT, response_model=Report, openapi_extra=json_body_schema(ReportSave))
async def save_report(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Any:
    """Save a new revision; 409 (``version``: the current one) if ``base_version`` is not current."""
    entity, project, report_id = _path(entity, project, report_id)
    body = await _body(request, {"title": True, "description": True, "spec": True, "base_version": True})
    base = store.check_version(body["base_version"], "base_version")
    made = store.content(body["title"], body["description"], body["spec"])
    db = request.app.state.db
    return json_response(
        await run_in_threadpool(store.save, db, user, entity, project, report_id, made, base)
    )


@router.delete(REPORT, status_code=204)
def delete_report(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Response:
    """Delete the report and its history (its author, or an admin of the entity)."""
    entity, project, report_id = _path(entity, project, report_id)
    store.delete(request.app.state.db, user, entity, project, report_id)
    return Response(status_code=204)


@router.post(f"{REPORT}/publish", response_model=Report)
def publish(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Any:
    """Readers see the current version from now on."""
    entity, project, report_id = _path(entity, project, report_id)
    return json_response(store.set_published(request.app.state.db, user, entity, project, report_id, True))


@router.post(f"{REPORT}/unpublish", response_model=Report)
def unpublish(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Any:
    """Back to a draft only members see."""
    entity, project, report_id = _path(entity, project, report_id)
    return json_response(store.set_published(request.app.state.db, user, entity, project, report_id, False))


@router.get(f"{REPORT}/history", response_model=list[Revision])
def history(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Any:
    """Every revision, newest first."""
    entity, project, report_id = _path(entity, project, report_id)
    return json_response(store.history(request.app.state.db, user, entity, project, report_id))


@router.get(f"{REPORT}/diff", response_model=Diff)
def report_diff(
    entity: str,
    project: str,
    report_id: str,
    request: Request,
    user: Writer,
    from_: Annotated[int, Query(alias="from", ge=1, le=INT32_MAX)],
    to: Annotated[int, Query(ge=1, le=INT32_MAX)],
) -> Any:
    """What changed from revision ``from`` to ``to``, block by block."""
    entity, project, report_id = _path(entity, project, report_id)
    before, after = store.revisions(request.app.state.db, user, entity, project, report_id, (from_, to))
    return json_response({"from": from_, "to": to, **diff(before, after)})


@router.post(f"{REPORT}/revert", response_model=Report, openapi_extra=json_body_schema(RevertTo))
async def revert(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Any:
    """A new revision with the content of ``version``."""
    entity, project, report_id = _path(entity, project, report_id)
    body = await _body(request, {"version": True})
    version = store.check_version(body["version"], "version")
    db = request.app.state.db
    return json_response(await run_in_threadpool(store.revert, db, user, entity, project, report_id, version))


@router.post(
    f"{REPORT}/duplicate", response_model=Report, status_code=201, openapi_extra=json_body_schema(DuplicateTo)
)
async def duplicate(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Any:
    """A copy as a new draft, here or in another project you may write."""
    entity, project, report_id = _path(entity, project, report_id)
    body = await _body(request, {"title": False, "entity": False, "project": False})
    target = project_path(_text_or_none(body, "entity") or entity, _text_or_none(body, "project") or project)
    title = _text_or_none(body, "title")
    db = request.app.state.db
    answer = await run_in_threadpool(store.duplicate, db, user, entity, project, report_id, title, target)
    return json_response(answer, status_code=201)


@router.post(f"{REPORT}/pin", response_model=Report)
def pin(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Any:
    """Make the report the project's dashboard (the one pinned before is unpinned)."""
    entity, project, report_id = _path(entity, project, report_id)
    return json_response(store.set_pinned(request.app.state.db, user, entity, project, report_id, True))


@router.post(f"{REPORT}/unpin", response_model=Report)
def unpin(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Any:
    entity, project, report_id = _path(entity, project, report_id)
    return json_response(store.set_pinned(request.app.state.db, user, entity, project, report_id, False))


@router.post(f"{REPORT}/share", response_model=ShareMade)
def share(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Any:
    """A read-only link to the published report (replaces the earlier one). The token is shown
    only here: it is stored hashed."""
    entity, project, report_id = _path(entity, project, report_id)
    return json_response(store.share(request.app.state.db, user, entity, project, report_id))


@router.delete(f"{REPORT}/share", status_code=204)
def unshare(entity: str, project: str, report_id: str, request: Request, user: Writer) -> Response:
    """Revoke the link: its token stops working at once."""
    entity, project, report_id = _path(entity, project, report_id)
    store.unshare(request.app.state.db, user, entity, project, report_id)
    return Response(status_code=204)


@router.get(f"{PROJECT}/dashboard", response_model=Report)
def dashboard(entity: str, project: str, request: Request, user: Viewer) -> Any:
    """The project's pinned report (its published revision), or 404."""
    entity, project = project_path(entity, project)
    return json_response(store.dashboard(request.app.state.db, user, entity, project))


# -- data ------------------------------------------------------------------------------------------
@router.get(f"{REPORT}/bundle", response_model=BundleOut)
def report_bundle(
    entity: str, project: str, report_id: str, request: Request, user: Viewer, version: Version = None
) -> Any:
    """Everything the report's panels draw: runs, run sets resolved now, series, media."""
    entity, project, report_id = _path(entity, project, report_id)
    report = store.get(request.app.state.db, user, entity, project, report_id, version)
    return json_response(_bundle(request, report, embed=False).data)


@router.get(f"{REPORT}/export.html", response_class=Response, responses={200: {"content": {"text/html": {}}}})
def export_html(
    entity: str, project: str, report_id: str, request: Request, user: Viewer, version: Version = None
) -> Response:
    """The report as one self-contained HTML file (data and media embedded; opens offline)."""
    entity, project, report_id = _path(entity, project, report_id)
    report = store.get(request.app.state.db, user, entity, project, report_id, version)
    page = export.template(getattr(request.app.state, "export_template", export.TEMPLATE))
    html = export.render(page, _bundle(request, report, embed=True))
    headers = {"Content-Disposition": f'attachment; filename="report-{report_id}.html"'}
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/shared/{token}", response_model=BundleOut)
def shared(token: str, request: Request) -> Any:
    """The published report a share link opens, as a bundle (media embedded). No sign-in: the
    token is the key, and it opens nothing else."""
    failures, address = request.app.state.limits.key_failures, client_address(request)
    wait = failures.retry_after(address)
    if wait > 0:
        raise too_many(wait, "too many wrong share links from this address")
    report = store.shared(request.app.state.db, token)
    if report is None:
        failures.failure(address)
        raise not_found("shared report")
    return json_response(_bundle(request, report, embed=True).data)
