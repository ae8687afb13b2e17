"""``Api.reports()`` and ``Api.report()``: a project's reports (documents of markdown and live
panels, docs/collaboration.md) read back. Listing answers each report's summary; its ``spec``
(the blocks) and the rest are fetched the first time they are asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from wakelog.api._api import Api


def _q(part: str) -> str:
    return quote(part, safe="")


class Report:
    """One report: ``id``, ``title``, ``description``, ``status`` (``draft`` or ``published``),
    ``url``, ``spec`` (a dict: ``{"blocks": [...]}``), ``updated_at`` (epoch seconds),
    ``version``, ``pinned``; ``bundle()`` has the data its panels draw."""

    def __init__(self, api: Api, entity: str, project: str, attrs: dict[str, Any]) -> None:
        self._api, self.entity, self.project = api, entity, project
        self._attrs = attrs
        self.id: str = attrs["id"]

    def _base(self) -> str:
        return f"/api/v1/reports/{_q(self.entity)}/{_q(self.project)}/{_q(self.id)}"

    def load(self, force: bool = False) -> dict[str, Any]:
        """The whole report (fetched once; ``force`` asks again)."""
        if force or "spec" not in self._attrs:
            self._attrs = self._api._get(self._base())
        return self._attrs

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.load()["spec"])

    @property
    def path(self) -> list[str]:
        return [self.entity, self.project, self.id]

    @property
    def url(self) -> str:
        """The report's page in the web app."""
        return f"{self._api.settings['base_url']}/{self.entity}/{self.project}/reports/{self.id}"

    def bundle(self) -> dict[str, Any]:
        """Everything the report's panels draw, resolved now: runs (config, summary,
        environment), run sets, series, media."""
        return dict(self._api._get(f"{self._base()}/bundle"))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attrs = self._attrs if name in self._attrs else self.load()  # a listed report lacks some
        try:
            return attrs[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"<Report {self.entity}/{self.project}/{self.id} {self._attrs.get('title')!r}>"


def reports(api: Api, path: str | None, title: str | None = None) -> list[Report]:
    entity, project = api._split(path, 2)
    listed = api._get(f"/api/v1/projects/{_q(entity)}/{_q(project)}/reports")
    return [
        Report(api, entity, project, attrs) for attrs in listed if title is None or attrs["title"] == title
    ]


def report(api: Api, path: str) -> Report:
    entity, project, report_id = api._split(path, 3, "reports")
    return Report(
        api, entity, project, api._get(f"/api/v1/reports/{_q(entity)}/{_q(project)}/{_q(report_id)}")
    )
