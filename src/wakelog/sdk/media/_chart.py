"""Custom charts: a table plus a mapping from chart fields to its columns.

The UI draws the chart from the table; the history stub carries the chart kind,
title, field mapping and the table's own stub.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._base import Media
from ._table import Table

CHARTS = ("confusion_matrix", "line", "scatter", "bar", "histogram")


class CustomChart(Media):
    """A chart of kind ``chart`` drawn from ``table``; ``fields`` maps chart fields to column names.

    Usually made by the ``plot`` helpers. The table is copied now, so editing it
    afterwards does not change the chart.
    """

    def __init__(self, chart: str, table: Table, fields: Mapping[str, str | None], title: str | None = None):
        if chart not in CHARTS:
            raise ValueError(f"CustomChart chart must be one of {list(CHARTS)}; got {chart!r}")
        if not isinstance(table, Table):
            raise TypeError(f"CustomChart needs a wakelog Table; got {type(table).__name__}")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"CustomChart title must be a str or None; got {type(title).__name__}")
        if not isinstance(fields, Mapping):
            raise TypeError(
                f"CustomChart fields must be a dict of field -> column; got {type(fields).__name__}"
            )
        clean: dict[str, str] = {}
        for field, column in fields.items():
            if column is None:
                continue
            if not isinstance(column, str) or column not in table.columns:
                raise ValueError(
                    f"CustomChart field {field!r} names column {column!r}, which the table does not have; "
                    f"columns are {table.columns}"
                )
            clean[str(field)] = column
        self._chart = chart
        self._table = table.frozen()
        self._fields = clean
        self._title = title

    @property
    def chart(self) -> str:
        return self._chart

    @property
    def table(self) -> Table:
        return self._table

    @property
    def fields(self) -> dict[str, str]:
        return dict(self._fields)

    @property
    def title(self) -> str | None:
        return self._title

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        return {
            "_type": "custom-chart",
            "chart": self._chart,
            "title": self._title,
            "fields": dict(self._fields),
            "table": self._table.to_stub(run_dir, f"{key}_table", step),
        }

    def __repr__(self) -> str:
        return f"CustomChart({self._chart!r}, fields={self._fields}, nrows={self._table.nrows})"
