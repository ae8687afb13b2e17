"""A batch's columns sent to PostgreSQL as binary arrays written by numpy (``store/pg_arrays.py``),
through the driver's statements (``store/driver.py``) as ingest sends them: every value of every
element type comes back from PostgreSQL as it went, NULLs and extremes included, and a value the
column cannot hold is refused, never rounded or wrapped."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects.postgresql import ARRAY

from tests.server.conftest import fresh_database
from wakelog.store import pg_arrays
from wakelog.store.database import Database
from wakelog.store.driver import fetch_all

#: What PostgreSQL's text holds: characters of UTF-8 but NUL (a lone surrogate has no UTF-8 form;
#: psycopg's own text dumper refuses it too).
_STORABLE = st.characters(codec="utf-8", exclude_characters="\x00")
TYPES = {
    "SMALLINT": (sa.SmallInteger(), st.integers(-(2**15), 2**15 - 1)),
    "INTEGER": (sa.Integer(), st.integers(-(2**31), 2**31 - 1)),
    "BIGINT": (sa.BigInteger(), st.integers(-(2**63), 2**63 - 1)),
    "FLOAT": (sa.Float(), st.floats(allow_nan=True) | st.integers(-(2**53), 2**53) | st.booleans()),
    "VARCHAR(256)": (sa.String(256), st.text(_STORABLE, max_size=256)),
    "TEXT": (sa.Text(), st.text(_STORABLE)),
}


def unnested(column_type: sa.types.TypeEngine[Any]) -> sa.Select[Any]:
    """The rows of ``:v`` cast to an array of ``column_type``, in order."""
    array = sa.cast(sa.bindparam("v"), ARRAY(column_type))
    values = sa.func.unnest(array).table_valued("value", with_ordinality="n").render_derived()
    return sa.select(values.c.value).order_by(values.c.n)


#: Built once, as the driver's statements must be.
STATEMENTS = {name: unnested(column_type) for name, (column_type, _) in TYPES.items()}
BOOLEANS = unnested(sa.Boolean())


@pytest.fixture(scope="module")
def pg(postgres_url: str) -> Iterator[Database]:
    database = Database(fresh_database(postgres_url, "arrays"))
    yield database
    database.dispose()


def round_trip(db: Database, statement: sa.Select[Any], values: list[Any]) -> list[Any]:
    with db.read() as conn:
        return [value for (value,) in fetch_all(conn, statement, {"v": values})]


def same(sent: list[Any], back: list[Any]) -> bool:
    return len(sent) == len(back) and all(
        (a is None and b is None) or (isinstance(a, float) and math.isnan(a) and math.isnan(b)) or a == b
        for a, b in zip(sent, back, strict=True)
    )


def test_every_array_a_live_batch_sends_is_written_here() -> None:
    """The arrays of the ingest statements that take them (the summaries' upsert, the tails and
    the open rows) are all of a type written here: none is left to psycopg's element-by-element
    dump."""
    from sqlalchemy.dialects import postgresql

    from wakelog.store.driver import _ARRAY_PARAMETER, _compiled
    from wakelog.store.ingest._series import OPEN_ROWS_UNNESTED, TAILS_UNNESTED
    from wakelog.store.ingest._summaries import _merged
    from wakelog.store.schema import summaries
    from wakelog.store.upsert import _merging_unnested

    upsert = _merging_unnested(summaries, tuple(summaries.c.keys()), ("run_pk", "key"), _merged)
    dialect = postgresql.psycopg.dialect()
    for statement in (upsert, TAILS_UNNESTED, OPEN_ROWS_UNNESTED):
        compiled = _compiled(dialect, statement)
        cast = _ARRAY_PARAMETER.findall(statement.compile(dialect=dialect).string)
        assert cast, statement
        assert [name for name, _ in compiled.arrays] == [name for name, _ in cast]


@pytest.mark.parametrize("sql_type", TYPES)
def test_every_value_of_every_type_comes_back_as_it_went(pg: Database, sql_type: str) -> None:
    values = TYPES[sql_type][1]

    @given(st.lists(values | st.none(), max_size=60))
    def check(sent: list[Any]) -> None:
        assert same(sent, round_trip(pg, STATEMENTS[sql_type], sent))

    check()


def test_extremes_and_awkward_text_come_back(pg: Database) -> None:
    cases: dict[str, list[Any]] = {
        "SMALLINT": [-(2**15), 2**15 - 1, 0, True],
        "BIGINT": [-(2**63), 2**63 - 1, None],
        "FLOAT": [math.inf, -math.inf, 5e-324, -0.0, 2**53 + 1, None],
        "VARCHAR(256)": ["", "日本語", "tab\there", "quote'\"{},\\", "😀" * 64, None],
        "TEXT": [],
    }
    for sql_type, sent in cases.items():
        back = round_trip(pg, STATEMENTS[sql_type], sent)
        assert same([float(v) if sql_type == "FLOAT" and v is not None else v for v in sent], back), sql_type


@pytest.mark.parametrize(
    ("sql_type", "values", "error"),
    [
        ("SMALLINT", [1, 2**15], OverflowError),
        ("SMALLINT", [None, 2**15], struct.error),
        ("INTEGER", [-(2**31) - 1], OverflowError),
        ("BIGINT", [2**63], OverflowError),
        ("BIGINT", [1, 1.5], struct.error),  # never rounded into an integer
        ("INTEGER", ["7"], struct.error),  # never read as a number
        ("FLOAT", [1.0, "1.0"], struct.error),
        ("TEXT", ["a", 1], TypeError),
    ],
)
def test_a_value_the_column_cannot_hold_is_refused_not_wrapped(
    pg: Database, sql_type: str, values: list[Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        round_trip(pg, STATEMENTS[sql_type], values)


def test_a_type_not_written_here_is_left_to_psycopg(pg: Database) -> None:
    assert pg_arrays.element_of("BOOLEAN") is None
    assert round_trip(pg, BOOLEANS, [True, None, False]) == [True, None, False]
