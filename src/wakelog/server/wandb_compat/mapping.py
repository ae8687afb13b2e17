"""wandb's shapes into wakelog's: config values, system-metric keys, console lines, run fields."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import msgspec

from wakelog.errors import UsageError
from wakelog.sdk._metrics import MetricDefinition
from wakelog.server.errors import InvalidRequest

#: wandb's system-metric keys (``system.`` dropped) that wakelog's own sampler records under
#: another name, with the factor from wandb's unit to wakelog's.
_SYSTEM_KEYS: dict[str, tuple[str, float]] = {
    "cpu": ("system/proc_cpu_percent", 1.0),
    "memory_percent": ("system/memory_percent", 1.0),
    "proc.memory.availableMB": ("system/memory_available_mb", 1.0),
    "proc.memory.rssMB": ("system/proc_rss_mb", 1.0),
    "proc.cpu.threads": ("system/proc_threads", 1.0),
    "network.sent": ("system/network_sent_mb", 1 / 2**20),
    "network.recv": ("system/network_recv_mb", 1 / 2**20),
}
#: wandb's per-GPU keys (``gpu.<i>.<name>``) that wakelog's sampler records as
#: ``system/gpu/<i>/<name>``, with the factor from wandb's unit to wakelog's.
_GPU_KEYS: dict[str, tuple[str, float]] = {
    "gpu": ("utilization_percent", 1.0),
    "memory": ("memory_utilization_percent", 1.0),
    "memoryAllocated": ("memory_allocated_percent", 1.0),
    "memoryAllocatedBytes": ("memory_allocated_mb", 1 / 2**20),
    "temp": ("temperature_c", 1.0),
    "powerWatts": ("power_w", 1.0),
    "enforcedPowerLimitWatts": ("power_limit_w", 1.0),
    "powerPercent": ("power_percent", 1.0),
    "smClock": ("sm_clock_mhz", 1.0),
    "memoryClock": ("memory_clock_mhz", 1.0),
}
_GPU = re.compile(r"^gpu\.(?P<index>\d+)\.(?P<name>\w+)$")
_DISK = re.compile(r"^disk\.(?P<path>.+)\.(?P<what>usagePercent|usageGB)$")
_DISK_WHAT = {"usagePercent": "usage_percent", "usageGB": "usage_gb"}
#: ``<prefix>YYYY-MM-DDTHH:MM:SS.ffffff <text>``: a console line as wandb's core sends it
#: (``ERROR `` in front for stderr; a ``[label]`` after the time in multi-writer runs).
_CONSOLE = re.compile(
    r"^(?P<err>ERROR )?(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?) ?(?P<text>.*)$", re.S
)


#: Strict JSON, about 5× faster than ``json.loads``: the file stream sends one line per history row.
_STRICT = msgspec.json.Decoder()


def loads(text: Any, what: str) -> Any:
    """JSON text the client sent as a string (GraphQL ``JSONString``, file-stream lines); 400 if not.

    What strict JSON refuses goes to ``json.loads``, which takes what wandb-core also writes:
    ``NaN`` and ``Infinity`` (a diverged loss), numbers past a float's range, lone surrogates.
    Where both read a text they read it alike, so the fast path changes no value."""
    if not isinstance(text, str):
        raise InvalidRequest(f"{what} must be a JSON string")
    try:
        return _STRICT.decode(text)
    except (msgspec.DecodeError, RecursionError):
        pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidRequest(f"{what} is not valid JSON") from None


def config_values(config: Any) -> dict[str, Any]:
    """``{"key": {"value": v, "desc": …}, "_wandb": {…}}`` (wandb's config) → ``{"key": v}``.
    ``_wandb`` is the client's own bookkeeping (telemetry, metric definitions), not the user's."""
    if not isinstance(config, dict):
        raise InvalidRequest("config must be a JSON object")
    values = {}
    for key, entry in config.items():
        if key == "_wandb":
            continue
        values[key] = entry.get("value") if isinstance(entry, dict) else entry
    return values


#: wandb's ``MetricSummary`` field numbers (how ``_wandb.m`` spells ``summary=``) → the op names.
_SUMMARY_OPS = {1: "min", 2: "max", 3: "mean", 4: "best", 5: "last", 6: "none", 7: "copy", 8: "first"}
#: ``MetricRecord.goal``'s values.
_GOALS = {1: "minimize", 2: "maximize"}
#: ``MetricOptions`` field numbers: the flags ``_wandb.m`` lists under "6".
_STEP_SYNC, _HIDDEN = 1, 2


def metric_definitions(config: Any) -> list[dict[str, Any]]:
    """The ``define_metric`` calls in wandb's raw config (``_wandb.m``: one ``MetricRecord`` per
    metric, keyed by field number) as the records wakelog's SDK writes for the same calls, so the
    web app picks the same step metric, hidden flag, summary and goal. Definitions the client
    expanded from a glob itself are left out (wakelog's SDK records the glob only)."""
    internal = config.get("_wandb") if isinstance(config, dict) else None
    internal = internal.get("value") if isinstance(internal, dict) else None
    entries = internal.get("m") if isinstance(internal, dict) else None
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidRequest("config._wandb.m must be a list of metric objects")
    names = [entry.get("1") or entry.get("2") for entry in entries]
    found = []
    for entry in entries:
        if entry.get("10"):
            continue
        found.append(_definition(entry, names))
    return found


def _definition(entry: dict[str, Any], names: list[Any]) -> dict[str, Any]:
    step, index = entry.get("4"), entry.get("5")
    if not step and index is not None:
        # a 1-based position in the same list (0: none)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= len(names):
            raise InvalidRequest(f"config._wandb.m: step metric index {index!r} is out of range")
        step = names[index - 1] if index else None
    options, ops, goal = entry.get("6") or [], entry.get("7") or [], entry.get("8")
    if not isinstance(options, list) or not isinstance(ops, list):
        raise InvalidRequest("config._wandb.m: options and summary must be lists of numbers")
    if not all(isinstance(op, int) and op in _SUMMARY_OPS for op in ops) or (
        goal and not (isinstance(goal, int) and goal in _GOALS)
    ):
        raise InvalidRequest("config._wandb.m: unknown summary or goal number")
    try:
        definition = MetricDefinition.build(
            entry.get("1") or entry.get("2"),
            step_metric=step or None,
            step_sync=_STEP_SYNC in options,
            hidden=_HIDDEN in options,
            summary=",".join(_SUMMARY_OPS[op] for op in ops),
            goal=_GOALS.get(goal) if goal else None,
        )
    except (UsageError, TypeError) as exc:
        raise InvalidRequest(f"config._wandb.m: {exc}") from None
    return definition.to_record()


def wandb_config(config: dict[str, Any]) -> dict[str, Any]:
    """wakelog's config in wandb's shape (what a resuming client reads back)."""
    return {key: {"value": value, "desc": None} for key, value in config.items()}


#: wandb-metadata.json's keys that wakelog's own metadata spells otherwise.
_METADATA_KEYS = {"startedAt": "started_at", "codePath": "code_path", "codePathLocal": "code_path_local"}


def metadata(content: bytes) -> dict[str, Any] | None:
    """wandb-metadata.json as wakelog's run metadata; None if it is no JSON object."""
    try:
        found = json.loads(content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(found, dict):
        return None
    return {_METADATA_KEYS.get(str(key), str(key)): value for key, value in found.items()}


def system_key(key: str) -> tuple[str, float] | None:
    """A wandb events key → (wakelog's key, factor); None for the client's bookkeeping."""
    if key.startswith("_"):
        return None
    name = key.removeprefix("system.")
    if name in _SYSTEM_KEYS:
        return _SYSTEM_KEYS[name]
    gpu = _GPU.match(name)
    if gpu is not None and gpu["name"] in _GPU_KEYS:
        wakelog_name, factor = _GPU_KEYS[gpu["name"]]
        return f"system/gpu/{gpu['index']}/{wakelog_name}", factor
    disk = _DISK.match(name)
    if disk is not None:
        token = disk["path"].strip("/").replace("/", "_") or "root"
        return f"system/disk/{token}/{_DISK_WHAT[disk['what']]}", 1.0
    return "system/" + name, 1.0  # the rest: wandb's names, under wakelog's section


def console_line(line: str, fallback: float) -> tuple[float, str, str]:
    """A console line as [time, stream, text]; a line without wandb's prefix keeps ``fallback``."""
    found = _CONSOLE.match(line)
    if found is None:
        return fallback, "stdout", line
    try:
        when = datetime.fromisoformat(found["ts"]).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        when = fallback
    return when, "stderr" if found["err"] else "stdout", found["text"]
