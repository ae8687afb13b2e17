"""wandb's Mongo-style run filters and sort orders, translated to the server's filter language.

``{"$and": [{"config.lr": {"$lt": 0.01}}, {"summary_metrics.acc": {"$gt": 0.9}}]}`` becomes
``(config.lr < 0.01) and (summary.acc > 0.9)``; ``"-summary_metrics.acc"`` becomes
``-summary.acc``. The translation only writes text; the server parses and checks it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

from wakelog.errors import UsageError

_BARE = re.compile(r"^[A-Za-z0-9_/\-:@#%+]+$")
_KEYWORDS = {"and", "or", "not", "in", "contains", "true", "false", "null", "inf", "infinity"}
_AGGREGATES = {"last", "min", "max", "first", "mean", "count"}
#: wandb's field names (and ours) → the server's.
_FIELDS = {
    "name": "id",  # in wandb filters, "name" is the run's id; the display name is displayName
    "id": "id",
    "displayName": "name",
    "display_name": "name",
    "state": "state",
    "tags": "tags",
    "group": "group",
    "jobType": "job_type",
    "job_type": "job_type",
    "notes": "notes",
    "host": "host",
    "createdAt": "created_at",
    "created_at": "created_at",
    "updatedAt": "updated_at",
    "updated_at": "updated_at",
    "heartbeatAt": "heartbeat_at",
    "heartbeat_at": "heartbeat_at",
    "finishedAt": "finished_at",
    "finished_at": "finished_at",
    "duration": "runtime",
    "runtime": "runtime",
    "lastHistoryStep": "last_step",
    "last_step": "last_step",
    "exitCode": "exit_code",
    "exit_code": "exit_code",
}
_OPERATORS = {"$eq": "=", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_REGEX_SPECIAL = re.compile(r"[.^$*+?{}\[\]\\|()]")


def _segment(text: str) -> str:
    if _BARE.match(text) and text.lower() not in _KEYWORDS:
        return text
    return "`" + text.replace("`", "``") + "`"


def field_name(name: str) -> str:
    """A wandb filter or order field as a field of the server's filter language."""
    if not isinstance(name, str) or not name:
        raise UsageError(f"filter field names are non-empty strings, got {name!r}")
    for prefix in ("config.", "summary_metrics.", "summary."):
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if not rest:
                break
            if prefix == "config.":
                parts = rest.split(".")
                if len(parts) > 1 and parts[-1] == "value":  # wandb's {"lr": {"value": …}} wrapping
                    parts = parts[:-1]
                return "config." + ".".join(_segment(p) for p in parts)
            parts = rest.split(".")
            if len(parts) > 1 and (parts[-1] in _AGGREGATES or not all(_BARE.match(p) for p in parts)):
                return "summary." + _segment(rest)
            return "summary." + ".".join(_segment(p) for p in parts)
    if name in _FIELDS:
        return _FIELDS[name]
    raise UsageError(
        f"cannot filter or sort on {name!r}: use config.<key>, summary_metrics.<key> or one of "
        + ", ".join(sorted(set(_FIELDS)))
    )


def literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            raise UsageError("NaN cannot be used in a filter")
        if isinstance(value, float) and math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return json.dumps(value.isoformat())
    if isinstance(value, dt.date):
        return json.dumps(value.isoformat())
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise UsageError(
        f"filter values are strings, numbers, booleans, dates or None, got {type(value).__name__}"
    )


def _values(value: Any, op: str) -> list[Any]:
    if not isinstance(value, (list, tuple, set)) or not value:
        raise UsageError(f"{op} needs a non-empty list")
    return list(value)


def _condition(name: str, spec: Any) -> str:
    target = field_name(name)
    if not isinstance(spec, dict) or not any(str(k).startswith("$") for k in spec):
        return f"{target} = {literal(spec)}"
    parts = []
    for op, value in spec.items():
        if op in _OPERATORS:
            parts.append(f"{target} {_OPERATORS[op]} {literal(value)}")
        elif op in ("$in", "$nin"):
            items = ", ".join(literal(v) for v in _values(value, op))
            parts.append(f"{target} {'not in' if op == '$nin' else 'in'} ({items})")
        elif op == "$exists":
            parts.append(f"{target} {'!=' if value else '='} null")
        elif op == "$regex":
            if not isinstance(value, str) or _REGEX_SPECIAL.search(value):
                raise UsageError(
                    f"$regex {value!r}: only plain text (a substring match) is supported; "
                    "use $in for alternatives"
                )
            parts.append(f"{target} contains {literal(value)}")
        elif op == "$not":
            parts.append(f"not ({_condition(name, value)})")
        else:
            raise UsageError(f"unsupported filter operator {op!r}")
    return " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]


def mongo_to_filter(filters: Any) -> str:
    """wandb ``filters`` (a dict, or already a filter-language string) as filter-language text."""
    if filters is None:
        return ""
    if isinstance(filters, str):
        return filters
    if not isinstance(filters, dict):
        raise UsageError(f"filters must be a dict (wandb style) or a string, got {type(filters).__name__}")
    parts = []
    for key, value in filters.items():
        if key in ("$and", "$or", "$nor"):
            combined = _combine(key, value)
            if combined:
                parts.append(combined)
        elif key == "$not":
            parts.append(f"not ({mongo_to_filter(value)})")
        elif isinstance(key, str) and key.startswith("$"):
            raise UsageError(f"unsupported filter operator {key!r}")
        else:
            parts.append(_condition(key, value))
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({p})" for p in parts)


def _combine(op: str, filters: Any) -> str:
    """``$and``, ``$or`` or ``$nor`` over a list of filters; empty when every filter is empty."""
    if not isinstance(filters, (list, tuple)) or not filters:
        raise UsageError(f"{op} needs a non-empty list of filters")
    inner = [f"({text})" for text in map(mongo_to_filter, filters) if text]
    if not inner:
        return ""
    joined = (" or " if op != "$and" else " and ").join(inner)
    return f"not ({joined})" if op == "$nor" else joined


def order_text(order: str | None) -> str:
    """wandb's ``order`` (``"-summary_metrics.acc"``, ``"+created_at"``) for the server."""
    if not order:
        return ""
    out = []
    for part in str(order).split(","):
        part = part.strip()
        if not part:
            continue
        sign = "-" if part.startswith("-") else ""
        name = part.lstrip("+-")
        out.append(sign + field_name(name))
    return ",".join(out)
