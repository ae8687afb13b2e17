"""MLflow runs → imported runs, read with MLflow's own tracking client (file and SQL stores).

Per run: params → config (as MLflow keeps them: strings), metric histories → history (their steps
and timestamps; MLflow's client loads a key's history whole, so a run's metrics are merged in step
order in memory), tags → the run's tags (``key:value``; ``mlflow.runName`` and
``mlflow.note.content`` become its name and notes), artifacts → run files, status and times → the
run's state, start and end. Importing again adds what is new: values after each key's last
imported step, artifacts that changed, a status that changed.
"""

from __future__ import annotations

import heapq
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wakelog.errors import UsageError
from wakelog.integration.importing._ids import run_id
from wakelog.integration.importing._run import ImportedRun, RunIdentity

_STATES = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "killed"}
_SYSTEM_TAG = "mlflow."
#: MLflow keeps these file-store runs readable with its client only when told so (3.x).
_ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"


def client_for(tracking_uri: str) -> Any:
    """MLflow's client of ``tracking_uri`` (a file store path or ``file:``/``sqlite:``/… URI)."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UsageError("importing MLflow runs needs mlflow: pip install 'wakelog[mlflow]'") from None
    # A file store is what teams bring to import; MLflow 3 only reads it when allowed explicitly.
    os.environ.setdefault(_ALLOW_FILE_STORE, "true")
    return MlflowClient(tracking_uri=tracking_uri)


@dataclass
class MlflowRun:
    """One MLflow run as an import source."""

    client: Any
    run: Any
    experiment: str
    tracking_uri: str
    identity: RunIdentity
    format: str = "mlflow"

    @property
    def location(self) -> str:
        return f"{self.tracking_uri} {self.experiment}/{self.run.info.run_id}"

    @property
    def size(self) -> int:
        return len(self.run.data.metrics) + 1  # progress in metric keys

    def read(self, run: ImportedRun, advance: Callable[[int], None]) -> None:
        info, data = self.run.info, self.run.data
        run.begin(info.start_time / 1000.0)
        run.metadata(
            {"import": {"format": "mlflow", "tracking_uri": self.tracking_uri, "run_id": info.run_id}}
        )
        run.config(dict(data.params))
        histories = []
        for key in sorted(data.metrics):
            points = self.client.get_metric_history(info.run_id, key)
            histories.append(sorted(((m.step, m.timestamp, key, m.value) for m in points), key=_order))
            advance(1)
        for step, timestamp, key, value in heapq.merge(*histories, key=_order):
            run.point(key, step, timestamp / 1000.0, value)
            if run.checkpoint_due:  # importing again skips what is imported: no cursor to keep
                run.checkpoint()
        run.checkpoint()
        self._artifacts(run, run.cursor.setdefault("artifacts", {}))
        state = _STATES.get(info.status)
        if state is not None and info.end_time:
            run.finish(state, info.end_time / 1000.0)
        advance(1)

    def _artifacts(self, run: ImportedRun, done: dict[str, int]) -> None:
        with tempfile.TemporaryDirectory() as temp:
            for path, size in self._artifact_files(""):
                if done.get(path) == size:
                    continue
                local = self.client.download_artifacts(self.run.info.run_id, path, temp)
                run.file(path, Path(local))
                done[path] = size
                os.unlink(local)

    def _artifact_files(self, folder: str) -> Iterator[tuple[str, int]]:
        for item in self.client.list_artifacts(self.run.info.run_id, folder or None):
            if item.is_dir:
                yield from self._artifact_files(item.path)
            else:
                yield item.path, int(item.file_size or 0)


def _order(point: tuple[int, int, str, float]) -> tuple[int, int]:
    return point[0], point[1]


def _identity(run: Any, project: str, entity: str | None) -> RunIdentity:
    tags = dict(run.data.tags)
    labels = sorted(f"{k}:{v}"[:64] for k, v in tags.items() if not k.startswith(_SYSTEM_TAG))
    return RunIdentity(
        run_id("mlflow", run.info.run_id),
        project,
        tags.get("mlflow.runName") or run.info.run_name or run.info.run_id,
        entity,
        tags=labels,
        notes=tags.get("mlflow.note.content"),
    )


def _experiments(client: Any, names: list[str]) -> list[Any]:
    if not names:
        return list(client.search_experiments())
    found = []
    for name in names:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise UsageError(f"MLflow experiment {name!r} not found")
        found.append(experiment)
    return found


def sources(
    tracking_uri: str, experiments: list[str], project: str | None = None, entity: str | None = None
) -> Iterator[MlflowRun]:
    """The runs of the named experiments (default: all) as import sources, a page at a time; each
    goes to ``project`` (default: a project named like its experiment)."""
    client = client_for(tracking_uri)
    for experiment in _experiments(client, experiments):
        token = None
        while True:
            page = client.search_runs([experiment.experiment_id], max_results=500, page_token=token)
            for found in page:
                ident = _identity(found, project or experiment.name, entity)
                yield MlflowRun(client, found, experiment.name, tracking_uri, ident)
            token = page.token
            if not token:
                break
