"""``wandb.Api().runs(path, filters=…, order=…)``: wandb's MongoDB-style filters as wakelog's filter AST.

The result is the same tree the filter language parses to (``server/query/filters``), checked by its
``check`` and compiled by its compiler, so the runs wandb's Api lists are exactly those the web
app's filter shows. Supported: ``{"field": value}``, the operators ``$eq $ne $gt $gte $lt $lte $in
$nin``, ``$and``/``$or``/``$not``, on ``config.<key>`` (also W&B's ``config.<key>.value``),
``summary_metrics.<key>``, ``state``, ``tags``, ``group``, ``jobType``, ``displayName``, ``name``
(the run id), ``createdAt``, ``heartbeatAt``, ``notes``. Anything else is refused, naming it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from wakelog.server.errors import InvalidRequest
from wakelog.server.query.filters import (
    And,
    Compare,
    Field,
    FilterError,
    InList,
    Node,
    Not,
    Or,
    SortKey,
    check,
    parse_field,
)
from wakelog.server.query.filters.lexer import Token
from wakelog.server.query.filters.syntax import INT64_MAX

#: wandb's names of the plain run fields → wakelog's.
PLAIN = {
    "state": "state",
    "tags": "tags",
    "group": "group",
    "jobType": "job_type",
    "displayName": "name",
    "display_name": "name",
    "name": "id",
    "createdAt": "created_at",
    "created_at": "created_at",
    "heartbeatAt": "heartbeat_at",
    "heartbeat_at": "heartbeat_at",
    "notes": "notes",
    "description": "notes",
}
COMPARE = {"$eq": "=", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
#: Nesting of ``$and``/``$or``/``$not`` (the filter language's own limit is deeper).
MAX_DEPTH = 32


def field(name: str) -> Field:
    """A wandb field name as a wakelog field, or an error naming it."""
    if not isinstance(name, str) or not name:
        raise InvalidRequest("a filter field must be a non-empty string")
    if name in PLAIN:
        return Field(PLAIN[name])
    root, _, rest = name.partition(".")
    if root == "config" and rest:
        segments = rest.split(".")
        if len(segments) > 1 and segments[-1] == "value":  # W&B stores config as {"lr": {"value": …}}
            segments.pop()
        return _parsed(["config", *segments], name)
    if root in ("summary_metrics", "summary") and rest:
        return _parsed(["summary", rest], name)
    raise InvalidRequest(
        f"wakelog does not support filtering runs on {name!r}: use config.<key>, summary_metrics.<key>, "
        f"or one of {', '.join(sorted(PLAIN))}"
    )


def _parsed(segments: list[str], name: str) -> Field:
    try:
        return parse_field(Token("field", segments, 0, name))
    except FilterError as exc:
        raise InvalidRequest(f"bad filter field {name!r}: {exc.message}") from None


def to_node(filters: Any, depth: int = 0) -> Node | None:
    """``filters`` (a dict, or the JSON text the client sends) as a filter tree; ``None``: every run."""
    if isinstance(filters, str):
        try:
            filters = json.loads(filters) if filters.strip() else {}
        except ValueError:
            raise InvalidRequest("filters must be a JSON object") from None
    if filters is None:
        return None
    if not isinstance(filters, dict):
        raise InvalidRequest("filters must be a JSON object")
    if depth > MAX_DEPTH:
        raise InvalidRequest(f"filters nest deeper than {MAX_DEPTH} levels")
    parts = [part for name, condition in filters.items() for part in _clause(name, condition, depth)]
    for part in parts:
        _check(part)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _clause(name: str, condition: Any, depth: int) -> list[Node]:
    """One key of a filter object: ``$and``/``$or``/``$not`` or a field's conditions."""
    if name in ("$and", "$or"):
        if not isinstance(condition, list):
            raise InvalidRequest(f"{name} needs a list of filters")
        operands = tuple(n for n in (to_node(c, depth + 1) for c in condition) if n is not None)
        if not operands:
            return []
        return [And(operands) if name == "$and" else Or(operands)]
    if name == "$not":
        inner = to_node(condition, depth + 1)
        return [] if inner is None else [Not(inner)]
    if name.startswith("$"):
        raise InvalidRequest(f"wakelog does not support the filter operator {name!r}")
    return _conditions(field(name), name, condition)


def _conditions(target: Field, name: str, condition: Any) -> list[Node]:
    if not isinstance(condition, dict):
        return [Compare(target, "=", _literal(condition, name))]
    if not condition:
        raise InvalidRequest(f"the filter on {name!r} is an empty object")
    nodes: list[Node] = []
    for op, value in condition.items():
        if op in COMPARE:
            nodes.append(Compare(target, COMPARE[op], _literal(value, name)))
        elif op in ("$in", "$nin"):
            if not isinstance(value, list) or not value:
                raise InvalidRequest(f"{op} on {name!r} needs a non-empty list")
            nodes.append(InList(target, tuple(_literal(v, name) for v in value), negated=op == "$nin"))
        else:
            raise InvalidRequest(f"wakelog does not support the filter operator {op!r} (on {name!r})")
    return nodes


def _literal(value: Any, name: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
        raise InvalidRequest(f"the filter on {name!r} compares with a number out of range")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidRequest(f"the filter on {name!r} compares with NaN or infinity")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise InvalidRequest(f"the filter on {name!r} compares with a {type(value).__name__}: use a plain value")


def _check(node: Node) -> None:
    if isinstance(node, (And, Or)):
        for operand in node.operands:
            _check(operand)
    elif isinstance(node, Not):
        _check(node.operand)
    else:
        try:
            check(node)
        except FilterError as exc:
            raise InvalidRequest(f"bad filter: {exc.message}") from None


def to_order(order: Any) -> list[SortKey]:
    """wandb's ``order`` (``+created_at``, ``-summary_metrics.acc``, ``config.lr.value``)."""
    if order is None or order == "":
        return []
    if not isinstance(order, str):
        raise InvalidRequest("order must be a string")
    descending = order.startswith("-")
    return [SortKey(field(order.lstrip("+-")), descending=descending)]
