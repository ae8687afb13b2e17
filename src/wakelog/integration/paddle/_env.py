"""The Paddle section of a run's metadata, and ``seed_everything``.

``paddle_metadata()`` reads only what an imported paddle already knows (versions, device, GPU
count) plus the launcher's environment (rank, world size) and the ``FLAGS_*`` variables; it never
imports paddle itself, so the SDK calls it from its metadata thread (``register_hooks`` makes it
the ``paddle`` metadata provider) and it answers None until paddle is imported. CPU builds of
Paddle answer ``paddle.version.cuda()`` with the *string* ``'False'``; such answers are recorded
as ``"none"``.
"""

from __future__ import annotations

import os
import random
import sys
import threading
from typing import Any

_lock = threading.Lock()
_seed: int | None = None
_NONE_ANSWERS = {"", "false", "none", "0", "off"}


def _version_string(value: Any) -> str:
    text = str(value).strip()
    return "none" if value is None or value is False or text.lower() in _NONE_ANSWERS else text


def _call(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:
        return None


def recorded_seed() -> int | None:
    """The seed last given to ``seed_everything`` in this process, or None."""
    return _seed


def paddle_metadata() -> dict[str, Any] | None:
    """Facts about the imported PaddlePaddle; None when paddle has not been imported.

    Keys: ``version``, ``commit``, ``cuda``, ``cudnn``, ``nccl`` (``"none"`` on builds without
    them), ``compiled_with_cuda``, ``device``, ``gpu_count``, ``world_size``, ``rank``,
    ``local_rank``, ``flags`` (the ``FLAGS_*`` environment variables) and ``seed``.
    """
    paddle = sys.modules.get("paddle")
    if paddle is None:
        return None
    from wakelog.sdk._distributed import detect_rank

    version = getattr(paddle, "version", None)
    meta: dict[str, Any] = {"version": str(getattr(paddle, "__version__", "unknown"))}
    if version is not None:
        commit = getattr(version, "commit", None)
        if commit:
            meta["commit"] = str(commit)
        for name in ("cuda", "cudnn", "nccl"):
            fn = getattr(version, name, None)
            meta[name] = _version_string(_call(fn)) if callable(fn) else "none"
    with_cuda = bool(_call(getattr(paddle, "is_compiled_with_cuda", lambda: False)))
    meta["compiled_with_cuda"] = with_cuda
    device = getattr(paddle, "device", None)
    if device is not None:
        current = _call(getattr(device, "get_device", lambda: None))
        if current is not None:
            meta["device"] = str(current)
        count = 0
        if with_cuda:
            cuda = getattr(device, "cuda", None)
            count = _call(getattr(cuda, "device_count", lambda: 0)) or 0
        meta["gpu_count"] = int(count)
    rank = detect_rank()
    meta["world_size"] = rank.world_size
    meta["rank"] = rank.rank
    meta["local_rank"] = rank.local_rank
    meta["flags"] = {k: v for k, v in sorted(os.environ.items()) if k.startswith("FLAGS_")}
    meta["seed"] = _seed
    return meta


def seed_everything(seed: int) -> int:
    """Seed paddle, numpy's global generator and ``random`` with ``seed``, and record it.

    numpy matters: ``paddle.io.DataLoader(shuffle=True)`` draws its order from numpy's global
    generator, not from ``paddle.seed``. The seed goes into the ``paddle`` section of the
    metadata of runs started afterwards, and of the runs already active.
    """
    global _seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        try:
            seed = int(seed.__index__())
        except (AttributeError, TypeError):
            raise TypeError(f"seed_everything: seed must be an int, got {seed!r}") from None
    import numpy as np
    import paddle

    random.seed(seed)
    np.random.seed(seed % 2**32)
    paddle.seed(seed)
    with _lock:
        _seed = seed
    refresh_active_runs()
    return seed


def refresh_active_runs() -> None:
    """Record the current Paddle metadata in every active run (after a seed or a late import)."""
    from wakelog.sdk._init import active_runs
    from wakelog.sdk._metadata import add_metadata_section

    section = paddle_metadata()
    if section is None:
        return
    for run in active_runs():
        if not run.disabled and not run.finished:
            add_metadata_section(run, "paddle", section)


def ensure_recorded(run: Any) -> None:
    """Add the Paddle section to ``run``'s metadata if it lacks one (paddle imported after init)."""
    from wakelog.sdk._metadata import add_metadata_section, metadata_sections

    if run.disabled or run.finished or "paddle" in metadata_sections(run):
        return
    section = paddle_metadata()
    if section is not None:
        add_metadata_section(run, "paddle", section)
