"""wakelog.plot (wandb's chart helpers) and wakelog.sklearn: tables, numbers and the logged shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import wakelog
from tests.conftest import history
from wakelog.sdk.media import CustomChart, Table, plot


def load(run_dir: Path, stub: dict) -> dict:
    return json.loads((Path(run_dir) / "files" / stub["path"]).read_text(encoding="utf-8"))


@pytest.fixture
def curve() -> Table:
    return Table(columns=["step", "loss", "run"], data=[[0, 1.0, "a"], [1, 0.5, "a"], [0, 0.9, "b"]])


# -- table charts ---------------------------------------------------------------------------------


def test_table_charts_have_wandbs_specs(tmp_path: Path, curve: Table) -> None:
    cases = [
        (
            plot.line(curve, "step", "loss", stroke="run", title="t"),
            "wandb/line/v0",
            {"x": "step", "y": "loss", "stroke": "run"},
        ),
        (plot.line(curve, "step", "loss"), "wandb/line/v0", {"x": "step", "y": "loss"}),
        (plot.scatter(curve, "step", "loss"), "wandb/scatter/v0", {"x": "step", "y": "loss"}),
        (plot.bar(curve, "run", "loss"), "wandb/bar/v0", {"label": "run", "value": "loss"}),
        (plot.histogram(curve, "loss"), "wandb/histogram/v0", {"value": "loss"}),
    ]
    for chart, spec, fields in cases:
        stub = chart.to_stub(tmp_path, "c", 1)
        assert (stub["_type"], stub["spec"], stub["fields"]) == ("custom-chart", spec, fields)
        assert stub["table_key"] == "c_table" and stub["table"]["nrows"] == 3
        assert stub["table"]["path"].startswith("media/table/c_table_1_")
        json.dumps(stub, allow_nan=False)
    assert cases[0][0].string_fields == {"title": "t"} and cases[1][0].title == ""


def test_chart_copies_its_table(tmp_path: Path, curve: Table) -> None:
    chart = plot.line(curve, "step", "loss")
    curve.add_data(2, 0.1, "a")
    assert chart.to_stub(tmp_path, "c", 0)["table"]["nrows"] == 3


def test_chart_validation(curve: Table) -> None:
    with pytest.raises(ValueError, match="x='nope' is not a column"):
        plot.line(curve, "nope", "loss")
    with pytest.raises(TypeError, match="y='run' must be a numeric column; it holds str"):
        plot.scatter(curve, "step", "run")
    with pytest.raises(TypeError, match="needs a wakelog Table"):
        plot.bar([[1, 2]], "a", "b")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stroke='colour' is not a column"):
        plot.line(curve, "step", "loss", stroke="colour")
    with pytest.raises(ValueError, match="field 'x' names column 'nope'"):
        wakelog.plot_table("my/spec", curve, {"x": "nope"})
    with pytest.raises(TypeError, match=r"string_fields\['title'\] must be a str"):
        CustomChart("my/spec", curve, {"x": "step"}, {"title": [1]})


def test_plot_table_and_split_table(tmp_path: Path, curve: Table) -> None:
    chart = wakelog.plot_table(
        "my/spec/v1", curve, {"x": "step", "unused": None}, {"title": "T"}, split_table=True
    )
    stub = chart.to_stub(tmp_path, "k", 0)
    assert stub["spec"] == "my/spec/v1" and stub["fields"] == {"x": "step"} and stub["title"] == "T"
    assert stub["table_key"] == "Custom Chart Tables/k_table"


def test_line_series() -> None:
    shared = plot.line_series([0, 1, 2], [[1, 2, 3], np.array([3.0, 2.0, 1.0])], title="t", xname="epoch")
    assert shared.spec_name == "wandb/lineseries/v0"
    assert shared.string_fields == {"title": "t", "xname": "epoch"}
    assert shared.table.columns == ["step", "lineKey", "lineVal"]
    assert shared.table.data == [
        [0, "line_0", 1], [1, "line_0", 2], [2, "line_0", 3],
        [0, "line_1", 3.0], [1, "line_1", 2.0], [2, "line_1", 1.0],
    ]  # fmt: skip
    own = plot.line_series([[0, 1], [0, 2, 4]], [[5, 6], [7, 8, 9]], keys=["a", "b"])
    assert own.table.data == [[0, "a", 5], [1, "a", 6], [0, "b", 7], [2, "b", 8], [4, "b", 9]]
    with pytest.raises(ValueError, match="2 x series but 3 y series"):
        plot.line_series([[0], [1]], [[1], [2], [3]])
    with pytest.raises(ValueError, match="1 keys for 2 y series"):
        plot.line_series([0], [[1], [2]], keys=["a"])


# -- confusion matrix ---------------------------------------------------------------------------------


def cm_rows(chart: CustomChart) -> dict[tuple[str, str], int]:
    return {(a, p): n for a, p, n in chart.table.data}


def test_confusion_matrix_with_class_names(tmp_path: Path) -> None:
    y_true = [0, 1, 2, 2, 1, 0, 2]
    preds = [0, 2, 2, 1, 1, 0, 2]
    chart = plot.confusion_matrix(y_true=y_true, preds=preds, class_names=["cat", "dog", "emu"], title="cm")
    names = ["cat", "dog", "emu"]
    expected = np.zeros((3, 3), int)
    np.add.at(expected, (y_true, preds), 1)
    assert cm_rows(chart) == {(names[i], names[j]): int(expected[i, j]) for i in range(3) for j in range(3)}
    stub = chart.to_stub(tmp_path, "val/cm", 5)
    assert (stub["spec"], stub["title"]) == ("wandb/confusion_matrix/v1", "cm")
    assert stub["fields"] == {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"}
    assert load(tmp_path, stub["table"])["columns"] == ["Actual", "Predicted", "nPredictions"]


def test_confusion_matrix_default_names_are_wandbs() -> None:
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [0.1, 0.8, 0.1]])
    chart = plot.confusion_matrix(probs=probs, y_true=np.array([0, 2, 2]))
    assert chart.title == "Confusion Matrix Curve"
    # Classes are the labels seen (0, 1, 2), sorted, named Class_1...
    assert cm_rows(chart)[("Class_1", "Class_1")] == 1 and cm_rows(chart)[("Class_3", "Class_2")] == 1
    assert len(cm_rows(chart)) == 9
    words = plot.confusion_matrix(y_true=["cat", "dog", "dog"], preds=["dog", "dog", "cat"])
    c1, c2 = "Class_1", "Class_2"
    assert cm_rows(words) == {(c1, c1): 0, (c1, c2): 1, (c2, c1): 1, (c2, c2): 1}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"preds": [0, 1]}, ValueError, "needs y_true"),
        ({"y_true": [0, 1]}, ValueError, "needs probs= or preds="),
        ({"y_true": [0], "preds": [0], "probs": [[1.0]]}, ValueError, "not both"),
        ({"y_true": [0, 1], "preds": [0]}, ValueError, "y_true has 2 entries but preds has 1"),
        (
            {"y_true": [0, 3], "preds": [0, 1], "class_names": ["a", "b"]},
            ValueError,
            r"index 3, outside 0..1",
        ),
        ({"y_true": [0, 1], "preds": [0, 1.5], "class_names": ["a", "b"]}, ValueError, "whole class indices"),
        ({"y_true": ["a"], "preds": [0], "class_names": ["a"]}, TypeError, "integer class indices"),
        ({"y_true": [0, 1], "probs": [0.5, 0.5]}, ValueError, r"\(N, C\)"),
        ({"y_true": [], "preds": []}, ValueError, "no samples"),
        ({"y_true": [0], "preds": [0], "class_names": ["a", "a"]}, ValueError, "unique"),
    ],
)
def test_confusion_matrix_validation(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        plot.confusion_matrix(**kwargs)


# -- PR and ROC curves, against scikit-learn's own functions --------------------------------------------


def predictions(n: int = 300, classes: int = 3, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    scores = rng.dirichlet(np.ones(classes), n)
    scores[np.arange(n), y] += 0.3  # informative, with ties from rounding
    return y, np.round(scores, 2)


def test_roc_curve_matches_sklearn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    y, scores = predictions()
    chart = plot.roc_curve(y, scores, labels=["a", "b", "c"], classes_to_plot=[0, 2])
    assert chart.spec_name == "wandb/area-under-curve/v0" and chart.title == "ROC Curve"
    assert chart.fields == {"x": "fpr", "y": "tpr", "class": "class"}
    assert chart.table.columns == ["class", "fpr", "tpr"]
    expected = []
    for k, name in ((0, "a"), (2, "c")):
        fpr, tpr, _ = metrics.roc_curve(y, scores[:, k], pos_label=k)
        expected += [
            [name, u, v] for u, v in zip(np.round(fpr, 3).tolist(), np.round(tpr, 3).tolist(), strict=True)
        ]
    assert chart.table.data == expected


def test_pr_curve_matches_sklearn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    y, scores = predictions()
    chart = plot.pr_curve(y, scores, interp_size=11)
    assert chart.table.columns == ["class", "precision", "recall"] and chart.table.nrows == 33
    grid = np.linspace(0, 1, 11)[::-1]
    for k in range(3):
        precision, recall, _ = metrics.precision_recall_curve(y, scores[:, k], pos_label=k)
        # wandb's reading: running max of precision as recall falls, then the first point at each recall.
        smooth = np.maximum.accumulate(precision)[::-1]
        want = smooth[np.searchsorted(recall[::-1], grid, side="left")]
        rows = [r for r in chart.table.data if r[0] == k]
        assert [r[1] for r in rows] == np.round(want, 3).tolist()
        assert [r[2] for r in rows] == np.round(grid, 3).tolist()


def test_curves_by_hand_without_sklearn() -> None:
    # Two positives scored 0.9 and 0.4, two negatives 0.6 and 0.1: textbook points.
    y = np.array([1, 0, 1, 0])
    p1 = np.array([0.9, 0.6, 0.4, 0.1])
    scores = np.stack([1 - p1, p1], axis=1)
    roc = plot.roc_curve(y, scores, classes_to_plot=[1])
    assert roc.table.data == [[1, 0.0, 0.0], [1, 0.0, 0.5], [1, 0.5, 0.5], [1, 0.5, 1.0], [1, 1.0, 1.0]]
    pr = plot.pr_curve(y, scores, classes_to_plot=[1], interp_size=3)
    assert pr.table.data == [[1, 0.667, 1.0], [1, 1.0, 0.5], [1, 1.0, 0.0]]


def test_curve_validation() -> None:
    with pytest.raises(ValueError, match="needs y_true and y_probas"):
        plot.roc_curve([0, 1])
    with pytest.raises(ValueError, match=r"y_probas must be a numeric \(N, C\) array"):
        plot.pr_curve([0, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="3 classes but y_probas has only 2 columns"):
        plot.roc_curve([0, 1, 2], [[0.5, 0.5]] * 3)
    with pytest.raises(ValueError, match="y_true has 2 entries but y_probas has 3 rows"):
        plot.roc_curve([0, 1], [[0.5, 0.5]] * 3)
    with pytest.raises(ValueError, match="interp_size must be an int >= 2"):
        plot.pr_curve([0, 1], [[0.5, 0.5]] * 2, interp_size=1)


def test_long_roc_is_thinned_to_max_rows() -> None:
    y, scores = predictions(n=40_000, classes=2, seed=1)
    scores = np.random.default_rng(2).random((40_000, 2))  # nearly every score distinct
    with pytest.warns(UserWarning, match="keeping 10000"):
        chart = plot.roc_curve(y, scores)
    assert chart.table.nrows <= Table.MAX_ROWS
    for k in (0, 1):
        rows = [r for r in chart.table.data if r[0] == k]
        assert rows[0][1:] == [0.0, 0.0] and rows[-1][1:] == [1.0, 1.0]


# -- logged through a run -------------------------------------------------------------------------------


def test_logged_chart_puts_its_table_under_key_table() -> None:
    run = wakelog.init(mode="offline")
    table = Table(columns=["x", "y"], data=[[0, 1.0], [1, 2.0]])
    run.log({"curve": plot.line(table, "x", "y", title="T")})
    run.finish()
    (row,) = history(run.run_dir)
    chart, logged = row["curve"], row["curve_table"]
    assert chart["_type"] == "custom-chart" and chart["spec"] == "wandb/line/v0"
    assert logged == chart["table"] and logged["_type"] == "table-file"
    assert load(run.run_dir, logged) == {"columns": ["x", "y"], "data": [[0, 1.0], [1, 2.0]]}


def test_logged_chart_writes_wandbs_visualize_config_entry() -> None:
    run = wakelog.init(mode="offline", config={"lr": 0.1})
    table = Table(columns=["x", "y"], data=[[0, 1.0], [1, 2.0]])
    run.log({"curve": plot.line(table, "x", "y", title="T")})
    run.log({"curve": plot.line(table, "x", "y", title="T")})  # the same spec again: unchanged
    run.log({"eval": {"roc": plot.bar(table, "x", "y", split_table=True)}})
    run.finish()
    visualize = run.config["_wandb"]["visualize"]
    assert set(visualize) == {"curve", "eval.roc"} and run.config["lr"] == 0.1
    curve = visualize["curve"]
    assert curve["panel_type"] == "Vega2"
    panel = curve["panel_config"]
    assert panel["panelDefId"] == "wandb/line/v0"
    assert panel["fieldSettings"] == {"x": "x", "y": "y"}
    assert panel["stringSettings"] == {"title": "T"}
    assert panel["transform"] == {"name": "tableWithLeafColNames"}
    (query,) = panel["userQuery"]["queryFields"]
    assert query["name"] == "runSets" and query["args"] == [{"name": "runSets", "value": "${runSets}"}]
    assert [f["name"] for f in query["fields"]] == ["id", "name", "_defaultColorIndex", "summaryTable"]
    assert query["fields"][-1]["args"] == [{"name": "tableKey", "value": "curve_table"}]
    split = visualize["eval.roc"]["panel_config"]
    assert split["panelDefId"] == "wandb/bar/v0"
    assert split["userQuery"]["queryFields"][0]["fields"][-1]["args"][0]["value"] == (
        "Custom Chart Tables/eval.roc_table"
    )


# -- wakelog.sklearn ------------------------------------------------------------------------------------


def test_sklearn_plots_log_wandbs_keys() -> None:
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(x, y)
    run = wakelog.init(mode="offline")
    with pytest.warns(UserWarning, match="binary 0/1 labels"):  # iris has 3 classes: no calibration
        wakelog.sklearn.plot_classifier(
            model, x, x, y, y, model.predict(x), model.predict_proba(x),
            ["setosa", "versicolor", "virginica"], feature_names=["sl", "sw", "pl", "pw"],
        )  # fmt: skip
    wakelog.sklearn.plot_learning_curve(model, x, y, cv=3)
    run.finish()
    rows = history(run.run_dir)
    logged = {k: v for row in rows for k, v in row.items() if not k.startswith("_")}
    keys = {"feature_importances", "confusion_matrix", "roc", "precision_recall", "learning_curve"}
    keys |= {"summary_metrics", "class_proportions"}
    assert keys | {f"{k}_table" for k in keys} == set(logged)
    importances = load(run.run_dir, logged["feature_importances_table"])
    want = sorted(
        zip(model.feature_importances_.tolist(), ["sl", "sw", "pl", "pw"], strict=True), reverse=True
    )
    assert [r[1] for r in importances["data"]] == [v for v, _ in want]
    matrix = load(run.run_dir, logged["confusion_matrix_table"])
    assert matrix["columns"] == ["Predicted", "Actual", "Count"]
    counts = {(p, a): n for p, a, n in matrix["data"]}
    pred = model.predict(x)
    names = ["setosa", "versicolor", "virginica"]
    for i, actual in enumerate(names):
        for j, predicted in enumerate(names):
            assert counts[(predicted, actual)] == int(np.sum((y == i) & (pred == j)))
    curve = load(run.run_dir, logged["learning_curve_table"])
    assert curve["columns"] == ["dataset", "score", "train_size"] and len(curve["data"]) == 10
    assert logged["roc"]["spec"] == "wandb/area-under-curve/v0"


def sklearn_run(log: Any) -> tuple[dict[str, Any], Path, Any]:
    """Run ``log(run)`` in an offline run; the non-underscore keys it logged, the run dir and the config."""
    run = wakelog.init(mode="offline")
    log(run)
    run.finish()
    logged = {k: v for row in history(run.run_dir) for k, v in row.items() if not k.startswith("_")}
    return logged, Path(run.run_dir), run.config


def test_sklearn_summary_metrics_and_class_proportions_have_wandbs_numbers() -> None:
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.metrics import f1_score

    x = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([0, 0, 1, 1, 2, 2])
    clf = LogisticRegression().fit(x, y)
    line = 3 * x.ravel() + 1
    reg = LinearRegression().fit(x, line)

    def log(run: Any) -> None:
        wakelog.sklearn.plot_summary_metrics(clf, x, y, x[:4], y[:4])
        wakelog.sklearn.plot_class_proportions(y, np.array([2, 2, 0]), ["cat", "dog", "owl"])

    logged, run_dir, config = sklearn_run(log)
    metrics = load(run_dir, logged["summary_metrics_table"])
    assert metrics["columns"] == ["metric_name", "metric_value", "model_name"]
    assert [r[0] for r in metrics["data"]] == ["accuracy_score", "precision", "recall", "f1_score"]
    pred = clf.predict(x[:4])
    want_f1 = round(float(f1_score(y[:4], pred, average="weighted")), 2)
    assert metrics["data"][3] == ["f1_score", want_f1, "LogisticRegression"]
    assert logged["summary_metrics"]["spec"] == "wandb/metrics/v1"
    proportions = load(run_dir, logged["class_proportions_table"])
    assert proportions == {
        "columns": ["class", "dataset", "count"],
        "data": [["cat", "train", 2], ["cat", "test", 1], ["dog", "train", 2], ["dog", "test", 0],
                 ["owl", "train", 2], ["owl", "test", 2]],
    }  # fmt: skip
    assert config["_wandb"]["visualize"]["class_proportions"]["panel_config"]["panelDefId"] == (
        "wandb/class_proportions/v1"
    )
    logged, run_dir, _ = sklearn_run(lambda run: wakelog.sklearn.plot_summary_metrics(reg, x, line, x, line))
    rows = load(run_dir, logged["summary_metrics_table"])["data"]
    assert rows == [["mae", 0.0, "LinearRegression"], ["mse", 0.0, "LinearRegression"],
                    ["r2_score", 1.0, "LinearRegression"]]  # fmt: skip


def test_sklearn_calibration_curve_is_wandbs_table() -> None:
    pytest.importorskip("sklearn")
    from sklearn.datasets import make_classification
    from sklearn.naive_bayes import GaussianNB

    x, y = make_classification(n_samples=400, n_features=5, random_state=0)
    model = GaussianNB().fit(x, y)
    logged, run_dir, _ = sklearn_run(lambda run: wakelog.sklearn.plot_calibration_curve(model, x, y, "NB"))
    table = load(run_dir, logged["calibration_curve_table"])
    assert table["columns"] == [
        "model",
        "fraction_of_positives",
        "mean_predicted_value",
        "hist_dict",
        "edge_dict",
    ]
    assert table["data"][:2] == [["Perfectly calibrated", 0, 0, 0, 0], ["Perfectly calibrated", 1, 1, 0, 0]]
    models = {r[0] for r in table["data"][2:]}
    assert models == {"Logistic", "NB Isotonic", "NB Sigmoid"}
    for row in table["data"]:
        assert 0 <= row[1] <= 1 and 0 <= row[2] <= 1 and row[1] == round(row[1], 3)
    assert logged["calibration_curve"]["spec"] == "wandb/calibration/v1"
    with pytest.warns(UserWarning, match="binary 0/1 labels"):
        logged, _, _ = sklearn_run(lambda run: wakelog.sklearn.plot_calibration_curve(model, x, y + 1))
    assert logged == {}


def test_sklearn_needs_a_run() -> None:
    with pytest.raises(wakelog.UsageError, match="needs an active run"):
        wakelog.sklearn.plot_roc([0, 1], [[0.2, 0.8], [0.6, 0.4]])
