"""The filter language's recursive-descent parser: tokens to a whitelisted AST, and sort keys."""

from __future__ import annotations

import math

from wakelog.server.query.filters.checks import check, check_json_path
from wakelog.server.query.filters.lexer import Token, describe, tokenize
from wakelog.server.query.filters.syntax import (
    AGGREGATES,
    FIELDS,
    INT64_MAX,
    MAX_DEPTH,
    MAX_IN_ITEMS,
    MAX_SORT_KEYS,
    PATH_ROOTS,
    And,
    Compare,
    Contains,
    Field,
    FilterError,
    InList,
    Literal,
    Node,
    Not,
    Or,
    SortKey,
)


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
        return FilterError(f"expected {expected}, found {describe(self.token)}", self.token.pos, expected)

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
        negated = self.negation()
        node: Node
        if self.at_keyword("in"):
            self.advance()
            node = InList(target, self.value_list(), negated, pos)
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

    def negation(self) -> bool:
        """Whether a ``not`` comes before ``in`` or ``contains`` (and consume it)."""
        if not self.at_keyword("not"):
            return False
        self.advance()
        if not self.at_keyword("in", "contains"):
            raise self.fail("'in' or 'contains' after 'not'")
        return True

    def value_list(self) -> tuple[Literal, ...]:
        """``( literal, … )`` after ``in``."""
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
        return tuple(values)

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
        check_json_path(rest, token.pos)
        return Field("config", tuple(rest), pos=token.pos)
    if any("\x00" in segment for segment in rest):
        raise FilterError("keys may not contain NUL characters", token.pos)
    agg = None
    if len(rest) > 1 and rest[-1] in AGGREGATES and not token.text.endswith("`"):
        agg = rest.pop()
    return Field("summary", (".".join(rest),), agg, pos=token.pos)


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
            raise FilterError(f"expected one field, found {describe(bad)}", pos + bad.pos, "a field")
        token = tokens[0]
        token.pos += pos
        target = parse_field(token)
        if target.kind == "tags":
            raise FilterError("runs cannot be sorted by tags", token.pos, "another field")
        keys.append(SortKey(target, descending))
    if len(keys) > MAX_SORT_KEYS:
        raise FilterError(f"at most {MAX_SORT_KEYS} sort keys", 0)
    return keys
