"""``wakelog.Api``: read runs back from a wakelog server, the way ``wandb.Api`` does."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx
import msgspec
import numpy as np

from wakelog._http import client_options, not_the_server, redirect
from wakelog._names import check_file_name
from wakelog.api._filters import mongo_to_filter, order_text
from wakelog.errors import CommError, UsageError

if TYPE_CHECKING:
    from wakelog.api._reports import Report
    from wakelog.sdk.artifacts import Artifact
    from wakelog.transport.artifacts import HttpArtifactServer

_MSGPACK = "application/msgpack"
_decoder = msgspec.msgpack.Decoder()


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return (
        dt.datetime.fromtimestamp(epoch, dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
    )


def _q(part: str) -> str:
    return quote(part, safe="")


class Api:
    """A client for a wakelog server's query API.

    ``Api(overrides={"base_url": …, "api_key": …, "entity": …, "project": …})``; without
    overrides the base URL, key, entity and project come from the SDK's settings and the key
    stored by ``wakelog login`` (like ``wandb.Api()``).
    """

    def __init__(
        self,
        overrides: dict[str, Any] | None = None,
        timeout: float | None = None,
        api_key: str | None = None,
    ) -> None:
        from wakelog.sdk._login import api_key_for
        from wakelog.sdk._settings import resolve_settings

        overrides = dict(overrides or {})
        unknown = set(overrides) - {"base_url", "api_key", "entity", "project"}
        if unknown:
            raise UsageError(f"unknown Api overrides: {', '.join(sorted(unknown))}")
        settings = resolve_settings()
        base_url = str(overrides.get("base_url") or settings.base_url or "").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"the server URL must be http:// or https://, got {base_url!r}")
        key = api_key or overrides.get("api_key") or api_key_for(base_url)
        self.settings = {
            "base_url": base_url,
            "entity": overrides.get("entity") or settings.entity,
            "project": overrides.get("project") or settings.project,
        }
        self._http = httpx.Client(
            base_url=base_url,
            auth=("api", key) if key else None,
            timeout=timeout or 60.0,
            follow_redirects=False,
            **client_options(base_url),
        )
        self._viewer: str | None = None
        self._user: User | None = None
        self._key = key or ""
        self._artifact_server: HttpArtifactServer | None = None

    # -- plumbing -----------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()
        if self._artifact_server is not None:
            self._artifact_server.close()

    def _artifacts(self) -> HttpArtifactServer:
        """The server's artifact routes (``wakelog.transport.artifacts``), opened on first use."""
        if self._artifact_server is None:
            from wakelog.transport.artifacts import HttpArtifactServer

            self._artifact_server = HttpArtifactServer(self.settings["base_url"], self._key)
        return self._artifact_server

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _request(self, method: str, path: str, *, msgpack: bool = False, **kwargs: Any) -> Any:
        if msgpack:
            kwargs.setdefault("headers", {})["Accept"] = _MSGPACK
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CommError(f"cannot reach {self.settings['base_url']}: {exc}") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            if response.status_code == 400:
                raise UsageError(f"the server refused the request: {detail}")
            raise CommError(f"{method} {path}: {response.status_code} {detail}")
        stranger = redirect(response) or not_the_server(response)
        if stranger:
            raise CommError(stranger)
        if msgpack and response.headers.get("content-type", "").startswith(_MSGPACK):
            return _decoder.decode(response.content)
        if response.status_code == 204:
            return None
        return response.json()

    def _get(self, path: str, **kwargs: Any) -> Any:
        return self._request("GET", path, **kwargs)

    @property
    def default_entity(self) -> str | None:
        """The entity used when a path leaves it out: the settings', else the user's name."""
        if self.settings["entity"]:
            return self.settings["entity"]
        if self._viewer is None:
            try:
                self._viewer = self._get("/api/v1/auth/me").get("username") or ""
            except (CommError, UsageError):
                self._viewer = ""
        return self._viewer or None

    @property
    def viewer(self) -> User:
        """The signed-in user: the key's owner (``username``, ``entity``, ``teams``, ``admin``)."""
        if self._user is None:
            self._user = User(self._get("/api/v1/auth/me"))
        return self._user

    def _split(self, path: str | None, parts: int, what: str = "run_id") -> list[str]:
        """``entity/project[/run_id]`` with defaults for what is left out; URLs accepted."""
        text = (path or "").strip()
        if text.startswith(("http://", "https://")):
            text = urlsplit(text).path
        pieces = [p for p in text.strip("/").split("/") if p]
        if parts == 3 and len(pieces) >= 3 and pieces[-2] in ("runs", "sweeps", "reports"):
            pieces = pieces[:-2] + pieces[-1:]
        if parts == 2 and not pieces and self.settings["project"]:
            pieces = [self.settings["project"]]
        if len(pieces) == parts - 1:
            entity = self._entity_for(pieces[0])
            pieces = [entity, *pieces]
        if len(pieces) != parts:
            shape = "entity/project" if parts == 2 else f"entity/project/{what}"
            raise UsageError(f"expected a path like {shape!r}, got {path!r}")
        return pieces

    def _entity_for(self, project: str) -> str:
        """The entity of a path without one: the configured entity, else the only entity with
        that project, else the user's own (where the SDK uploads by default)."""
        if self.settings["entity"]:
            return self.settings["entity"]
        found = sorted({p["entity"] for p in self._get("/api/v1/projects", params={"name": project})})
        if len(found) == 1:
            return found[0]
        viewer = self.default_entity
        if viewer and (not found or viewer in found):
            return viewer
        raise UsageError(
            f"say which entity's project {project!r} you mean ('entity/{project}')"
            + (f"; it exists in {', '.join(found)}" if found else "")
        )

    # -- the wandb.Api surface ----------------------------------------------------------------
    def runs(
        self,
        path: str | None = None,
        filters: dict[str, Any] | str | None = None,
        order: str = "+created_at",
        per_page: int = 50,
        include_sweeps: bool = True,
    ) -> Runs:
        """The runs of ``"entity/project"`` matching ``filters`` (wandb's Mongo-style dict, or
        the server's filter language as a string), in ``order``; fetched lazily a page at a time."""
        entity, project = self._split(path, 2)
        return Runs(self, entity, project, mongo_to_filter(filters), order_text(order), per_page)

    def run(self, path: str) -> Run:
        """One run: ``"entity/project/run_id"`` (or ``…/runs/run_id``, or a URL)."""
        entity, project, run_id = self._split(path, 3)
        return Run(self, self._get(f"/api/v1/runs/{_q(entity)}/{_q(project)}/{_q(run_id)}"))

    def sweep(self, path: str) -> Sweep:
        """One sweep: ``"entity/project/sweep_id"`` (or ``…/sweeps/sweep_id``, or its page's URL)."""
        entity, project, sweep_id = self._split(path, 3)
        return Sweep(self, self._get(f"/api/v1/sweeps/{_q(entity)}/{_q(project)}/{_q(sweep_id)}"))

    def projects(self, entity: str | None = None, per_page: int = 200) -> list[Project]:
        entity = entity or self.default_entity
        params = {"entity": entity} if entity else {}
        return [Project(self, p) for p in self._get("/api/v1/projects", params=params)]

    def project(self, name: str, entity: str | None = None) -> Project:
        entity, name = self._split(f"{entity}/{name}" if entity else name, 2)
        return Project(self, self._get(f"/api/v1/projects/{_q(entity)}/{_q(name)}"))

    # -- reports (api/_reports.py) -------------------------------------------------------------
    def reports(self, path: str | None = None, name: str | None = None, per_page: int = 50) -> list[Report]:
        """The reports of ``"entity/project"``, newest first (drafts only for its members); with
        ``name``, those with that title (``per_page`` is wandb's: the list comes whole)."""
        from wakelog.api import _reports

        return _reports.reports(self, path, name)

    def report(self, path: str) -> Report:
        """One report: ``"entity/project/report_id"`` (or ``…/reports/report_id``, or its URL)."""
        from wakelog.api import _reports

        return _reports.report(self, path)

    # -- artifacts (api/_artifacts.py) ---------------------------------------------------------
    def artifact(self, name: str, type: str | None = None) -> Artifact:
        """One artifact version: ``"entity/project/name:alias"`` (or ``project/name:v3``, or
        ``name:alias`` in the default project)."""
        from wakelog.api import _artifacts

        return _artifacts.artifact(self, name, type)

    def artifact_versions(self, type_name: str, name: str, per_page: int = 50) -> list[Artifact]:
        """Every version of the artifact ``[entity/project/]name`` of type ``type_name``, newest first."""
        from wakelog.api import _artifacts

        return _artifacts.artifact_versions(self, type_name, name)

    def artifacts(self, type_name: str, name: str, per_page: int = 50, tags: Any = None) -> list[Artifact]:
        """``artifact_versions`` (wandb's newer name)."""
        return self.artifact_versions(type_name, name, per_page)

    def artifact_exists(self, name: str, type: str | None = None) -> bool:
        """Whether the artifact version ``name`` exists (and has ``type``, when given)."""
        from wakelog.sdk.artifacts import ArtifactError

        try:
            self.artifact(name, type)
        except ArtifactError:
            return False
        return True

    def flush(self) -> None:
        """Forget cached answers (there are none to forget: every call asks the server)."""


class Project:
    def __init__(self, api: Api, attrs: dict[str, Any]) -> None:
        self._api = api
        self._attrs = attrs
        self.entity: str = attrs["entity"]
        self.name: str = attrs["name"]

    @property
    def path(self) -> list[str]:
        return [self.entity, self.name]

    def runs(self, filters: Any = None, order: str = "+created_at", per_page: int = 50) -> Runs:
        return self._api.runs(f"{self.entity}/{self.name}", filters, order, per_page)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._attrs[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"<Project {self.entity}/{self.name}>"


class Sweep:
    """A sweep on the server, as ``wandb.Api().sweep()`` returns it: ``id``, ``name``, ``config``,
    ``state`` (wandb's spelling: ``RUNNING``, ``PAUSED``, ``STOPPING``, ``FINISHED``,
    ``CANCELED``), ``runs``, ``best_run()``, ``url``. ``trials`` has the server's view of each
    trial (its parameters, state and metric value, docs/sweeps.md)."""

    #: How many run ids one runs query asks for (the filter language takes 10,000 characters).
    ID_CHUNK = 500

    def __init__(self, api: Api, attrs: dict[str, Any]) -> None:
        self._api = api
        self._load(attrs)

    def _load(self, attrs: dict[str, Any]) -> None:
        self._attrs = attrs
        self.id: str = attrs["id"]
        self.entity: str = attrs["entity"]
        self.project: str = attrs["project"]
        self.config: dict[str, Any] = _restore(attrs.get("config") or {})
        self.trials: list[dict[str, Any]] = list(attrs.get("trials") or [])

    def load(self, force: bool = False) -> dict[str, Any]:
        """Fetch the sweep again (its state and trials move on)."""
        self._load(self._api._get(self._base()))
        return self._attrs

    def _base(self) -> str:
        return f"/api/v1/sweeps/{_q(self.entity)}/{_q(self.project)}/{_q(self.id)}"

    @property
    def name(self) -> str:
        """The configuration's ``name``, else the id (as wandb's)."""
        return str(self._attrs.get("name") or self.id)

    @property
    def state(self) -> str:
        return str(self._attrs["state"]).upper()

    @property
    def path(self) -> list[str]:
        return [self.entity, self.project, self.id]

    @property
    def url(self) -> str:
        """The sweep's page in the web app."""
        return f"{self._api.settings['base_url']}/{self.entity}/{self.project}/sweeps/{self.id}"

    @property
    def order(self) -> str | None:
        """How ``best_run()`` sorts by default: the metric, best first (``-summary_metrics.acc``)."""
        metric = self.config.get("metric")
        if not metric:
            return None
        return ("-" if metric.get("goal") == "maximize" else "+") + f"summary_metrics.{metric['name']}"

    @property
    def expected_run_count(self) -> int | None:
        """``run_cap``, or None for a sweep without one."""
        cap = self._attrs.get("run_cap")
        return None if cap is None else int(cap)

    def _run_ids(self) -> list[str]:
        return [str(t["run_id"]) for t in self.trials]

    def _runs_among(self, run_ids: list[str], order: str, per_page: int) -> list[Runs]:
        path = f"{self.entity}/{self.project}"
        return [
            self._api.runs(path, {"name": {"$in": run_ids[i : i + self.ID_CHUNK]}}, order, per_page)
            for i in range(0, len(run_ids), self.ID_CHUNK)
        ]

    @property
    def runs(self) -> list[Run]:
        """The runs of the sweep's trials (those that have reported), oldest first."""
        found = [run for chunk in self._runs_among(self._run_ids(), "+created_at", 200) for run in chunk]
        return sorted(found, key=lambda run: run._attrs.get("created_at") or 0.0)

    def best_run(self, order: str | None = None) -> Run | None:
        """The best run by the sweep's metric, or first by ``order`` (wandb's ``"-summary_metrics.acc"``);
        None while no run qualifies."""
        order = order or self.order
        if order is None:
            return None
        candidates = self._run_ids()
        while True:  # each chunk's first, then the first of those, until one chunk decides
            chunks = self._runs_among(candidates, order, 1)
            firsts = [chunk[0] for chunk in chunks if len(chunk)]
            if len(chunks) <= 1 or not firsts:
                return firsts[0] if firsts else None
            candidates = [run.id for run in firsts]

    def __getattr__(self, name: str) -> Any:
        attrs = self.__dict__.get("_attrs", {})
        if name in attrs:
            return attrs[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"<Sweep {self.entity}/{self.project}/{self.id} ({self.state})>"


class User:
    """A user of the server (``Api().viewer``): ``username``, ``entity`` (their own, where their
    runs go by default), ``name``, ``email`` (None: the server keeps none), ``admin`` and
    ``teams`` (the team entities they belong to)."""

    def __init__(self, attrs: dict[str, Any]) -> None:
        self._attrs = attrs
        self.username: str = attrs["username"]
        self.entity: str = self.username
        self.name: str = self.username
        self.email: str | None = attrs.get("email")
        self.admin: bool = bool(attrs.get("is_admin"))
        memberships = attrs.get("memberships") or []
        self.teams: list[str] = [m["entity"] for m in memberships if m.get("entity") != self.username]

    def __getattr__(self, name: str) -> Any:
        attrs = self.__dict__.get("_attrs", {})
        if name in attrs:
            return attrs[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Runs:
    """A lazily paged list of runs: iterate it, index it, ``len()`` it."""

    def __init__(
        self, api: Api, entity: str, project: str, filter_text: str, order: str, per_page: int
    ) -> None:
        self._api = api
        self.entity, self.project = entity, project
        self.filters, self.order = filter_text, order
        self.per_page = max(1, min(int(per_page), 1000))
        self.objects: list[Run] = []
        self._total: int | None = None
        self._next: int | None = 0

    def _more(self) -> bool:
        if self._next is None:
            return False
        params: dict[str, Any] = {"limit": self.per_page, "offset": self._next}
        if self.filters:
            params["filter"] = self.filters
        if self.order:
            params["order"] = self.order
        page = self._api._get(f"/api/v1/projects/{_q(self.entity)}/{_q(self.project)}/runs", params=params)
        self.objects.extend(Run(self._api, attrs) for attrs in page["runs"])
        self._total = page["total"]
        self._next = page["next_offset"]
        return bool(page["runs"])

    def __iter__(self) -> Iterator[Run]:
        index = 0
        while True:
            while index < len(self.objects):
                yield self.objects[index]
                index += 1
            if not self._more():
                return

    def __len__(self) -> int:
        if self._total is None:
            self._more()
        return self._total or 0

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice) or index < 0:
            while self._more():
                pass
            return self.objects[index]
        while index >= len(self.objects) and self._more():
            pass
        return self.objects[index]

    def histories(
        self,
        samples: int = 500,
        keys: list[str] | None = None,
        x_axis: str = "_step",
        format: str = "default",
        stream: str = "default",
    ) -> Any:
        """Every run's ``history()`` in one: a list of rows each with its ``run_id``
        (``format="default"``), or one DataFrame with a ``run_id`` column and sorted columns
        (``"pandas"``), as in wandb. Runs without history add nothing."""
        if format not in ("default", "pandas"):
            raise ValueError(f"Invalid format: {format}. Must be one of 'default', 'pandas'")
        per_run = []
        for run in self:
            rows = run.history(samples=samples, keys=keys, x_axis=x_axis, pandas=False, stream=stream)
            per_run.append([{**row, "run_id": run.id} for row in rows])
        if format == "default":
            return [row for rows in per_run for row in rows]
        import pandas as pd

        frames = [pd.DataFrame.from_records(rows) for rows in per_run if rows]
        if not frames:
            return pd.DataFrame()
        combined = pd.concat(frames, ignore_index=True)
        return combined[sorted(combined.columns)]

    def __repr__(self) -> str:
        return f"<Runs {self.entity}/{self.project}>"


class Run:
    """A run on the server: identity, ``config``, ``summary``, ``state``, histories, files."""

    def __init__(self, api: Api, attrs: dict[str, Any]) -> None:
        self._api = api
        self._load(attrs)

    def _load(self, attrs: dict[str, Any]) -> None:
        self._attrs = attrs
        self.id: str = attrs["id"]
        self.entity: str = attrs["entity"]
        self.project: str = attrs["project"]
        self.name: str | None = attrs.get("name")
        self.state: str = attrs["state"]
        self.config: dict[str, Any] = _restore(attrs.get("config") or {})
        self.summary: dict[str, Any] = _restore(attrs.get("summary") or {})
        self.tags: list[str] = list(attrs.get("tags") or [])
        self.group: str | None = attrs.get("group")
        self.job_type: str | None = attrs.get("job_type")
        self.notes: str | None = attrs.get("notes")

    # wandb spellings
    @property
    def display_name(self) -> str | None:
        return self.name

    @property
    def summary_metrics(self) -> dict[str, Any]:
        return self.summary

    @property
    def path(self) -> list[str]:
        return [self.entity, self.project, self.id]

    @property
    def url(self) -> str:
        return f"{self._api.settings['base_url']}/{self.entity}/{self.project}/runs/{self.id}"

    @property
    def created_at(self) -> str | None:
        return _iso(self._attrs.get("created_at"))

    @property
    def heartbeat_at(self) -> str | None:
        return _iso(self._attrs.get("heartbeat_at"))

    @property
    def lastHistoryStep(self) -> int:
        return int(self._attrs.get("last_step", -1))

    @property
    def metadata(self) -> dict[str, Any] | None:
        if "metadata" not in self._attrs:
            self.load()
        return self._attrs.get("metadata")

    @property
    def sweep_name(self) -> str | None:
        """The id of the sweep this run is a trial of (recorded by ``init()`` in the run's
        metadata); None for a run outside sweeps."""
        found = (self.metadata or {}).get("sweep_id")
        return str(found) if found else None

    @property
    def sweep(self) -> Sweep | None:
        """The sweep this run is a trial of, fetched; None outside sweeps."""
        name = self.sweep_name
        return None if name is None else self._api.sweep(f"{self.entity}/{self.project}/{name}")

    def __getattr__(self, name: str) -> Any:
        attrs = self.__dict__.get("_attrs", {})
        if name in attrs:
            return attrs[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"<Run {self.entity}/{self.project}/{self.id} ({self.state})>"

    def _base(self) -> str:
        return f"/api/v1/runs/{_q(self.entity)}/{_q(self.project)}/{_q(self.id)}"

    def load(self, force: bool = False) -> dict[str, Any]:
        """Fetch the run again (state, summary, … may have changed)."""
        self._load(self._api._get(self._base()))
        return self._attrs

    # -- changes ------------------------------------------------------------------------------
    def update(self) -> None:
        """Save what was changed of ``name``, ``tags``, ``notes``, ``group`` and ``job_type`` (as
        wandb's ``run.update()``); the SDK of a training still running replaces a field again
        only by setting it later (docs/collaboration.md)."""
        fields = {"name": self.name, "tags": list(self.tags), "notes": self.notes}
        fields.update(group=self.group, job_type=self.job_type)
        saved = {"name": self._attrs.get("name"), "tags": list(self._attrs.get("tags") or [])}
        saved.update(
            notes=self._attrs.get("notes"),
            group=self._attrs.get("group"),
            job_type=self._attrs.get("job_type"),
        )
        changed = {key: value for key, value in fields.items() if value != saved[key]}
        if changed:
            self._load(self._api._request("PATCH", self._base(), json=changed))

    def delete(self, delete_artifacts: bool = False) -> None:
        """Put the run in its project's trash on the server (restorable there for 30 days by
        default). ``delete_artifacts`` is wandb's; the artifact versions it logged stay."""
        self._api._request("DELETE", self._base())

    def move(self, to: str) -> None:
        """Move the finished run to the project ``"entity/project"`` (one you may write)."""
        body = {"action": "move", "runs": [self.id], "to": to}
        self._api._request(
            "POST", f"/api/v1/projects/{_q(self.entity)}/{_q(self.project)}/runs/bulk", json=body
        )
        self.entity, self.project = to.split("/", 1)

    # -- histories ----------------------------------------------------------------------------
    def history(
        self,
        samples: int = 500,
        keys: list[str] | None = None,
        x_axis: str = "_step",
        pandas: bool = True,
        stream: str = "default",
        envelope: bool = False,
    ) -> Any:
        """At most ``samples`` points per key, downsampled on the server keeping the min/max
        envelope (each row is a real logged point; ``envelope=True`` adds ``<key>_min`` and
        ``<key>_max`` columns with the extremes each point stands for). Rows hold ``_step``
        (system metrics: ``_runtime``), the ``x_axis`` value and the keys logged at that step.
        ``pandas=True`` returns a DataFrame, else a list of dicts."""
        system = stream in ("system", "events")
        params: dict[str, Any] = {"points": int(samples)}
        if keys:
            params["keys"] = list(keys)
        if system:
            params["x_axis"] = x_axis if x_axis in ("_runtime", "_timestamp") else "_runtime"
        else:
            params["x_axis"] = x_axis
        answer = self._api._get(
            self._base() + ("/system" if system else "/history"), params=params, msgpack=True
        )
        rows: dict[int, dict[str, Any]] = {}
        for series in answer["series"]:
            steps = _floats(series["steps"]).astype(np.int64)
            values, mins, maxs = _floats(series["values"]), _floats(series["min"]), _floats(series["max"])
            xs = _floats(series["x"]) if series.get("x") is not None else None
            key = series["key"]
            for i, step in enumerate(steps.tolist()):
                row = rows.get(step)
                if row is None:
                    row = rows[step] = {"_runtime": step / 1000.0} if system else {"_step": step}
                row[key] = float(values[i])
                if envelope:
                    row[f"{key}_min"] = float(mins[i])
                    row[f"{key}_max"] = float(maxs[i])
                if xs is not None and params["x_axis"] not in row:
                    row[params["x_axis"]] = float(xs[i])
        ordered = [rows[s] for s in sorted(rows)]
        if not pandas:
            return ordered
        import pandas as pd

        return pd.DataFrame(ordered)

    def scan_history(
        self,
        keys: list[str] | None = None,
        page_size: int = 1000,
        min_step: int | None = None,
        max_step: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every row at full resolution, fetched a page at a time. With ``keys``, only rows
        holding all of them (plus ``_step``) — selected on the server, so sparse keys scan fast."""
        params: dict[str, Any] = {"page_size": int(page_size)}
        if keys:
            params["keys"] = list(keys)
            params["require"] = "all"
        if max_step is not None:
            params["max_step"] = int(max_step) - 1  # wandb's max_step is exclusive
        start = min_step
        while True:
            if start is not None:
                params["min_step"] = int(start)
            page = self._api._get(self._base() + "/history/rows", params=params, msgpack=True)
            yield from page["rows"]
            start = page["next_step"]
            if start is None:
                return

    # -- files --------------------------------------------------------------------------------
    def logged_artifacts(self, per_page: int = 100) -> list[Artifact]:
        """The artifact versions this run created."""
        from wakelog.api import _artifacts

        return _artifacts.run_artifacts(self._api, self.entity, self.project, self.id, "logged")

    def used_artifacts(self, per_page: int = 100) -> list[Artifact]:
        """The artifact versions this run declared as inputs (``use_artifact``)."""
        from wakelog.api import _artifacts

        return _artifacts.run_artifacts(self._api, self.entity, self.project, self.id, "used")

    def files(self, names: list[str] | None = None, per_page: int = 1000) -> list[File]:
        """The run's files (all of them, or those named)."""
        found: list[File] = []
        offset: int | None = 0
        while offset is not None:
            page = self._api._get(self._base() + "/files", params={"limit": per_page, "offset": offset})
            found.extend(File(self, attrs) for attrs in page["files"])
            offset = page["next_offset"]
        if names is not None:
            wanted = set(names)
            found = [f for f in found if f.name in wanted]
        return found

    def file(self, name: str) -> File:
        check_file_name(name)
        page = self._api._get(self._base() + "/files", params={"prefix": name, "limit": 1000})
        for attrs in page["files"]:
            if attrs["name"] == name:
                return File(self, attrs)
        raise CommError(f"run {'/'.join(self.path)} has no file {name!r}")


class File:
    """A run file on the server."""

    def __init__(self, run: Run, attrs: dict[str, Any]) -> None:
        self._run = run
        self._attrs = attrs
        self.name: str = attrs["name"]
        self.size: int | None = attrs.get("size")
        self.sha256: str | None = attrs.get("sha256")
        self.updated_at: float | None = attrs.get("updated_at")

    @property
    def url(self) -> str:
        return self._run._api.settings["base_url"] + self._attrs["url"]

    def __repr__(self) -> str:
        return f"<File {self.name} ({self.size} bytes)>"

    def download(self, root: str = ".", replace: bool = False, exist_ok: bool = False) -> Any:
        """Save the file under ``root`` (keeping its relative name) and return it opened for
        reading, like wandb. An existing file raises ``ValueError`` unless ``replace`` (fetch
        again) or ``exist_ok`` (keep it)."""
        check_file_name(self.name)
        base = Path(root).resolve()
        target = (base / self.name).resolve()
        if base != target and base not in target.parents:
            raise ValueError(f"file name {self.name!r} points outside {root}")
        if target.exists() and not replace:
            if exist_ok:
                return open(target)
            raise ValueError(f"{target} already exists; pass replace=True to overwrite it")
        target.parent.mkdir(parents=True, exist_ok=True)
        api = self._run._api
        path = self._run._base() + "/files/" + quote(self.name)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as out, api._http.stream("GET", path) as response:
                if response.status_code >= 400:
                    response.read()
                    raise CommError(f"downloading {self.name}: {response.status_code} {response.text}")
                for block in response.iter_bytes():
                    out.write(block)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return open(target)


def _floats(data: Any) -> np.ndarray:
    """A series array from MessagePack (float64 bytes) or JSON (a list)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return np.frombuffer(data, dtype="<f8")
    return np.array([_restore(v) for v in data], dtype=np.float64)


_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _restore(value: Any) -> Any:
    """JSON's stand-ins for NaN and ±Inf back to floats."""
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value
