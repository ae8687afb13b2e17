"""One error tree: every exception wakelog defines derives from ``wakelog.Error``.

Walks every module of the packages below and checks each ``Exception`` subclass defined there,
so ``except wakelog.Error`` catches everything wakelog raises on purpose (the old builtin base stays
as a second base: ``class BadValue(Error, ValueError)``). A ``BaseException`` that is not an
``Exception`` is no error but control flow, like ``KeyboardInterrupt`` (SIGTERM's ``Terminated``):
no error handler may catch it, so it stays outside the tree.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import wakelog

PACKAGES = (
    "runlog",
    "sdk",
    "monitor",
    "transport",
    "store",
    "server",
    "integration",
    "demo",
    "api",
    "sweeps",
)
MODULES = (
    "wakelog",
    "wakelog.errors",
    "wakelog.cli",
    "wakelog._dirs",
    "wakelog._warn",
    "wakelog._names",
    "wakelog._secrets",
    "wakelog._limits",
)
#: Importing Alembic's migration environment runs a migration: its modules define no exceptions.
SKIPPED = ("wakelog.store.migrations",)


def _modules() -> list[str]:
    names = list(MODULES)
    for package in PACKAGES:
        module = importlib.import_module(f"wakelog.{package}")
        names.append(module.__name__)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{module.__name__}."):
            if not info.name.endswith("__main__") and not info.name.startswith(SKIPPED):
                names.append(info.name)
    return names


def test_every_wakelog_exception_derives_from_wakelog_error() -> None:
    pytest.importorskip("paddle")  # the Paddle integration's modules import it
    strays = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            ours = cls.__module__ == name and issubclass(cls, Exception)
            if ours and not issubclass(cls, wakelog.Error):
                strays.append(f"{name}.{cls.__qualname__}")
    assert strays == [], (
        "these exceptions escape `except wakelog.Error`: derive them from wakelog.errors.Error "
        "(keep the builtin base second, e.g. class X(Error, ValueError))"
    )
