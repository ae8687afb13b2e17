"""wakelog Html and the plot helpers (CustomChart, confusion_matrix)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from wakelog.sdk.media import CustomChart, Html, Table, plot


def read(run_dir: Path, stub: dict) -> str:
    return (run_dir / "files" / stub["path"]).read_text(encoding="utf-8")


# -- Html -------------------------------------------------------------------------------


def test_html_string(tmp_path: Path) -> None:
    stub = Html("<p>héllo</p>", inject=False).to_stub(tmp_path, "report", 3)
    assert set(stub) == {"_type", "path", "sha256", "size"}
    assert stub["_type"] == "html-file"
    assert stub["path"].startswith("media/html/report_3_") and stub["path"].endswith(".html")
    assert read(tmp_path, stub) == "<p>héllo</p>"
    assert stub["size"] == len("<p>héllo</p>".encode())


@pytest.mark.parametrize(
    ("html", "before", "after"),
    [
        ("<html><HEAD lang='x'><title>t</title></head></html>", "<HEAD lang='x'>", "<title>"),
        ("<html><body>b</body></html>", "<html><head>", "</head><body>"),
        ("<p>fragment</p>", "", "<p>fragment</p>"),
    ],
)
def test_html_inject(html: str, before: str, after: str) -> None:
    out = Html(html).html
    start = out.index('<base target="_blank">')
    assert out[:start].endswith(before)
    assert "<style>" in out and "http" not in out
    assert out[out.index("</style>") + len("</style>") :].startswith(after)


def test_html_sources(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<i>file</i>", encoding="utf-8")
    for source in (page, str(page), io.StringIO("<i>file</i>"), io.BytesIO(b"<i>file</i>"), b"<i>file</i>"):
        assert Html(source, inject=False).html == "<i>file</i>"
    assert Html("no markup, not a file", inject=False).html == "no markup, not a file"
    before = Html(page, inject=False)
    page.write_text("changed", encoding="utf-8")
    assert read(tmp_path, before.to_stub(tmp_path, "p", 0)) == "<i>file</i>"


def test_html_refusals(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Html takes"):
        Html(42)
    with pytest.raises(ValueError, match="not UTF-8"):
        Html(b"\xff\xfe<p>")
    with pytest.raises(FileNotFoundError):
        Html(tmp_path / "missing.html")
    with pytest.raises(ValueError, match="UTF-8"):
        Html("\ud800")


# -- confusion_matrix ---------------------------------------------------------------------


def cm_rows(chart: CustomChart) -> dict[tuple[str, str], int]:
    return {(a, p): n for a, p, n in chart.table.data}


def test_confusion_matrix_from_preds(tmp_path: Path) -> None:
    y_true = [0, 1, 2, 2, 1, 0, 2]
    preds = [0, 2, 2, 1, 1, 0, 2]
    chart = plot.confusion_matrix(y_true=y_true, preds=preds, class_names=["cat", "dog", "emu"], title="cm")
    counts = cm_rows(chart)
    assert len(counts) == 9 and sum(counts.values()) == 7
    expected = np.zeros((3, 3), int)
    for t, p in zip(y_true, preds, strict=True):
        expected[t, p] += 1
    names = ["cat", "dog", "emu"]
    assert counts == {(names[i], names[j]): int(expected[i, j]) for i in range(3) for j in range(3)}
    stub = chart.to_stub(tmp_path, "val/cm", 5)
    assert stub["_type"] == "custom-chart" and stub["chart"] == "confusion_matrix" and stub["title"] == "cm"
    assert stub["fields"] == {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"}
    assert stub["table"]["_type"] == "table-file"
    assert stub["table"]["path"].startswith("media/table/val_cm_table_5_")
    file = json.loads(read(tmp_path, stub["table"]))
    assert file["columns"] == ["Actual", "Predicted", "nPredictions"] and len(file["data"]) == 9


def test_confusion_matrix_from_probs_and_default_names() -> None:
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [0.1, 0.8, 0.1]])
    chart = plot.confusion_matrix(probs=probs, y_true=np.array([0, 2, 2]))
    counts = cm_rows(chart)
    assert counts[("0", "0")] == 1 and counts[("2", "2")] == 1 and counts[("2", "1")] == 1
    assert sum(counts.values()) == 3 and len(counts) == 9
    assert len(cm_rows(plot.confusion_matrix(y_true=[0, 4], preds=[1.0, 4.0]))) == 25


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"preds": [0, 1]}, ValueError, "needs y_true"),
        ({"y_true": [0, 1]}, ValueError, "exactly one of probs= or preds="),
        ({"y_true": [0], "preds": [0], "probs": [[1.0]]}, ValueError, "exactly one"),
        ({"y_true": [0, 1], "preds": [0]}, ValueError, "y_true has 2 entries but preds has 1"),
        (
            {"y_true": [0, 3], "preds": [0, 1], "class_names": ["a", "b"]},
            ValueError,
            r"index 3, outside 0..1",
        ),
        ({"y_true": [0, -1], "preds": [0, 1]}, ValueError, "index -1"),
        ({"y_true": [0, 1], "preds": [0, 1.5]}, ValueError, "whole class indices; got 1.5"),
        ({"y_true": ["a"], "preds": [0]}, TypeError, "integer class indices"),
        (
            {"y_true": [0], "probs": [[0.5, 0.5]], "class_names": ["a"]},
            ValueError,
            "2 columns but class_names has 1",
        ),
        ({"y_true": [0, 1], "probs": [0.5, 0.5]}, ValueError, r"\(N, C\)"),
        ({"y_true": [], "preds": []}, ValueError, "no samples"),
        ({"y_true": [0], "preds": [0], "class_names": ["a", "a"]}, ValueError, "unique"),
    ],
)
def test_confusion_matrix_validation(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        plot.confusion_matrix(**kwargs)


def test_confusion_matrix_empty_with_names() -> None:
    chart = plot.confusion_matrix(y_true=[], preds=[], class_names=["a", "b"])
    assert sum(cm_rows(chart).values()) == 0 and chart.table.nrows == 4


# -- table charts -------------------------------------------------------------------------


@pytest.fixture
def curve() -> Table:
    return Table(columns=["step", "loss", "run"], data=[[0, 1.0, "a"], [1, 0.5, "a"], [0, 0.9, "b"]])


def test_line_scatter_bar_histogram(tmp_path: Path, curve: Table) -> None:
    cases = [
        (
            plot.line(curve, "step", "loss", stroke="run", title="t"),
            "line",
            {"x": "step", "y": "loss", "stroke": "run"},
        ),
        (plot.line(curve, "step", "loss"), "line", {"x": "step", "y": "loss"}),
        (plot.scatter(curve, "step", "loss"), "scatter", {"x": "step", "y": "loss"}),
        (plot.bar(curve, "run", "loss"), "bar", {"label": "run", "value": "loss"}),
        (plot.histogram(curve, "loss"), "histogram", {"value": "loss"}),
    ]
    for chart, kind, fields in cases:
        stub = chart.to_stub(tmp_path, "c", 1)
        assert set(stub) == {"_type", "chart", "title", "fields", "table"}
        assert (stub["chart"], stub["fields"]) == (kind, fields)
        assert stub["table"]["nrows"] == 3
        json.dumps(stub, allow_nan=False)
    assert cases[0][0].title == "t" and cases[1][0].title is None


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
    with pytest.raises(ValueError, match="stroke"):
        plot.line(curve, "step", "loss", stroke="colour")
    with pytest.raises(ValueError, match="chart must be one of"):
        CustomChart("pie", curve, {})
    with pytest.raises(TypeError, match="title"):
        CustomChart("line", curve, {"x": "step"}, title=3)  # type: ignore[arg-type]
