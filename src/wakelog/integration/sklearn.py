"""``wakelog.sklearn``: scikit-learn evaluation charts logged to the current run, as ``wandb.sklearn``.

Each ``plot_*`` computes its table (scikit-learn is imported on first use) and
logs the chart under wandb's key: ``confusion_matrix``, ``roc``,
``precision_recall``, ``learning_curve``, ``feature_importances``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.sdk._init import current_run
from wakelog.sdk.media import CustomChart, Table, plot, plot_table

__all__ = [
    "plot_classifier",
    "plot_confusion_matrix",
    "plot_feature_importances",
    "plot_learning_curve",
    "plot_precision_recall",
    "plot_roc",
]


def _log(key: str, chart: CustomChart) -> None:
    run = current_run()
    if run is None:
        raise UsageError(f"wakelog.sklearn needs an active run to log {key!r}: call wakelog.init() first")
    run.log({key: chart})


def _name(value: Any, labels: Sequence[Any] | None) -> Any:
    """Integer classes are shown by their ``labels`` entry, as wandb does."""
    value = value.item() if hasattr(value, "item") else value
    return labels[value] if labels is not None and isinstance(value, int) else value


def plot_roc(
    y_true: Any = None,
    y_probas: Any = None,
    labels: Sequence[str] | None = None,
    plot_micro: bool = True,
    plot_macro: bool = True,
    classes_to_plot: Any = None,
) -> None:
    """Log the ROC curve of each class under ``roc`` (``plot_micro``/``plot_macro``: accepted, unused)."""
    _log("roc", plot.roc_curve(y_true, y_probas, labels, classes_to_plot))


def plot_precision_recall(
    y_true: Any = None,
    y_probas: Any = None,
    labels: Sequence[str] | None = None,
    plot_micro: bool = True,
    classes_to_plot: Any = None,
) -> None:
    """Log the precision-recall curve of each class under ``precision_recall``."""
    _log("precision_recall", plot.pr_curve(y_true, y_probas, labels, classes_to_plot))


def plot_confusion_matrix(
    y_true: Any = None,
    y_pred: Any = None,
    labels: Sequence[Any] | None = None,
    true_labels: Sequence[Any] | None = None,
    pred_labels: Sequence[Any] | None = None,
    normalize: bool = False,
) -> None:
    """Log the confusion matrix under ``confusion_matrix``: columns Predicted, Actual, Count.

    ``normalize`` divides each true class's row by its total (rounded to 2 decimals);
    ``true_labels``/``pred_labels`` keep only those rows/columns.
    """
    import numpy as np
    from sklearn import metrics
    from sklearn.utils.multiclass import unique_labels

    if y_true is None or y_pred is None:
        raise ValueError("wakelog.sklearn.plot_confusion_matrix needs y_true and y_pred")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = unique_labels(y_true, y_pred)
    counts = metrics.confusion_matrix(y_true, y_pred, labels=classes).astype(np.float64)
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            counts = np.nan_to_num(np.around(counts / counts.sum(axis=1, keepdims=True), 2))
    rows = np.flatnonzero(np.isin(classes, true_labels)) if true_labels is not None else range(len(classes))
    cols = np.flatnonzero(np.isin(classes, pred_labels)) if pred_labels is not None else range(len(classes))
    table = Table(columns=["Predicted", "Actual", "Count"])
    for i in rows:
        for j in cols:
            count = float(counts[i, j]) if normalize else int(counts[i, j])
            table.add_data(_name(classes[j], labels), _name(classes[i], labels), count)
    fields = {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "Count"}
    _log("confusion_matrix", plot_table("wandb/confusion_matrix/v1", table, fields))


def plot_learning_curve(
    model: Any = None,
    X: Any = None,
    y: Any = None,
    cv: Any = None,
    shuffle: bool = False,
    random_state: Any = None,
    train_sizes: Any = None,
    n_jobs: int | None = 1,
    scoring: Any = None,
) -> None:
    """Train ``model`` on growing parts of ``X`` and log mean train/test scores under ``learning_curve``."""
    import numpy as np
    from sklearn import model_selection

    if model is None or X is None or y is None:
        raise ValueError("wakelog.sklearn.plot_learning_curve needs model, X and y")
    sizes, train, test = model_selection.learning_curve(
        model,
        X,
        np.asarray(y),
        cv=cv,
        n_jobs=n_jobs,
        train_sizes=np.linspace(0.1, 1.0, 5) if train_sizes is None else train_sizes,
        scoring=scoring,
        shuffle=shuffle,
        random_state=random_state,
    )
    table = Table(columns=["dataset", "score", "train_size"])
    for size, tr, te in zip(
        sizes.tolist(), train.mean(axis=1).tolist(), test.mean(axis=1).tolist(), strict=True
    ):
        table.add_data("train", round(tr, 2), size)
        table.add_data("test", round(te, 2), size)
    fields = {"x": "train_size", "y": "score", "stroke": "dataset"}
    _log("learning_curve", plot_table("wandb/learning_curve/v1", table, fields, {"title": "Learning Curve"}))


def _importances(model: Any) -> Any:
    import numpy as np

    for attr in ("feature_importances_", "coef_", "feature_log_prob_"):
        if hasattr(model, attr):
            values = np.asarray(getattr(model, attr), dtype=np.float64)
            if sum(n > 1 for n in values.shape) > 1:
                raise ValueError(
                    f"wakelog.sklearn.plot_feature_importances: {type(model).__name__}.{attr} has shape "
                    f"{values.shape}; only one importance per feature can be drawn"
                )
            return values.reshape(-1)
    raise ValueError(
        f"wakelog.sklearn.plot_feature_importances: {type(model).__name__} has none of "
        "feature_importances_, coef_, feature_log_prob_ (is it fitted?)"
    )


def plot_feature_importances(
    model: Any = None,
    feature_names: Sequence[str] | None = None,
    title: str = "Feature Importance",
    max_num_features: int = 50,
) -> None:
    """Log the fitted ``model``'s feature importances, largest first, under ``feature_importances``."""
    import numpy as np

    values = _importances(model)
    if feature_names is not None and len(feature_names) != len(values):
        raise ValueError(
            f"wakelog.sklearn.plot_feature_importances: {len(feature_names)} feature_names "
            f"for {len(values)} features"
        )
    order = np.argsort(values)[::-1][:max_num_features]
    names = order.tolist() if feature_names is None else [str(feature_names[i]) for i in order]
    table = Table(columns=["feature_names", "importances"])
    for name, value in zip(names, values[order].tolist(), strict=True):
        table.add_data(name, value)
    fields = {"label": "feature_names", "value": "importances"}
    _log("feature_importances", plot_table("wandb/feature_importances/v1", table, fields, {"title": title}))


def plot_classifier(
    model: Any,
    X_train: Any,
    X_test: Any,
    y_train: Any,
    y_test: Any,
    y_pred: Any,
    y_probas: Any,
    labels: Sequence[str] | None,
    is_binary: bool = False,
    model_name: str = "Classifier",
    feature_names: Sequence[str] | None = None,
    log_learning_curve: bool = False,
) -> None:
    """Log the classifier charts wakelog has: feature importances, confusion matrix, ROC and PR curves.

    wandb's summary metrics, class proportions and calibration curve are not drawn here.
    """
    if any(hasattr(model, a) for a in ("feature_importances_", "coef_", "feature_log_prob_")):
        plot_feature_importances(model, feature_names)
    else:
        warn(f"wakelog.sklearn.plot_classifier: {model_name} has no feature importances to plot")
    if log_learning_curve:
        plot_learning_curve(model, X_train, y_train)
    plot_confusion_matrix(y_test, y_pred, labels)
    plot_roc(y_test, y_probas, labels)
    plot_precision_recall(y_test, y_probas, labels)
