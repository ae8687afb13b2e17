"""A filter AST back to text, canonically: ``parse(to_text(node)) == node``."""

from __future__ import annotations

import json
import math

from wakelog.server.query.filters.syntax import (
    AGGREGATES,
    BARE_SEGMENT,
    FIELDS,
    KEYWORDS,
    And,
    Compare,
    Field,
    InList,
    Literal,
    Node,
    Not,
    Or,
)


def literal_text(value: Literal) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _segment_text(segment: str, force: bool = False) -> str:
    if not force and BARE_SEGMENT.match(segment) and segment.lower() not in KEYWORDS:
        return segment
    return "`" + segment.replace("`", "``") + "`"


def field_text(target: Field) -> str:
    if target.root in FIELDS:
        return target.root
    if target.root == "config":
        return "config." + ".".join(_segment_text(s) for s in target.path)
    key = target.path[0]
    parts = key.split(".")
    plain = all(BARE_SEGMENT.match(p) for p in parts) and (len(parts) == 1 or parts[-1] not in AGGREGATES)
    text = "summary." + (key if plain else _segment_text(key, force=True))
    return text + (f".{target.agg}" if target.agg else "")


def to_text(node: Node) -> str:
    def wrap(child: Node) -> str:
        text = to_text(child)
        return f"({text})" if isinstance(child, (And, Or)) else text

    if isinstance(node, And):
        return " and ".join(wrap(c) for c in node.operands)
    if isinstance(node, Or):
        return " or ".join(wrap(c) for c in node.operands)
    if isinstance(node, Not):
        return "not " + wrap(node.operand)
    name = field_text(node.field)
    if isinstance(node, Compare):
        return f"{name} {node.op} {literal_text(node.value)}"
    neg = "not " if node.negated else ""
    if isinstance(node, InList):
        return f"{name} {neg}in ({', '.join(literal_text(v) for v in node.values)})"
    return f"{name} {neg}contains {literal_text(node.value)}"
