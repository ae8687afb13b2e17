"""wandb's public names, at the package boundary: each exists in wakelog or is deliberately absent.

The lists are data taken from wandb 0.28.3.dev1 (its main branch after the 0.28.2 release,
commit b6e2950): ``wandb.__all__`` and the other module attributes scripts use, and the public
attributes of ``wandb.Run``, ``wandb.Config``, ``wandb.Table``, ``wandb.Api`` and the ``Run`` the
``Api`` returns. A name wakelog leaves out on purpose is listed, with why, in docs/sdk.md's
"deliberately absent" section; this test reads that list from there.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import wakelog

WANDB_VERSION = "0.28.3.dev1"

MODULE = [
    # wandb.__all__
    "__version__", "init", "finish", "setup", "save", "sweep", "controller", "agent", "config", "log",
    "summary", "join", "Api", "Graph", "Image", "Plotly", "Video", "Audio", "Table", "EvalTable", "Html",
    "box3d", "Object3D", "Molecule", "Histogram", "ArtifactTTL", "log_artifact", "use_artifact",
    "log_model", "use_model", "link_model", "define_metric", "watch", "unwatch", "plot_table", "Run",
    # other module attributes scripts use
    "run", "login", "teardown", "require", "Artifact", "AlertLevel", "Settings", "Config", "Error",
    "CommError", "UsageError", "termlog", "termwarn", "termerror", "restore", "mark_preempting", "alert",
    "pin_config_keys", "Classes", "JoinedTable", "visualize", "plot", "sklearn", "tensorboard", "gym",
    "util", "errors", "attach", "helper", "api", "InternalApi", "PublicApi", "ensure_configured",
    "set_trace", "patched", "profiler", "sagemaker_auth", "wandb_torch", "keras", "tensorflow",
    "xgboost", "catboost", "lightgbm", "jupyter", "sacred",
]  # fmt: skip

RUN = [
    "alert", "config", "config_static", "define_metric", "dir", "disabled", "display", "entity",
    "finish", "finish_artifact", "get_project_url", "get_sweep_url", "get_url", "group", "id",
    "job_type", "link_artifact", "link_model", "log", "log_artifact", "log_code", "log_model",
    "mark_preempting", "name", "notes", "offline", "path", "pin_config_keys", "project",
    "project_name", "project_url", "restore", "resumed", "save", "settings", "start_time",
    "starting_step", "status", "step", "summary", "sweep_id", "sweep_url", "sync_dir", "tags",
    "to_html", "unwatch", "upsert_artifact", "url", "use_artifact", "use_model", "watch", "write_logs",
]  # fmt: skip

CONFIG = [
    "as_dict", "get", "items", "keys", "merge_locked", "persist", "setdefaults", "update", "update_locked",
]  # fmt: skip

TABLE = [
    "MAX_ARTIFACT_ROWS", "MAX_ROWS", "add_column", "add_computed_columns", "add_data", "add_row",
    "bind_to_run", "cast", "from_json", "get_column", "get_dataframe", "get_index", "get_media_subdir",
    "has_been_logged", "index_ref", "iterrows", "set_fk", "set_pk", "to_json",
]  # fmt: skip

API = [
    "artifact", "artifact_collection", "artifact_collection_exists", "artifact_collections",
    "artifact_exists", "artifact_type", "artifact_types", "artifact_versions", "artifacts",
    "automation", "automations", "create_automation", "create_custom_chart", "create_project",
    "create_registry", "create_run", "create_run_queue", "create_team", "create_user",
    "default_entity", "delete_automation", "flush", "from_path", "integrations", "job", "list_jobs",
    "organization", "project", "projects", "queued_run", "registries", "registry", "reports", "run",
    "run_queue", "runs", "slack_integrations", "sweep", "sync_tensorboard", "team",
    "update_automation", "upsert_run_queue", "user", "user_agent", "users", "viewer",
    "webhook_integrations",
]  # fmt: skip

API_RUN = [
    "beta_scan_history", "config", "console_logs", "create", "delete", "download_history_exports",
    "entity", "file", "files", "history", "id", "json_config", "lastHistoryStep", "load",
    "load_full_data", "log_artifact", "logged_artifacts", "metadata", "name", "path", "rawconfig",
    "save", "scan_history", "state", "stop", "storage_id", "summary", "summary_metrics", "sweep",
    "sweep_name", "system_metrics", "to_html", "update", "update_state", "upload_file", "url",
    "use_artifact", "used_artifacts", "username", "wait_until_finished",
]  # fmt: skip


def deliberately_absent() -> set[str]:
    """The names docs/sdk.md lists between its ``deliberately-absent`` markers."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "sdk.md").read_text(encoding="utf-8")
    section = re.search(
        r"<!-- deliberately-absent: start -->(.*?)<!-- deliberately-absent: end -->", text, re.S
    )
    assert section, "docs/sdk.md has no deliberately-absent section"
    names = set()
    for line in section.group(1).strip().splitlines():
        assert line.startswith("- ") and ": " in line, f"each line lists names, then ': why': {line!r}"
        names.update(re.findall(r"`([^`]+)`", line.split(": ", 1)[0]))
    return names


def _has(target: object, name: str) -> bool:
    """A module or class attribute, or an attribute every instance gets (``self.name = …``)."""
    if hasattr(target, name):
        return True
    return (
        inspect.isclass(target)
        and re.search(rf"\bself\.{name}\s*[:=]", inspect.getsource(target)) is not None
    )


def _owners() -> dict[str, object]:
    from wakelog.api._api import Api
    from wakelog.api._api import Run as ApiRun
    from wakelog.sdk._config import Config

    return {"Run": wakelog.Run, "Config": Config, "Table": wakelog.Table, "Api": Api, "ApiRun": ApiRun}


@pytest.mark.parametrize(
    ("owner", "names"),
    [("", MODULE), ("Run", RUN), ("Config", CONFIG), ("Table", TABLE), ("Api", API), ("ApiRun", API_RUN)],
)
def test_every_wandb_name_exists_or_is_deliberately_absent(owner: str, names: list[str]) -> None:
    target = _owners()[owner] if owner else wakelog
    absent = deliberately_absent()
    missing = [
        name
        for name in names
        if (f"{owner}.{name}" if owner else name) not in absent and not _has(target, name)
    ]
    assert not missing, f"wandb {WANDB_VERSION} names missing from wakelog's {owner or 'module'}: {missing}"


def test_the_absent_list_names_only_wandb_names_wakelog_lacks() -> None:
    """A name in the list that wakelog has, or that wandb does not, is a stale line."""
    known = {*MODULE, *(f"{owner}.{name}" for owner, names in _LISTS.items() for name in names)}
    owners = _owners()
    for entry in deliberately_absent():
        assert entry in known, f"{entry} is not a wandb {WANDB_VERSION} name"
        owner, _, name = entry.rpartition(".")
        assert not _has(owners[owner] if owner else wakelog, name), f"{entry} exists now"


_LISTS = {"Run": RUN, "Config": CONFIG, "Table": TABLE, "Api": API, "ApiRun": API_RUN}
