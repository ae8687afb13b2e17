"""The server's sweep routes (docs/sweeps.md, "HTTP API"), and where a sweep lives.

``SweepClient`` is the one seam to the network: ``transport`` replaces it in tests (the in-process
app). Answers are sorted the way the agent needs them: ``SweepConfigError`` (the server refused
the configuration: the message names the key), ``UsageError`` (another refusal: a sweep that does
not exist, no permission), ``CommError`` (the server could not be reached or failed; the agent
retries those).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from wakelog._http import client_options, not_the_server, redirect
from wakelog._version import __version__
from wakelog.errors import CommError, UsageError


class SweepConfigError(UsageError):
    """The server refused a sweep configuration; ``details`` lists ``{key, message}`` for each
    problem it found."""

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class ServerUnavailable(CommError):
    """The server could not be reached or answered with a server-side failure (worth retrying)."""


@dataclass(frozen=True)
class SweepPath:
    entity: str
    project: str
    sweep_id: str

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}/{self.sweep_id}"

    @property
    def url(self) -> str:
        return "/api/v1/sweeps/" + "/".join(
            quote(p, safe="") for p in (self.entity, self.project, self.sweep_id)
        )


def _detail(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300], {}
    body = body if isinstance(body, dict) else {}
    return str(body.get("detail") or body.get("message") or response.text[:300]), body


class SweepClient:
    """The sweep routes of one server, as one user (the API key's)."""

    def __init__(
        self, base_url: str, api_key: str | None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=("api", api_key) if api_key else None,
            timeout=30.0,
            headers={"User-Agent": f"wakelog/{__version__}"},
            transport=transport,
            **client_options(self.base_url),
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"cannot reach {self.base_url}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ServerUnavailable(
                f"{self.base_url} answered {response.status_code}: {_detail(response)[0]}"
            )
        if response.status_code >= 400:
            detail, body = _detail(response)
            if body.get("code") == "invalid_sweep_config":
                raise SweepConfigError(f"invalid sweep configuration: {detail}", body.get("details"))
            if response.status_code in (401, 403):
                raise UsageError(f"{self.base_url} refused the API key for {path}: {detail}")
            raise UsageError(f"{method} {path}: the server answered {response.status_code}: {detail}")
        moved = redirect(response)
        if moved:
            raise UsageError(moved)
        stranger = not_the_server(response)
        if stranger:
            raise ServerUnavailable(stranger)
        return response.json() if response.content else None

    # -- who and where ----------------------------------------------------------------------------
    def username(self) -> str | None:
        """The user behind the key: the entity a sweep gets when none is given."""
        me = self._call("GET", "/api/v1/auth/me")
        return str(me["username"]) if isinstance(me, dict) and me.get("username") else None

    # -- sweeps -----------------------------------------------------------------------------------
    def create(
        self, entity: str, project: str, config: dict[str, Any] | str, prior_runs: list[str] | None = None
    ) -> dict[str, Any]:
        path = f"/api/v1/projects/{quote(entity, safe='')}/{quote(project, safe='')}/sweeps"
        body: dict[str, Any] = {"config": config, **({"prior_runs": prior_runs} if prior_runs else {})}
        answer: dict[str, Any] = self._call("POST", path, json=body)
        return answer

    def get(self, sweep: SweepPath) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("GET", sweep.url)
        return answer

    def control(self, sweep: SweepPath, action: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", f"{sweep.url}/control", json={"action": action})
        return answer

    # -- agents -----------------------------------------------------------------------------------
    def register_agent(self, sweep: SweepPath, host: str, pid: int, name: str | None = None) -> str:
        body: dict[str, Any] = {"host": host, "pid": pid, **({"name": name} if name else {})}
        return str(self._call("POST", f"{sweep.url}/agents", json=body)["agent_id"])

    def next_trial(self, sweep: SweepPath, agent_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", f"{sweep.url}/agents/{quote(agent_id, safe='')}/next")
        return answer

    def heartbeat(self, sweep: SweepPath, agent_id: str, running: list[str]) -> dict[str, Any]:
        url = f"{sweep.url}/agents/{quote(agent_id, safe='')}/heartbeat"
        answer: dict[str, Any] = self._call("POST", url, json={"running": running})
        return answer
