"""Hot statements run on the driver's own cursor (``store/driver.py``), on both backends: parameters
by name whatever order the driver wants them in, values the statement binds itself, PostgreSQL's
binary results, a row typed as SQLAlchemy types it, and the driver's errors as SQLAlchemy's, taking the
transaction's other writes back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.server.test_rewind_store import Log
from wakelog.store.database import Database, binary_results
from wakelog.store.driver import execute_many, fetch_all, fetch_first
from wakelog.store.ingest import _apply

metadata = sa.MetaData()
things = sa.Table(
    "driver_things",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary),
)

#: Parameters named in another order than the driver takes them (``?`` on SQLite: by position).
_SCALED = sa.text(
    "SELECT name, count * :factor + 2, data FROM driver_things WHERE count >= :least ORDER BY name"
)
_SCALED_BINARY = binary_results(sa.text("SELECT name, data FROM driver_things WHERE name = :name"))


def _adding(dialect: str) -> sa.Executable:
    """An upsert that adds to the stored count: its 100 is a value the statement binds itself."""
    insert = sa.dialects.postgresql.insert if dialect == "postgresql" else sa.dialects.sqlite.insert
    statement = insert(things)
    return statement.on_conflict_do_update(
        index_elements=["name"], set_={"count": things.c.count + statement.excluded.count + 100}
    )


@pytest.fixture
def store(db: Database) -> Database:
    metadata.create_all(db.engine)
    return db


def test_rows_go_in_and_come_back_by_parameter_name(store: Database) -> None:
    adding = _adding(store.engine.dialect.name)
    every_byte = bytes(range(256))
    with store.write() as conn:
        execute_many(
            conn,
            adding,
            [{"name": "a", "count": 1, "data": every_byte}, {"data": None, "count": 5, "name": "b"}],
        )
        execute_many(conn, adding, [{"name": "a", "count": 2, "data": b""}])  # adds the bound 100; data kept
        execute_many(conn, adding, [])
    with store.read() as conn:
        rows = fetch_all(conn, _SCALED, {"least": 0, "factor": 10})
        assert [tuple(row) for row in rows] == [("a", 1032, every_byte), ("b", 52, None)]
        assert fetch_all(conn, _SCALED, {"factor": 1, "least": 50}) == [("a", 105, every_byte)]
        (row,) = fetch_all(conn, _SCALED_BINARY, {"name": "b"})
        assert row == ("b", None)
    with store.write() as conn:
        execute_many(conn, adding, [{"name": "c", "count": 0, "data": every_byte}])
    with store.read() as conn:
        (row,) = fetch_all(conn, _SCALED_BINARY, {"name": "c"})
        assert bytes(row[1]) == every_byte


def test_a_driver_error_is_sqlalchemys_and_takes_the_transaction_back(store: Database) -> None:
    with store.write() as conn:
        conn.execute(things.insert(), {"name": "kept", "count": 1})
    with pytest.raises(sa.exc.IntegrityError), store.write() as conn:
        conn.execute(things.insert(), {"name": "undone", "count": 1})
        execute_many(conn, things.insert(), [{"name": "kept", "count": 2, "data": None}])  # its primary key
    postgres = store.engine.dialect.name == "postgresql"
    unknown = sa.exc.ProgrammingError if postgres else sa.exc.OperationalError
    with pytest.raises(unknown), store.read() as conn:
        fetch_all(conn, sa.text("SELECT nothing FROM driver_things WHERE name = :name"), {"name": "x"})
    with store.read() as conn:  # the connections went back to the pool usable
        assert fetch_all(conn, _SCALED, {"least": 0, "factor": 1}) == [("kept", 3, None)]


def test_a_row_read_first_is_typed_as_sqlalchemy_types_it(db: Database) -> None:
    """The run's row a live batch reads (``fetch_first``): JSON parsed, booleans and floats as
    SQLAlchemy gives them, a missing row None."""
    log = Log(db)
    log.send(("run", {"tags": ["基线", "a"], "notes": "n"}), ("history", {"_step": 3, "loss": 0.25}))
    with db.write() as conn:
        statement = _apply._EXISTING_RUN
        path = {"entity": "team", "project": "proj", "run_id": "r"}
        expected = dict(conn.execute(statement, path).one()._mapping)
        read = fetch_first(conn, statement, path)
        assert read == expected and read is not None
        assert read["tags"] == ["基线", "a"] and read["summary"]["loss"] == 0.25
        assert read["project_has_rules"] is False and isinstance(read["created_at"], float)
        assert fetch_first(conn, statement, {**path, "run_id": "other"}) is None
