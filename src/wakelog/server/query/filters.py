"""The run filter language: a tokenizer and recursive-descent parser into a whitelist AST.

A filter such as ``config.lr < 0.01 and summary.eval/acc > 0.9`` becomes a tree of
:class:`Compare`, :class:`InList`, :class:`Contains`, :class:`Not`, :class:`And` and
:class:`Or` nodes over the fields in ``FIELDS`` (plus ``config.<path>`` and
``summary.<key>[.last|.min|.max|.first|.mean|.count]``). Only that tree reaches SQL, compiled
to SQLAlchemy expressions whose values are all bound parameters; no text a user typed is ever
part of a statement. Sort keys (``-summary.acc,created_at``) go through the same field parser.

Grammar (keywords are case-insensitive)::

    filter     := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | "(" or_expr ")" | comparison
    comparison := field ( op literal
                        | ["not"] "in" "(" literal ("," literal)* ")"
                        | ["not"] "contains" literal )
    op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    literal    := string | number | "true" | "false" | "null"
    field      := name ("." segment)*
    segment    := bare | "`" any text, with `` for a backtick "`"

Errors are :class:`FilterError` carrying the position (0-based character offset) and what was
expected there.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from wakelog.store.schema import runs, summaries

MAX_LENGTH = 10_000
MAX_DEPTH = 64
MAX_IN_ITEMS = 1000
MAX_SORT_KEYS = 5
INT64_MAX = 2**63 - 1

#: The plain fields: name -> kind ("text", "time", "number" or "tags").
FIELDS = {
    "id": "text",
    "name": "text",
    "state": "text",
    "group": "text",
    "job_type": "text",
    "notes": "text",
    "host": "text",
    "tags": "tags",
    "created_at": "time",
    "updated_at": "time",
    "heartbeat_at": "time",
    "finished_at": "time",
    "runtime": "number",
    "last_step": "number",
    "exit_code": "number",
}
PATH_ROOTS = ("config", "summary")
AGGREGATES = ("last", "min", "max", "first", "mean", "count")
COMPARE_OPS = ("=", "!=", "<", "<=", ">", ">=")
_KEYWORDS = ("and", "or", "not", "in", "contains", "true", "false", "null", "inf", "infinity")
_BARE = re.compile(r"[^\s()`,=!<>'\".]+")
_BARE_SEGMENT = re.compile(r"^[A-Za-z0-9_/\-:@#%+]+$")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_BAD_PATH_CHARS = re.compile(r"[\"\\\x00-\x1f]")


class FilterError(ValueError):
    """A filter or sort key that does not parse or does not make sense; says where and why."""

    def __init__(self, message: str, position: int, expected: str | None = None) -> None:
        text = f"position {position}: {message}"
        super().__init__(text)
        self.message = message
        self.position = position
        self.expected = expected

    def as_dict(self) -> dict[str, Any]:
        return {"detail": str(self), "position": self.position, "expected": self.expected}


# -- the AST ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    root: str
    path: tuple[str, ...] = ()
    agg: str | None = None
    pos: int = field(default=0, compare=False)

    @property
    def kind(self) -> str:
        return FIELDS.get(self.root, self.root)


Literal = str | int | float | bool | None


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str
    value: Literal
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class InList:
    field: Field
    values: tuple[Literal, ...]
    negated: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Contains:
    field: Field
    value: Literal
    negated: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Compare | InList | Contains | Not | And | Or


@dataclass(frozen=True)
class SortKey:
    field: Field
    descending: bool = False


# -- tokens ----------------------------------------------------------------------------------
@dataclass
class Token:
    kind: str  # "(" ")" "," "op" "string" "number" "keyword" "field" "end"
    value: Any
    pos: int
    text: str


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the filter"
    return repr(token.text)


def tokenize(text: str) -> list[Token]:
    if not isinstance(text, str):
        raise FilterError("a filter must be text", 0)
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in "(),":
            tokens.append(Token(ch, ch, i, ch))
            i += 1
        elif ch in "=!<>":
            two = text[i : i + 2]
            if two in ("==", "!=", "<>", "<=", ">="):
                op = {"==": "=", "<>": "!="}.get(two, two)
                tokens.append(Token("op", op, i, two))
                i += 2
            elif ch == "!":
                raise FilterError("'!' must be followed by '='", i, "!=")
            else:
                tokens.append(Token("op", ch, i, ch))
                i += 1
        elif ch in "\"'":
            value, i = _read_string(text, i)
            tokens.append(Token("string", value, start, text[start:i]))
        elif ch.isdigit() or (ch in "-+." and i + 1 < n and (text[i + 1].isdigit() or text[i + 1] == ".")):
            match = _NUMBER.match(text, i)
            if not match:
                raise FilterError(f"malformed number {text[i : i + 12]!r}", i, "a number")
            i = match.end()
            if i < n and (text[i].isalnum() or text[i] in "_."):
                raise FilterError(f"malformed number {text[start : i + 1]!r}", start, "a number")
            tokens.append(Token("number", _number(match.group()), start, match.group()))
        elif ch in "-+" and text[i + 1 : i + 4].lower() == "inf":
            match = re.compile(r"[-+](inf|infinity)\b", re.IGNORECASE).match(text, i)
            if not match:
                raise FilterError(f"unexpected {ch!r}", i, "a field, a value or '('")
            i = match.end()
            tokens.append(Token("number", -math.inf if ch == "-" else math.inf, start, match.group()))
        elif ch == "`" or _BARE.match(text, i):
            segments, i = _read_path(text, i)
            raw = text[start:i]
            if len(segments) == 1 and not raw.startswith("`") and raw.lower() in _KEYWORDS:
                tokens.append(Token("keyword", raw.lower(), start, raw))
            else:
                tokens.append(Token("field", segments, start, raw))
        else:
            raise FilterError(f"unexpected character {ch!r}", i, "a field, a value, an operator or '('")
    tokens.append(Token("end", None, n, ""))
    return tokens


def _number(text: str) -> int | float:
    if re.fullmatch(r"[-+]?\d{1,19}", text):
        return int(text)
    return float(text)


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _read_string(text: str, i: int) -> tuple[str, int]:
    quote, start = text[i], i
    i += 1
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\":
            if i + 1 >= len(text):
                break
            code = text[i + 1]
            if code == "u":
                digits = text[i + 2 : i + 6]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                    raise FilterError("\\u must be followed by 4 hexadecimal digits", i, "\\uXXXX")
                out.append(chr(int(digits, 16)))
                i += 6
                continue
            if code not in _ESCAPES:
                raise FilterError(f"unknown escape \\{code}", i, "one of \\\" \\' \\\\ \\n \\t \\uXXXX")
            out.append(_ESCAPES[code])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise FilterError("unterminated string", start, f"a closing {quote}")


def _read_path(text: str, i: int) -> tuple[list[str], int]:
    segments: list[str] = []
    while True:
        if i < len(text) and text[i] == "`":
            start = i
            i += 1
            chars: list[str] = []
            while True:
                if i >= len(text):
                    raise FilterError("unterminated `quoted` name", start, "a closing `")
                if text[i] == "`":
                    if text[i + 1 : i + 2] == "`":
                        chars.append("`")
                        i += 2
                        continue
                    i += 1
                    break
                chars.append(text[i])
                i += 1
            segments.append("".join(chars))
        else:
            match = _BARE.match(text, i)
            if not match:
                raise FilterError("expected a name after '.'", i, "a name")
            segments.append(match.group())
            i = match.end()
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return segments, i


# -- the parser ------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.token.kind == "keyword" and self.token.value in words

    def fail(self, expected: str) -> FilterError:
        return FilterError(f"expected {expected}, found {_describe(self.token)}", self.token.pos, expected)

    def parse(self) -> Node:
        node = self.or_expr()
        if self.token.kind != "end":
            raise self.fail("'and', 'or' or the end of the filter")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.at_keyword("or"):
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.unary()]
        while self.at_keyword("and"):
            self.advance()
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(f"the filter nests deeper than {MAX_DEPTH} levels", self.token.pos)
        try:
            if self.at_keyword("not"):
                self.advance()
                return Not(self.unary())
            if self.token.kind == "(":
                self.advance()
                node = self.or_expr()
                if self.token.kind != ")":
                    raise self.fail("')'")
                self.advance()
                return node
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Node:
        if self.token.kind != "field":
            raise self.fail("a field (e.g. state, tags, config.lr, summary.loss), 'not' or '('")
        target = parse_field(self.advance())
        pos = target.pos
        negated = False
        if self.at_keyword("not"):
            self.advance()
            negated = True
            if not self.at_keyword("in", "contains"):
                raise self.fail("'in' or 'contains' after 'not'")
        if self.at_keyword("in"):
            self.advance()
            if self.token.kind != "(":
                raise self.fail("'(' to start the list of values")
            self.advance()
            values = [self.literal()]
            while self.token.kind == ",":
                self.advance()
                values.append(self.literal())
                if len(values) > MAX_IN_ITEMS:
                    raise FilterError(f"an 'in' list holds at most {MAX_IN_ITEMS} values", self.token.pos)
            if self.token.kind != ")":
                raise self.fail("',' or ')'")
            self.advance()
            node: Node = InList(target, tuple(values), negated, pos)
        elif self.at_keyword("contains"):
            self.advance()
            node = Contains(target, self.literal(), negated, pos)
        elif self.token.kind == "op":
            op = self.advance().value
            node = Compare(target, op, self.literal(), pos)
        else:
            raise self.fail("an operator (= != < <= > >= in contains)")
        check(node)
        return node

    def literal(self) -> Literal:
        token = self.token
        if token.kind in ("string", "number"):
            self.advance()
            value = token.value
            if isinstance(value, str) and "\x00" in value:
                raise FilterError("strings may not contain NUL characters", token.pos, "a string")
            if isinstance(value, int) and abs(value) > INT64_MAX:
                value = float(value)
            return value
        if token.kind == "keyword" and token.value in ("true", "false", "null", "inf", "infinity"):
            self.advance()
            return {"true": True, "false": False, "null": None}.get(token.value, math.inf)
        raise self.fail('a value (a "string", a number, true, false or null)')


def parse_field(token: Token) -> Field:
    """A field token's segments as a whitelisted :class:`Field`, or a ``FilterError``."""
    segments: list[str] = token.value
    root = segments[0]
    known = ", ".join([*FIELDS, "config.<key>", "summary.<key>"])
    if token.text.startswith("`") or (root not in FIELDS and root not in PATH_ROOTS):
        raise FilterError(f"unknown field {root!r}", token.pos, f"one of {known}")
    rest = segments[1:]
    if root in FIELDS:
        if rest:
            raise FilterError(f"{root} has no sub-fields", token.pos, root)
        return Field(root, pos=token.pos)
    if not rest or any(not s for s in rest):
        raise FilterError(f"{root} needs a key after the dot, like {root}.lr", token.pos, f"{root}.<key>")
    if root == "config":
        _check_json_path(rest, token.pos)
        return Field("config", tuple(rest), pos=token.pos)
    if any("\x00" in segment for segment in rest):
        raise FilterError("keys may not contain NUL characters", token.pos)
    agg = None
    if len(rest) > 1 and rest[-1] in AGGREGATES and not token.text.endswith("`"):
        agg = rest.pop()
    return Field("summary", (".".join(rest),), agg, pos=token.pos)


def _check_json_path(segments: list[str] | tuple[str, ...], pos: int) -> None:
    for segment in segments:
        if _BAD_PATH_CHARS.search(segment):
            raise FilterError(
                "keys looked up in JSON may not contain double quotes, backslashes or control characters",
                pos,
            )


def parse(text: str) -> Node | None:
    """Parse a filter; an empty (or all-space) filter is ``None``: every run."""
    if isinstance(text, str) and not text.strip():
        return None
    return _Parser(text).parse()


def parse_order(text: str) -> list[SortKey]:
    """``-summary.acc,+created_at`` → sort keys; ``-`` is descending, ``+`` (or none) ascending."""
    keys: list[SortKey] = []
    if not isinstance(text, str) or not text.strip():
        return keys
    if len(text) > 2000:
        raise FilterError("the sort order is longer than 2000 characters", 2000)
    offset = 0
    for part in text.split(","):
        stripped = part.strip()
        pos = offset + (len(part) - len(part.lstrip()))
        offset += len(part) + 1
        if not stripped:
            raise FilterError("empty sort key", pos, "a field, e.g. -summary.acc")
        descending = stripped.startswith("-")
        if stripped[0] in "+-":
            stripped = stripped[1:]
            pos += 1
        tokens = tokenize(stripped)
        if len(tokens) != 2 or tokens[0].kind != "field":
            bad = tokens[1] if tokens[0].kind == "field" else tokens[0]
            raise FilterError(f"expected one field, found {_describe(bad)}", pos + bad.pos, "a field")
        token = tokens[0]
        token.pos += pos
        target = parse_field(token)
        if target.kind == "tags":
            raise FilterError("runs cannot be sorted by tags", token.pos, "another field")
        keys.append(SortKey(target, descending))
    if len(keys) > MAX_SORT_KEYS:
        raise FilterError(f"at most {MAX_SORT_KEYS} sort keys", 0)
    return keys


# -- meaning checks (before any SQL) ---------------------------------------------------------
def _type_name(value: Literal) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"


def check(node: Node) -> None:
    """Refuse comparisons that cannot mean anything, naming the field's position."""
    target: Field = node.field  # type: ignore[union-attr]
    kind = target.kind
    values = node.values if isinstance(node, InList) else (node.value,)  # type: ignore[union-attr]
    op = node.op if isinstance(node, Compare) else None
    where = target.pos
    name = target.root if target.root in FIELDS else f"{target.root}.{'.'.join(target.path)}"
    for value in values:
        if isinstance(value, float) and math.isnan(value):
            raise FilterError("NaN cannot be compared", where)
    uses_json = isinstance(node, Contains) or any(isinstance(v, (str, bool)) for v in values)
    if kind == "summary" and target.agg is None and uses_json:
        _check_json_path(target.path, where)  # compared in the summary JSON, not the table
    if isinstance(node, Contains):
        value = node.value
        if kind in ("time", "number") or (kind == "summary" and target.agg):
            raise FilterError(f"{name} is a number: use = != < <= > >= or in", where, "a comparison")
        if kind in ("text", "tags") and not isinstance(value, str):
            raise FilterError(f"{name} contains … needs a string", where, "a string")
        if value is None:
            raise FilterError("contains needs a value, not null", where, "a value")
        return
    if kind == "tags":
        if op not in (None, "=", "!=") or any(not isinstance(v, str) for v in values):
            raise FilterError("tags supports = != in and contains with strings", where, "a tag string")
        return
    for value in values:
        if value is None:
            if op not in (None, "=", "!="):
                raise FilterError("null can only be compared with = or !=", where, "= or !=")
            continue
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


# -- back to text (canonical: parse(to_text(node)) == node) -----------------------------------
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
    if not force and _BARE_SEGMENT.match(segment) and segment.lower() not in _KEYWORDS:
        return segment
    return "`" + segment.replace("`", "``") + "`"


def field_text(target: Field) -> str:
    if target.root in FIELDS:
        return target.root
    if target.root == "config":
        return "config." + ".".join(_segment_text(s) for s in target.path)
    key = target.path[0]
    parts = key.split(".")
    plain = all(_BARE_SEGMENT.match(p) for p in parts) and (len(parts) == 1 or parts[-1] not in AGGREGATES)
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


# -- to SQL ----------------------------------------------------------------------------------
@dataclass
class Context:
    """What compiling needs besides the AST: the SQL dialect and the heartbeat cut-off."""

    dialect: str = "sqlite"
    crashed_before: float = 0.0  # running runs with an older heartbeat are "crashed"


def state_column(crashed_before: float) -> sa.ColumnElement:
    """The run's state as users see it: ``running`` with a stale heartbeat is ``crashed``."""
    return sa.case(
        (sa.and_(runs.c.state == "running", runs.c.heartbeat_at < crashed_before), sa.literal("crashed")),
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


def _summary_json(target: Field, ctx: Context) -> sa.ColumnElement | None:
    """For ``summary.<key>`` without an aggregate: the number in the run's summary JSON, used
    when the summaries table has no row for the key (a value set with ``run.summary[k] = v``
    rather than logged). ``None`` where the key cannot be looked up in JSON."""
    if target.agg is not None or _BAD_PATH_CHARS.search(target.path[0]):
        return None
    return _Json(runs.c.summary, (target.path[0],), ctx).number()


def _bind_time(value: Literal, target: Field) -> Literal:
    return to_epoch(value, target.pos) if isinstance(value, str) else value


def _compile_compare(target: Field, op: str, value: Literal, ctx: Context) -> sa.ColumnElement:
    kind = target.kind
    if kind == "tags":
        positive = _tags_contain(str(value), ctx)
        return positive if op == "=" else sa.not_(positive)
    if kind == "config":
        return _Json(runs.c.config, target.path, ctx).compare(op, value)
    if kind == "summary":
        key = target.path[0]
        if isinstance(value, (str, bool)) and target.agg is None:
            return _Json(runs.c.summary, (key,), ctx).compare(op, value)
        column = summary_column(target.agg)
        if op == "!=" and value is not None:
            return sa.not_(_two_valued(_compile_compare(target, "=", value, ctx)))
        if value is None:
            present = _summary_exists(key, column.isnot(None))
            fallback = _summary_json(target, ctx)
            if fallback is not None:  # no table row, but a number in the summary JSON
                present = sa.or_(
                    present, sa.and_(sa.not_(_summary_exists(key, sa.true())), fallback.isnot(None))
                )
            return sa.not_(present) if op == "=" else present
        matched = _summary_exists(key, _compare(column, op, value))
        fallback = _summary_json(target, ctx)
        if fallback is not None:
            matched = sa.or_(
                matched, sa.and_(sa.not_(_summary_exists(key, sa.true())), _compare(fallback, op, value))
            )
        return matched
    column = plain_column(target.root, ctx)
    if kind == "time":
        value = _bind_time(value, target)
    if value is None:
        return column.is_(None) if op == "=" else column.isnot(None)
    if op == "!=":
        return column.is_distinct_from(value)
    return _compare(column, op, value)


def compile_filter(node: Node | None, ctx: Context) -> sa.ColumnElement:
    """The AST as a SQLAlchemy boolean expression over ``runs`` (values bound, never inlined)."""
    if node is None:
        return sa.true()
    if isinstance(node, And):
        return sa.and_(*(compile_filter(n, ctx) for n in node.operands))
    if isinstance(node, Or):
        return sa.or_(*(compile_filter(n, ctx) for n in node.operands))
    if isinstance(node, Not):
        return sa.not_(_two_valued(compile_filter(node.operand, ctx)))
    if isinstance(node, Compare):
        return _compile_compare(node.field, node.op, node.value, ctx)
    if isinstance(node, InList):
        positive = sa.or_(*(_compile_compare(node.field, "=", v, ctx) for v in node.values))
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


def order_by(keys: list[SortKey], ctx: Context) -> list[sa.ColumnElement]:
    """ORDER BY clauses for sort keys: missing values last, then the run's id for stable pages."""
    clauses: list[sa.ColumnElement] = []
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
            fallback = _summary_json(target, ctx)
            columns = [column if fallback is None else sa.func.coalesce(column, fallback)]
        else:
            columns = [plain_column(target.root, ctx)]
        for column in columns:
            clauses.append((column.desc() if key.descending else column.asc()).nulls_last())
    clauses.append(runs.c.id.desc() if keys and keys[-1].descending else runs.c.id.asc())
    return clauses
