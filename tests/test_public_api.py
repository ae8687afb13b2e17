"""The public surface: wandb's names, a sorted __all__, and an import that stays light."""

from __future__ import annotations

import subprocess
import sys

import wakelog

WANDB_NAMES = [
    "init",
    "log",
    "save",
    "finish",
    "define_metric",
    "alert",
    "login",
    "Settings",
    "run",
    "config",
    "summary",
    "Image",
    "Histogram",
    "Table",
    "Html",
    "plot",
    "Run",
    "Error",
    "UsageError",
]


def test_all_is_sorted_and_resolvable() -> None:
    assert wakelog.__all__ == sorted(wakelog.__all__)
    for name in wakelog.__all__:
        assert hasattr(wakelog, name), name


def test_the_names_wandb_scripts_use_exist() -> None:
    missing = [name for name in WANDB_NAMES if not hasattr(wakelog, name)]
    assert missing == []


def test_import_wakelog_loads_no_heavy_modules() -> None:
    heavy_modules = ("numpy", "PIL", "paddle", "psutil", "yaml", "httpx", "click", "rich")
    code = f"import sys, wakelog; print(','.join(m for m in {heavy_modules!r} if m in sys.modules))"
    heavy = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert heavy == ""


def test_the_uploader_and_api_client_need_no_server_packages() -> None:
    """An SDK-only install (no [server] extra) must still upload runs and query the server."""
    server_modules = ("fastapi", "sqlalchemy", "uvicorn", "alembic", "fsspec")
    code = (
        "import sys, wakelog.transport.uploader, wakelog.transport.sync, wakelog.api; "
        f"print(','.join(m for m in {server_modules!r} if m in sys.modules))"
    )
    server_side = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert server_side.strip() == ""


def test_the_server_loads_no_object_store_client_until_it_uses_a_bucket() -> None:
    """s3fs (with aiobotocore and aiohttp) takes a quarter of a second to import: a server on a
    local folder, and every CLI command that imports the server, should not pay it."""
    code = "import sys, wakelog.server.app; print('s3fs' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "False"
