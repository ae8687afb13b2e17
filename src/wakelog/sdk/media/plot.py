"""Chart helpers (``wakelog.plot``): build a :class:`CustomChart` from a table or from predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._chart import CustomChart
from ._convert import to_numpy
from ._table import Table

if TYPE_CHECKING:
    import numpy as np

__all__ = ["bar", "confusion_matrix", "histogram", "line", "scatter"]


def _need_table(table: Any, fn: str) -> Table:
    if not isinstance(table, Table):
        raise TypeError(f"plot.{fn} needs a wakelog Table as its first argument; got {type(table).__name__}")
    return table


def _need_numeric(table: Table, column: Any, fn: str, role: str) -> None:
    if not isinstance(column, str) or column not in table.columns:
        raise ValueError(
            f"plot.{fn} {role}={column!r} is not a column of the table; columns are {table.columns}"
        )
    kind = table._types[table.columns.index(column)]
    if kind not in (None, "number"):
        raise TypeError(f"plot.{fn} {role}={column!r} must be a numeric column; it holds {kind} values")


def line(table: Table, x: str, y: str, stroke: str | None = None, title: str | None = None) -> CustomChart:
    """Line chart of ``y`` against ``x``; ``stroke`` names a column that splits the data into lines."""
    _need_table(table, "line")
    _need_numeric(table, x, "line", "x")
    _need_numeric(table, y, "line", "y")
    return CustomChart("line", table, {"x": x, "y": y, "stroke": stroke}, title)


def scatter(table: Table, x: str, y: str, title: str | None = None) -> CustomChart:
    """Scatter plot of ``y`` against ``x``."""
    _need_table(table, "scatter")
    _need_numeric(table, x, "scatter", "x")
    _need_numeric(table, y, "scatter", "y")
    return CustomChart("scatter", table, {"x": x, "y": y}, title)


def bar(table: Table, label: str, value: str, title: str | None = None) -> CustomChart:
    """Bar chart: one bar per row, named by ``label``, as high as ``value``."""
    _need_table(table, "bar")
    _need_numeric(table, value, "bar", "value")
    return CustomChart("bar", table, {"label": label, "value": value}, title)


def histogram(table: Table, value: str, title: str | None = None) -> CustomChart:
    """Histogram of the ``value`` column, binned by the UI."""
    _need_table(table, "histogram")
    _need_numeric(table, value, "histogram", "value")
    return CustomChart("histogram", table, {"value": value}, title)


def _class_indices(values: Any, name: str) -> np.ndarray:
    import numpy as np

    try:
        arr = to_numpy(values)
    except Exception as exc:
        raise TypeError(f"plot.confusion_matrix {name} must be a sequence of class indices: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"plot.confusion_matrix {name} must be 1-D; got shape {tuple(arr.shape)}")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            bad = arr[~np.isfinite(arr) | (arr != np.round(arr))][0]
            raise ValueError(f"plot.confusion_matrix {name} must hold whole class indices; got {bad}")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"plot.confusion_matrix {name} must hold integer class indices; got dtype {arr.dtype}"
        )
    return arr.astype(np.int64)


def confusion_matrix(
    probs: Any = None,
    y_true: Any = None,
    preds: Any = None,
    class_names: list[str] | None = None,
    title: str | None = None,
) -> CustomChart:
    """Confusion matrix from true class indices and either predicted indices or class probabilities.

    Args:
        probs: (N, C) scores; the prediction is each row's argmax. Exclusive with ``preds``.
        y_true: N true class indices.
        preds: N predicted class indices.
        class_names: names for indices 0..C-1; default ``"0"``, ``"1"``, ...
            (C from ``probs``' width, else the largest index seen plus one).
        title: chart title.

    The table has columns Actual, Predicted, nPredictions and one row for every
    (actual, predicted) pair of classes, zero counts included.
    """
    if y_true is None:
        raise ValueError("plot.confusion_matrix needs y_true")
    if (probs is None) == (preds is None):
        raise ValueError("plot.confusion_matrix needs exactly one of probs= or preds=")
    actual = _class_indices(y_true, "y_true")
    predicted, n_classes, source = _predictions(probs, preds)
    if len(predicted) != len(actual):
        raise ValueError(
            f"plot.confusion_matrix y_true has {len(actual)} entries but {source} has {len(predicted)}"
        )
    if class_names is not None:
        names = _checked_names(class_names, n_classes)
    else:
        names = [str(i) for i in range(_count_classes(n_classes, actual, predicted))]
    if not names:
        raise ValueError("plot.confusion_matrix class_names is empty")
    for label, values in (("y_true", actual), (source, predicted)):
        _check_in_range(label, values, len(names))
    fields = {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"}
    return CustomChart("confusion_matrix", _counts_table(names, actual, predicted), fields, title)


def _predictions(probs: Any, preds: Any) -> tuple[np.ndarray, int | None, str]:
    """Predicted class indices, the class count ``probs`` implies (if given), and their source's name."""
    import numpy as np

    if probs is None:
        return _class_indices(preds, "preds"), None, "preds"
    scores = to_numpy(probs)
    if scores.ndim != 2 or scores.dtype.kind not in "biuf":
        raise ValueError(
            f"plot.confusion_matrix probs must be a numeric (N, C) array; "
            f"got shape {tuple(scores.shape)} dtype {scores.dtype}"
        )
    if scores.shape[1] == 0:
        raise ValueError("plot.confusion_matrix probs has no classes (shape (N, 0))")
    predicted = np.argmax(scores, axis=1) if len(scores) else np.zeros(0, np.int64)
    return predicted, int(scores.shape[1]), "probs rows"


def _checked_names(class_names: Any, n_classes: int | None) -> list[str]:
    if isinstance(class_names, str):
        raise TypeError("plot.confusion_matrix class_names must be a list of names, not one str")
    names = [str(n) for n in class_names]
    if len(set(names)) != len(names):
        raise ValueError(f"plot.confusion_matrix class_names must be unique; got {names}")
    if n_classes is not None and n_classes != len(names):
        raise ValueError(
            f"plot.confusion_matrix probs has {n_classes} columns but class_names has {len(names)} names"
        )
    return names


def _count_classes(n_classes: int | None, actual: np.ndarray, predicted: np.ndarray) -> int:
    """Without class_names: ``probs``' width, else the largest index seen plus one."""
    if n_classes is not None:
        return n_classes
    if len(actual) == 0:
        raise ValueError("plot.confusion_matrix got no samples and no class_names to size the matrix")
    return int(max(actual.max(), predicted.max())) + 1


def _check_in_range(label: str, values: np.ndarray, n: int) -> None:
    outside = values[(values < 0) | (values >= n)]
    if outside.size:
        raise ValueError(
            f"plot.confusion_matrix {label} has class index {int(outside[0])}, outside 0..{n - 1}"
        )


def _counts_table(names: list[str], actual: np.ndarray, predicted: np.ndarray) -> Table:
    """One row for every (actual, predicted) pair of classes, zero counts included."""
    import numpy as np

    n = len(names)
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (actual, predicted), 1)
    table = Table(columns=["Actual", "Predicted", "nPredictions"])
    for i in range(n):
        for j in range(n):
            table.add_data(names[i], names[j], int(counts[i, j]))
    return table
