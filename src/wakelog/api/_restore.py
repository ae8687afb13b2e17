"""``wakelog.restore``: a file saved with a run, back on disk (wandb's ``restore``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any


def restore(
    name: str,
    run_path: str | None = None,
    replace: bool = False,
    root: str | None = None,
) -> IO[Any] | None:
    """Download the file ``name`` of the run ``run_path`` (default: the current run) into ``root``
    (default: the current run's ``run.dir``, else the working directory), unless it is there
    already (``replace=True`` fetches it again); returns it opened for reading, None when the run
    has no such file. ``run_path`` is required before ``init()``; a disabled run only looks on disk.
    """
    from wakelog.api._api import Api
    from wakelog.sdk._init import current_run

    run = current_run()
    disabled = run is not None and run.disabled
    if run_path is None:
        if run is None or disabled:
            raise ValueError("run_path required when calling wakelog.restore before wakelog.init")
        run_path = run.path
    if root is None:
        root = run.dir if run is not None and not disabled else os.getcwd()
    local = Path(root, name)
    if local.exists() and not replace:
        return open(local)
    if disabled:
        return None
    with Api() as api:
        files = api.run(run_path).files([name])
        if not files:
            return None
        return files[0].download(root=root, replace=True)  # type: ignore[no-any-return]
