"""Meaning checks on a parsed comparison, before any SQL: refuse what cannot mean anything."""

from __future__ import annotations

import datetime as dt
import math

from wakelog.server.query.filters.syntax import (
    BAD_PATH_CHARS,
    FIELDS,
    Compare,
    Contains,
    Field,
    FilterError,
    InList,
    Literal,
    Node,
)


def check(node: Node) -> None:
    """Refuse comparisons that cannot mean anything, naming the field's position."""
    target: Field = node.field  # type: ignore[union-attr]
    values = node.values if isinstance(node, InList) else (node.value,)  # type: ignore[union-attr]
    op = node.op if isinstance(node, Compare) else None
    if any(isinstance(value, float) and math.isnan(value) for value in values):
        raise FilterError("NaN cannot be compared", target.pos)
    uses_json = isinstance(node, Contains) or any(isinstance(v, (str, bool)) for v in values)
    if target.kind == "summary" and target.agg is None and uses_json:
        check_json_path(target.path, target.pos)  # compared in the summary JSON, not the table
    if isinstance(node, Contains):
        _check_contains(target, node.value)
    elif target.kind == "tags":
        if op not in (None, "=", "!=") or any(not isinstance(v, str) for v in values):
            raise FilterError("tags supports = != in and contains with strings", target.pos, "a tag string")
    else:
        for value in values:
            _check_value(target, op, value)


def _name(target: Field) -> str:
    return target.root if target.root in FIELDS else f"{target.root}.{'.'.join(target.path)}"


def _check_contains(target: Field, value: Literal) -> None:
    kind, where, name = target.kind, target.pos, _name(target)
    if kind in ("time", "number") or (kind == "summary" and target.agg):
        raise FilterError(f"{name} is a number: use = != < <= > >= or in", where, "a comparison")
    if kind in ("text", "tags") and not isinstance(value, str):
        raise FilterError(f"{name} contains … needs a string", where, "a string")
    if value is None:
        raise FilterError("contains needs a value, not null", where, "a value")


def _check_value(target: Field, op: str | None, value: Literal) -> None:
    """One value compared with ``op`` (None: ``in``) to a field that is not ``tags``."""
    kind, where, name = target.kind, target.pos, _name(target)
    if value is None:
        if op not in (None, "=", "!="):
            raise FilterError("null can only be compared with = or !=", where, "= or !=")
        return
    if kind == "text" and not isinstance(value, str):
        raise FilterError(f"{name} is text: compare it with a string", where, "a string")
    if kind == "number" and (isinstance(value, (bool, str))):
        raise FilterError(f"{name} is a number: compare it with a number", where, "a number")
    if kind == "time":
        if isinstance(value, bool):
            raise FilterError(f"{name} is a time: use seconds or an ISO date", where, "a time")
        if isinstance(value, str):
            to_epoch(value, where)
    if isinstance(value, bool) and op not in (None, "=", "!="):
        raise FilterError("booleans can only be compared with = or !=", where, "= or !=")
    if kind == "summary" and target.agg and not isinstance(value, (int, float)):
        raise FilterError(f"summary .{target.agg} is a number", where, "a number")


def to_epoch(value: str, pos: int = 0) -> float:
    """An ISO 8601 date or time (UTC unless it says otherwise) as seconds since the epoch."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(
            f"{value!r} is not an ISO date or time",
            pos,
            'an ISO date, e.g. "2026-01-31" or "2026-01-31T12:00:00Z"',
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()


def check_json_path(segments: list[str] | tuple[str, ...], pos: int) -> None:
    for segment in segments:
        if BAD_PATH_CHARS.search(segment):
            raise FilterError(
                "keys looked up in JSON may not contain double quotes, backslashes or control characters",
                pos,
            )
