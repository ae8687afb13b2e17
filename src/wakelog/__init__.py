"""wakelog: experiment tracking for PaddlePaddle teams, with the wandb API.

``import wakelog as wandb`` and existing wandb scripts work unchanged::

    import wakelog as wandb

    wandb.init(project="digits", config={"lr": 1e-3})
    for step in range(100):
        wandb.log({"loss": 1 / (step + 1)})
    wandb.finish()

Only the SDK core is imported here; media types, numpy, PIL and PaddlePaddle load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wakelog._lazy import lazy_getattr
from wakelog._version import __version__ as __version__

# -- wandb's process-wide helpers (issue 18: the utility names) ---------------------------------
from wakelog.errors import CommError, ConfigError, Error, UnsupportedError, UsageError
from wakelog.integration.gym import register_hooks as _register_gym
from wakelog.integration.paddle import register_hooks as _register_paddle
from wakelog.integration.tensorboard import register_hooks as _register_tensorboard
from wakelog.integration.visualdl import register_hooks as _register_visualdl
from wakelog.sdk import util as util
from wakelog.sdk._hooks import set_artifact_server as _set_artifact_server
from wakelog.sdk._hooks import set_restorer as _set_restorer
from wakelog.sdk._hooks import set_server_lookup as _set_server_lookup
from wakelog.sdk._init import init
from wakelog.sdk._login import login
from wakelog.sdk._run import AlertLevel, Run
from wakelog.sdk._settings import Settings
from wakelog.sdk._setup import require, setup, teardown
from wakelog.sdk._term import termerror, termlog, termwarn
from wakelog.transport.resume import server_run as _server_run


def _artifact_server(base_url: str, api_key: str) -> Any:
    """The SDK's artifact server over HTTP (httpx loads only when an artifact needs a server)."""
    from wakelog.transport.artifacts import HttpArtifactServer

    return HttpArtifactServer(base_url, api_key)


# The composition root: plug the layers above the SDK into it (sdk/_hooks.py), so that the SDK
# never imports them. All are light: httpx, paddle, tensorboardX, visualdl and gymnasium load only when used.
_set_server_lookup(_server_run)
_set_artifact_server(_artifact_server)
_register_paddle()
_register_tensorboard()
_register_visualdl()
_register_gym()

if TYPE_CHECKING:
    from wakelog.api import Api
    from wakelog.integration import gym as gym
    from wakelog.integration import sklearn
    from wakelog.integration import tensorboard as tensorboard
    from wakelog.integration.paddle._watch import unwatch, watch
    from wakelog.sdk._config import Config
    from wakelog.sdk._summary import Summary
    from wakelog.sdk.artifacts import Artifact
    from wakelog.sdk.media import (
        Audio,
        Classes,
        CustomChart,
        Histogram,
        Html,
        Image,
        JoinedTable,
        Media,
        Molecule,
        Object3D,
        Plotly,
        Table,
        Video,
        box3d,
        plot,
        plot_table,
    )
    from wakelog.sweeps import agent, sweep

#: The current run, its config and summary; set by ``init()``, cleared by ``finish()``.
run: Run | None = None
config: Config | None = None
summary: Summary | None = None

_LAZY = {
    "Media": "wakelog.sdk.media",
    "Image": "wakelog.sdk.media",
    "Classes": "wakelog.sdk.media",
    "Histogram": "wakelog.sdk.media",
    "Table": "wakelog.sdk.media",
    "Html": "wakelog.sdk.media",
    "CustomChart": "wakelog.sdk.media",
    "JoinedTable": "wakelog.sdk.media",
    "plot": "wakelog.sdk.media",
    # rich media (issue 18)
    "Audio": "wakelog.sdk.media",
    "Molecule": "wakelog.sdk.media",
    "Object3D": "wakelog.sdk.media",
    "Plotly": "wakelog.sdk.media",
    "Video": "wakelog.sdk.media",
    "box3d": "wakelog.sdk.media",
    "plot_table": "wakelog.sdk.media",
    "sklearn": "wakelog.integration.sklearn",
    "Config": "wakelog.sdk._config",
    "Summary": "wakelog.sdk._summary",
    "Api": "wakelog.api",
    "Artifact": "wakelog.sdk.artifacts",
    "watch": "wakelog.integration.paddle._watch",
    "unwatch": "wakelog.integration.paddle._watch",
    "sweep": "wakelog.sweeps",
    "agent": "wakelog.sweeps",
    # issue 18: wandb.tensorboard and wandb.gym (packages of the integration layer)
    "tensorboard": "wakelog.integration",
    "gym": "wakelog.integration",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def _current() -> Run:
    if run is None:
        raise UsageError("no active run: call wakelog.init() first")
    return run


def log(
    data: dict[str, Any], step: int | None = None, commit: bool | None = None, sync: bool | None = None
) -> None:
    """Log to the current run (``Run.log``)."""
    if run is None:
        _current()
    run.log(data, step, commit)  # type: ignore[union-attr]


def save(glob_str: Any = None, base_path: Any = None, policy: str = "live") -> bool | list[str]:
    """Save files with the current run (``Run.save``)."""
    return _current().save(glob_str, base_path, policy)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish the current run, if there is one."""
    if run is not None:
        run.finish(exit_code, quiet)


#: wandb's old name for ``finish`` (issue 18).
join = finish


def define_metric(name: str, **kwargs: Any) -> Any:
    """Define a metric on the current run (``Run.define_metric``)."""
    return _current().define_metric(name, **kwargs)


def alert(title: str, text: str, level: str | None = None, wait_duration: Any = None) -> None:
    """Record an alert on the current run (``Run.alert``)."""
    _current().alert(title, text, level, wait_duration)


# -- run identity and files (issue 18) --------------------------------------------------------
def restore(name: str, run_path: str | None = None, replace: bool = False, root: str | None = None) -> Any:
    """A file saved with a run, back on disk and opened (``wakelog.api.restore``; loads it lazily)."""
    from wakelog.api._restore import restore as _restore

    return _restore(name, run_path, replace, root)


def log_artifact(
    artifact_or_path: Any, name: str | None = None, type: str | None = None, aliases: list[str] | None = None
) -> Any:
    """Log an artifact as the current run's output (``Run.log_artifact``)."""
    return _current().log_artifact(artifact_or_path, name, type, aliases)


def use_artifact(artifact_or_name: Any, type: str | None = None, aliases: list[str] | None = None) -> Any:
    """Declare an artifact an input of the current run and return it (``Run.use_artifact``)."""
    return _current().use_artifact(artifact_or_name, type, aliases)


def log_model(path: Any, name: str | None = None, aliases: list[str] | None = None) -> Any:
    """Log a file, folder or URI as a ``model`` artifact of the current run (``Run.log_model``)."""
    return _current().log_model(path, name, aliases)


def use_model(name: str) -> str:
    """Use and download a model artifact in the current run; its folder or only file (``Run.use_model``)."""
    return _current().use_model(name)


def link_model(
    path: Any, registered_model_name: str, name: str | None = None, aliases: list[str] | None = None
) -> Any:
    """Log a model and link it into the registry (``Run.link_model``)."""
    return _current().link_model(path, registered_model_name, name, aliases)


def mark_preempting() -> None:
    """Tell the server the current run's job is being preempted (``Run.mark_preempting``)."""
    _current().mark_preempting()


_set_restorer(restore)  # Run.restore goes through the same function (sdk/_hooks.py)


__all__ = [
    "AlertLevel",
    "Api",
    "Artifact",
    "Audio",
    "Classes",
    "CommError",
    "Config",
    "ConfigError",
    "CustomChart",
    "Error",
    "Histogram",
    "Html",
    "Image",
    "JoinedTable",
    "Media",
    "Molecule",
    "Object3D",
    "Plotly",
    "Run",
    "Settings",
    "Summary",
    "Table",
    "UnsupportedError",
    "UsageError",
    "Video",
    "agent",
    "alert",
    "box3d",
    "config",
    "define_metric",
    "finish",
    "init",
    "join",
    "link_model",
    "log",
    "log_artifact",
    "log_model",
    "login",
    "mark_preempting",
    "plot",
    "plot_table",
    "require",
    "restore",
    "run",
    "save",
    "setup",
    "sklearn",
    "summary",
    "sweep",
    "teardown",
    "termerror",
    "termlog",
    "termwarn",
    "unwatch",
    "use_artifact",
    "use_model",
    "util",
    "watch",
]
