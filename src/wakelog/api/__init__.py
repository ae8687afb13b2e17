"""``wakelog.Api``: the public read API, shaped like ``wandb.Api``.

::

    import wakelog

    api = wakelog.Api()
    runs = api.runs("team/digits", filters={"config.lr": {"$lt": 0.01}}, order="-summary_metrics.acc")
    best = runs[0]
    frame = best.history(keys=["loss"], samples=500)  # min/max-envelope downsampling on the server
    for row in best.scan_history(keys=["eval/acc"]):  # every point, page by page
        ...
"""

from wakelog.api._api import Api, File, Project, Run, Runs, Sweep, User
from wakelog.api._reports import Report
from wakelog.api._restore import restore

__all__ = ["Api", "File", "Project", "Report", "Run", "Runs", "Sweep", "User", "restore"]
