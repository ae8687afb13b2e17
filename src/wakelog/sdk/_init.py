"""``wakelog.init()`` and the process-wide run registry behind ``wakelog.run``.

``init`` resolves settings, decides what this process records (distributed rank, ``mode``,
``reinit``, ``resume``), creates the run folder and returns a ``Run``. It never waits on a
network: it only writes locally. If the run folder cannot be created, it warns and records in a
temporary folder; if even that fails, the run is disabled — training always goes on.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.sdk import _lifecycle
from wakelog.sdk._config import defaults_file, filter_keys, load_yaml
from wakelog.sdk._distributed import detect_rank, shared_group_name
from wakelog.sdk._local_runs import LocalRunState, latest_run_dir, read_state, run_dirs
from wakelog.sdk._run import Run
from wakelog.sdk._settings import Settings, resolve_settings

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_BAD_ID = re.compile(r"[/\\#?%:\s\x00]")
_REINIT = ("default", "return_previous", "finish_previous", "create_new")
_UNSUPPORTED = ("fork_from", "resume_from")
_IGNORED = ("anonymous", "force", "magic", "sync_tensorboard", "monitor_gym", "tensorboard")
_ADJECTIVES = (
    "amber",
    "bold",
    "brisk",
    "calm",
    "clever",
    "crisp",
    "deep",
    "eager",
    "fair",
    "gentle",
    "golden",
    "keen",
    "lively",
    "lucid",
    "mellow",
    "nimble",
    "quiet",
    "rapid",
    "silver",
    "steady",
)
_NOUNS = (
    "bamboo",
    "breeze",
    "brook",
    "cedar",
    "cloud",
    "comet",
    "dawn",
    "delta",
    "ember",
    "field",
    "harbor",
    "lotus",
    "meadow",
    "panda",
    "peak",
    "pine",
    "river",
    "spark",
    "tide",
    "willow",
)

_lock = threading.RLock()
_active: list[Run] = []
# Ids and names must not follow the user's random.seed(): seeded scripts would reuse run ids.
_RANDOM = random.SystemRandom()


def generate_id(length: int = 8) -> str:
    return "".join(_RANDOM.choices(_ID_ALPHABET, k=length))


def _generate_name() -> str:
    return f"{_RANDOM.choice(_ADJECTIVES)}-{_RANDOM.choice(_NOUNS)}-{_RANDOM.randint(1, 99)}"


def check_id(run_id: str) -> str:
    if not run_id or len(run_id) > 128 or _BAD_ID.search(run_id):
        raise UsageError(f"run id {run_id!r} is invalid: use 1-128 characters without / \\ # ? % : or spaces")
    return run_id


def active_runs() -> list[Run]:
    with _lock:
        return list(_active)


def _set_current(run: Run | None) -> None:
    """Point ``wakelog.run``, ``wakelog.config`` and ``wakelog.summary`` at ``run``."""
    module = sys.modules.get("wakelog")
    if module is None:
        return
    module.run = run  # type: ignore[attr-defined]
    module.config = run.config if run else None  # type: ignore[attr-defined]
    module.summary = run.summary if run else None  # type: ignore[attr-defined]


def _forget(run: Run) -> None:
    with _lock:
        if run in _active:
            _active.remove(run)
        module = sys.modules.get("wakelog")
        if module is not None and getattr(module, "run", None) is run:
            _set_current(_active[-1] if _active else None)


def finish_all(exit_code: int, state: str, traceback_text: str | None) -> None:
    for run in reversed(active_runs()):
        try:
            run._finish(exit_code, state, traceback_text=traceback_text)
        except Exception as exc:  # at exit, report and go on with the next run
            print(f"wakelog: could not finish run {run.id}: {exc}", file=sys.stderr)


def init(
    project: str | None = None,
    name: str | None = None,
    config: Any = None,
    entity: str | None = None,
    group: str | None = None,
    job_type: str | None = None,
    tags: Any = None,
    notes: str | None = None,
    mode: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    id: str | None = None,
    resume: bool | str | None = None,
    reinit: bool | str | None = None,
    settings: Settings | dict[str, Any] | None = None,
    save_code: bool | None = None,
    config_exclude_keys: list[str] | None = None,
    config_include_keys: list[str] | None = None,
    allow_val_change: bool | None = None,
    **other: Any,
) -> Run:
    """Start a run and return it (see ``docs/sdk.md`` for every argument)."""
    for key in other:
        if key in _UNSUPPORTED:
            raise UsageError(f"init({key}=…) is not supported by wakelog")
        if key not in _IGNORED:
            raise TypeError(f"init() got an unexpected keyword argument {key!r}")
        warn(f"wakelog: init({key}=…) has no effect in wakelog", UserWarning)
    if isinstance(resume, bool):
        resume = "allow" if resume else None
    if tags is not None and (isinstance(tags, str) or not hasattr(tags, "__iter__")):
        raise UsageError(f"init: tags must be a list of strings, got {tags!r}")
    resolved = resolve_settings(
        settings,
        mode=mode,
        project=project,
        entity=entity,
        root_dir=dir,
        run_id=id,
        run_name=name,
        run_group=group,
        run_job_type=job_type,
        run_tags=tags,
        run_notes=notes,
        resume=resume,
        save_code=save_code,
    )
    reinit_mode = _reinit_mode(reinit)
    with _lock:
        if _active:
            if reinit_mode == "return_previous":
                return _active[-1]
            if reinit_mode == "finish_previous":
                finish_all(0, "finished", None)
        run = _create(resolved, config, config_include_keys, config_exclude_keys, allow_val_change)
        _active.append(run)
        _set_current(run)
    _lifecycle.install(finish_all)
    return run


def _reinit_mode(reinit: bool | str | None) -> str:
    if reinit is None or reinit == "default":
        return "return_previous"
    if reinit is True:
        return "finish_previous"
    if reinit is False:
        return "return_previous"
    if reinit not in _REINIT:
        raise UsageError(f"init: reinit must be one of {', '.join(_REINIT)} or a bool, got {reinit!r}")
    return str(reinit)


def _create(
    settings: Settings,
    config: Any,
    include: list[str] | None,
    exclude: list[str] | None,
    allow_val_change: bool | None,
) -> Run:
    rank = detect_rank()
    mode = settings.mode or "online"
    group, name = settings.run_group, settings.run_name
    if rank.distributed:
        if settings.distributed == "rank0" and rank.rank != 0:
            mode = "disabled"
        elif settings.distributed == "all":
            group = group or shared_group_name()
            name = f"{name or _generate_name()}-rank{rank.rank}"
    initial_config = _initial_config(config, include, exclude)
    root = Path(settings.root_dir or ".").expanduser().absolute()
    previous = None if mode == "disabled" else _find_resumable(settings, root)
    run_id = check_id(settings.run_id) if settings.run_id is not None else None
    if previous is not None:
        run_id = previous.identity.get("id", run_id)
    run_id = run_id or generate_id()
    identity: dict[str, Any] = {
        "project": settings.project
        or (previous.identity.get("project") if previous else None)
        or "uncategorized",
        "entity": settings.entity,
        "name": name or (previous.identity.get("name") if previous else None) or _generate_name(),
        "group": group,
        "job_type": settings.run_job_type,
        "tags": list(settings.run_tags or ()),
        "notes": settings.run_notes,
        "mode": mode,
        "resumed": previous is not None,
        "rank": rank.rank,
        "world_size": rank.world_size,
    }
    run_dir = None if mode == "disabled" else _make_run_dir(root, run_id, mode)
    if run_dir is None and mode != "disabled":
        identity["mode"] = "disabled"
    try:
        run = Run(
            settings,
            run_id=run_id,
            identity=identity,
            run_dir=run_dir,
            start_step=(previous.last_step + 1) if previous else 0,
            start_seq=(previous.last_seq + 1) if previous else 0,
            resumed_summary=previous.summary if previous else None,
            on_finish=_forget,
        )
    except OSError as exc:
        warn(
            f"wakelog: cannot write the run log in {run_dir} ({exc}); this run is not recorded",
            RuntimeWarning,
        )
        identity["mode"] = "disabled"
        run = Run(settings, run_id=run_id, identity=identity, run_dir=None, on_finish=_forget)
    if previous is not None and previous.config:
        run.config.update(previous.config, allow_val_change=True)
    run.config.update(initial_config, allow_val_change=True if previous else allow_val_change)
    if run_dir is not None:
        if mode == "online":
            _start_uploader(run, settings, run_dir)
        _start_helpers(run, settings, run_dir)
        _link_latest(root, run_dir)
        if not settings.silent:
            where = f"offline in {run_dir}" if mode == "offline" else f"in {run_dir}"
            if run._uploader is not None:
                where += f", streaming to {settings.base_url}"
            print(f"wakelog: recording run {identity['name']} ({run_id}) {where}", file=sys.stderr)
    return run


def _initial_config(config: Any, include: list[str] | None, exclude: list[str] | None) -> dict[str, Any]:
    from wakelog.sdk._config import as_mapping

    values: dict[str, Any] = {}
    defaults = defaults_file()
    if defaults.is_file():
        values.update(load_yaml(defaults))
    values.update(as_mapping(config))
    return filter_keys(values, include, exclude)


def _find_resumable(settings: Settings, root: Path) -> LocalRunState | None:
    resume, run_id = settings.resume, settings.run_id
    if resume is None:
        if run_id and run_dirs(root, run_id):
            raise UsageError(
                f"a run with id {run_id!r} already exists in {root / 'wakelog'}; pass "
                "resume='allow' to continue it, or choose another id"
            )
        return None
    if resume == "must" and not run_id:
        raise UsageError("init(resume='must') needs the id of the run to resume: pass id=…")
    if resume == "auto" and not run_id:
        latest = latest_run_dir(root)
        if latest is None:
            return None
        state = read_state([latest])
        return state if state is not None and not state.finished else None
    dirs = run_dirs(root, run_id) if run_id else []
    if resume == "never":
        if dirs:
            raise UsageError(
                f"init(resume='never'): a run with id {run_id!r} already exists in {root / 'wakelog'}"
            )
        return None
    state = read_state(dirs) if dirs else None
    if state is None and resume == "must" and settings.mode == "online":
        from wakelog.transport.resume import server_state

        state = server_state(settings, run_id)
    if state is None and resume == "must":
        where = f"{root / 'wakelog'}" + (f" or on {settings.base_url}" if settings.mode == "online" else "")
        raise UsageError(f"init(resume='must'): no run with id {run_id!r} found in {where}")
    if state is not None:
        state.identity.setdefault("id", run_id)
    return state


def _make_run_dir(root: Path, run_id: str, mode: str) -> Path | None:
    stamp = dt.datetime.now().strftime("%Y%m%d_%H%M%S")
    prefix = "offline-run" if mode == "offline" else "run"
    folder = f"{prefix}-{stamp}-{run_id}"
    candidates = [
        root / "wakelog" / folder,
        Path(tempfile.gettempdir()) / "wakelog-fallback" / "wakelog" / folder,
    ]
    for number, run_dir in enumerate(candidates):
        try:
            (run_dir / "files").mkdir(parents=True, exist_ok=True)
            probe = run_dir / ".write-check"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            nxt = "recording in a temporary folder instead" if number == 0 else "this run is not recorded"
            warn(f"wakelog: cannot write run folder {run_dir} ({exc.strerror or exc}); {nxt}", RuntimeWarning)
            continue
        return run_dir
    return None


def _link_latest(root: Path, run_dir: Path) -> None:
    link = run_dir.parent / "latest-run"
    try:
        tmp = run_dir.parent / f".latest-run-{os.getpid()}"
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(run_dir.name)
        os.replace(tmp, link)
    except OSError:
        pass  # a convenience only (Windows without symlink rights, odd file systems)


def _start_uploader(run: Run, settings: Settings, run_dir: Path) -> None:
    """Start the uploader process, or say how to sync later when there is no key."""
    from wakelog.sdk._login import api_key_for
    from wakelog.transport.handle import IN_UPLOADER

    if os.environ.get(IN_UPLOADER):
        return  # never from inside an uploader (see UploaderHandle.start)
    base_url = settings.base_url or ""
    key = api_key_for(base_url)
    if not key:
        warn(
            f"wakelog: no API key for {base_url}; run {run.id} is recorded locally only. Run "
            f"`wakelog login --host {base_url}` (or start `wakelog server` on this machine), then "
            f"`wakelog sync {run_dir}`",
            RuntimeWarning,
        )
        return
    from wakelog.transport.handle import UploaderHandle

    try:
        run._uploader = UploaderHandle.start(
            run_dir,
            base_url=base_url,
            api_key=key,
            entity=settings.entity,
            project=run.project,
            run_id=run.id,
            linger=settings.uploader_linger or 600.0,
        )
    except OSError as exc:
        warn(f"wakelog: could not start the uploader ({exc}); sync later with `wakelog sync {run_dir}`")


def _start_helpers(run: Run, settings: Settings, run_dir: Path) -> None:
    """Start what records alongside the training: files, metadata, system metrics, console."""
    from wakelog.sdk._files import FileSaver, read_ignore_globs

    run._files = FileSaver(
        run_dir / "files", run._emit, ignore_globs=read_ignore_globs(Path.cwd(), settings.ignore_globs or ())
    )
    metadata = _MetadataCapture(run, settings, run_dir)
    metadata.start()
    run._helpers.append(metadata)
    if not settings.disable_stats:
        try:
            from wakelog.monitor.system import SystemMonitor

            monitor = SystemMonitor(run._emit_stats, interval=settings.stats_sampling_interval or 10.0)
            monitor.start()
            run._helpers.append(monitor)
        except Exception as exc:
            warn(f"wakelog: system metrics are off: {exc}", RuntimeWarning)
    if settings.console in ("auto", "wrap", "redirect"):
        try:
            from wakelog.monitor.console import ConsoleCapture

            kwargs = {"mode": "redirect"} if settings.console == "redirect" else {}
            capture = ConsoleCapture(run._emit_output, **kwargs)
            capture.start()
            run._helpers.append(capture)
        except Exception as exc:
            warn(f"wakelog: console capture is off: {exc}", RuntimeWarning)


class _MetadataCapture:
    """Collects reproducibility metadata off the training thread (git and packages take a while)."""

    def __init__(self, run: Run, settings: Settings, run_dir: Path) -> None:
        self.run, self.settings, self.run_dir = run, settings, run_dir
        self._thread = threading.Thread(target=self._capture, name="wakelog-metadata", daemon=True)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._sections: dict[str, Any] = {}  # added by integrations (add_metadata_section)
        self._metadata: dict[str, Any] | None = None  # None until captured

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Let a short run still record its metadata before the exit record."""
        self._thread.join(timeout=30)

    def _capture(self) -> None:
        try:
            from wakelog.monitor.environment import capture_environment

            main = sys.modules.get("__main__")
            program = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv and sys.argv[0] else None)
            # The files (requirements.txt, diff.patch, code/) go where saved files go, so they upload.
            metadata = capture_environment(
                self.run_dir / "files",
                program=program,
                args=list(sys.argv[1:]),
                save_code=bool(self.settings.save_code),
                disable_git=bool(self.settings.disable_git),
            )
            metadata["rank"] = self.run._identity.get("rank", 0)
            metadata["world_size"] = self.run._identity.get("world_size", 1)
            if "paddle" in sys.modules:  # never import paddle: only describe one the user imported
                from wakelog.integration.paddle._env import paddle_metadata

                metadata["paddle"] = paddle_metadata()
            with self._lock:
                metadata.update(self._sections)
                self._metadata = metadata
            self._record()
            if metadata.get("files"):
                from wakelog.runlog import RecordType

                names = [{"name": name, "policy": "now"} for name in metadata["files"]]
                self.run._emit(RecordType.FILES, {"files": names})
        except Exception as exc:
            warn(f"wakelog: could not capture run metadata: {exc}", RuntimeWarning)

    def sections(self) -> set[str]:
        with self._lock:
            return set(self._metadata or ()) | set(self._sections)

    def add_section(self, name: str, value: Any) -> None:
        """Add or replace a top-level section; once captured, the whole metadata is recorded again."""
        with self._lock:
            self._sections[name] = value
            captured = self._metadata is not None
            if captured:
                self._metadata = {**self._metadata, name: value}  # type: ignore[dict-item]
        if captured and not self.run.finished:
            try:
                self._record()
            except Exception as exc:
                warn(f"wakelog: could not record the {name!r} metadata: {exc}", RuntimeWarning)

    def _record(self) -> None:
        import json

        from wakelog.runlog import RecordType

        with self._write_lock:
            with self._lock:
                metadata = self._metadata
            text = json.dumps(metadata, indent=1, default=str)
            (self.run_dir / "metadata.json").write_text(text, encoding="utf-8")
            self.run._emit(RecordType.METADATA, metadata)


def _metadata_capture(run: Run) -> _MetadataCapture | None:
    return next((h for h in run._helpers if isinstance(h, _MetadataCapture)), None)


def add_metadata_section(run: Run, name: str, value: Any) -> bool:
    """Add a top-level section (``paddle``…) to ``run``'s metadata; False for a run without any."""
    capture = _metadata_capture(run)
    if capture is None:
        return False
    capture.add_section(name, value)
    return True


def metadata_sections(run: Run) -> set[str]:
    """The top-level sections ``run``'s metadata has or will have."""
    capture = _metadata_capture(run)
    return capture.sections() if capture is not None else set()
