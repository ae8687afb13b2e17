"""First-class PaddlePaddle support.

* ``WakelogCallback``: a ``paddle.Model.fit`` / ``evaluate`` / ``predict`` callback.
* ``watch(model)`` / ``unwatch()``: gradient and parameter histograms of a ``paddle.nn.Layer``
  (also ``wakelog.watch`` and ``Run.watch``).
* ``seed_everything(seed)``: seed paddle, numpy and random, and record the seed.
* ``paddle_metadata()``: the Paddle section of a run's ``metadata.json``.
* ``install_wandb_alias()`` / ``alias_path()``: the opt-in shim that lets PaddlePaddle's own
  ``paddle.callbacks.WandbCallback`` (or any ``import wandb`` script) record with wakelog.

Importing this package does not import paddle; ``WakelogCallback`` does, on first access.
``import wakelog`` calls ``register_hooks()``, which plugs the metadata section and ``watch`` into
the SDK (the SDK never imports an integration). See ``docs/paddle.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wakelog._lazy import lazy_getattr

if TYPE_CHECKING:
    from wakelog.integration.paddle._alias import (
        WandbAliasError,
        alias_path,
        install_wandb_alias,
        uninstall_wandb_alias,
    )
    from wakelog.integration.paddle._callback import WakelogCallback
    from wakelog.integration.paddle._env import paddle_metadata, seed_everything
    from wakelog.integration.paddle._watch import tensor_histogram, unwatch, watch

_LAZY = {
    "WakelogCallback": "wakelog.integration.paddle._callback",
    "WandbAliasError": "wakelog.integration.paddle._alias",
    "alias_path": "wakelog.integration.paddle._alias",
    "install_wandb_alias": "wakelog.integration.paddle._alias",
    "uninstall_wandb_alias": "wakelog.integration.paddle._alias",
    "paddle_metadata": "wakelog.integration.paddle._env",
    "seed_everything": "wakelog.integration.paddle._env",
    "tensor_histogram": "wakelog.integration.paddle._watch",
    "unwatch": "wakelog.integration.paddle._watch",
    "watch": "wakelog.integration.paddle._watch",
}

__all__ = [
    "WakelogCallback",
    "WandbAliasError",
    "alias_path",
    "install_wandb_alias",
    "paddle_metadata",
    "seed_everything",
    "tensor_histogram",
    "uninstall_wandb_alias",
    "unwatch",
    "watch",
]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def register_hooks() -> None:
    """Plug Paddle into the SDK: the ``paddle`` metadata section, ``Run.watch``/``unwatch``, and
    removing the watch hooks at ``finish()``. Imports nothing heavy."""
    from wakelog.integration.paddle._env import paddle_metadata
    from wakelog.integration.paddle._watch import stop_watches, unwatch_run, watch_run
    from wakelog.sdk import _hooks

    _hooks.add_metadata_provider("paddle", paddle_metadata)
    _hooks.set_watcher(watch_run, unwatch_run)
    _hooks.add_finish_callback(stop_watches)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
