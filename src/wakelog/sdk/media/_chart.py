"""Custom charts: a table plus a chart spec (wandb's ``CustomChart`` / ``plot_table``).

wandb stores a chart as two things: the table, logged under ``<key>_table``, and
the spec (a Vega preset id such as ``wandb/line/v0``, a map from the preset's
fields to table columns, and its string settings such as the title). The
history stub here carries both: the writer also records the table's own stub
under ``table_key`` so history has ``<key>_table`` as wandb's does, and the web
app draws the chart from the spec and the table file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._base import Media
from ._table import Table

#: The spec ids the web app draws (the rest fall back to showing the table).
KNOWN_SPECS = (
    "wandb/line/v0",
    "wandb/scatter/v0",
    "wandb/bar/v0",
    "wandb/histogram/v0",
    "wandb/confusion_matrix/v1",
    "wandb/area-under-curve/v0",
    "wandb/lineseries/v0",
    "wandb/feature_importances/v1",
    "wandb/learning_curve/v1",
    "wandb/metrics/v1",
    "wandb/class_proportions/v1",
    "wandb/calibration/v1",
)


def _clean_fields(table: Table, fields: Any) -> dict[str, str]:
    if not isinstance(fields, Mapping):
        raise TypeError(f"CustomChart fields must be a dict of field -> column; got {type(fields).__name__}")
    clean: dict[str, str] = {}
    for field, column in fields.items():
        if column is None:  # an unused optional field, e.g. line's stroke
            continue
        if not isinstance(column, str) or column not in table.columns:
            raise ValueError(
                f"CustomChart field {field!r} names column {column!r}, which the table does not have; "
                f"columns are {table.columns}"
            )
        clean[str(field)] = column
    return clean


def _clean_strings(string_fields: Any) -> dict[str, Any]:
    if string_fields is None:
        return {}
    if not isinstance(string_fields, Mapping):
        raise TypeError(f"CustomChart string_fields must be a dict; got {type(string_fields).__name__}")
    out: dict[str, Any] = {}
    for name, value in string_fields.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise TypeError(
                f"CustomChart string_fields[{name!r}] must be a str (or number); got {type(value).__name__}"
            )
        out[str(name)] = value
    return out


class CustomChart(Media):
    """A chart drawn from ``table`` by the preset ``spec_name`` (what ``plot.*`` and ``plot_table`` return).

    Args:
        spec_name: the Vega preset id, e.g. ``"wandb/line/v0"``.
        table: the data; copied now, so later edits to it do not change the chart.
        fields: the preset's fields mapped to column names (``None`` values are dropped).
        string_fields: the preset's string settings, e.g. ``{"title": "Loss"}``.
        split_table: log the table under ``Custom Chart Tables/<key>_table`` instead of ``<key>_table``.
    """

    def __init__(
        self,
        spec_name: str,
        table: Table,
        fields: Mapping[str, str | None],
        string_fields: Mapping[str, Any] | None = None,
        split_table: bool = False,
    ) -> None:
        if not isinstance(spec_name, str) or not spec_name:
            raise TypeError(f"CustomChart spec_name must be a non-empty str; got {spec_name!r}")
        if not isinstance(table, Table):
            raise TypeError(f"CustomChart needs a wakelog Table; got {type(table).__name__}")
        self._spec = spec_name
        self._table = table.snapshot()
        self._fields = _clean_fields(self._table, fields)
        self._strings = _clean_strings(string_fields)
        self._split = bool(split_table)

    @property
    def spec_name(self) -> str:
        return self._spec

    @property
    def table(self) -> Table:
        return self._table

    @property
    def fields(self) -> dict[str, str]:
        return dict(self._fields)

    @property
    def string_fields(self) -> dict[str, Any]:
        return dict(self._strings)

    @property
    def title(self) -> str | None:
        title = self._strings.get("title")
        return None if title is None else str(title)

    def table_key(self, key: str) -> str:
        """The history key wandb logs this chart's table under."""
        return f"Custom Chart Tables/{key}_table" if self._split else f"{key}_table"

    def config_entry(self, key: str) -> dict[str, Any]:
        """What wandb writes to ``config["_wandb"]["visualize"][key]`` for this chart logged under ``key``:
        a ``Vega2`` panel naming the preset, its field and string settings, and the table key."""
        run_sets: dict[str, Any] = {"name": "runSets", "value": "${runSets}"}
        table: dict[str, Any] = {
            "name": "summaryTable",
            "args": [{"name": "tableKey", "value": self.table_key(key)}],
            "fields": [],
        }
        run_fields: list[dict[str, Any]] = [
            {"name": name, "fields": []} for name in ("id", "name", "_defaultColorIndex")
        ]
        return {
            "panel_type": "Vega2",
            "panel_config": {
                "panelDefId": self._spec,
                "fieldSettings": dict(self._fields),
                "stringSettings": dict(self._strings),
                "transform": {"name": "tableWithLeafColNames"},
                "userQuery": {
                    "queryFields": [{"name": "runSets", "args": [run_sets], "fields": [*run_fields, table]}]
                },
            },
        }

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        table_key = self.table_key(key)
        return {
            "_type": "custom-chart",
            "spec": self._spec,
            "title": self.title,
            "fields": dict(self._fields),
            "string_fields": dict(self._strings),
            "table_key": table_key,
            "table": self._table.to_stub(run_dir, table_key, step),
        }

    def __repr__(self) -> str:
        return f"CustomChart({self._spec!r}, fields={self._fields}, nrows={self._table.nrows})"


def plot_table(
    vega_spec_name: str,
    data_table: Table,
    fields: Mapping[str, str | None],
    string_fields: Mapping[str, Any] | None = None,
    split_table: bool = False,
) -> CustomChart:
    """A custom chart of ``data_table`` drawn by the preset ``vega_spec_name`` (wandb's ``plot_table``)."""
    if not isinstance(data_table, Table):
        raise TypeError(f"plot_table needs a wakelog Table as data_table; got {type(data_table).__name__}")
    return CustomChart(vega_spec_name, data_table, fields, string_fields, split_table)
