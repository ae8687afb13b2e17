"""Where the layers above the SDK plug into it, so that the SDK never imports them.

The SDK sits below the transport and the integrations (``docs/architecture.md``). What it needs
from them is registered here, by ``wakelog/__init__.py`` (the composition root) when ``wakelog``
is imported:

* ``set_server_lookup(fn)``: how ``init(resume="must")`` asks the server for a run this machine
  has not recorded (the transport's ``transport/resume.py``).
* ``add_metadata_provider(name, fn)``: a top-level section of every run's metadata; ``fn()`` runs
  on the metadata thread and returns the section, or None to leave it out (the Paddle section).
* ``set_watcher(watch, unwatch)``: what ``Run.watch`` and ``Run.unwatch`` do (the Paddle
  integration's model hooks).
* ``add_finish_callback(fn)``: called with each run as it finishes, before its monitors stop.
* ``set_restorer(fn)``: how ``Run.restore`` fetches a run's file from the server (the public API's
  ``wakelog.restore``).
* ``add_start_callback(fn)``: called as ``fn(run, options)`` once ``init()`` has started a run
  that records (not a disabled one); ``options`` holds what ``init`` was asked for beyond the
  settings (``monitor_gym``). The TensorBoard and gym integrations start there.
* ``add_finish_callback(fn)``: called with each run as it finishes, before its last row is
  committed and its monitors stop (so it may still log).
* ``set_artifact_server(factory)``: ``factory(base_url, api_key)`` gives what artifacts ask a
  server (resolve a version, its manifest, a file's content: ``transport/artifacts.py``).

The uploader is not a hook: it is a separate process the SDK starts by module name
(``sdk/_uploader.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

from wakelog.errors import UsageError

if TYPE_CHECKING:
    from wakelog.sdk._run import Run
    from wakelog.sdk.artifacts._server import ArtifactServer


class ServerRun(TypedDict):
    """A run as the server has it: where it is, its detail (``GET /runs/…``) and its ack."""

    entity: str
    project: str
    detail: dict[str, Any]
    ack: int


#: ``(base_url, api_key, entity, project, run_id, rewind_to) -> ServerRun | None`` (None: the server
#: does not know the run); ``rewind_to`` a step: the server first rewinds the run to it
#: (``init(resume_from=…)``). Raises ``CommError`` when the server cannot be asked or refuses.
ServerLookup = Callable[[str, str, "str | None", str, str, "int | None"], "ServerRun | None"]
#: ``(name, run_path, replace, root) -> opened file | None`` (``wakelog.restore``).
Restorer = Callable[[str, "str | None", bool, "str | None"], Any]
Watch = Callable[..., list[Any]]
Unwatch = Callable[["Run", Any], None]
StartCallback = Callable[["Run", dict[str, Any]], None]
#: ``(base_url, api_key) -> ArtifactServer``.
ArtifactServerFactory = Callable[[str, str], "ArtifactServer"]

_server_lookup: ServerLookup | None = None
_metadata_providers: dict[str, Callable[[], Any]] = {}
_watcher: tuple[Watch, Unwatch] | None = None
_finish_callbacks: list[Callable[[Run], None]] = []
_restorer: Restorer | None = None
_start_callbacks: list[StartCallback] = []
_artifact_server: ArtifactServerFactory | None = None


def set_server_lookup(lookup: ServerLookup) -> None:
    global _server_lookup
    _server_lookup = lookup


def server_lookup() -> ServerLookup:
    if _server_lookup is None:
        raise UsageError("init(resume='must'): this installation cannot ask a server (no transport)")
    return _server_lookup


def add_metadata_provider(name: str, provider: Callable[[], Any]) -> None:
    _metadata_providers[name] = provider


def metadata_providers() -> dict[str, Callable[[], Any]]:
    return dict(_metadata_providers)


def set_watcher(watch: Watch, unwatch: Unwatch) -> None:
    global _watcher
    _watcher = (watch, unwatch)


def watcher() -> tuple[Watch, Unwatch]:
    if _watcher is None:
        raise UsageError("watch() needs the Paddle integration (wakelog.integration.paddle)")
    return _watcher


def add_finish_callback(callback: Callable[[Run], None]) -> None:
    if callback not in _finish_callbacks:
        _finish_callbacks.append(callback)


def finish_callbacks() -> list[Callable[[Run], None]]:
    return list(_finish_callbacks)


def set_restorer(restorer: Restorer) -> None:
    global _restorer
    _restorer = restorer


def restorer() -> Restorer:
    if _restorer is None:
        raise UsageError("restore() needs the public API (wakelog.api), which is not installed here")
    return _restorer


def add_start_callback(callback: StartCallback) -> None:
    if callback not in _start_callbacks:
        _start_callbacks.append(callback)


def start_callbacks() -> list[StartCallback]:
    return list(_start_callbacks)


def set_artifact_server(factory: ArtifactServerFactory) -> None:
    global _artifact_server
    _artifact_server = factory


def artifact_server() -> ArtifactServerFactory:
    if _artifact_server is None:
        raise UsageError("artifacts need the transport (wakelog.transport), which is not installed here")
    return _artifact_server
