"""A report's content (``ReportSpec``) checked before it is stored: every refusal is a 400 that
names the block, run set or panel and the field that was wrong, and nothing is stored unless all
of it is right.

The spec is ``{blocks: [...]}``: markdown blocks and panel blocks (run sets + panels). Ids are
client-made, ``[A-Za-z0-9_-]{1,32}``, unique across the whole report. Missing optional fields of a
run set are filled in (``runs: null``, ``group_by: null``, ``colors: {}``, ``hidden: []``), so a
stored spec always has every field; unknown fields are refused (a typo would be lost silently).
Panel ``config`` is checked loosely per kind: required fields present with the right types.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from wakelog._names import check_run_id
from wakelog.server.body import check_json
from wakelog.server.errors import InvalidRequest
from wakelog.server.query.filters import FilterError, parse

MAX_SPEC_BYTES = 1024 * 1024
MAX_BLOCKS = 200
MAX_MARKDOWN = 100_000
MAX_RUNSETS = 10
MAX_PANELS = 50
MAX_RUNS = 500
MAX_CONFIG_BYTES = 64 * 1024
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_NAME = 200
MAX_FILTER = 10_000
KINDS = (
    "line", "bar", "scalar", "scatter", "parcoords", "media", "table", "markdown", "comparer", "importance",
    "histogram",
)  # fmt: skip
SUMMARIES = ("last", "min", "max", "mean")
#: A panel's own "max runs" (line and histogram panels): it overrides the workspace's.
MAX_PANEL_RUNS = 100
_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def bad(where: str, problem: str) -> InvalidRequest:
    return InvalidRequest(f"spec: {where}: {problem}")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(where, f"must be an object, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _text(value: Any, where: str, limit: int, *, empty: bool = True) -> str:
    if not isinstance(value, str):
        raise bad(where, f"must be a string, not {_kind(value)}")
    if len(value) > limit:
        raise bad(where, f"is longer than {limit:,} characters")
    if not empty and not value.strip():
        raise bad(where, "must not be empty")
    return value


def _texts(value: Any, where: str, limit: int = 1000) -> list[str]:
    if not isinstance(value, list):
        raise bad(where, f"must be a list of strings, not {_kind(value)}")
    if len(value) > limit:
        raise bad(where, f"has more than {limit} items")
    return [_text(item, f"{where}[{i}]", 1000) for i, item in enumerate(value)]


def _only(item: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise bad(where, f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


class Ids:
    """The ids seen so far: each must be well-formed and unique in the report."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def take(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise bad(where, f"id {value!r} must be 1-32 characters of A-Z a-z 0-9 _ -")
        if value in self.seen:
            raise bad(where, f"id {value!r} is already used by {self.seen[value]}")
        self.seen[value] = where
        return value


def check_title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TITLE:
        raise InvalidRequest(f"title must be 1-{MAX_TITLE} characters")
    return value


def check_description(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise InvalidRequest(f"description must be a string of at most {MAX_DESCRIPTION} characters")
    return value


def check_spec(value: Any) -> dict[str, Any]:
    """The spec as stored (defaults filled in), or 400 naming what is wrong."""
    if value is None:
        return {"blocks": []}
    spec = _object(value, "the spec")
    check_json(spec)  # depth, NUL, lone surrogates
    size = len(json.dumps(spec, ensure_ascii=False).encode())
    if size > MAX_SPEC_BYTES:
        raise bad("the spec", f"is {size:,} bytes of JSON, over the {MAX_SPEC_BYTES:,} allowed")
    _only(spec, {"blocks"}, "the spec")
    blocks = spec.get("blocks", [])
    if not isinstance(blocks, list):
        raise bad("blocks", f"must be a list, not {_kind(blocks)}")
    if len(blocks) > MAX_BLOCKS:
        raise bad("blocks", f"has {len(blocks)} blocks, over the {MAX_BLOCKS} allowed")
    ids = Ids()
    return {"blocks": [_block(block, i, ids) for i, block in enumerate(blocks)]}


def _block(value: Any, index: int, ids: Ids) -> dict[str, Any]:
    block = _object(value, f"block {index}")
    where = f"block {block.get('id', index)!r}"
    block_id = ids.take(block.get("id"), where)
    kind = block.get("type")
    if kind == "markdown":
        _only(block, {"id", "type", "text"}, where)
        return {
            "id": block_id,
            "type": kind,
            "text": _text(block.get("text", ""), f"{where} text", MAX_MARKDOWN),
        }
    if kind != "panels":
        raise bad(where, f"unknown block type {kind!r} (markdown or panels)")
    _only(block, {"id", "type", "runsets", "panels"}, where)
    runsets, panels = block.get("runsets", []), block.get("panels", [])
    if not isinstance(runsets, list) or len(runsets) > MAX_RUNSETS:
        raise bad(where, f"runsets must be a list of at most {MAX_RUNSETS}")
    if not isinstance(panels, list) or len(panels) > MAX_PANELS:
        raise bad(where, f"panels must be a list of at most {MAX_PANELS}")
    return {
        "id": block_id,
        "type": kind,
        "runsets": [_runset(item, f"{where} runset {i}", ids) for i, item in enumerate(runsets)],
        "panels": [check_panel(item, f"{where} panel {i}", ids) for i, item in enumerate(panels)],
    }


def _runset(value: Any, where: str, ids: Ids) -> dict[str, Any]:
    item = _object(value, where)
    where = f"runset {item.get('id')!r}" if isinstance(item.get("id"), str) else where
    _only(item, {"id", "name", "filter", "runs", "group_by", "colors", "hidden"}, where)
    runset_id = ids.take(item.get("id"), where)
    text = _text(item.get("filter", ""), f"{where} filter", MAX_FILTER)
    try:
        parse(text)
    except FilterError as exc:
        raise bad(f"{where} filter", str(exc)) from None
    runs = item.get("runs")
    if runs is not None:
        runs = _run_ids(runs, f"{where} runs", MAX_RUNS)
    group_by = item.get("group_by")
    if group_by is not None and not (
        group_by in ("group", "job_type")
        or (isinstance(group_by, str) and group_by.startswith("config.") and 7 < len(group_by) <= 256)
    ):
        raise bad(f"{where} group_by", f"{group_by!r} must be null, group, job_type or config.<key>")
    colors = _object(item.get("colors", {}), f"{where} colors")
    if len(colors) > MAX_RUNS:
        raise bad(f"{where} colors", f"has more than {MAX_RUNS} entries")
    for run_id, color in colors.items():
        _run_ids([run_id], f"{where} colors", 1)
        if not isinstance(color, str) or not _COLOR.match(color):
            raise bad(f"{where} colors", f"colour {color!r} of run {run_id!r} must be #rrggbb")
    return {
        "id": runset_id,
        "name": _text(item.get("name", ""), f"{where} name", MAX_NAME),
        "filter": text,
        "runs": runs,
        "group_by": group_by,
        "colors": dict(colors),
        "hidden": _run_ids(item.get("hidden", []), f"{where} hidden", MAX_RUNS),
    }


def _run_ids(value: Any, where: str, limit: int) -> list[str]:
    if not isinstance(value, list):
        raise bad(where, f"must be a list of run ids, not {_kind(value)}")
    if len(value) > limit:
        raise bad(where, f"has {len(value)} runs, over the {limit} allowed")
    for run_id in value:
        try:
            check_run_id(run_id)
        except ValueError as exc:
            raise bad(where, str(exc)) from None
    return list(value)


def check_panel(value: Any, where: str, ids: Ids) -> dict[str, Any]:
    """One panel as stored, or 400 naming it (reports and the workspace's panel system share it)."""
    item = _object(value, where)
    where = f"panel {item.get('id')!r}" if isinstance(item.get("id"), str) else where
    _only(item, {"id", "kind", "title", "config"}, where)
    panel_id = ids.take(item.get("id"), where)
    kind = item.get("kind")
    if kind not in KINDS:
        raise bad(where, f"unknown panel kind {kind!r} (one of {', '.join(KINDS)})")
    config = _object(item.get("config", {}), f"{where} config")
    size = len(json.dumps(config, ensure_ascii=False).encode())
    if size > MAX_CONFIG_BYTES:
        raise bad(f"{where} config", f"is {size:,} bytes of JSON, over the {MAX_CONFIG_BYTES:,} allowed")
    _CONFIG_CHECKS[kind](config, f"{where} config")
    return {
        "id": panel_id,
        "kind": kind,
        "title": _text(item.get("title", ""), f"{where} title", MAX_TITLE),
        "config": config,
    }


# -- panel configs, per kind (loosely: what the bundle and the viewer read) ----------------------
def _need(config: dict[str, Any], field: str, where: str) -> Any:
    if field not in config:
        raise bad(where, f"needs {field!r}")
    return config[field]


def _line(config: dict[str, Any], where: str) -> None:
    metrics = _texts(_need(config, "metrics", where), f"{where} metrics", 100)
    if not metrics or any(not m for m in metrics):
        raise bad(f"{where} metrics", "must name at least one metric, none of them empty")
    _text(config.get("x", "step"), f"{where} x", 256, empty=False)
    if "smoothing" in config and config["smoothing"] is not None:
        _object(config["smoothing"], f"{where} smoothing")
    if "y_range" in config and config["y_range"] is not None:
        y_range = config["y_range"]
        if not (
            isinstance(y_range, list)
            and len(y_range) == 2
            and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in y_range)
        ):
            raise bad(f"{where} y_range", "must be [low or null, high or null]")
    if not isinstance(config.get("log_y", False), bool):
        raise bad(f"{where} log_y", "must be true or false")
    _max_runs(config, where)


def _max_runs(config: dict[str, Any], where: str) -> None:
    """The panel's own "max runs": absent or null (the workspace's), else a whole number 1-100."""
    value = config.get("max_runs")
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PANEL_RUNS
    ):
        raise bad(f"{where} max_runs", f"must be a whole number from 1 to {MAX_PANEL_RUNS}, or null")


def _metric_name(config: dict[str, Any], where: str) -> None:
    _text(_need(config, "metric", where), f"{where} metric", 256, empty=False)


def _metric(config: dict[str, Any], where: str) -> None:
    _metric_name(config, where)
    if config.get("summary", "last") not in SUMMARIES:
        raise bad(f"{where} summary", f"must be one of {', '.join(SUMMARIES)}")


def _scatter(config: dict[str, Any], where: str) -> None:
    for axis in ("x", "y"):
        _text(_need(config, axis, where), f"{where} {axis}", 256, empty=False)


def _media(config: dict[str, Any], where: str) -> None:
    _text(_need(config, "key", where), f"{where} key", 256, empty=False)
    step = config.get("step")
    if step is not None and (not isinstance(step, int) or isinstance(step, bool) or abs(step) >= 2**63):
        raise bad(f"{where} step", "must be a whole number or null")


def _histogram(config: dict[str, Any], where: str) -> None:
    """A histogram-over-time panel: the logged ``wandb.Histogram`` key, one heatmap per run."""
    _text(_need(config, "key", where), f"{where} key", 256, empty=False)
    _max_runs(config, where)


def _list_of(field: str, required: bool) -> Callable[[dict[str, Any], str], None]:
    def check(config: dict[str, Any], where: str) -> None:
        if required or field in config:
            _texts(_need(config, field, where), f"{where} {field}", 200)

    return check


def _markdown(config: dict[str, Any], where: str) -> None:
    _text(config.get("text", ""), f"{where} text", MAX_MARKDOWN)


_CONFIG_CHECKS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "line": _line,
    "bar": _metric,
    "scalar": _metric,
    "scatter": _scatter,
    "parcoords": _list_of("axes", True),
    "media": _media,
    "table": _list_of("columns", True),
    "markdown": _markdown,
    "comparer": _list_of("fields", False),
    "importance": _metric_name,
    "histogram": _histogram,
}


def panel_ids(spec: dict[str, Any]) -> set[str]:
    """The ids of the spec's panels (comment threads may attach to one)."""
    return {p["id"] for b in spec.get("blocks", []) if b.get("type") == "panels" for p in b.get("panels", [])}
