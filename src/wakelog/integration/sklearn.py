"""``wakelog.sklearn``: scikit-learn evaluation charts logged to the current run, as ``wandb.sklearn``.

Each ``plot_*`` computes its table (scikit-learn is imported on first use) and
logs the chart under wandb's key: ``confusion_matrix``, ``roc``,
``precision_recall``, ``learning_curve``, ``feature_importances``,
``summary_metrics``, ``class_proportions``, ``calibration_curve``. Tables have
wandb's columns and its presets' ids; their fields name columns of the same name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.sdk._init import current_run
from wakelog.sdk.media import CustomChart, Table, plot, plot_table

__all__ = [
    "plot_calibration_curve",
    "plot_class_proportions",
    "plot_classifier",
    "plot_confusion_matrix",
    "plot_feature_importances",
    "plot_learning_curve",
    "plot_precision_recall",
    "plot_roc",
    "plot_summary_metrics",
]

#: At most this many classes (class proportions) or bins per model (calibration), as wandb.
CHART_LIMIT = 1000


def _log(key: str, chart: CustomChart) -> None:
    run = current_run()
    if run is None:
        raise UsageError(f"wakelog.sklearn needs an active run to log {key!r}: call wakelog.init() first")
    run.log({key: chart})


def _identity_chart(spec: str, columns: list[str], rows: list[list[Any]]) -> CustomChart:
    """A chart of a preset whose fields are the table's own columns (wandb's ``visualize`` tables)."""
    return plot_table(spec, Table(columns=columns, data=rows), {c: c for c in columns})


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


def plot_summary_metrics(
    model: Any = None, X: Any = None, y: Any = None, X_test: Any = None, y_test: Any = None
) -> None:
    """Log ``model``'s scores on ``X_test`` under ``summary_metrics``, rounded to 2 decimals.

    Classifiers: accuracy and weighted precision, recall and F1; regressors: MAE, MSE and R².
    ``X`` and ``y`` are accepted as wandb takes them, unused.
    """
    import numpy as np
    from sklearn import base, metrics

    if model is None or X_test is None or y_test is None:
        raise ValueError("wakelog.sklearn.plot_summary_metrics needs model, X_test and y_test")
    y_test = np.asarray(y_test)
    pred = model.predict(X_test)
    scores: dict[str, float] = {}
    if base.is_classifier(model):
        scores["accuracy_score"] = metrics.accuracy_score(y_test, pred)
        for name, score in (("precision", metrics.precision_score), ("recall", metrics.recall_score)):
            scores[name] = score(y_test, pred, average="weighted")
        scores["f1_score"] = metrics.f1_score(y_test, pred, average="weighted")
    elif base.is_regressor(model):
        scores["mae"] = metrics.mean_absolute_error(y_test, pred)
        scores["mse"] = metrics.mean_squared_error(y_test, pred)
        scores["r2_score"] = metrics.r2_score(y_test, pred)
    else:
        raise ValueError(
            f"wakelog.sklearn.plot_summary_metrics: {type(model).__name__} is not a classifier or regressor"
        )
    model_name = type(model).__name__
    rows = [[name, round(float(value), 2), model_name] for name, value in scores.items()]
    chart = _identity_chart("wandb/metrics/v1", ["metric_name", "metric_value", "model_name"], rows)
    _log("summary_metrics", chart)


def plot_class_proportions(
    y_train: Any = None, y_test: Any = None, labels: Sequence[Any] | None = None
) -> None:
    """Log how many samples of each class the train and test sets hold under ``class_proportions``.

    Rows are (class, ``"train"``/``"test"``, count); integer classes are named by ``labels``.
    """
    import numpy as np
    from sklearn.utils.multiclass import unique_labels

    if y_train is None:
        raise ValueError("wakelog.sklearn.plot_class_proportions needs y_train")
    y_train = np.asarray(y_train)
    y_test = None if y_test is None else np.asarray(y_test)
    classes = unique_labels(y_train) if y_test is None else unique_labels(y_train, y_test)
    if len(classes) > CHART_LIMIT:
        warn(
            f"wakelog.sklearn.plot_class_proportions: {len(classes)} classes; drawing the first {CHART_LIMIT}"
        )
        classes = classes[:CHART_LIMIT]
    rows = []
    for c in classes:
        name = _name(c, labels)
        rows.append([name, "train", int(np.sum(y_train == c))])
        rows.append([name, "test", 0 if y_test is None else int(np.sum(y_test == c))])
    _log(
        "class_proportions",
        _identity_chart("wandb/class_proportions/v1", ["class", "dataset", "count"], rows),
    )


def _calibration_rows(clf: Any, X: Any, y: Any, clf_name: str) -> list[list[Any]]:
    """wandb's calibration table: a diagonal, then per model (a logistic baseline, ``clf`` calibrated
    isotonically and by a sigmoid) each bin's (fraction of positives, mean prediction, count, left edge)."""
    import numpy as np
    from sklearn import calibration, model_selection, naive_bayes
    from sklearn.linear_model import LogisticRegression

    if isinstance(clf, naive_bayes.ComplementNB):  # it needs non-negative features
        X = X - X.min()
    rows: list[list[Any]] = [["Perfectly calibrated", 0, 0, 0, 0], ["Perfectly calibrated", 1, 1, 0, 0]]
    x_fit, x_eval, y_fit, y_eval = model_selection.train_test_split(X, y, test_size=0.9, random_state=42)
    models = [
        ("Logistic", LogisticRegression(C=1.0)),
        (f"{clf_name} Isotonic", calibration.CalibratedClassifierCV(clf, cv=2, method="isotonic")),
        (f"{clf_name} Sigmoid", calibration.CalibratedClassifierCV(clf, cv=2, method="sigmoid")),
    ]
    for name, model in models:
        model.fit(x_fit, y_fit)
        if hasattr(model, "predict_proba"):
            positive = model.predict_proba(x_eval)[:, 1]
        else:
            scores = model.decision_function(x_eval)
            positive = (scores - scores.min()) / (scores.max() - scores.min())
        counts, edges = np.histogram(positive, bins=10)
        fraction, mean = calibration.calibration_curve(y_eval, positive, n_bins=10)
        for i in range(min(len(fraction), CHART_LIMIT - 2)):
            rows.append(
                [
                    name,
                    round(float(fraction[i]), 3),
                    round(float(mean[i]), 3),
                    int(counts[i]),
                    float(edges[i]),
                ]
            )
    return rows


def plot_calibration_curve(
    clf: Any = None, X: Any = None, y: Any = None, clf_name: str = "Classifier"
) -> None:
    """Log how well a binary classifier's probabilities are calibrated under ``calibration_curve``.

    As wandb: ``clf`` is refitted on 10% of ``X`` with isotonic and sigmoid calibration and,
    beside a logistic regression baseline, compared on the rest. Labels must be 0/1; other
    labels are skipped with a warning.
    """
    import numpy as np

    if clf is None or X is None or y is None:
        raise ValueError("wakelog.sklearn.plot_calibration_curve needs clf, X and y")
    y = np.asarray(y)
    if y.dtype.kind in "USO" or not ((y == 0) | (y == 1)).all():
        warn("wakelog.sklearn.plot_calibration_curve needs binary 0/1 labels; skipping the calibration curve")
        return
    columns = ["model", "fraction_of_positives", "mean_predicted_value", "hist_dict", "edge_dict"]
    _log(
        "calibration_curve",
        _identity_chart("wandb/calibration/v1", columns, _calibration_rows(clf, X, y, clf_name)),
    )


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
    """Log wandb's classifier charts: feature importances, (learning curve,) confusion matrix, summary
    metrics, class proportions, calibration curve, ROC and PR curves.

    As in wandb, a ``MultinomialNB`` gets neither feature importances nor a calibration curve.
    """
    from sklearn import naive_bayes

    multinomial = isinstance(model, naive_bayes.MultinomialNB)
    if not multinomial and any(
        hasattr(model, a) for a in ("feature_importances_", "coef_", "feature_log_prob_")
    ):
        plot_feature_importances(model, feature_names)
    elif not multinomial:
        warn(f"wakelog.sklearn.plot_classifier: {model_name} has no feature importances to plot")
    if log_learning_curve:
        plot_learning_curve(model, X_train, y_train)
    plot_confusion_matrix(y_test, y_pred, labels)
    plot_summary_metrics(model, X_train, y_train, X_test, y_test)
    plot_class_proportions(y_train, y_test, labels)
    if not multinomial:
        plot_calibration_curve(model, X_train, y_train, model_name)
    plot_roc(y_test, y_probas, labels)
    plot_precision_recall(y_test, y_probas, labels)
