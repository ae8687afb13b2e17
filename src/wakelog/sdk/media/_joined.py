"""``JoinedTable``: two tables and the column(s) they join on, drawn joined by the web app.

wandb logs a joined table through an artifact; here it can also be logged to a
run directly: both tables are written as table files and the stub names them
and the join key, so a reader (the web app) does the join.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._base import Media
from ._table import Table


def _join_keys(join_key: Any) -> list[str]:
    if isinstance(join_key, str):
        return [join_key, join_key]
    if (
        isinstance(join_key, list | tuple)
        and len(join_key) == 2
        and all(isinstance(k, str) for k in join_key)
    ):
        return list(join_key)
    raise ValueError(f"JoinedTable join_key must be a column name or a list of two; got {join_key!r}")


class JoinedTable(Media):
    """``table1`` joined to ``table2`` on ``join_key`` (one column name, or ``[column1, column2]``)."""

    def __init__(self, table1: Table, table2: Table, join_key: str | list[str]) -> None:
        keys = _join_keys(join_key)
        for name, table, key in (("table1", table1, keys[0]), ("table2", table2, keys[1])):
            if not isinstance(table, Table):
                raise TypeError(f"JoinedTable {name} must be a wakelog Table; got {type(table).__name__}")
            if key not in table.columns:
                raise ValueError(
                    f"JoinedTable join key {key!r} is not a column of {name}; its columns are {table.columns}"
                )
        self._tables = (table1.snapshot(), table2.snapshot())
        self._join_key = join_key if isinstance(join_key, str) else list(join_key)

    @property
    def join_key(self) -> str | list[str]:
        return self._join_key

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        return {
            "_type": "joined-table",
            "join_key": self._join_key,
            "table1": self._tables[0].to_stub(run_dir, f"{key}_table1", step),
            "table2": self._tables[1].to_stub(run_dir, f"{key}_table2", step),
        }

    def __repr__(self) -> str:
        return f"JoinedTable({self._tables[0]!r}, {self._tables[1]!r}, join_key={self._join_key!r})"
