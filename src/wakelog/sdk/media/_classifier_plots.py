"""Charts built from a classifier's predictions: confusion matrix, precision-recall and ROC curves.

The tables have wandb's columns and numbers: ``Actual``/``Predicted``/``nPredictions``
for the matrix; ``class``/``precision``/``recall`` (precision at ``interp_size``
evenly spaced recalls) and ``class``/``fpr``/``tpr``, rounded to 3 decimals, for
the curves, which are drawn by the ``wandb/area-under-curve/v0`` preset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wakelog._warn import warn

from ._chart import CustomChart, plot_table
from ._convert import to_numpy
from ._curves import pr_points, roc_points
from ._table import Table

if TYPE_CHECKING:
    import numpy as np


def _class_indices(values: Any, name: str) -> np.ndarray:
    """Whole class indices (ints, bools or integral floats) as an int64 array."""
    import numpy as np

    arr = _vector(values, "confusion_matrix", name)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "f":
        bad = arr[~np.isfinite(arr) | (arr != np.round(arr))]
        if bad.size:
            raise ValueError(f"plot.confusion_matrix {name} must hold whole class indices; got {bad[0]}")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"plot.confusion_matrix {name} must hold integer class indices when class_names is given; "
            f"got dtype {arr.dtype}"
        )
    return arr.astype(np.int64)


def _vector(values: Any, fn: str, name: str) -> np.ndarray:
    try:
        arr = to_numpy(values)
    except Exception as exc:
        raise TypeError(f"plot.{fn} {name} must be a sequence of labels: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"plot.{fn} {name} must be 1-D; got shape {tuple(arr.shape)}")
    return arr


def _predictions(probs: Any, preds: Any) -> tuple[np.ndarray, str]:
    """Predicted labels (argmax of ``probs`` rows, or ``preds``) and where they came from."""
    import numpy as np

    if probs is None:
        return _vector(preds, "confusion_matrix", "preds"), "preds"
    scores = to_numpy(probs)
    if scores.ndim != 2 or scores.dtype.kind not in "biuf" or scores.shape[1] == 0:
        raise ValueError(
            f"plot.confusion_matrix probs must be a numeric (N, C) array with C >= 1; "
            f"got shape {tuple(scores.shape)} dtype {scores.dtype}"
        )
    return (np.argmax(scores, axis=1) if len(scores) else np.zeros(0, np.int64)), "probs rows"


def _checked_names(class_names: Any) -> list[str]:
    if isinstance(class_names, str):
        raise TypeError("plot.confusion_matrix class_names must be a list of names, not one str")
    names = [str(n) for n in class_names]
    if not names:
        raise ValueError("plot.confusion_matrix class_names is empty")
    if len(set(names)) != len(names):
        raise ValueError(f"plot.confusion_matrix class_names must be unique; got {names}")
    return names


def _check_in_range(label: str, values: np.ndarray, n: int) -> None:
    outside = values[(values < 0) | (values >= n)]
    if outside.size:
        raise ValueError(
            f"plot.confusion_matrix {label} has class index {int(outside[0])}, outside 0..{n - 1} "
            f"(class_names has {n} names)"
        )


def confusion_matrix(
    probs: Any = None,
    y_true: Any = None,
    preds: Any = None,
    class_names: Sequence[str] | None = None,
    title: str = "Confusion Matrix Curve",
    split_table: bool = False,
) -> CustomChart:
    """Confusion matrix of true labels against predictions (``preds``, or the argmax of ``probs``).

    With ``class_names`` the labels are indices into it; without, the classes are
    the sorted distinct labels seen, named ``Class_1``, ``Class_2``, ... The table
    has one row for every (actual, predicted) pair, zero counts included.
    """
    import numpy as np

    if y_true is None:
        raise ValueError("plot.confusion_matrix needs y_true")
    if probs is not None and preds is not None:
        raise ValueError("plot.confusion_matrix takes probs= or preds=, not both")
    if probs is None and preds is None:
        raise ValueError("plot.confusion_matrix needs probs= or preds=")
    predicted, source = _predictions(probs, preds)
    actual = _vector(y_true, "confusion_matrix", "y_true")
    if len(predicted) != len(actual):
        raise ValueError(
            f"plot.confusion_matrix y_true has {len(actual)} entries but {source} has {len(predicted)}"
        )
    if class_names is not None:
        names = _checked_names(class_names)
        actual_idx = _class_indices(actual, "y_true")
        predicted_idx = _class_indices(predicted, source)
        for label, values in (("y_true", actual_idx), (source, predicted_idx)):
            _check_in_range(label, values, len(names))
    else:
        seen = sorted(set(actual.tolist()) | set(predicted.tolist()))
        if not seen:
            raise ValueError("plot.confusion_matrix got no samples and no class_names to size the matrix")
        position = {label: i for i, label in enumerate(seen)}
        names = [f"Class_{i + 1}" for i in range(len(seen))]
        actual_idx = np.array([position[v] for v in actual.tolist()], dtype=np.int64)
        predicted_idx = np.array([position[v] for v in predicted.tolist()], dtype=np.int64)
    n = len(names)
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (actual_idx, predicted_idx), 1)
    table = Table(columns=["Actual", "Predicted", "nPredictions"])
    for i in range(n):
        for j in range(n):
            table.add_data(names[i], names[j], int(counts[i, j]))
    fields = {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"}
    return plot_table("wandb/confusion_matrix/v1", table, fields, {"title": title}, split_table)


def _curve_inputs(y_true: Any, y_probas: Any, fn: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, (N, C) scores and the sorted distinct classes; column i of the scores is class i."""
    import numpy as np

    if y_true is None or y_probas is None:
        raise ValueError(f"plot.{fn} needs y_true and y_probas")
    labels = _vector(y_true, fn, "y_true")
    scores = to_numpy(y_probas)
    if scores.ndim != 2 or scores.dtype.kind not in "biuf":
        raise ValueError(
            f"plot.{fn} y_probas must be a numeric (N, C) array of class scores; "
            f"got shape {tuple(scores.shape)} dtype {scores.dtype}"
        )
    if len(scores) != len(labels):
        raise ValueError(f"plot.{fn} y_true has {len(labels)} entries but y_probas has {len(scores)} rows")
    classes = np.unique(labels)
    if classes.size == 0:
        raise ValueError(f"plot.{fn} got no samples")
    if scores.shape[1] < classes.size:
        raise ValueError(
            f"plot.{fn} y_true has {classes.size} classes but y_probas has only {scores.shape[1]} columns"
        )
    return labels, scores.astype(np.float64), classes


def _chosen(classes: np.ndarray, labels: Sequence[Any] | None, classes_to_plot: Any) -> list[tuple[int, Any]]:
    """(column, display name) of each class to draw; integer classes are named by ``labels``."""
    import numpy as np

    wanted = classes if classes_to_plot is None else np.asarray(list(classes_to_plot))
    chosen = []
    for i in np.flatnonzero(np.isin(classes, wanted)):
        value = classes[i].item()
        if labels is not None and isinstance(value, int):
            if not 0 <= value < len(labels):
                raise ValueError(f"labels has {len(labels)} names but y_true has class {value}")
            value = labels[value]
        chosen.append((int(i), value))
    return chosen


def _curve_chart(table: Table, x: str, y: str, axes: tuple[str, str], title: str, split: bool) -> CustomChart:
    strings = {"title": title, "x-axis-title": axes[0], "y-axis-title": axes[1]}
    return plot_table("wandb/area-under-curve/v0", table, {"x": x, "y": y, "class": "class"}, strings, split)


def _rows_table(columns: list[str], parts: list[tuple[Any, np.ndarray, np.ndarray]], fn: str) -> Table:
    """One row per point, rounded to 3 decimals; above ``Table.MAX_ROWS`` each class is thinned evenly."""
    import numpy as np

    total = sum(len(a) for _, a, _ in parts)
    if total > Table.MAX_ROWS:
        warn(f"plot.{fn}: {total} points; keeping {Table.MAX_ROWS}, spread evenly over each class's curve")
        share = max(2, Table.MAX_ROWS // len(parts))
        parts = [
            (name, a[keep], b[keep])
            for name, a, b in parts
            for keep in [np.unique(np.linspace(0, len(a) - 1, min(share, len(a))).round().astype(int))]
        ]
    table = Table(columns=columns)
    for name, a, b in parts:
        for u, v in zip(np.round(a, 3).tolist(), np.round(b, 3).tolist(), strict=True):
            table.add_data(name, u, v)
    return table


def pr_curve(
    y_true: Any = None,
    y_probas: Any = None,
    labels: Sequence[str] | None = None,
    classes_to_plot: Any = None,
    interp_size: int = 21,
    title: str = "Precision-Recall Curve",
    split_table: bool = False,
) -> CustomChart:
    """Precision-recall curve of each class (one-vs-rest), at ``interp_size`` evenly spaced recalls.

    ``y_probas[:, i]`` scores the i-th of the sorted distinct classes in ``y_true``.
    Precision is made monotone (non-decreasing as recall falls) before it is read off.
    """
    import numpy as np

    if not isinstance(interp_size, int) or interp_size < 2:
        raise ValueError(f"plot.pr_curve interp_size must be an int >= 2; got {interp_size!r}")
    truth, scores, classes = _curve_inputs(y_true, y_probas, "pr_curve")
    recall_grid = np.linspace(0, 1, interp_size)[::-1]
    parts = []
    for column, name in _chosen(classes, labels, classes_to_plot):
        precision, recall = pr_points(truth == classes[column], scores[:, column])
        precision = np.maximum.accumulate(precision)[::-1]
        at = np.searchsorted(recall[::-1], recall_grid, side="left")
        parts.append((name, precision[at], recall_grid))
    table = _rows_table(["class", "precision", "recall"], parts, "pr_curve")
    return _curve_chart(table, "recall", "precision", ("Recall", "Precision"), title, split_table)


def roc_curve(
    y_true: Any = None,
    y_probas: Any = None,
    labels: Sequence[str] | None = None,
    classes_to_plot: Any = None,
    title: str = "ROC Curve",
    split_table: bool = False,
) -> CustomChart:
    """ROC curve of each class (one-vs-rest): false against true positive rate at every threshold.

    ``y_probas[:, i]`` scores the i-th of the sorted distinct classes in ``y_true``.
    """
    truth, scores, classes = _curve_inputs(y_true, y_probas, "roc_curve")
    parts = []
    for column, name in _chosen(classes, labels, classes_to_plot):
        fpr, tpr = roc_points(truth == classes[column], scores[:, column])
        parts.append((name, fpr, tpr))
    table = _rows_table(["class", "fpr", "tpr"], parts, "roc_curve")
    return _curve_chart(
        table, "fpr", "tpr", ("False positive rate", "True positive rate"), title, split_table
    )
