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
from wakelog.errors import CommError, ConfigError, Error, UsageError
from wakelog.integration.paddle import register_hooks as _register_paddle
from wakelog.sdk._hooks import set_server_lookup as _set_server_lookup
from wakelog.sdk._init import init
from wakelog.sdk._login import login
from wakelog.sdk._run import Run
from wakelog.sdk._settings import Settings
from wakelog.transport.resume import server_run as _server_run

# The composition root: plug the layers above the SDK into it (sdk/_hooks.py), so that the SDK
# never imports them. Both are light: httpx and paddle load only when used.
_set_server_lookup(_server_run)
_register_paddle()

if TYPE_CHECKING:
    from wakelog.api import Api
    from wakelog.integration import sklearn
    from wakelog.integration.paddle._watch import unwatch, watch
    from wakelog.sdk._config import Config
    from wakelog.sdk._summary import Summary
    from wakelog.sdk.media import (
        CustomChart,
        Histogram,
        Html,
        Image,
        JoinedTable,
        Media,
        Table,
        plot,
        plot_table,
    )

#: The current run, its config and summary; set by ``init()``, cleared by ``finish()``.
run: Run | None = None
config: Config | None = None
summary: Summary | None = None

_LAZY = {
    "Media": "wakelog.sdk.media",
    "Image": "wakelog.sdk.media",
    "Histogram": "wakelog.sdk.media",
    "Table": "wakelog.sdk.media",
    "Html": "wakelog.sdk.media",
    "CustomChart": "wakelog.sdk.media",
    "JoinedTable": "wakelog.sdk.media",
    "plot": "wakelog.sdk.media",
    "plot_table": "wakelog.sdk.media",
    "sklearn": "wakelog.integration.sklearn",
    "Config": "wakelog.sdk._config",
    "Summary": "wakelog.sdk._summary",
    "Api": "wakelog.api",
    "watch": "wakelog.integration.paddle._watch",
    "unwatch": "wakelog.integration.paddle._watch",
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


def save(glob_str: Any = None, base_path: Any = None, policy: str = "live") -> list[str]:
    """Save files with the current run (``Run.save``)."""
    return _current().save(glob_str, base_path, policy)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish the current run, if there is one."""
    if run is not None:
        run.finish(exit_code, quiet)


def define_metric(name: str, **kwargs: Any) -> Any:
    """Define a metric on the current run (``Run.define_metric``)."""
    return _current().define_metric(name, **kwargs)


def alert(title: str, text: str, level: str | None = None, wait_duration: Any = None) -> None:
    """Record an alert on the current run (``Run.alert``)."""
    _current().alert(title, text, level, wait_duration)


__all__ = [
    "Api",
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
    "Run",
    "Settings",
    "Summary",
    "Table",
    "UsageError",
    "alert",
    "config",
    "define_metric",
    "finish",
    "init",
    "log",
    "login",
    "plot",
    "plot_table",
    "run",
    "save",
    "sklearn",
    "summary",
    "unwatch",
    "watch",
]
