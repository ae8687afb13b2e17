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

One module per stage: ``syntax`` (fields, limits, the AST, ``FilterError``), ``lexer`` (text to
tokens), ``parser`` (tokens to the AST), ``checks`` (what a comparison may mean), ``text`` (the AST
back to text) and ``compiler`` (the AST to SQL). This package re-exports what the rest of the server
uses.
"""

from wakelog.server.query.filters.checks import check, to_epoch
from wakelog.server.query.filters.compiler import (
    Context,
    compile_filter,
    order_by,
    plain_column,
    runtime_column,
    sort_columns,
    state_column,
    summary_column,
    summary_json,
)
from wakelog.server.query.filters.lexer import Token, tokenize
from wakelog.server.query.filters.parser import parse, parse_field, parse_order
from wakelog.server.query.filters.syntax import (
    AGGREGATES,
    COMPARE_OPS,
    FIELDS,
    MAX_DEPTH,
    MAX_IN_ITEMS,
    MAX_LENGTH,
    MAX_SORT_KEYS,
    PATH_ROOTS,
    SUMMARY_VIEWS,
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
from wakelog.server.query.filters.text import field_text, literal_text, to_text

__all__ = [
    "AGGREGATES",
    "COMPARE_OPS",
    "FIELDS",
    "MAX_DEPTH",
    "MAX_IN_ITEMS",
    "MAX_LENGTH",
    "MAX_SORT_KEYS",
    "PATH_ROOTS",
    "SUMMARY_VIEWS",
    "And",
    "Compare",
    "Contains",
    "Context",
    "Field",
    "FilterError",
    "InList",
    "Literal",
    "Node",
    "Not",
    "Or",
    "SortKey",
    "Token",
    "check",
    "compile_filter",
    "field_text",
    "literal_text",
    "order_by",
    "parse",
    "parse_field",
    "parse_order",
    "plain_column",
    "runtime_column",
    "sort_columns",
    "state_column",
    "summary_column",
    "summary_json",
    "to_epoch",
    "to_text",
    "tokenize",
]
