"""Every wakelog.plot chart (and wakelog.sklearn's) drawn as a chart on the run's media tab, logged
by the real SDK; incremental tables show all their rows and joined tables their join."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, run_finished_script, shot

SCRIPT = """
import numpy as np
run = wakelog.init(name="plots")
plot = wakelog.plot
rows = [[i, 1 / (i + 1), r] for r in "ab" for i in range(10)]
curve = wakelog.Table(columns=["step", "loss", "run"], data=rows)
y = np.array([0, 1, 2] * 20)
rng = np.random.default_rng(0)
probs = rng.dirichlet([1, 1, 1], 60)
probs[np.arange(60), y] += 0.5
run.log({
    "line": plot.line(curve, "step", "loss", stroke="run", title="Loss"),
    "scatter": plot.scatter(curve, "step", "loss"),
    "bar": plot.bar(wakelog.Table(columns=["c", "v"], data=[["cat", 3], ["dog", 5], ["emu", 1]]), "c", "v"),
    "hist": plot.histogram(wakelog.Table(columns=["v"], data=[[v] for v in rng.normal(size=200)]), "v"),
    "cm": plot.confusion_matrix(y_true=y, preds=probs.argmax(1), class_names=["a", "b", "c"]),
    "pr": plot.pr_curve(y, probs),
    "roc": plot.roc_curve(y, probs, labels=["a", "b", "c"]),
    "series": plot.line_series([0, 1, 2, 3], [[1, 2, 3, 4], [4, 3, 2, 1]], keys=["up", "down"]),
})
log = wakelog.Table(columns=["n"], data=[[1]], log_mode="INCREMENTAL")
run.log({"grow": log})
log.add_data(2)
log.add_data(3)
run.log({"grow": log})
left = wakelog.Table(columns=["id", "name"], data=[[1, "one"], [2, "two"], [3, "three"]])
right = wakelog.Table(columns=["id", "score"], data=[[2, 0.5], [3, 0.75], [4, 1.0]])
run.log({"joined": wakelog.JoinedTable(left, right, "id")})
from sklearn.datasets import make_classification
from sklearn.naive_bayes import GaussianNB
xs, ys = make_classification(n_samples=300, n_features=4, random_state=0)
model = GaussianNB().fit(xs, ys)
wakelog.sklearn.plot_summary_metrics(model, xs, ys, xs, ys)
wakelog.sklearn.plot_class_proportions(ys[:200], ys[200:], ["neg", "pos"])
wakelog.sklearn.plot_calibration_curve(model, xs, ys, "NB")
run.finish()
"""

#: key -> (series type, {series name: points}); the PR curve has 21 points per class.
EXPECTED: dict[str, tuple[str, dict[str, int]]] = {
    "line": ("line", {"a": 10, "b": 10}),
    "scatter": ("scatter", {"loss": 20}),
    "bar": ("bar", {"v": 3}),
    "cm": ("heatmap", {"nPredictions": 9}),
    "pr": ("line", {"0": 21, "1": 21, "2": 21}),
    "series": ("line", {"up": 4, "down": 4}),
    "summary_metrics": ("bar", {"GaussianNB": 4}),
    "class_proportions": ("bar", {"train": 2, "test": 2}),
}


@pytest.fixture(scope="module")
def plots_run(seeded: Seeded) -> str:
    return run_finished_script(seeded, "plots", SCRIPT)


def series_of(panel: Any) -> list[dict]:
    chart = panel.locator(".plot-chart")
    chart.locator("canvas").wait_for()
    return json.loads(chart.get_attribute("data-series") or "[]")


def canvas_is_drawn(panel: Any) -> bool:
    """Some pixel of the chart's canvas is neither blank nor white."""
    return panel.locator(".plot-chart canvas").first.evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  for (let i = 0; i < d.length; i += 4)
                    if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200)) return true;
                  return false; }"""
    )


def test_every_plot_is_drawn_as_a_chart(pages: Pages, plots_run: str) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{plots_run}?tab=media"))
    for key, (kind, points) in EXPECTED.items():
        panel = page.get_by_role("region", name=key, exact=True)
        series = series_of(panel)
        assert {s["type"] for s in series} == {kind}, key
        assert {s["name"]: s["points"] for s in series} == points, key
        assert canvas_is_drawn(panel), key
    roc = series_of(page.get_by_role("region", name="roc", exact=True))
    assert [s["name"] for s in roc] == ["a", "b", "c"] and all(s["points"] >= 3 for s in roc)
    hist = series_of(page.get_by_role("region", name="hist", exact=True))
    assert hist[0]["type"] == "bar" and hist[0]["points"] == 15  # ceil(sqrt(200)) bins
    # A chart's table is not shown a second time under <key>_table.
    assert page.get_by_role("region", name="line_table").count() == 0
    page.get_by_role("region", name="line", exact=True).scroll_into_view_if_needed()
    shot(page, "plot-charts-line")
    page.get_by_role("region", name="cm", exact=True).scroll_into_view_if_needed()
    shot(page, "plot-charts-cm")
    page.get_by_role("region", name="roc", exact=True).scroll_into_view_if_needed()
    shot(page, "plot-charts-roc")
    calibration = series_of(page.get_by_role("region", name="calibration_curve", exact=True))
    assert [s["name"] for s in calibration] == [
        "Perfectly calibrated",
        "Logistic",
        "NB Isotonic",
        "NB Sigmoid",
    ]
    assert {s["type"] for s in calibration} == {"line"} and calibration[0]["points"] == 2
    for key in ("summary_metrics", "class_proportions", "calibration_curve"):
        page.get_by_role("region", name=key, exact=True).scroll_into_view_if_needed()
        shot(page, f"plot-charts-{key}")
    assert pages.errors == []


def test_incremental_and_joined_tables(pages: Pages, plots_run: str) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{plots_run}?tab=media"))
    grow = page.get_by_role("region", name="grow", exact=True)
    expect(grow.get_by_test_id("increments")).to_have_text("2 increments")
    expect(grow.get_by_test_id("table-count")).to_have_text("3 of 3 rows")
    joined = page.get_by_role("region", name="joined", exact=True)
    expect(joined.get_by_test_id("table-count")).to_have_text("2 of 2 rows")
    table = joined.get_by_role("table", name="joined")
    rows = table.locator("[role=rowgroup] [role=row]:not([aria-rowindex='1'])")
    expect(rows).to_have_count(2)
    assert [r.get_by_role("cell").all_inner_texts() for r in rows.all()] == [
        ["2", "two", "0.5"],
        ["3", "three", "0.75"],
    ]
    joined.scroll_into_view_if_needed()
    shot(page, "plot-tables-joined")
    assert pages.errors == []
