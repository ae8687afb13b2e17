"""Chart helpers (``wakelog.plot``), as wandb's ``wandb.plot``: each returns a :class:`CustomChart`.

Each chart is a table plus a preset id (``wandb/line/v0``...) and its field
mapping; logged under ``key``, the table also appears in history under
``<key>_table``, as in wandb. The classifier charts (confusion matrix, PR and
ROC curves) build their table from predictions: see ``_classifier_plots``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ._chart import CustomChart, plot_table
from ._classifier_plots import confusion_matrix, pr_curve, roc_curve
from ._convert import to_numpy
from ._table import Table

__all__ = [
    "CustomChart",
    "bar",
    "confusion_matrix",
    "histogram",
    "line",
    "line_series",
    "plot_table",
    "pr_curve",
    "roc_curve",
    "scatter",
]


def _need_table(table: Any, fn: str) -> Table:
    if not isinstance(table, Table):
        raise TypeError(f"plot.{fn} needs a wakelog Table as its first argument; got {type(table).__name__}")
    return table


def _need_column(table: Table, column: Any, fn: str, role: str) -> None:
    if not isinstance(column, str) or column not in table.columns:
        raise ValueError(
            f"plot.{fn} {role}={column!r} is not a column of the table; columns are {table.columns}"
        )


def _need_numeric(table: Table, column: Any, fn: str, role: str) -> None:
    _need_column(table, column, fn, role)
    kind = table.column_kind(column)
    if kind not in (None, "number"):
        raise TypeError(f"plot.{fn} {role}={column!r} must be a numeric column; it holds {kind} values")


def line(
    table: Table, x: str, y: str, stroke: str | None = None, title: str = "", split_table: bool = False
) -> CustomChart:
    """Line chart of ``y`` against ``x``; ``stroke`` names a column that splits the rows into lines."""
    _need_table(table, "line")
    _need_numeric(table, x, "line", "x")
    _need_numeric(table, y, "line", "y")
    if stroke is not None:
        _need_column(table, stroke, "line", "stroke")
    return plot_table(
        "wandb/line/v0", table, {"x": x, "y": y, "stroke": stroke}, {"title": title}, split_table
    )


def scatter(table: Table, x: str, y: str, title: str = "", split_table: bool = False) -> CustomChart:
    """Scatter plot of ``y`` against ``x``."""
    _need_table(table, "scatter")
    _need_numeric(table, x, "scatter", "x")
    _need_numeric(table, y, "scatter", "y")
    return plot_table("wandb/scatter/v0", table, {"x": x, "y": y}, {"title": title}, split_table)


def bar(table: Table, label: str, value: str, title: str = "", split_table: bool = False) -> CustomChart:
    """Bar chart: one bar per row, named by the ``label`` column, as high as ``value``."""
    _need_table(table, "bar")
    _need_column(table, label, "bar", "label")
    _need_numeric(table, value, "bar", "value")
    return plot_table("wandb/bar/v0", table, {"label": label, "value": value}, {"title": title}, split_table)


def histogram(table: Table, value: str, title: str = "", split_table: bool = False) -> CustomChart:
    """Histogram of the ``value`` column, binned when drawn."""
    _need_table(table, "histogram")
    _need_numeric(table, value, "histogram", "value")
    return plot_table("wandb/histogram/v0", table, {"value": value}, {"title": title}, split_table)


def _series(values: Any, what: str) -> list[Any]:
    if isinstance(values, str | bytes) or (
        not isinstance(values, Iterable) and not hasattr(values, "__array__")
    ):
        raise TypeError(f"plot.line_series {what} must be a sequence of numbers; got {type(values).__name__}")
    return list(to_numpy(values).tolist()) if hasattr(values, "__array__") else list(values)


def _is_single_series(xs: Sequence[Any]) -> bool:
    first = xs[0]
    return isinstance(first, str | bytes) or not (isinstance(first, Iterable) or hasattr(first, "__array__"))


def line_series(
    xs: Any,
    ys: Any,
    keys: Sequence[str] | None = None,
    title: str = "",
    xname: str = "x",
    split_table: bool = False,
) -> CustomChart:
    """Several lines in one chart: ``ys[i]`` against ``xs`` (shared) or ``xs[i]``, named ``keys[i]``.

    Keys default to ``line_0``, ``line_1``, ...; a line as long as the shorter of
    its x and y series. The table has columns ``step``, ``lineKey``, ``lineVal``.
    """
    y_lists = [_series(y, f"ys[{i}]") for i, y in enumerate(_series(ys, "ys"))]
    x_outer = _series(xs, "xs")
    if not x_outer:
        raise ValueError("plot.line_series xs is empty")
    if _is_single_series(x_outer):
        x_lists = [x_outer] * len(y_lists)
    else:
        x_lists = [_series(x, f"xs[{i}]") for i, x in enumerate(x_outer)]
    if len(x_lists) != len(y_lists):
        raise ValueError(f"plot.line_series got {len(x_lists)} x series but {len(y_lists)} y series")
    names = [f"line_{i}" for i in range(len(y_lists))] if keys is None else [str(k) for k in keys]
    if len(names) != len(y_lists):
        raise ValueError(f"plot.line_series got {len(names)} keys for {len(y_lists)} y series")
    table = Table(columns=["step", "lineKey", "lineVal"])
    for name, x_list, y_list in zip(names, x_lists, y_lists, strict=True):
        for x, y in zip(x_list, y_list, strict=False):
            table.add_data(x, name, y)
    fields = {"step": "step", "lineKey": "lineKey", "lineVal": "lineVal"}
    return plot_table("wandb/lineseries/v0", table, fields, {"title": title, "xname": xname}, split_table)
