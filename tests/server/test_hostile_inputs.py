"""Hostile inputs answer 4xx with a code, never 5xx: deep nesting, ``in`` lists at their cap, many
repeated shortcut parameters, lone surrogates — and hypothesis-generated MessagePack ingest
batches and filter expressions against the in-process app (bounded: well under a minute).
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import InProcessServer
from wakelog.server.errors import ErrorCode
from wakelog.server.query.filters import MAX_IN_ITEMS
from wakelog.server.routes.runs import MAX_SHORTCUT_VALUES

CODES = {code.value for code in ErrorCode}
RUNS = "/api/v1/projects/admin/proj/runs"
RUN = "/api/v1/runs/admin/proj/run1"
#: Examples per fuzz test; WAKELOG_TEST_FUZZ_EXAMPLES=2000 digs deeper.
EXAMPLES = int(os.environ.get("WAKELOG_TEST_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("WAKELOG_TEST_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _records(*records: list[Any]) -> bytes:
    return msgspec.msgpack.encode(list(records))


def _prepared(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        config = {"update": {"x": 1, "name": "a"}}
        batch = _records([0, "run", 1.0, {"tags": ["t"]}], [1, "config", 1.0, config])
        assert client.post(f"{RUN}/records", content=batch).status_code == 200
        yield client


@pytest.fixture
def client(server: InProcessServer) -> Iterator[httpx.Client]:
    """On every backend."""
    yield from _prepared(server)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """On SQLite only, to keep the fuzzing bounded."""
    server = InProcessServer(tmp_path_factory.mktemp("fuzz") / "data")
    try:
        yield from _prepared(server)
    finally:
        server.close()


def assert_4xx(answer: httpx.Response, status: int | None = None, code: str | None = None) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert answer.json()["code"] in CODES
    if status is not None:
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text[:300]


# -- L1 ---------------------------------------------------------------------------------------
def test_in_lists_at_their_cap_are_answered(client: httpx.Client) -> None:
    """SQLite refuses expressions 1000 deep, and parses a chain of ORs as one: compiled balanced."""
    numbers = ",".join(str(i) for i in range(MAX_IN_ITEMS))
    found = client.get(RUNS, params={"filter": f"config.x in ({numbers})"})
    assert [run["id"] for run in found.json()["runs"]] == ["run1"], found.text[:300]
    chained = " or ".join(f"config.x in ({','.join(str(i) for i in range(250))})" for _ in range(5))
    assert client.get(RUNS, params={"filter": chained}).status_code == 200


def test_repeated_shortcut_parameters_are_capped(client: httpx.Client) -> None:
    for name in ("state", "tag"):
        within = client.get(RUNS, params=[(name, f"v{i}") for i in range(MAX_SHORTCUT_VALUES)])
        assert within.status_code == 200, within.text[:300]
        assert_4xx(client.get(RUNS, params=[(name, f"v{i}") for i in range(3000)]), 400, "invalid_request")


def test_lone_surrogates_are_refused(client: httpx.Client) -> None:
    for condition in ('config.name = "\\ud800"', 'tags = "a\\udc00"', 'name contains "\\ud83d"'):
        assert_4xx(client.get(RUNS, params={"filter": condition}), 400, "invalid_filter")
    paired = client.get(RUNS, params={"filter": 'config.name = "\\ud83d\\ude00"'})  # a pair is one character
    assert paired.status_code == 200
    body = json.dumps({"runs": ["\ud800"], "keys": ["loss"]})
    answer = client.post(
        "/api/v1/projects/admin/proj/history", content=body, headers={"Content-Type": "application/json"}
    )
    assert_4xx(answer, 422, "validation_failed")
    layout = json.dumps({"title": "a\udfff"})
    assert_4xx(client.put("/api/v1/projects/admin/proj/workspace", content=layout), 400, "invalid_request")


def test_deep_nesting_is_refused(client: httpx.Client) -> None:
    deep = b"\x91\x94\x02\xa6config\xcb" + msgspec.msgpack.encode(1.0)[1:] + b"\x81\xa6update\x81\xa1z"
    assert_4xx(
        client.post(f"{RUN}/records", content=deep + b"\x91" * 100_000 + b"\x01"), 400, "invalid_request"
    )
    for layout in ("[" * 5000 + "]" * 5000, '{"a": ' + "[" * 900 + "]" * 900 + "}"):
        assert_4xx(
            client.put("/api/v1/projects/admin/proj/workspace", content=layout), 400, "invalid_request"
        )
    assert_4xx(
        client.get(RUNS, params={"filter": "(" * 500 + "state = 'x'" + ")" * 500}), 400, "invalid_filter"
    )


# -- hypothesis: ingest batches -----------------------------------------------------------------
_TYPES = [
    "run",
    "config",
    "history",
    "summary",
    "metric",
    "stats",
    "output",
    "files",
    "metadata",
    "alert",
    "exit",
]
_KEYS = [
    "_step",
    "_runtime",
    "_timestamp",
    "loss",
    "a/b",
    "update",
    "remove",
    "files",
    "name",
    "lines",
    "stream",
]
_KEYS += ["exit_code", "state", "summary", "step_metric", "glob", "policy", "\x00", "", "x" * 300]
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(_KEYS), st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=30,
)
_record = st.tuples(
    st.one_of(
        st.integers(min_value=-2, max_value=40),
        st.integers(min_value=2**62, max_value=2**64 - 1),
        st.floats(),
        st.text(max_size=3),
    ),
    st.one_of(st.sampled_from(_TYPES), st.text(max_size=8)),
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(2**63), max_value=2**63)
    ),
    st.one_of(st.dictionaries(st.sampled_from(_KEYS), _values, max_size=6), _values),
).map(list)


def _hostile_bytes(batch: bytes, cut: int, splice: bytes) -> bytes:
    """A batch with raw MessagePack no encoder makes: cut short, or with deep nesting or a
    surrogate's UTF-8 bytes spliced in."""
    return batch[: max(cut, 1)] + splice + batch[max(cut, 1) :] if splice else batch[:cut]


_splices = st.sampled_from(
    [b"", b"\x91" * 5000 + b"\x01", b"\xa3\xed\xa0\x80", b"\xdd\xff\xff\xff\xff", b"\xc1"]
)


@given(
    records=st.lists(_record, max_size=8),
    run=st.sampled_from(["run1", "fuzz1", "fuzz2"]),
    raw=st.booleans(),
    cut=st.integers(min_value=0, max_value=200),
    splice=_splices,
)
@FUZZ
def test_fuzzed_ingest_batches_never_fail_the_server(
    fuzz_client: httpx.Client, records: list[list[Any]], run: str, raw: bool, cut: int, splice: bytes
) -> None:
    body = msgspec.msgpack.encode(records)
    if raw:
        body = _hostile_bytes(body, cut, splice)
    answer = fuzz_client.post(f"/api/v1/runs/admin/proj/{run}/records", content=body)
    if answer.status_code >= 400:
        assert_4xx(answer)


# -- hypothesis: filter expressions -------------------------------------------------------------
_fields = st.sampled_from(
    [
        "state",
        "tags",
        "name",
        "group",
        "job_type",
        "created_at",
        "runtime",
        "config.x",
        "config.name",
        "config.a.b",
        "summary.loss",
        "summary.max(loss)",
        "config.`we ird`",
        "summary.`\\ud800`",
        "id",
        "notes",
        "nope.x",
    ]
)
_literals = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False).map(repr),
    st.sampled_from(["inf", "-inf", "+infinity", "null", "true", "false", "1e999", "-0", ".5", "1_0"]),
    st.text(alphabet=string.printable + "é\u2028", max_size=8).map(json.dumps),
    st.sampled_from(
        ['"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', "'it''s'", '"\\x"', '"\\u12"', "'2024-01-01'"]
    ),
)
_ops = st.sampled_from(["=", "==", "!=", "<>", "<", "<=", ">", ">=", "contains", "like", "~", "in", "not in"])


def _comparison(parts: tuple[str, str, list[str]]) -> str:
    field, op, values = parts
    if op in ("in", "not in"):
        return f"{field} {op} ({', '.join(values)})"
    return f"{field} {op} {values[0] if values else 'null'}"


_comparisons = st.tuples(_fields, _ops, st.lists(_literals, max_size=4)).map(_comparison)
_filters = st.recursive(
    _comparisons,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" and ", " or ", " AND ", " ", ""]), inner).map("".join),
        inner.map(lambda text: f"not {text}"),
        inner.map(lambda text: f"({text})"),
    ),
    max_leaves=12,
)
_orders = st.lists(st.tuples(st.sampled_from(["", "-", "+"]), _fields).map("".join), max_size=7).map(",".join)


@given(
    condition=st.one_of(_filters, st.text(max_size=40)),
    order=st.one_of(st.none(), _orders),
    states=st.lists(st.sampled_from(["running", "finished", "\x00", "é"]), max_size=3),
)
@FUZZ
def test_fuzzed_filters_never_fail_the_server(
    fuzz_client: httpx.Client, condition: str, order: str | None, states: list[str]
) -> None:
    params: list[tuple[str, str]] = [("filter", condition)] + [("state", s) for s in states]
    if order is not None:
        params.append(("order", order))
    answer = fuzz_client.get(RUNS, params=params)
    if answer.status_code >= 400:
        assert_4xx(answer)
