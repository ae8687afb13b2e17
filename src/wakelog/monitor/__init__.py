"""Run monitoring: system metrics, console capture, and environment/git/requirements capture.

Submodules are imported on first attribute access so that ``import wakelog`` stays cheap; psutil, pynvml
and subprocess-based git calls load only when a run actually uses them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wakelog.monitor.console import ConsoleCapture
    from wakelog.monitor.environment import capture_environment, packages
    from wakelog.monitor.gpu import gpu_inventory, gpu_metrics
    from wakelog.monitor.system import SystemMonitor

__all__ = [
    "ConsoleCapture",
    "SystemMonitor",
    "capture_environment",
    "gpu_inventory",
    "gpu_metrics",
    "packages",
]

_WHERE = {
    "ConsoleCapture": "console",
    "SystemMonitor": "system",
    "capture_environment": "environment",
    "packages": "environment",
    "gpu_inventory": "gpu",
    "gpu_metrics": "gpu",
}


def __getattr__(name: str) -> Any:
    sub = _WHERE.get(name)
    if sub is None:
        raise AttributeError(f"module 'wakelog.monitor' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"wakelog.monitor.{sub}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
