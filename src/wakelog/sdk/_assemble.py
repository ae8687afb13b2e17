"""Build a run with everything it records through: ``init()``'s work after the settings.

``create_run`` decides the run's mode (distributed rank, a folder that cannot be written), which
earlier run it continues (``sdk/_resume.py``), its id and name, creates the run folder, and builds
the run's parts (``RunParts``: the writer thread, saved files, the uploader process, the metadata
capture, the system-metrics sampler and the console capture) before the ``Run`` that uses them.
The parts start once the run has recorded its identity and config.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.runlog import RecordType
from wakelog.sdk._config import defaults_file, filter_keys, load_yaml
from wakelog.sdk._distributed import detect_rank, shared_group_name
from wakelog.sdk._local_runs import FORK_FROM, REWOUND_TO, LocalRunState
from wakelog.sdk._metrics import SummaryTracker
from wakelog.sdk._resume import check_parent, find_resumable
from wakelog.sdk._run import Helper, Run, RunParts
from wakelog.sdk._settings import Settings
from wakelog.sdk._writer import OUTPUT_LINE, RunWriter
from wakelog.sdk.util import generate_id

_BAD_ID = re.compile(r"[/\\#?%:\s\x00]")
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

# Names must not follow the user's random.seed() either (sdk/util.py: ids).
_RANDOM = random.SystemRandom()


def _generate_name() -> str:
    return f"{_RANDOM.choice(_ADJECTIVES)}-{_RANDOM.choice(_NOUNS)}-{_RANDOM.randint(1, 99)}"


def check_id(run_id: str) -> str:
    if not run_id or len(run_id) > 128 or _BAD_ID.search(run_id):
        raise UsageError(f"run id {run_id!r} is invalid: use 1-128 characters without / \\ # ? % : or spaces")
    return run_id


def create_run(
    settings: Settings,
    config: Any,
    include: list[str] | None,
    exclude: list[str] | None,
    allow_val_change: bool | None,
    on_finish: Callable[[Run], None],
    rewind_to: int | None = None,
    fork: tuple[str, int] | None = None,
) -> Run:
    """A started run, as ``init()`` returns it; ``rewind_to``: the run (``settings.run_id``)
    rewound to that step on the server, continuing from there (``init(resume_from=…)``);
    ``fork``: (parent, step), a new run that starts with the parent's history up to the step
    (``init(fork_from=…)``): its run log's first record says so, the server copies the rows."""
    identity = _placement(settings)
    initial_config = _initial_config(config, include, exclude)
    root = Path(settings.root_dir or ".").expanduser().absolute()
    previous = None if identity["mode"] == "disabled" else find_resumable(settings, root, rewind_to)
    if fork is not None:
        _fork(identity, settings, *fork)
    run_id = _run_id(settings, previous)
    _name_it(identity, settings, previous)
    if rewind_to is not None:  # the run log says so: a later local resume starts from here
        identity[REWOUND_TO] = rewind_to
    run_dir = None if identity["mode"] == "disabled" else _make_run_dir(root, run_id, identity["mode"])
    parts = _build_parts(settings, identity, run_id, run_dir, previous)
    if parts.writer is None:
        identity["mode"], run_dir = "disabled", None
    run = Run(
        settings,
        run_id=run_id,
        identity=identity,
        run_dir=run_dir,
        parts=parts,
        start_step=(previous.last_step + 1) if previous else (fork[1] + 1 if fork else 0),
        on_finish=on_finish,
    )
    if previous is not None and previous.config:
        run.config.update(previous.config, allow_val_change=True)
    run.config.update(initial_config, allow_val_change=True if previous else allow_val_change)
    if settings.sweep_id:
        _join_sweep(run, settings, parts)
    if parts.uploader is not None:
        from wakelog.sdk._stop_watch import StopWatch

        parts.monitors["the Stop button"] = StopWatch(parts.uploader.run_dir, run._stopped_from_the_web_app)
    parts.start()
    if run_dir is not None:
        _link_latest(root, run_dir)
        if not (settings.silent or settings.quiet):
            where = f"offline in {run_dir}" if identity["mode"] == "offline" else f"in {run_dir}"
            if parts.uploader is not None:
                where += f", streaming to {settings.base_url}"
            print(f"wakelog: recording run {identity['name']} ({run_id}) {where}", file=sys.stderr)
    return run


def _fork(identity: dict[str, Any], settings: Settings, parent: str, step: int) -> None:
    """A fork: its parent checked on the server when online; its run log's first record names
    the parent (``FORK_FROM``), where the server's copy of the parent's rows starts from."""
    if identity["mode"] == "online":
        check_parent(settings, parent, step)
    identity[FORK_FROM] = {"run": parent, "step": step}


def _placement(settings: Settings) -> dict[str, Any]:
    """The identity's mode, rank and world size, and the group and name distributed runs get."""
    rank = detect_rank()
    mode = settings.mode or "online"
    group, name = settings.run_group, settings.run_name
    if rank.distributed:
        if settings.distributed == "rank0" and rank.rank != 0:
            mode = "disabled"
        elif settings.distributed == "all":
            group = group or shared_group_name()
            name = f"{name or _generate_name()}-rank{rank.rank}"
    return {"mode": mode, "group": group, "name": name, "rank": rank.rank, "world_size": rank.world_size}


def _run_id(settings: Settings, previous: LocalRunState | None) -> str:
    run_id = check_id(settings.run_id) if settings.run_id is not None else None
    if previous is not None:
        run_id = previous.identity.get("id", run_id)
    return run_id or generate_id()


def _name_it(identity: dict[str, Any], settings: Settings, previous: LocalRunState | None) -> None:
    """Fill in the identity; a resumed run keeps its project and name unless given new ones."""
    earlier = previous.identity if previous is not None else {}
    identity.update(
        project=settings.project or earlier.get("project") or "uncategorized",
        entity=settings.entity or earlier.get("entity") or _default_entity(settings, identity["mode"]),
        name=identity["name"] or earlier.get("name") or _generate_name(),
        job_type=settings.run_job_type,
        tags=list(settings.run_tags or ()),
        notes=settings.run_notes,
        resumed=previous is not None,
    )
    if settings.sweep_id:
        identity["sweep_id"] = settings.sweep_id


def _join_sweep(run: Run, settings: Settings, parts: RunParts) -> None:
    """A sweep trial: the agent's parameters win over the script's and stay locked; the run's
    metadata names the sweep (``sdk/_sweep.py``)."""
    from wakelog.sdk._sweep import read_params

    if settings.sweep_param_path:
        run.config.update_locked(read_params(settings.sweep_param_path), user="sweep")
    if parts.metadata is not None:
        parts.metadata.add_section("sweep_id", settings.sweep_id, record=False)


def _default_entity(settings: Settings, mode: str) -> str | None:
    """For an online run: the key's user as a server last named it (no network: ``sdk/_login``)."""
    if mode != "online":
        return None
    from wakelog.sdk._login import api_key_for, known_entity

    base_url = settings.base_url or ""
    try:
        key = api_key_for(base_url)
    except UsageError:
        return None  # a base URL that is no URL: the uploader reports it
    return known_entity(base_url, key) if key else None


def _build_parts(
    settings: Settings,
    identity: dict[str, Any],
    run_id: str,
    run_dir: Path | None,
    previous: LocalRunState | None,
) -> RunParts:
    """The run's parts, none of them started; only a tracker when the run log cannot be written."""
    tracker = SummaryTracker()
    if previous is not None and previous.summary:
        tracker.seed(previous.summary)
    if run_dir is None:
        return RunParts(tracker=tracker)
    try:
        writer = RunWriter(
            run_dir,
            run_dir / f"run-{run_id}.wakelog",
            tracker=tracker,
            start_seq=(previous.last_seq + 1) if previous else 0,
            flush_interval=settings.flush_interval or 0.1,
        )
    except OSError as exc:
        warn(
            f"wakelog: cannot write the run log in {run_dir} ({exc}); this run is not recorded",
            RuntimeWarning,
        )
        return RunParts(tracker=tracker)
    from wakelog.sdk._files import FileSaver, read_ignore_globs
    from wakelog.sdk._metadata import MetadataCapture
    from wakelog.sdk._uploader import start_uploader

    start_time = time.time()
    ignore = read_ignore_globs(Path.cwd(), settings.ignore_globs or ())
    online = identity["mode"] == "online"
    return RunParts(
        tracker=tracker,
        writer=writer,
        start_time=start_time,
        files=FileSaver(run_dir / "files", writer.put, ignore_globs=ignore),
        uploader=start_uploader(settings, run_dir, run_id=run_id, project=identity["project"])
        if online
        else None,
        metadata=MetadataCapture(
            run_dir, settings, writer.put, rank=identity["rank"], world_size=identity["world_size"]
        ),
        monitors=_monitors(settings, writer, start_time),
    )


def _monitors(settings: Settings, writer: RunWriter, start_time: float) -> dict[str, Helper]:
    """The system-metrics sampler and the console capture the settings ask for, not started."""
    monitors: dict[str, Helper] = {}
    if not settings.disable_stats:

        def emit_stats(sample: dict[str, float]) -> None:
            now = time.time()
            writer.put(RecordType.STATS, {**sample, "_runtime": now - start_time, "_timestamp": now})

        try:
            from wakelog.monitor.system import SystemMonitor

            interval = settings.stats_sampling_interval or 10.0
            monitors["system metrics"] = SystemMonitor(emit_stats, interval=interval)
        except Exception as exc:
            warn(f"wakelog: system metrics is off: {exc}", RuntimeWarning)
    if settings.console in ("auto", "wrap", "redirect"):

        def emit_output(stream: str, line: str, when: float) -> None:
            writer.put(OUTPUT_LINE, (stream, line), when)

        try:
            from wakelog.monitor.console import ConsoleCapture

            mode = "redirect" if settings.console == "redirect" else "wrap"
            monitors["console capture"] = ConsoleCapture(emit_output, mode=mode)
        except Exception as exc:
            warn(f"wakelog: console capture is off: {exc}", RuntimeWarning)
    return monitors


def _initial_config(config: Any, include: list[str] | None, exclude: list[str] | None) -> dict[str, Any]:
    from wakelog.sdk._config import as_mapping

    values: dict[str, Any] = {}
    defaults = defaults_file()
    if defaults.is_file():
        values.update(load_yaml(defaults))
    values.update(as_mapping(config))
    return filter_keys(values, include, exclude)


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
