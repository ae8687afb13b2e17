"""GraphQL requests, parsed with graphql-core and dispatched by top-level field to hand-written resolvers.

There is no schema: each operation the client sends is known by its top-level fields
(``viewer``, ``upsertBucket``, …), whose resolvers (``operations.py``) return plain values. A
value may be a ``Field``: a function of the field's arguments, for nested fields that take some
(``project(name:) { run(name:) }``). The answer keeps exactly what the query selected, under its
aliases. A field no resolver knows is refused with a GraphQL error that names the operation and
the field, and counted (``unknown_counts``) and logged, so a new client release's needs show.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    parse,
    value_from_ast_untyped,
)

from wakelog.server.errors import InvalidRequest

_log = logging.getLogger(__name__)
#: A document has at most this many tokens (the client's longest is a few hundred).
MAX_TOKENS = 5000
#: Parsed queries kept (``_parse``): more than the stock client's distinct queries, bounded for any
#: other sender.
PARSED_QUERIES = 256
#: Selections nest at most this deep (the client's deepest is 7).
MAX_DEPTH = 16


@dataclass(frozen=True)
class Field:
    """A value that depends on the arguments of the field it answers."""

    resolve: Callable[[dict[str, Any]], Any]


#: (operation type, top-level field) → resolver(context, arguments) → value.
Resolver = Callable[[Any, dict[str, Any]], Any]


class UnknownOperation(InvalidRequest):
    """A field no resolver answers: the client needs an operation wakelog does not implement."""


class Strict(dict[str, Any]):
    """An object whose every field is known (the runs the public ``wandb.Api`` reads): a field it
    does not hold is refused by name, where a plain ``dict`` answers null (the logging client asks
    for fields it can do without)."""

    def __init__(self, typename: str, fields: dict[str, Any]) -> None:
        super().__init__(fields)
        self.typename = typename


#: Unknown (operation name, field) pairs seen by this server process.
unknown_counts: Counter[tuple[str, str]] = Counter()


def execute(body: dict[str, Any], resolvers: dict[tuple[str, str], Resolver], context: Any) -> dict[str, Any]:
    """Answer one request body ``{"query", "variables", "operationName"}`` as ``{"data": …}``."""
    query, variables = body.get("query"), body.get("variables") or {}
    if not isinstance(query, str):
        raise InvalidRequest("query must be a string holding a GraphQL document")
    if not isinstance(variables, dict):
        raise InvalidRequest("variables must be a JSON object")
    document = _parse(query)
    operation = _operation(document, body.get("operationName"))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    run = _Execution({**_defaults(operation), **variables}, fragments)
    kind = operation.operation.value
    name = operation.name.value if operation.name else "(anonymous)"
    data: dict[str, Any] = {}
    for field in run.fields(operation.selection_set):
        resolver = resolvers.get((kind, field.name.value))
        if resolver is None:
            unknown_counts[(name, field.name.value)] += 1
            _log.warning(
                "wandb client: unsupported GraphQL %s %s (field %s), seen %d times",
                kind,
                name,
                field.name.value,
                unknown_counts[(name, field.name.value)],
            )
            raise UnknownOperation(
                f"wakelog does not implement the GraphQL {kind} {name} (top-level field "
                f"{field.name.value!r}); see docs/wandb-client.md for what the wandb client may use"
            )
        value = resolver(context, run.arguments(field))
        data[_key(field)] = run.project(value, field.selection_set, 1)
    return {"data": data}


@functools.lru_cache(maxsize=PARSED_QUERIES)
def _parse(query: str) -> DocumentNode:
    """The query's document; the client sends the same few dozen queries over and over, so the
    documents are kept (parsing one took about 1 ms of a file-stream request's time; documents are
    only read). A query that does not parse raises, and is not kept."""
    try:
        return parse(query, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError as exc:
        raise InvalidRequest(f"the query is not a GraphQL document: {exc.message}") from None
    except RecursionError:
        raise InvalidRequest("the query nests too deeply") from None


def _operation(document: DocumentNode, wanted: Any) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if wanted is not None and not isinstance(wanted, str):
        raise InvalidRequest("operationName must be a string")
    if wanted:
        operations = [o for o in operations if o.name is not None and o.name.value == wanted]
        if not operations:
            raise InvalidRequest(f"the document has no operation named {wanted!r}")
    if len(operations) != 1:
        raise InvalidRequest("the document must hold one operation, or operationName must pick one")
    if operations[0].operation == OperationType.SUBSCRIPTION:
        raise InvalidRequest("subscriptions are not supported")
    return operations[0]


def _defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    """The default values the operation declares for its variables (``$all: Boolean = false``)."""
    try:
        return {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
    except (GraphQLError, TypeError, ValueError, RecursionError):
        raise InvalidRequest("a variable's default value is not valid") from None


def _defined(value: Any) -> Any:
    """Arguments without those the request left out: a variable it did not send is absent (a
    resolver then tells "not given" from null as the client means it)."""
    if isinstance(value, dict):
        return {k: _defined(v) for k, v in value.items() if v is not Undefined}
    if isinstance(value, list):
        return [None if v is Undefined else _defined(v) for v in value]
    return value


def _key(field: FieldNode) -> str:
    return field.alias.value if field.alias else field.name.value


class _Execution:
    """One request's variables and fragments, for reading arguments and projecting values."""

    def __init__(self, variables: dict[str, Any], fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.variables, self.fragments = variables, fragments

    def arguments(self, field: FieldNode) -> dict[str, Any]:
        try:
            found = {
                a.name.value: value_from_ast_untyped(a.value, self.variables) for a in field.arguments or ()
            }
            arguments: dict[str, Any] = _defined(found)
            return arguments
        except (GraphQLError, TypeError, ValueError, RecursionError):
            raise InvalidRequest(f"the arguments of {field.name.value!r} are not valid") from None

    def fields(self, selections: SelectionSetNode | None, depth: int = 0) -> list[FieldNode]:
        """The fields of a selection set, fragments spread in, ``@include``/``@skip`` applied."""
        if depth > MAX_DEPTH:
            raise InvalidRequest(f"fragments nest deeper than {MAX_DEPTH} levels")
        found: list[FieldNode] = []
        for node in selections.selections if selections else ():
            if not self._wanted(node):
                continue
            if isinstance(node, FieldNode):
                found.append(node)
            elif isinstance(node, InlineFragmentNode):
                found.extend(self.fields(node.selection_set, depth + 1))
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is None:
                    raise InvalidRequest(f"unknown fragment {node.name.value!r}")
                found.extend(self.fields(fragment.selection_set, depth + 1))
        return found

    def _wanted(self, node: Any) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in ("include", "skip"):
                continue
            condition = {
                a.name.value: value_from_ast_untyped(a.value, self.variables)
                for a in directive.arguments or ()
            }.get("if")
            if not isinstance(condition, bool):
                raise InvalidRequest(f"@{directive.name.value} needs a boolean if")
            if condition != (directive.name.value == "include"):
                return False
        return True

    def project(self, value: Any, selections: SelectionSetNode | None, depth: int) -> Any:
        """``value`` cut down to what ``selections`` asks for."""
        if depth > MAX_DEPTH:
            raise InvalidRequest(f"the query nests deeper than {MAX_DEPTH} levels")
        if selections is None or value is None:
            return value
        if isinstance(value, list):
            return [self.project(item, selections, depth) for item in value]
        if not isinstance(value, dict):
            raise InvalidRequest("a selection set was given for a scalar field")
        out: dict[str, Any] = {}
        for field in self.fields(selections):
            name = field.name.value
            if name == "__typename":
                typename = value.typename if isinstance(value, Strict) else "Object"
                out[_key(field)] = value.get("__typename", typename)
                continue
            if isinstance(value, Strict) and name not in value:
                unknown_counts[(value.typename, name)] += 1
                _log.warning("wandb client: unsupported GraphQL field %s.%s", value.typename, name)
                raise UnknownOperation(
                    f"wakelog does not implement the GraphQL field {name!r} of {value.typename}; "
                    "see docs/wandb-client.md for what wandb.Api may read"
                )
            item = value.get(name)
            if isinstance(item, Field):
                item = item.resolve(self.arguments(field))
            out[_key(field)] = self.project(item, field.selection_set, depth + 1)
        return out
