"""``Run``: one tracked execution, and ``log()``'s step machine.

``log()`` follows wandb exactly. Without ``step``, each call commits one row at the current step
and advances it (``commit=False`` keeps merging into the pending row instead). With ``step``, a
larger step first commits the pending row, a smaller one is dropped with a warning, and the row
stays pending until a larger step, ``commit=True`` or ``finish()``. Committed rows carry ``_step``,
``_runtime`` and ``_timestamp`` and go to the writer thread; nothing else happens here, so a
call costs a few microseconds. Bad keys or values are dropped one warning per key; the rest of
the row is kept (``strict`` raises instead).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.runlog import RecordType
from wakelog.sdk import _hooks
from wakelog.sdk._config import Config
from wakelog.sdk._identity import ENTITY_WAIT, RunStatus, run_status, server_entity
from wakelog.sdk._metrics import MetricDefinition, SummaryTracker
from wakelog.sdk._summary import Summary
from wakelog.sdk._values import BadValue, normalise
from wakelog.sdk._writer import HISTORY_WITH_MEDIA, RunWriter, shortfall_parts

if TYPE_CHECKING:
    from wakelog.runlog.writer import Shortfall
    from wakelog.sdk._code import PathFilter
    from wakelog.sdk._files import FileSaver
    from wakelog.sdk._metadata import MetadataCapture
    from wakelog.sdk._settings import Settings
    from wakelog.sdk._uploader import UploaderHandle
    from wakelog.sdk.artifacts import Artifact
    from wakelog.sdk.artifacts._saver import ArtifactSaver

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # what the run log stores as an integer
_STATES = ("finished", "failed", "killed")


class AlertLevel(str, Enum):
    """``alert(level=…)``'s levels, as wandb's ``AlertLevel`` (plain strings work too)."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


_ALERT_LEVELS = tuple(level.value for level in AlertLevel)


class Helper(Protocol):
    """Something that records alongside the training between ``init()`` and ``finish()``."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class RunParts:
    """What a run records through, built before it by ``init()`` (``sdk/_assemble.py``).

    A disabled run has none of them: no writer, files, uploader, metadata or monitors.
    """

    tracker: SummaryTracker = field(default_factory=SummaryTracker)
    writer: RunWriter | None = None
    start_time: float = field(default_factory=time.time)
    files: FileSaver | None = None
    uploader: UploaderHandle | None = None
    metadata: MetadataCapture | None = None
    #: Started by ``start()`` once the run has its first records, stopped at ``finish()``.
    monitors: dict[str, Helper] = field(default_factory=dict)

    def start(self) -> None:
        """Start the metadata capture and the monitors (system metrics, console)."""
        if self.metadata is not None:
            self.metadata.start()
        for label, monitor in list(self.monitors.items()):
            try:
                monitor.start()
            except Exception as exc:
                del self.monitors[label]
                warn(f"wakelog: {label} is off: {exc}", RuntimeWarning)

    def helpers(self) -> list[Helper]:
        """What ``finish()`` stops, in the order it was started."""
        return [*([self.metadata] if self.metadata is not None else []), *self.monitors.values()]


class Run:
    """A run: created by ``wakelog.init()``, ended by ``finish()`` (or at interpreter exit)."""

    def __init__(
        self,
        settings: Settings,
        *,
        run_id: str,
        identity: dict[str, Any],
        run_dir: Path | None,
        parts: RunParts | None = None,
        start_step: int = 0,
        on_finish: Callable[[Run], None] | None = None,
    ) -> None:
        parts = parts if parts is not None else RunParts()
        self._settings = settings
        self._id = run_id
        self._identity = identity
        self._run_dir = run_dir
        self._parts = parts  # read by sdk/_metadata.py (integrations' metadata sections)
        self._step = start_step
        self._starting_step = start_step
        self._pending: dict[str, Any] = {}
        self._pending_media = False
        self._lock = threading.Lock()
        self._start_time = parts.start_time
        self._finished = False
        self._stop_reason: str | None = (
            None  # why a sweep or the Stop button stopped this run (it ends ``killed``)
        )
        self._made_in = threading.current_thread()  # where a Stop from the web app is raised
        self._interrupt = False  # a stopped sweep function: log() raises TrialStopped
        self._finishing = False  # finish() began: its callbacks run, log() still works
        self._strict = bool(settings.strict)
        self._warned: set[str] = set()
        self._on_finish = on_finish
        self._tracker = parts.tracker
        self._metric_definitions: dict[str, MetricDefinition] = {}
        self._writer = parts.writer
        self._files = parts.files
        self._uploader = parts.uploader
        self._server_path: str | None = None  # entity/project/run_id, once the server has the run
        self._entity_waited = False  # run.entity waits for the uploader's answer once at most
        self._artifact_saver: ArtifactSaver | None = None  # started by the first artifact record
        self._emit(RecordType.RUN, {**identity, "id": run_id, "start_time": self._start_time})
        self.config = Config(on_change=self._config_changed)
        self.summary = Summary(self._tracker, self._summary_changed, self._sync)

    # -- identity -------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str | None:
        return self._identity.get("name")

    @name.setter
    def name(self, value: str) -> None:
        self._update_identity(name=str(value))

    @property
    def notes(self) -> str | None:
        return self._identity.get("notes")

    @notes.setter
    def notes(self, value: str) -> None:
        self._update_identity(notes=str(value))

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self._identity.get("tags") or ())

    @tags.setter
    def tags(self, value: Any) -> None:
        self._update_identity(tags=[str(tag) for tag in value])

    @property
    def project(self) -> str:
        return str(self._identity["project"])

    @property
    def entity(self) -> str:
        """The entity the run belongs to ("" while unknown, as in wandb): the one given, else the
        key's user as a server named it (``sdk/_identity.py``). Offline runs learn it when synced."""
        if self._server_path:
            return self._server_path.split("/", 1)[0]
        known = self._identity.get("entity")
        if known:
            return str(known)
        if self._uploader is None or self._run_dir is None:
            return ""
        proc = self._uploader.proc
        wait = 0.0 if self._entity_waited else ENTITY_WAIT
        self._entity_waited = True
        found = server_entity(self._run_dir, lambda: proc.poll() is None, wait)
        if not found:
            return ""
        self._server_path = f"{found}/{self.project}/{self._id}"
        return found

    @property
    def sweep_id(self) -> str | None:
        """The sweep this run is a trial of, None for a run outside sweeps."""
        return self._identity.get("sweep_id")

    @property
    def group(self) -> str | None:
        return self._identity.get("group")

    @property
    def job_type(self) -> str | None:
        return self._identity.get("job_type")

    @property
    def path(self) -> str:
        """``entity/project/run_id`` (``project/run_id`` while the entity is unknown)."""
        return "/".join(p for p in (self.entity, self.project, self.id) if p)

    @property
    def mode(self) -> str:
        return str(self._identity.get("mode", "offline"))

    @property
    def offline(self) -> bool:
        return self.mode != "online"

    @property
    def disabled(self) -> bool:
        return self._writer is None

    @property
    def resumed(self) -> bool:
        return bool(self._identity.get("resumed"))

    @property
    def starting_step(self) -> int:
        return self._starting_step

    @property
    def step(self) -> int:
        return self._step

    @property
    def start_time(self) -> float:
        return self._start_time

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def run_dir(self) -> Path | None:
        """The run's folder (run log, metadata, output.log); None for a disabled run."""
        return self._run_dir

    @property
    def dir(self) -> str:
        """The folder whose files are saved with the run (wandb's ``run.dir``)."""
        if self._run_dir is None:
            import tempfile

            return tempfile.gettempdir()
        return str(self._run_dir / "files")

    def _server_url(self) -> str | None:
        """The server's address for an online run, None otherwise (offline runs have no URLs)."""
        if self.mode != "online" or not self._settings.base_url:
            return None
        return self._settings.base_url.rstrip("/")

    @property
    def url(self) -> str | None:
        """The run's page in the web app (online runs whose entity is known), as wandb's."""
        base, entity = self._server_url(), self.entity
        if base is None or not entity:
            return None
        return f"{base}/{entity}/{self.project}/runs/{self.id}"

    @property
    def project_url(self) -> str | None:
        """The run's project page in the web app (online runs whose entity is known)."""
        base, entity = self._server_url(), self.entity
        if base is None or not entity:
            return None
        return f"{base}/{entity}/{self.project}"

    @property
    def sweep_url(self) -> str | None:
        """The page of the sweep this run is a trial of (online runs whose entity is known);
        None outside a sweep."""
        base, entity = self._server_url(), self.entity
        if base is None or not entity or self.sweep_id is None:
            return None
        return f"{base}/{entity}/{self.project}/sweeps/{self.sweep_id}"

    def get_url(self) -> str | None:
        """``run.url`` (wandb's older spelling)."""
        return self.url

    def get_project_url(self) -> str | None:
        """``run.project_url`` (wandb's older spelling)."""
        return self.project_url

    def get_sweep_url(self) -> str | None:
        """``run.sweep_url`` (wandb's older spelling)."""
        return self.sweep_url

    def status(self) -> RunStatus:
        """How far the run has reached the server: records written, not yet acknowledged, and
        when the server last acknowledged some (an offline or disabled run: all zero)."""
        if self._finished:
            raise UsageError(f"Run ({self._id}) is finished. The call to `status` will be ignored.")
        if self._uploader is None or self._writer is None or self._run_dir is None:
            return RunStatus()
        return run_status(self._run_dir, self._writer.next_seq)

    def __repr__(self) -> str:
        return f"<wakelog.Run {self.path} ({self.mode})>"

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> Literal[False]:
        if exc_type is None:
            self.finish()
        else:
            self._finish_for_exception(exc_type, exc, tb)
        return False

    # -- logging --------------------------------------------------------------------------
    def log(
        self,
        data: dict[str, Any],
        step: int | None = None,
        commit: bool | None = None,
        sync: bool | None = None,
    ) -> None:
        """Log a row of metrics (see the module docstring for the step rules)."""
        if self._interrupt:
            self._raise_stopped()
        try:
            self._log(data, step, commit)
        except Exception as exc:
            if self._strict:
                raise
            self._warn_once(f"log:{type(exc).__name__}", f"wakelog: log() failed: {exc}")

    def _log_at(self, data: dict[str, Any], timestamp: float) -> None:
        """``log(data)`` for a row another logger recorded at ``timestamp`` (epoch seconds): the
        committed row keeps that ``_timestamp`` (the VisualDL bridge mirrors its wall times).
        Like ``log()`` it never raises outside ``strict`` mode."""
        try:
            self._log(data, None, True, timestamp)
        except Exception as exc:
            if self._strict:
                raise
            self._warn_once(f"log:{type(exc).__name__}", f"wakelog: log() failed: {exc}")

    def _log(self, data: Any, step: Any, commit: bool | None, timestamp: float | None = None) -> None:
        if not isinstance(data, dict):
            self._bad("log:data", f"log() takes a dict, got {type(data).__name__}")
            return
        with self._lock:
            if self._finished:
                self._bad("log:finished", f"log() called after run {self._id} finished; ignored")
                return
            if step is not None:
                if not self._move_to(step):
                    return
            elif commit is None:
                commit = True
            pending = self._pending
            for key, value in data.items():
                if type(key) is not str:
                    self._bad(f"key:{key!r}", f"log() keys must be str; dropped key {key!r}")
                elif (
                    (kind := type(value)) is float
                    or kind is bool
                    or (kind is int and _INT_MIN <= value <= _INT_MAX)
                    or (kind is str and len(value) < 4096)
                ):
                    pending[key] = value
                else:
                    self._add_value(pending, key, value)
            if commit:
                self._commit(timestamp)

    def _move_to(self, step: Any) -> bool:
        """Apply ``log(step=…)``: commit the pending row on a larger step; False drops the row."""
        if type(step) is not int:
            step = self._check_step(step)
            if step is None:
                return False
        if step < self._step:
            self._bad(
                f"step:{step}",
                f"Tried to log to step {step} that is less than the current step "
                f"{self._step}. Steps must be monotonically increasing, so this data "
                "will be ignored.",
            )
            return False
        if step > self._step:
            if self._pending:
                self._commit()
            self._step = step
        return True

    def _add_value(self, pending: dict[str, Any], key: str, value: Any) -> None:
        try:
            value = normalise(value)
        except BadValue as exc:
            self._bad(f"value:{key}", f"log(): dropped key {key!r}: {exc}")
            return
        if self._run_dir is not None and _has_media(value):
            self._pending_media = True
            self._note_config_entries(key, value)
        pending[key] = value

    def _note_config_entries(self, key: str, value: Any) -> None:
        """What wandb keeps in ``config["_wandb"]`` for media logged under ``key``: the class labels of
        images with masks or boxes (one entry per key and set) and each custom chart's panel under
        ``visualize``. The config is rewritten only when an entry changes."""
        found = _class_labels(key, value)
        charts = _chart_entries(key, value)
        if charts:
            found["visualize"] = charts
        if not found:
            return
        current = self.config.get("_wandb")
        merged = {k: dict(v) for k, v in current.items()} if isinstance(current, dict) else {}
        for kind, entries in found.items():
            merged.setdefault(kind, {}).update(entries)
        if merged != current:
            self.config.update({"_wandb": merged}, allow_val_change=True)

    def _check_step(self, step: Any) -> int | None:
        if isinstance(step, bool) or not hasattr(step, "__index__"):
            as_int: int | None
            try:
                as_int = int(step)
            except (TypeError, ValueError):
                as_int = None
            if as_int is None or as_int != step or isinstance(step, bool):
                self._bad("step:type", f"log(): step must be an int ≥ 0, got {step!r}; row ignored")
                return None
            return as_int
        value: int = step.__index__()
        if value < 0:
            self._bad("step:neg", f"log(): step must be ≥ 0, got {value}; row ignored")
            return None
        return value

    def _commit(self, timestamp: float | None = None) -> None:
        """Turn the pending row into a history record (at ``timestamp``, else now). Caller holds
        the lock."""
        row = self._pending
        self._pending = {}
        now = time.time()
        at = now if timestamp is None else timestamp
        row["_step"] = self._step
        row["_runtime"] = at - self._start_time
        row["_timestamp"] = at
        self._step += 1
        if self._writer is not None:
            kind = HISTORY_WITH_MEDIA if self._pending_media else RecordType.HISTORY
            self._pending_media = False
            self._writer.queue.append((kind, row, now))

    def _bad(self, key: str, message: str) -> None:
        if self._strict:
            raise UsageError(message) if key.startswith(("log:", "step:")) else BadValue(message)
        self._warn_once(key, "wakelog: " + message)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn(message, UserWarning)

    # -- other records --------------------------------------------------------------------
    def _emit(self, kind: str, data: Any) -> None:
        if self._writer is not None:
            self._writer.put(kind, data)

    def _config_changed(self, changes: dict[str, Any]) -> None:
        self._emit(RecordType.CONFIG, {"update": changes})

    def _summary_changed(self, update: dict[str, Any], remove: list[str]) -> None:
        if self._writer is None:
            self._tracker.override(update, remove)
        else:
            self._emit(RecordType.SUMMARY, {"update": update, "remove": remove})

    def _sync(self) -> None:
        if self._writer is not None and not self._finished:
            self._writer.barrier(timeout=5.0)

    def _update_identity(self, **changes: Any) -> None:
        self._identity.update(changes)
        self._emit(RecordType.RUN, {**changes, "id": self._id, "update": True})

    def define_metric(
        self,
        name: str,
        step_metric: str | None = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
        overwrite: bool | None = None,
    ) -> MetricDefinition:
        """Customise how a metric (or a ``prefix/*`` glob of them) is summarised and plotted."""
        definition = MetricDefinition.build(name, step_metric, step_sync, hidden, summary, goal)
        older = self._metric_definitions.get(definition.name)
        if overwrite is False and older is not None:
            definition = definition.merged_over(older)
        self._metric_definitions[definition.name] = definition
        if self._writer is None:
            self._tracker.define(definition)
        else:
            self._emit(RecordType.METRIC, definition.to_record())
        return definition

    def alert(
        self,
        title: str,
        text: str,
        level: str | AlertLevel | None = None,
        wait_duration: float | int | None = None,
    ) -> None:
        """Record an alert (the server turns it into a notification)."""
        level = (getattr(level, "value", level) or "INFO").upper()
        if level not in _ALERT_LEVELS:
            raise UsageError(f"alert: level must be one of {', '.join(_ALERT_LEVELS)}, got {level!r}")
        if not isinstance(title, str) or not isinstance(text, str):
            raise UsageError("alert: title and text must be strings")
        seconds = getattr(wait_duration, "total_seconds", lambda: wait_duration)()
        self._emit(
            RecordType.ALERT,
            {"title": title, "text": text, "level": level, "wait_duration": seconds},
        )

    def save(
        self,
        glob_str: str | Path | None = None,
        base_path: str | Path | None = None,
        policy: str = "live",
    ) -> bool | list[str]:
        """Save files matching ``glob_str`` with the run; returns the saved paths. Without
        ``glob_str`` it does nothing and returns True (wandb's old meaning: "sync the run")."""
        if glob_str is None:
            return True
        if self._files is None:
            if self._run_dir is not None:
                self._bad("save:nodir", "save() on a run without a run directory; ignored")
            return []
        return self._files.save(glob_str, base_path=base_path, policy=policy)

    def log_code(
        self,
        root: str | os.PathLike[str] | None = ".",
        name: str | None = None,
        include_fn: PathFilter | None = None,
        exclude_fn: PathFilter | None = None,
    ) -> list[str] | None:
        """Save the source files under ``root`` with the run, under ``code/`` (``sdk/_code.py``):
        by default ``*.py``, ``requirements.txt`` and ``Dockerfile*``. Returns the saved names,
        None when nothing matched (wandb returns its code artifact; ``name`` names that artifact
        there and is accepted here for compatibility)."""
        from wakelog.sdk._code import code_files, in_run_folder, is_source_file

        if self._finished:
            raise UsageError(f"Run ({self._id}) is finished. The call to `log_code` will be ignored.")
        found = (
            []
            if root is None
            else code_files(root, include_fn or is_source_file, exclude_fn or in_run_folder)
        )
        if not found:
            warn("wakelog: log_code found no matching files; no code is saved with the run", UserWarning)
            return None
        if self._files is None:
            return None
        saved = self._files.save_named(found)
        return saved or None

    def restore(
        self,
        name: str,
        run_path: str | None = None,
        replace: bool = False,
        root: str | None = None,
    ) -> Any:
        """A file saved with a run (default: this run), downloaded into ``root`` (default:
        ``run.dir``) unless it is there already, and opened for reading; None when the run has
        no such file (see ``wakelog.restore``)."""
        root = root or self.dir
        if self.disabled:
            local = Path(root, name)
            return open(local) if local.exists() and not replace else None
        return _hooks.restorer()(name, run_path or self.path, replace, root)

    # -- artifacts (sdk/artifacts/_run.py) ----------------------------------------------------
    def _artifacts(self) -> ArtifactSaver | None:
        if self._finished:
            raise UsageError(f"Run ({self._id}) is finished: artifacts can no longer be recorded")
        if self._artifact_saver is None and self._writer is not None and self._run_dir is not None:
            from wakelog.sdk.artifacts._saver import ArtifactSaver

            self._artifact_saver = ArtifactSaver(self._run_dir, self._emit)
        return self._artifact_saver

    def log_artifact(
        self,
        artifact_or_path: Artifact | str | os.PathLike[str],
        name: str | None = None,
        type: str | None = None,
        aliases: list[str] | None = None,
        tags: list[str] | None = None,
    ) -> Artifact:
        """Log an artifact (or a file, folder or URI as one) as this run's output; returns at once:
        hashing and uploading happen in the background (``artifact.wait()`` waits for the version)."""
        from wakelog.sdk.artifacts import _run

        artifact = _run.as_artifact(self, artifact_or_path, name, type)
        return _run.log_artifact(self, self._artifacts(), artifact, aliases, tags)

    def use_artifact(
        self,
        artifact_or_name: Artifact | str,
        type: str | None = None,
        aliases: list[str] | None = None,
        use_as: str | None = None,
    ) -> Artifact:
        """Declare an artifact an input of this run and return it (``"name:alias"``,
        ``"entity/project/name:v3"`` or an ``Artifact``); an online run resolves it on the server."""
        from wakelog.sdk.artifacts import _run

        return _run.use_artifact(self, self._artifacts(), artifact_or_name, type)

    def link_artifact(
        self, artifact: Artifact, target_path: str, aliases: list[str] | None = None
    ) -> Artifact:
        """Link a logged artifact into a registry collection (``"registry/name"``), with aliases."""
        from wakelog.sdk.artifacts import _run

        return _run.link_artifact(self, self._artifacts(), artifact, target_path, aliases)

    def log_model(
        self, path: str | os.PathLike[str], name: str | None = None, aliases: list[str] | None = None
    ) -> Artifact:
        """Log a file, folder or URI as a ``model`` artifact (default name ``run-<id>-<base name>``)."""
        return self.log_artifact(path, name=name, type="model", aliases=aliases)

    def use_model(self, name: str) -> str:
        """Use the model artifact ``name`` (``name:alias``, ``entity/project/name:v3``) and download
        it; returns its folder, or its only file."""
        from wakelog.sdk.artifacts import _run

        return _run.use_model(self, self._artifacts(), name)

    def link_model(
        self,
        path: str | os.PathLike[str],
        registered_model_name: str,
        name: str | None = None,
        aliases: list[str] | None = None,
    ) -> Artifact:
        """Log ``path`` as a version of the model artifact ``name`` and link it into the registry
        collection ``registered_model_name`` of the run's entity, with ``aliases`` there."""
        from wakelog.sdk.artifacts import _run

        return _run.link_model(self, self._artifacts(), path, registered_model_name, name, aliases)

    def _label(
        self, code: str | None = None, repo: str | None = None, code_version: str | None = None, **_: Any
    ) -> None:
        """wandb's integration telemetry label (PaddleNLP's and transformers' ``WandbCallback``
        call it); wakelog keeps no telemetry, so it is accepted and does nothing."""

    def mark_preempting(self) -> None:
        """Tell the server the job is being preempted: its page says so until the run resumes or
        ends, instead of calling it crashed when the heartbeats stop."""
        if self._finished:
            raise UsageError(f"Run ({self._id}) is finished. The call to `mark_preempting` will be ignored.")
        self._update_identity(preempting=True)

    def watch(
        self,
        models: Any,
        criterion: Any = None,
        log: str | None = "gradients",
        log_freq: int = 100,
        idx: int | None = None,
        log_graph: bool = False,
    ) -> list[Any]:
        """Log histograms of a Paddle model's gradients and/or parameters (``docs/paddle.md``)."""
        watch_run, _ = _hooks.watcher()
        return watch_run(self, models, criterion, log, log_freq, idx, log_graph)

    def unwatch(self, models: Any = None) -> None:
        """Remove the hooks ``watch()`` put on ``models`` (default: on every watched model)."""
        _, unwatch_run = _hooks.watcher()
        unwatch_run(self, models)

    # -- finishing ------------------------------------------------------------------------
    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """End the run: flush everything, record the exit, and close the run log."""
        code = 0 if exit_code is None else int(exit_code)
        self._finish(code, "finished" if code == 0 else "failed", quiet=quiet)

    def _finish_for_exception(
        self, exc_type: type[BaseException], exc: BaseException | None, tb: Any
    ) -> None:
        import traceback

        killed = issubclass(exc_type, KeyboardInterrupt)
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        self._finish(255 if killed else 1, "killed" if killed else "failed", traceback_text=text)

    def _request_stop(self, reason: str, *, interrupt: bool = False) -> None:
        """A sweep or the Stop button stopped this run: however it ends now, it ends ``killed``
        with ``reason``. ``interrupt``: the next ``log()`` raises ``TrialStopped`` (a sweep
        function's safe point)."""
        self._stop_reason = reason
        self._interrupt = interrupt

    def _stopped_from_the_web_app(self) -> None:
        """Someone pressed Stop on this run's page: end it ``killed``, as wandb's client does — by a
        ``KeyboardInterrupt`` in the main thread when the run was made there, else at the next
        ``log()`` (a sweep function's trial runs in a thread of its own)."""
        if self._finished or self._finishing:
            return
        print(
            f"wakelog: run {self.name or self.id} was stopped from the web app", file=sys.stderr, flush=True
        )
        in_main = self._made_in is threading.main_thread()
        self._request_stop("stopped from the web app", interrupt=not in_main)
        if in_main:
            import _thread

            _thread.interrupt_main()

    def _finish(
        self, exit_code: int, state: str, *, traceback_text: str | None = None, quiet: bool | None = None
    ) -> None:
        with self._lock:
            if self._finished or self._finishing:
                return
            self._finishing = True
            self._interrupt = False  # finishing: nothing more to interrupt
        # Integrations may still log here (the TensorBoard tailer's last events).
        for callback in _hooks.finish_callbacks():
            try:
                callback(self)
            except Exception as exc:
                self._warn_once("finish-callback", f"wakelog: a finish callback failed: {exc}")
        with self._lock:
            if self._pending:
                self._commit()
            self._finished = True
        reason = self._why_stopped(state)
        if reason is not None:
            state, exit_code = "killed", exit_code or 255
            if self._parts.metadata is not None:
                self._parts.metadata.add_section("stopped_reason", reason)
        self._stop_helpers()
        quiet = bool(quiet or self._settings.silent or self._settings.quiet)
        if self._writer is not None:
            self._close_log(self._writer, exit_code, state, traceback_text, quiet=quiet)
        if self._on_finish is not None:
            self._on_finish(self)
        if not quiet and self._run_dir is not None:
            where = f"view it at {self.url}" if self.url else f"recorded in {self._run_dir}"
            print(f"wakelog: run {self.name or self.id} {state}; {where}", file=sys.stderr)

    def _raise_stopped(self) -> None:
        from wakelog.sdk._sweep import TrialStopped

        self._interrupt = False  # once: a function that catches it may still log on
        raise TrialStopped(f"the sweep stopped this trial: {self._stop_reason}")

    def _why_stopped(self, state: str) -> str | None:
        """Why a sweep stopped this run: told directly (function mode), or by the agent's stop
        file when a signal ends the run (subprocess mode)."""
        if self._stop_reason is not None or self.sweep_id is None or state != "killed":
            return self._stop_reason
        from wakelog.sdk._sweep import read_stop_reason

        return read_stop_reason(self._settings.sweep_param_path)

    def _stop_helpers(self) -> None:
        """Stop what records alongside the training, newest first, then settle the saved files."""
        for helper in reversed(self._parts.helpers()):
            try:
                helper.stop()
            except Exception as exc:
                self._warn_once("helper-stop", f"wakelog: stopping {type(helper).__name__} failed: {exc}")
        if self._files is not None:
            self._files.finish()
        saver = self._artifact_saver
        if saver is not None and not saver.close(self._settings.finish_timeout):
            self._warn_once(
                "artifacts", "wakelog: artifacts were still being hashed at finish; they are not logged"
            )

    def _close_log(
        self, writer: RunWriter, exit_code: int, state: str, traceback_text: str | None, *, quiet: bool
    ) -> None:
        """Record the exit, close the run log, wait for the upload and write ``summary.json``."""
        writer.barrier(timeout=self._settings.finish_timeout)
        summary = self._tracker.snapshot()
        exit_record: dict[str, Any] = {
            "exit_code": exit_code,
            "state": state,
            "runtime": time.time() - self._start_time,
            "summary": summary,
        }
        if traceback_text:
            exit_record["traceback"] = traceback_text
        self._emit(RecordType.EXIT, exit_record)
        last_seq = writer.next_seq - 1
        writer.close(timeout=self._settings.finish_timeout, report=self._uploader is None)
        if self._uploader is not None and writer.shortfall is not None:
            self._upload_after_full_disk(writer.shortfall, last_seq, state, quiet=quiet)
        elif self._uploader is not None:
            self._wait_for_upload(last_seq, quiet=quiet)
        self._write_summary_file(summary)

    def _wait_for_upload(self, last_seq: int, *, quiet: bool) -> None:
        assert self._uploader is not None and self._run_dir is not None
        state = self._uploader.wait(last_seq, self._settings.finish_timeout or 60.0, quiet=quiet)
        if state.complete and state.acked_seq >= last_seq:
            self._server_path = state.run_path
            self._uploader.reap()
            return
        if state.refused:
            warn(f"wakelog: run {self._id} stays local in {self._run_dir}: {state.error}", RuntimeWarning)
            return
        missing = last_seq - max(state.acked_seq, -1)
        reason = f" ({state.error})" if state.error else ""
        warn(
            f"wakelog: {missing} records of run {self._id} are not on the server yet{reason}; the "
            "uploader keeps trying in the background for a while, or run "
            f"`wakelog sync {self._run_dir}`",
            RuntimeWarning,
        )

    def _upload_after_full_disk(
        self, shortfall: Shortfall, last_seq: int, state: str, *, quiet: bool
    ) -> None:
        """finish() of an online run whose disk was full: wait for every record that was written
        (the uploader sends the spill log after the run log, and declares the lost ones a gap),
        then say in one warning what is where and what the server has."""
        from wakelog.runlog.syncstate import SyncState
        from wakelog.sdk._uploader import UploaderHandle

        assert self._uploader is not None and self._run_dir is not None
        uploader = self._uploader
        if shortfall.spilled and shortfall.spill_path is not None:
            # The run ended in the spill log: the uploader keeps sync.json there too (the run
            # folder's disk is full).
            uploader = UploaderHandle(uploader.proc, shortfall.spill_path.parent)
        target = _last_kept(last_seq, shortfall.lost)
        if target == last_seq:
            sync = uploader.wait(last_seq, self._settings.finish_timeout or 60.0, quiet=quiet)
        else:  # the exit record is lost: the uploader sends the rest once the training is gone
            sync = SyncState.load(uploader.run_dir)
        parts = shortfall_parts(shortfall)
        if sync.acked_seq >= target and (sync.complete or target != last_seq):
            self._server_path = sync.run_path
            gap = " (the lost ones as a gap)" if shortfall.lost else ""
            ended = f"; the run is {state} there" if target == last_seq else ""
            parts.append(f"the server has every record that was written{gap}{ended}")
        elif sync.refused:
            parts.append(f"the server refused the run, which stays local: {sync.error}")
        else:
            missing = target - max(sync.acked_seq, -1) - _count_within(shortfall.lost, sync.acked_seq, target)
            spill = f" {shortfall.spill_path.parent}" if shortfall.spill_path is not None else ""
            reason = f" ({sync.error})" if sync.error else ""
            parts.append(
                f"{missing:,} records that were written are not on the server yet{reason}; the uploader "
                f"keeps trying in the background for a while, or run `wakelog sync {self._run_dir}{spill}`"
            )
        if target != last_seq:
            parts.append("the exit record is lost too, so the server will show the run as crashed")
        warn("; ".join(parts), RuntimeWarning)

    def _write_summary_file(self, summary: dict[str, Any]) -> None:
        assert self._run_dir is not None
        try:
            text = json.dumps(summary, default=str, allow_nan=True, indent=1)
            (self._run_dir / "summary.json").write_text(text, encoding="utf-8")
        except OSError as exc:
            self._warn_once("summary.json", f"wakelog: cannot write summary.json: {exc}")

    @property
    def finished(self) -> bool:
        return self._finished


def _last_kept(last_seq: int, lost: list[tuple[int, int]]) -> int:
    """The last sequence number up to ``last_seq`` that is not in the ``lost`` ranges (-1: none)."""
    for first, last in reversed(lost):
        if first <= last_seq <= last:
            last_seq = first - 1
    return last_seq


def _count_within(ranges: list[tuple[int, int]], after: int, upto: int) -> int:
    """How many sequence numbers of the inclusive ``ranges`` are in ``(after, upto]``."""
    return sum(max(min(last, upto) - max(first, after + 1) + 1, 0) for first, last in ranges)


def _class_labels(key: str, value: Any) -> dict[str, dict[str, Any]]:
    """The config entries of the Images logged under ``key`` (alone or in a list)."""
    from wakelog.sdk.media import Image

    found: dict[str, dict[str, Any]] = {}
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, Image):
            for kind, entries in item.class_labels(key).items():
                found.setdefault(kind, {}).update(entries)
    return found


def _chart_entries(key: str, value: Any) -> dict[str, Any]:
    """The ``visualize`` config entries of the custom charts under ``key`` (nested dicts join keys with dots,
    as wandb names them)."""
    from wakelog.sdk.media import CustomChart

    if isinstance(value, CustomChart):
        return {key: value.config_entry(key)}
    found: dict[str, Any] = {}
    if isinstance(value, dict):
        for name, item in value.items():
            found.update(_chart_entries(f"{key}.{name}", item))
    return found


def _has_media(value: Any) -> bool:
    from wakelog.sdk.media import Media

    if isinstance(value, Media):
        return True
    if isinstance(value, dict):
        return any(_has_media(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_media(v) for v in value)
    return False
