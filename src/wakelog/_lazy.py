"""Lazy module attributes, so that ``import wakelog`` does not import numpy, PIL or paddle."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(module_name: str, where: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``where[name]`` on first use and caches it."""

    def __getattr__(name: str) -> Any:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        module = importlib.import_module(source)
        # A source named after the attribute is the attribute itself: a lazily imported submodule.
        value = module if source.endswith(f".{name}") else getattr(module, name)
        namespace[name] = value
        return value

    return __getattr__
