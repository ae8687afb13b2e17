"""JSON columns are written and read by msgspec on both backends (``store/database.py``), with the
standard library for what msgspec refuses: every value a run's config or summary may hold comes back
as it went, an integer past 64 bits and non-ASCII names included, and a ``NaN`` that the standard
library once wrote on SQLite still reads."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from tests.server.test_rewind_store import Log
from wakelog.store.database import Database, json_dumps, json_loads
from wakelog.store.schema import runs

#: What JSON holds, as Python reads it back (finite floats: NaN and ±Inf are ``json_safe``'s strings).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_every_json_value_comes_back_as_it_went(value: Any) -> None:
    assert json_loads(json_dumps(value)) == value


class Name(str):
    """A ``str`` of its own kind (msgspec encodes only ``str`` itself)."""


def test_what_msgspec_refuses_goes_through_the_standard_library() -> None:
    assert json_loads(json_dumps({"seed": 2**70, -(2**70): 1})) == {"seed": 2**70, str(-(2**70)): 1}
    assert json_loads(json_dumps({1: "a", None: "b"})) == {"1": "a", "null": "b"}  # as json.dumps names them
    assert json_loads(json_dumps({"name": Name("c"), True: 1})) == {"name": "c", "true": 1}
    assert math.isnan(json_loads('{"loss": NaN}')["loss"])  # written by the standard library before
    assert json_dumps({"名称": "值"}) == '{"名称":"值"}'  # not escaped: a third of the bytes


def test_a_runs_config_and_summary_come_back_as_they_went(db: Database) -> None:
    config = {"seed": 2**70, "学习率": 0.001, "layers": [64, 128], "nested": {"a": None, "b": True}}
    log = Log(db)
    log.send(("run", {}), ("config", {"update": config}), ("history", {"_step": 0, "损失": 0.5}))
    with db.read() as conn:
        row = conn.execute(sa.select(runs.c.config, runs.c.summary, runs.c.summary["损失"].as_float())).one()
    assert row.config == config
    assert row.summary["损失"] == 0.5 and row[2] == 0.5  # in SQL too


def test_a_nan_that_an_earlier_version_wrote_on_sqlite_still_reads(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.upgrade()
    try:
        Log(db).send(("run", {}))
        with db.write() as conn:
            conn.execute(sa.text("""UPDATE runs SET config = '{"lr": {"value": NaN}}'"""))
        with db.read() as conn:
            assert math.isnan(conn.execute(sa.select(runs.c.config)).scalar_one()["lr"]["value"])
    finally:
        db.dispose()
