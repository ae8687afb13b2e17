"""The filter language's vocabulary: its fields, limits, errors and the AST the parser builds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from wakelog.server.errors import InvalidFilter

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
#: What ``define_metric(summary=…)`` keeps of a metric: the run's summary then holds
#: ``{"acc": {"max": 0.9}}`` and wandb (and the web app) name that value ``acc.max``.
SUMMARY_VIEWS = ("min", "max", "mean", "first", "last", "best")
COMPARE_OPS = ("=", "!=", "<", "<=", ">", ">=")
KEYWORDS = ("and", "or", "not", "in", "contains", "true", "false", "null", "inf", "infinity")
BARE = re.compile(r"[^\s()`,=!<>'\".]+")
BARE_SEGMENT = re.compile(r"^[A-Za-z0-9_/\-:@#%+]+$")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
BAD_PATH_CHARS = re.compile(r"[\"\\\x00-\x1f]")


class FilterError(InvalidFilter, ValueError):
    """A filter or sort key that does not parse or does not make sense; says where and why.

    Its answer (400 ``invalid_filter``) says ``bad filter at position N: …`` (``bad order`` for a
    sort order, see ``about``) and carries ``position`` and ``expected``.
    """

    what = "filter"

    def __init__(self, message: str, position: int, expected: str | None = None) -> None:
        super().__init__(f"position {position}: {message}")
        self.message = message
        self.position = position
        self.expected = expected

    def about(self, what: str) -> FilterError:
        """The same error, answered as a bad ``what`` (``"order"``)."""
        error = FilterError(self.message, self.position, self.expected)
        error.what = what
        return error

    def body(self) -> dict[str, Any]:
        detail = f"bad {self.what} at {self}"
        return {
            "detail": detail,
            "code": self.code.value,
            "position": self.position,
            "expected": self.expected,
        }


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
