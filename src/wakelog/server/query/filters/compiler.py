"""A filter AST and sort keys to SQLAlchemy expressions over ``runs``; every value is bound."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from wakelog.server.query.filters.checks import to_epoch
from wakelog.server.query.filters.syntax import (
    BAD_PATH_CHARS,
    SUMMARY_VIEWS,
    And,
    Compare,
    Field,
    InList,
    Literal,
    Node,
    Not,
    Or,
    SortKey,
)
from wakelog.store.schema import runs, summaries


@dataclass
class Context:
    """What compiling needs besides the AST: the SQL dialect and the heartbeat cut-off."""

    dialect: str = "sqlite"
    crashed_before: float = 0.0  # running runs with an older heartbeat are "crashed"


def state_column(crashed_before: float) -> sa.ColumnElement:
    """The run's state as users see it: ``running`` with a stale heartbeat is ``crashed``; a run
    that said it is being preempted (``preempting``) is ``running`` until it goes quiet, then
    ``preempted`` (as in wandb)."""
    stale = runs.c.heartbeat_at < crashed_before
    return sa.case(
        (sa.and_(runs.c.state == "running", stale), sa.literal("crashed")),
        (sa.and_(runs.c.state == "preempting", stale), sa.literal("preempted")),
        (runs.c.state == "preempting", sa.literal("running")),
        else_=runs.c.state,
    )


def runtime_column() -> sa.ColumnElement:
    return sa.func.coalesce(runs.c.runtime, runs.c.heartbeat_at - runs.c.created_at)


def plain_column(name: str, ctx: Context) -> sa.ColumnElement:
    if name == "state":
        return state_column(ctx.crashed_before)
    if name == "runtime":
        return runtime_column()
    column = {"id": "run_id", "group": "group_name"}.get(name, name)
    return runs.c[column]


def _false() -> sa.ColumnElement:
    return sa.false()


def _two_valued(expr: sa.ColumnElement) -> sa.ColumnElement:
    """``expr`` with SQL's unknown (NULL) read as false, so ``not`` includes missing values."""
    return sa.func.coalesce(expr, _false())


def _like_pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _compare(column: Any, op: str, value: Any) -> sa.ColumnElement:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    return column >= value


class _Json:
    """Typed access to one path inside a JSON column, for SQLite and PostgreSQL."""

    def __init__(self, column: sa.Column, path: tuple[str, ...], ctx: Context) -> None:
        self.column, self.path, self.ctx = column, path, ctx
        self.pg = ctx.dialect == "postgresql"

    def _sqlite_path(self) -> str:
        return "$" + "".join(f'."{p}"' for p in self.path)

    def valid(self) -> sa.ColumnElement:
        # Ingest stores JSON-safe values (NaN as "NaN"); a row that is not JSON anyway would make
        # SQLite fail the whole query, so SQLite skips such rows.
        return sa.true() if self.pg else sa.func.json_valid(self.column) == 1

    def type_(self) -> sa.ColumnElement:
        if self.pg:
            return sa.func.jsonb_typeof(self.column[self.path])
        return sa.func.json_type(self.column, self._sqlite_path())

    def number(self) -> sa.ColumnElement:
        types = ("number",) if self.pg else ("integer", "real")
        return sa.case(
            (sa.and_(self.valid(), self.type_().in_(types)), self.column[self.path].as_float()), else_=None
        )

    def text(self) -> sa.ColumnElement:
        kind = "string" if self.pg else "text"
        return sa.case(
            (sa.and_(self.valid(), self.type_() == kind), self.column[self.path].as_string()), else_=None
        )

    def is_bool(self, value: bool) -> sa.ColumnElement:
        if self.pg:
            return sa.and_(
                self.type_() == "boolean",
                self.column[self.path].as_string() == ("true" if value else "false"),
            )
        return sa.and_(self.valid(), self.type_() == ("true" if value else "false"))

    def is_null(self) -> sa.ColumnElement:
        if self.pg:
            return sa.or_(self.column[self.path].is_(None), self.type_() == "null")
        return sa.or_(sa.not_(self.valid()), self.type_().is_(None), self.type_() == "null")

    def has_item(self, value: Literal) -> sa.ColumnElement:
        if self.pg:
            return sa.and_(
                self.type_() == "array",
                self.column[self.path].op("@>", is_comparison=True)(
                    sa.cast(sa.literal(json.dumps([value])), JSONB)
                ),
            )
        each = sa.func.json_each(self.column, self._sqlite_path()).table_valued("value", "type")
        if isinstance(value, bool):
            match = each.c.type == ("true" if value else "false")
        elif isinstance(value, (int, float)):
            match = sa.and_(each.c.type.in_(("integer", "real")), each.c.value == value)
        else:
            match = sa.and_(each.c.type == "text", each.c.value == value)
        return sa.and_(
            self.valid(),
            self.type_() == "array",
            sa.select(sa.literal(1)).select_from(each).where(match).correlate(runs).exists(),
        )

    def compare(self, op: str, value: Literal) -> sa.ColumnElement:
        if value is None:
            return self.is_null() if op == "=" else sa.not_(self.is_null())
        if isinstance(value, bool):
            positive = self.is_bool(value)
            return positive if op == "=" else sa.not_(_two_valued(positive))
        if op == "!=":
            return sa.not_(_two_valued(self.compare("=", value)))
        column = self.number() if isinstance(value, (int, float)) else self.text()
        return _compare(column, op, value)


def _tags_contain(tag: str, ctx: Context) -> sa.ColumnElement:
    if ctx.dialect == "postgresql":
        return runs.c.tags.op("@>", is_comparison=True)(sa.cast(sa.literal(json.dumps([tag])), JSONB))
    each = sa.func.json_each(runs.c.tags).table_valued("value")
    return sa.and_(
        sa.func.json_valid(runs.c.tags) == 1,
        sa.select(sa.literal(1)).select_from(each).where(each.c.value == tag).correlate(runs).exists(),
    )


def summary_column(agg: str | None) -> sa.ColumnElement:
    c = summaries.c
    if agg == "mean":
        return c.total / sa.func.nullif(c.count, 0)
    return c[agg or "last"]


def _summary_exists(key: str, condition: sa.ColumnElement) -> sa.ColumnElement:
    c = summaries.c
    return (
        sa.select(sa.literal(1))
        .where(c.run_pk == runs.c.id, c.key == key, condition)
        .correlate(runs)
        .exists()
    )


def summary_json(target: Field, ctx: Context) -> sa.ColumnElement | None:
    """The number in the run's summary JSON for ``summary.<key>``, used when the summaries table
    has no row for the key (a value set with ``run.summary[k] = v`` rather than logged). A key
    ending in a summary view, ``acc.max`` (wandb's name, which the web app and
    ``Api.runs(filters={"summary_metrics.acc.max": …})`` send), and the aggregate
    ``summary.acc.max`` also read the value ``define_metric(summary="max")`` keeps at
    ``{"acc": {"max": …}}``. ``None`` where the key cannot be looked up in JSON."""
    key = target.path[0]
    if target.agg is not None:  # summary.acc.max: the run's logged max, else what define_metric kept
        head, view = key, target.agg
        paths = []
    else:
        paths = [] if BAD_PATH_CHARS.search(key) else [(key,)]
        head, _, view = key.rpartition(".")
    if head and view in SUMMARY_VIEWS and not BAD_PATH_CHARS.search(head):
        paths.append((head, view))
    numbers = [_Json(runs.c.summary, path, ctx).number() for path in paths]
    if not numbers:
        return None
    return numbers[0] if len(numbers) == 1 else sa.func.coalesce(*numbers)


def _bind_time(value: Literal, target: Field) -> Literal:
    return to_epoch(value, target.pos) if isinstance(value, str) else value


def _compile_summary(target: Field, op: str, value: Literal, ctx: Context) -> sa.ColumnElement:
    """``summary.<key>[.agg]`` compared: in the summaries table, else in the summary JSON."""
    key = target.path[0]
    if isinstance(value, (str, bool)) and target.agg is None:
        return _Json(runs.c.summary, (key,), ctx).compare(op, value)
    column = summary_column(target.agg)
    if op == "!=" and value is not None:
        return sa.not_(_two_valued(_compile_compare(target, "=", value, ctx)))
    if value is None:
        present = _summary_exists(key, column.isnot(None))
        fallback = summary_json(target, ctx)
        if fallback is not None:  # no table row, but a number in the summary JSON
            present = sa.or_(present, sa.and_(sa.not_(_summary_exists(key, sa.true())), fallback.isnot(None)))
        return sa.not_(present) if op == "=" else present
    matched = _summary_exists(key, _compare(column, op, value))
    fallback = summary_json(target, ctx)
    if fallback is not None:
        matched = sa.or_(
            matched, sa.and_(sa.not_(_summary_exists(key, sa.true())), _compare(fallback, op, value))
        )
    return matched


def _compile_compare(target: Field, op: str, value: Literal, ctx: Context) -> sa.ColumnElement:
    kind = target.kind
    if kind == "tags":
        positive = _tags_contain(str(value), ctx)
        return positive if op == "=" else sa.not_(positive)
    if kind == "config":
        return _Json(runs.c.config, target.path, ctx).compare(op, value)
    if kind == "summary":
        return _compile_summary(target, op, value, ctx)
    column = plain_column(target.root, ctx)
    if kind == "time":
        value = _bind_time(value, target)
    if value is None:
        return column.is_(None) if op == "=" else column.isnot(None)
    if op == "!=":
        return column.is_distinct_from(value)
    return _compare(column, op, value)


#: Conditions joined in one flat AND/OR at most; longer lists are joined as a balanced tree.
_FLAT = 32


class _Parenthesised(ColumnElement[bool]):
    """A condition in parentheses that SQLAlchemy does not flatten into an enclosing AND/OR."""

    inherit_cache = True
    _traverse_internals: ClassVar = [("condition", InternalTraversal.dp_clauseelement)]
    type = sa.Boolean()

    def __init__(self, condition: sa.ColumnElement) -> None:
        self.condition = condition


@compiles(_Parenthesised)
def _parenthesised(element: _Parenthesised, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.condition, **kw)})"


def _balanced(join: Any, conditions: list[sa.ColumnElement]) -> sa.ColumnElement:
    """``join`` (``sa.and_``/``sa.or_``) of ``conditions``, parenthesised in halves: SQLite parses
    a flat chain of n ANDs or ORs as an expression n deep and refuses depth 1000."""
    if len(conditions) <= _FLAT:
        return join(*conditions)
    half = len(conditions) // 2
    return join(
        _Parenthesised(_balanced(join, conditions[:half])), _Parenthesised(_balanced(join, conditions[half:]))
    )


def compile_filter(node: Node | None, ctx: Context) -> sa.ColumnElement:
    """The AST as a SQLAlchemy boolean expression over ``runs`` (values bound, never inlined)."""
    if node is None:
        return sa.true()
    if isinstance(node, And):
        return _balanced(sa.and_, [compile_filter(n, ctx) for n in node.operands])
    if isinstance(node, Or):
        return _balanced(sa.or_, [compile_filter(n, ctx) for n in node.operands])
    if isinstance(node, Not):
        return sa.not_(_two_valued(compile_filter(node.operand, ctx)))
    if isinstance(node, Compare):
        return _compile_compare(node.field, node.op, node.value, ctx)
    if isinstance(node, InList):
        positive = _balanced(sa.or_, [_compile_compare(node.field, "=", v, ctx) for v in node.values])
        return sa.not_(_two_valued(positive)) if node.negated else positive
    target = node.field
    value = node.value
    if target.kind == "tags":
        positive = _tags_contain(str(value), ctx)
    elif target.kind == "text":
        positive = plain_column(target.root, ctx).ilike(_like_pattern(str(value)), escape="\\")
    else:
        path = target.path if target.kind == "config" else (target.path[0],)
        column = runs.c.config if target.kind == "config" else runs.c.summary
        json_path = _Json(column, path, ctx)
        positive = json_path.has_item(value)
        if isinstance(value, str):
            text_match = json_path.text().ilike(_like_pattern(value), escape="\\")
            positive = sa.or_(text_match, positive)
    return sa.not_(_two_valued(positive)) if node.negated else positive


def sort_columns(keys: list[SortKey], ctx: Context) -> list[tuple[sa.ColumnElement, bool]]:
    """The columns a sort orders by, each with whether descending: the keys' own, then the run's id
    (in the last key's direction) for stable pages. Missing values sort last either way."""
    out: list[tuple[sa.ColumnElement, bool]] = []
    for key in keys:
        target = key.field
        if target.kind == "config":
            json_path = _Json(runs.c.config, target.path, ctx)
            columns = [json_path.number(), json_path.text()]
        elif target.kind == "summary":
            c = summaries.c
            column = (
                sa.select(summary_column(target.agg))
                .where(c.run_pk == runs.c.id, c.key == target.path[0])
                .correlate(runs)
                .scalar_subquery()
            )
            fallback = summary_json(target, ctx)
            columns = [column if fallback is None else sa.func.coalesce(column, fallback)]
        else:
            columns = [plain_column(target.root, ctx)]
        out += [(column, key.descending) for column in columns]
    out.append((runs.c.id, bool(keys) and keys[-1].descending))
    return out


def order_by(keys: list[SortKey], ctx: Context) -> list[sa.ColumnElement]:
    """ORDER BY clauses for sort keys: missing values last, then the run's id for stable pages."""
    return [
        (column.desc() if descending else column.asc()).nulls_last()
        for column, descending in sort_columns(keys, ctx)
    ]
