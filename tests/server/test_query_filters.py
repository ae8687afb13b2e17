"""The run filter language: parsing, errors, the round trip, and SQL that binds every value.

No server needed: filters are parsed and compiled here and executed against an in-memory SQLite
database with the real schema; the HTTP side is in ``test_query_runs.py``.
"""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from wakelog.server.query import filters as f
from wakelog.store.schema import metadata, runs


def parsed(text: str) -> f.Node:
    node = f.parse(text)
    assert node is not None
    return node


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("config.lr < 0.01 and summary.eval/acc > 0.9", "config.lr < 0.01 and summary.eval/acc > 0.9"),
        ("state == 'finished'", 'state = "finished"'),
        ('state <> "running"', 'state != "running"'),
        ("NOT (tags contains \"a\" OR group = 'g')", 'not (tags contains "a" or group = "g")'),
        ("summary.loss.min <= 1e-3", "summary.loss.min <= 0.001"),
        ("config.opt.name in ('adam', \"sgd\", null)", 'config.opt.name in ("adam", "sgd", null)'),
        ("name not contains 'bert'", 'name not contains "bert"'),
        ("config.`odd key`.x = true", "config.`odd key`.x = true"),
        ("summary.`a.min`.max > -inf", "summary.`a.min`.max > -inf"),
        ('created_at >= "2026-01-31T00:00:00Z"', 'created_at >= "2026-01-31T00:00:00Z"'),
        (
            "runtime > 60 and last_step >= 1000 or exit_code != 0",
            "(runtime > 60 and last_step >= 1000) or exit_code != 0",
        ),
    ],
)
def test_examples_parse_to_their_canonical_text(text: str, canonical: str) -> None:
    node = parsed(text)
    assert f.to_text(node) == canonical
    assert f.parse(canonical) == node


def test_precedence_and_fields() -> None:
    node = parsed("state = 'x' or state = 'y' and tags contains 'z'")
    assert isinstance(node, f.Or) and isinstance(node.operands[1], f.And)
    field = parsed("summary.eval.acc.max > 1").field  # type: ignore[union-attr]
    assert (field.root, field.path, field.agg) == ("summary", ("eval.acc",), "max")
    field = parsed("summary.min > 1").field  # type: ignore[union-attr]
    assert (field.path, field.agg) == (("min",), None)
    field = parsed("config.optimizer.lr > 1").field  # type: ignore[union-attr]
    assert field.path == ("optimizer", "lr")
    assert f.parse("   ") is None


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("config.lr <", 11, "a value"),
        ("config.lr < 0.01 and", 20, "a field"),
        ("(state = 'x'", 12, "')'"),
        ("state = 'a' 'b'", 12, "'and', 'or'"),
        ("foo = 1", 0, "one of id, name"),
        ("state = 3", 0, "a string"),
        ("tags > 'a'", 0, "a tag string"),
        ("config..lr = 1", 7, "a name"),
        ("state = 'unterminated", 8, "a closing '"),
        ("created_at > 'yesterday'", 0, "ISO"),
        ("x' or 1=1 --", 1, "a closing '"),
        ("state ! 'x'", 6, "!="),
        ("summary.acc.max = 'x'", 0, "a number"),
        ("config.lr in ()", 14, "a value"),
    ],
)
def test_errors_say_where_and_what_was_expected(text: str, position: int, expected: str) -> None:
    with pytest.raises(f.FilterError) as info:
        f.parse(text)
    assert info.value.position == position
    assert expected in (info.value.expected or "")
    assert str(info.value).startswith(f"position {position}:")


def test_sort_keys() -> None:
    keys = f.parse_order(" -summary.acc , +created_at,config.lr")
    assert [(k.field.root, k.descending) for k in keys] == [
        ("summary", True),
        ("created_at", False),
        ("config", False),
    ]
    for bad, position in [("-", 1), ("summary.acc x", 12), ("tags", 0), ("foo", 0), ("state,,name", 6)]:
        with pytest.raises(f.FilterError) as info:
            f.parse_order(bad)
        assert info.value.position == position, bad


# -- generated filters --------------------------------------------------------------------------
_names = st.text(
    st.characters(codec="utf-8", exclude_characters='"\\', exclude_categories=("Cc", "Cs")),
    min_size=1,
    max_size=8,
)
_strings = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12
)
_numbers = st.one_of(
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=False, allow_infinity=True, width=64),
)


@st.composite
def fields(draw: st.DrawFn) -> f.Field:
    kind = draw(st.sampled_from(["plain", "config", "summary"]))
    if kind == "plain":
        return f.Field(draw(st.sampled_from(sorted(f.FIELDS))))
    if kind == "config":
        return f.Field("config", tuple(draw(st.lists(_names, min_size=1, max_size=3))))
    return f.Field("summary", (draw(_names),), draw(st.one_of(st.none(), st.sampled_from(f.AGGREGATES))))


def _value_for(draw: st.DrawFn, field: f.Field, op: str | None) -> object:
    kind = field.kind
    if kind in ("text", "tags"):
        return draw(_strings)
    if kind == "time":
        return draw(st.one_of(_numbers, st.sampled_from(["2026-01-31", "2026-01-31T10:00:00+08:00"])))
    if kind == "number" or (kind == "summary" and field.agg):
        return draw(_numbers)
    if op in (None, "=", "!="):
        return draw(st.one_of(_numbers, _strings, st.booleans(), st.none()))
    return draw(st.one_of(_numbers, _strings))


@st.composite
def comparisons(draw: st.DrawFn) -> f.Node:
    field = draw(fields())
    shape = draw(st.sampled_from(["compare", "in", "contains"]))
    if (
        shape == "contains"
        and field.kind not in ("time", "number")
        and not (field.kind == "summary" and field.agg)
    ):
        value = draw(_strings) if field.kind in ("text", "tags") else draw(st.one_of(_strings, _numbers))
        return f.Contains(field, value, draw(st.booleans()))
    if shape == "in":
        values = tuple(_value_for(draw, field, None) for _ in range(draw(st.integers(1, 3))))
        return f.InList(field, values, draw(st.booleans()))
    ops = ("=", "!=") if field.kind == "tags" else f.COMPARE_OPS
    op = draw(st.sampled_from(ops))
    value = _value_for(draw, field, op)
    if value is None and op not in ("=", "!="):
        op = "="
    return f.Compare(field, op, value)


def trees() -> st.SearchStrategy[f.Node]:
    return st.recursive(
        comparisons(),
        lambda inner: st.one_of(
            st.builds(f.Not, inner),
            st.builds(f.And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
            st.builds(f.Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
        ),
        max_leaves=6,
    )


@pytest.fixture(scope="module")
def engine() -> sa.Engine:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO entities (id, name, created_at) VALUES (1, 'e', 0)"))
        conn.execute(
            sa.text(
                "INSERT INTO projects (id, entity_id, name, created_at, updated_at) VALUES (1, 1, 'p', 0, 0)"
            )
        )
        conn.execute(
            runs.insert(),
            [
                {
                    "project_id": 1,
                    "run_id": f"r{i}",
                    "name": f"run {i}",
                    "state": "running" if i % 2 else "finished",
                    "tags": ["a", "b"][: i % 3],
                    "config": {
                        "lr": 0.1 * i,
                        "opt": {"name": "adam"},
                        "flag": bool(i % 2),
                        "odd key": {"x": "NaN"},
                    },
                    "summary": {"acc": i / 10},
                    "run_metadata": {},
                    "metric_defs": {},
                    "created_at": 1000.0 + i,
                    "updated_at": 1000.0 + i,
                    "heartbeat_at": 1000.0 + i,
                    "last_step": i,
                    "last_seq": i,
                }
                for i in range(4)
            ],
        )
    return engine


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trees())
def test_generated_filters_round_trip_and_run(engine: sa.Engine, node: f.Node) -> None:
    for part in _leaves(node):
        f.check(part)  # generated comparisons are the meaningful ones
    text = f.to_text(node)
    assert f.parse(text) == node, text
    ctx = f.Context("sqlite", crashed_before=1001.5)
    with engine.connect() as conn:
        conn.execute(
            sa.select(runs.c.id).where(f.compile_filter(node, ctx)).order_by(*f.order_by([], ctx))
        ).all()
    f.compile_filter(node, f.Context("postgresql")).compile(dialect=postgresql.dialect())


def _leaves(node: f.Node) -> list[f.Node]:
    if isinstance(node, (f.And, f.Or)):
        return [leaf for child in node.operands for leaf in _leaves(child)]
    if isinstance(node, f.Not):
        return _leaves(node.operand)
    return [node]


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_garbage_never_raises_anything_but_a_filter_error(text: str) -> None:
    for parse in (f.parse, f.parse_order):
        try:
            parse(text)
        except f.FilterError as exc:
            assert 0 <= exc.position <= len(text) + 1
            assert str(exc)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="()'\"`.,=!<>-+ 0123456789eEaAnNdDoOrRtTcsumyfgl_/\\;", max_size=40))
def test_operator_soup_never_raises_anything_but_a_filter_error(text: str) -> None:
    try:
        f.parse(text)
    except f.FilterError:
        pass


INJECTIONS = [
    "x'; DROP TABLE runs; --",
    '" OR 1=1 --',
    "') UNION SELECT key_hash FROM api_keys --",
    '$."lr"',
    "%_%",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_sql_metacharacters_are_bound_never_spliced(engine: sa.Engine, payload: str) -> None:
    quoted = '"' + payload.replace("\\", "\\\\").replace('"', '\\"') + '"'
    key = "`" + payload.replace("`", "``") + "`"
    texts = [
        f"name = {quoted}",
        f"tags contains {quoted}",
        f"name contains {quoted}",
        f"config.lr = {quoted}",
        f"summary.{key} > 1",
        f"summary.acc in ({quoted}, 1)",
    ]
    if '"' not in payload and "\\" not in payload:
        texts.append(f"config.{key} != null")
    ctx = f.Context("sqlite", 0.0)
    for text in texts:
        node = parsed(text)
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            sql = str(f.compile_filter(node, f.Context(dialect.name)).compile(dialect=dialect))
            assert payload not in sql, (text, sql)
            assert "DROP" not in sql.upper() and "UNION" not in sql.upper()
        with engine.connect() as conn:
            assert conn.execute(sa.select(runs.c.id).where(f.compile_filter(node, ctx))).all() == []
    with engine.connect() as conn:  # still there
        assert conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar() == 4


def test_filters_select_the_right_rows(engine: sa.Engine) -> None:
    ctx = f.Context("sqlite", crashed_before=1001.5)

    def ids(text: str) -> list[str]:
        with engine.connect() as conn:
            query = sa.select(runs.c.run_id).where(f.compile_filter(f.parse(text), ctx)).order_by(runs.c.id)
            return [row.run_id for row in conn.execute(query)]

    assert ids("config.lr < 0.15") == ["r0", "r1"]
    assert ids("config.flag = true") == ["r1", "r3"]
    assert ids("config.opt.name = 'adam'") == ["r0", "r1", "r2", "r3"]
    assert ids("config.missing = null") == ["r0", "r1", "r2", "r3"]
    assert ids("config.lr != 0.1") == ["r0", "r2", "r3"]
    assert ids("not config.missing > 1") == ["r0", "r1", "r2", "r3"]
    assert ids("tags contains 'b'") == ["r2"]
    assert ids("tags != 'a'") == ["r0", "r3"]
    assert ids("state = 'crashed'") == ["r1"]  # running, heartbeat 1001 < 1001.5
    assert ids("state = 'running'") == ["r3"]
    assert ids("name contains 'RUN 2'") == ["r2"]  # case-insensitive
    assert ids("name contains '%'") == []  # LIKE wildcards are escaped
    assert ids("created_at >= '1970-01-01T00:16:42Z'") == ["r2", "r3"]
    assert ids("summary.status = 'x' or last_step in (0, 3)") == ["r0", "r3"]
    assert math.isfinite(ctx.crashed_before)
