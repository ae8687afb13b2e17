"""Query API: parameter importance, the workspace's ``importance`` panel.

``GET /api/v1/projects/{entity}/{project}/importance?metric=eval/acc&filter=…`` rates each config
key by its importance to a summary metric (fANOVA) and its correlation with it (Pearson), over the
runs the run table shows for ``filter`` (its filter language). Reports get the same rating in their
bundle. Reading needs the entity's ``viewer`` role. A filter that does not parse answers 400 with
the position; a metric that is empty or too long, 400 naming ``metric``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from wakelog.server.errors import InvalidRequest
from wakelog.server.http import Timer, json_response, not_found, project_path, refuse_nul
from wakelog.server.permissions import Viewer
from wakelog.server.query import runs as q
from wakelog.server.query.filters import parse
from wakelog.server.query.project_importance import project_rows, rate
from wakelog.server.routes.sweeps import ImportanceOut

router = APIRouter(prefix="/api/v1", dependencies=[Depends(refuse_nul)])
MAX_METRIC = 256


class ProjectImportanceOut(BaseModel):
    metric: str
    runs: int = Field(description="how many runs were rated: those with a number for the metric")
    capped: bool = Field(description="true if more runs had the metric than are rated (the newest are)")
    params: list[ImportanceOut] = Field(description="config keys, most important first")


@router.get("/projects/{entity}/{project}/importance", response_model=ProjectImportanceOut)
def importance(
    entity: str,
    project: str,
    request: Request,
    user: Viewer,
    metric: Annotated[str, Query(description="a summary key, as the run table names it: `eval/acc.max`")],
    filter: Annotated[str | None, Query(description="the run table's filter: `config.opt = 'adam'`")] = None,
) -> Any:
    """How much each config key matters to ``metric``, over the runs ``filter`` matches."""
    timer = Timer()
    entity, project = project_path(entity, project)
    if not metric.strip() or len(metric) > MAX_METRIC:
        raise InvalidRequest(f"metric must name a summary key in 1-{MAX_METRIC} characters, like eval/acc")
    where = parse(filter or "")
    with request.app.state.db.read() as conn:
        rows = project_rows(conn, entity, project, where, q.context(conn, request.app.state.config))
    if rows is None:
        raise not_found(f"project {entity}/{project}")
    return json_response(rate(rows, metric), timer)
