"""wakelog.Plotly: a figure stored as its JSON (``.plotly.json``), and plotly figures in log()."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import history, user_keys
from wakelog.sdk.media import Plotly

go = pytest.importorskip("plotly.graph_objects")


def values(array: object) -> np.ndarray:
    """A stored array: a list, or (plotly >= 6) a typed array ``{"dtype", "bdata"}`` as plotly.js reads it."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=float)


def test_figure_json_file(tmp_path: Path) -> None:
    fig = go.Figure(go.Scatter(x=np.arange(3), y=np.array([1.5, math.nan, 2.0]), name="loss"))
    fig.update_layout(title="t")
    plot = Plotly(fig)
    fig.data[0].name = "changed"  # after construction: not in the logged figure
    stub = plot.to_stub(tmp_path, "chart", 7)
    assert set(stub) == {"_type", "path", "sha256", "size"}
    assert stub["_type"] == "plotly-file"
    assert stub["path"].startswith("media/plotly/chart_7_") and stub["path"].endswith(".plotly.json")
    raw = (tmp_path / "files" / stub["path"]).read_text(encoding="utf-8")
    stored = json.loads(raw)  # strict JSON
    assert stored["layout"]["title"] == {"text": "t"} and stored["data"][0]["name"] == "loss"
    np.testing.assert_array_equal(values(stored["data"][0]["x"]), [0, 1, 2])
    np.testing.assert_array_equal(values(stored["data"][0]["y"]), [1.5, math.nan, 2.0])
    assert " " not in raw.split('"template"')[0]  # compact


def test_figure_dict(tmp_path: Path) -> None:
    figure = {"data": [{"type": "bar", "y": np.array([1.0, math.inf]), "x": ["a", "b"]}]}
    stub = Plotly(figure).to_stub(tmp_path, "d", 0)
    stored = json.loads((tmp_path / "files" / stub["path"]).read_text())
    assert stored == {"data": [{"type": "bar", "y": [1.0, None], "x": ["a", "b"]}]}  # inf: a gap


def test_refusals() -> None:
    with pytest.raises(TypeError, match="Plotly takes a plotly figure"):
        Plotly([1, 2])
    with pytest.raises(TypeError, match="holds a object"):
        Plotly({"data": [object()]})


def test_plotly_figure_logged_directly(tmp_path: Path) -> None:
    import wakelog

    run = wakelog.init(project="p", mode="offline")
    run.log({"fig": go.Figure(go.Bar(y=[3, 1]))})
    run.finish()
    (row,) = [user_keys(r) for r in history(Path(run.dir).parent)]
    assert row["fig"]["_type"] == "plotly-file"
