"""Import other trackers' logs after the fact: VisualDL, TensorBoard and MLflow → wakelog runs.

Each format is read with its own maintained library (optional extras: ``wakelog[visualdl]``,
``wakelog[tensorboard]``, ``wakelog[mlflow]``); what they yield goes through one path:

* ``_visualdl`` / ``_tensorboard`` / ``_mlflow``: a format's runs as ``Source``s.
* ``_run.ImportedRun``: one run's import folder, written as a run log (steps and wall times kept).
* ``_state``: the per-run cursor that makes importing again add only what is new.
* ``_driver``: read each source, then upload its folder with the real uploader.

Run ids are derived from the source (``_ids``), so importing twice creates no second run.
"""

from __future__ import annotations

from wakelog.integration.importing._driver import (
    Progress,
    Source,
    default_state_dir,
    import_all,
    import_run,
)
from wakelog.integration.importing._run import ImportedRun, RunIdentity, RunReport

__all__ = [
    "ImportedRun",
    "Progress",
    "RunIdentity",
    "RunReport",
    "Source",
    "default_state_dir",
    "import_all",
    "import_run",
]
