"""wakelog Table: building, validation, type consistency, DataFrames, the JSON file, nested media."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wakelog
from tests.conftest import history
from wakelog.sdk.media import Histogram, Html, Image, Table


def load(run_dir: Path, stub: dict) -> dict:
    return json.loads((run_dir / "files" / stub["path"]).read_text(encoding="utf-8"))


def test_add_data_and_read_back(tmp_path: Path) -> None:
    t = Table(columns=["epoch", "loss", "name"])
    t.add_data(1, 0.5, "a")
    t.add_data(2, None, "b")
    assert t.columns == ["epoch", "loss", "name"]
    assert t.data == [[1, 0.5, "a"], [2, None, "b"]]
    assert (t.nrows, t.ncols) == (2, 3)
    assert t.get_column("loss") == [0.5, None]
    np.testing.assert_array_equal(t.get_column("epoch", convert_to="numpy"), [1, 2])
    with pytest.raises(KeyError, match="no column 'nope'"):
        t.get_column("nope")
    t.data[0][0] = 99  # .data is a copy
    assert t.data[0][0] == 1


def test_stub_and_file(tmp_path: Path) -> None:
    t = Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]])
    stub = t.to_stub(tmp_path, "eval/preds", 7)
    assert set(stub) == {"_type", "path", "sha256", "size", "ncols", "nrows", "columns", "log_mode"}
    assert stub["_type"] == "table-file"
    assert (stub["ncols"], stub["nrows"], stub["columns"]) == (2, 2, ["a", "b"])
    assert stub["path"].startswith("media/table/eval_preds_7_")
    assert stub["path"].endswith(".table.json")
    assert load(tmp_path, stub) == {"columns": ["a", "b"], "data": [[1, "x"], [2, "y"]]}
    assert stub["size"] == (tmp_path / "files" / stub["path"]).stat().st_size
    assert Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]]).to_stub(tmp_path, "eval/preds", 7) == stub


def test_row_length_validation() -> None:
    t = Table(columns=["a", "b"])
    with pytest.raises(ValueError, match=r"row 0 has 3 values but the table has 2 columns \['a', 'b'\]"):
        t.add_data(1, 2, 3)
    with pytest.raises(ValueError, match="no columns"):
        Table().add_data(1)
    with pytest.raises(ValueError, match="row 1 has 1 values"):
        Table(columns=["a", "b"], data=[[1, 2], [3]])


def test_column_validation() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        Table(columns=["a", "a"])
    with pytest.raises(TypeError, match="must be str"):
        Table(columns=["a", 1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="list of str"):
        Table(columns="ab")


def test_type_consistency() -> None:
    t = Table(columns=["n", "s"])
    t.add_data(None, None)
    t.add_data(1, "a")
    t.add_data(2.5, None)  # int and float are both numbers
    with pytest.raises(TypeError, match=r"column 'n' holds number values, but row 3 has a str: 'x'"):
        t.add_data("x", "b")
    assert t.nrows == 3  # the failed row was not added
    with pytest.raises(TypeError, match=r"column 's' holds str values.*allow_mixed_types"):
        t.add_data(3, 4)
    with pytest.raises(TypeError, match="holds number values, but row 1 has a bool"):
        Table(columns=["n"], data=[[1], [True]])
    with pytest.raises(TypeError, match="holds Image values, but row 1 has a Html"):
        Table(columns=["m"], data=[[Image(np.zeros((2, 2)))], [Html("x")]])
    mixed = Table(columns=["v"], data=[[1], ["a"], [True], [[1, 2]]], allow_mixed_types=True)
    assert mixed.get_column("v") == [1, "a", True, [1, 2]]


def test_values_are_normalised() -> None:
    t = Table(columns=["i", "f", "b", "s", "arr", "d", "when"])
    t.add_data(
        np.int64(3),
        np.float32(0.5),
        np.bool_(True),
        np.str_("x"),
        np.arange(3),
        {"k": np.float64(1)},
        dt.date(2024, 1, 2),
    )
    row = t.data[0]
    assert row == [3, 0.5, True, "x", [0, 1, 2], {"k": 1.0}, "2024-01-02"]
    assert [type(v) for v in row[:4]] == [int, float, bool, str]
    assert type(row[4][0]) is int and type(row[5]["k"]) is float
    t.add_data(None, np.float64("nan"), None, None, (1, 2), None, np.datetime64("2024-01-02T03:04"))
    assert math.isnan(t.data[1][1]) and t.data[1][6] == "2024-01-02T03:04"


@pytest.mark.parametrize("bad", [object(), b"bytes", 1 + 2j, {1: "a"}, [object()], np.complex64(1)])
def test_unsupported_cells(bad: object) -> None:
    with pytest.raises(TypeError, match="Table cells"):
        Table(columns=["c"], data=[[bad]])


def test_data_forms() -> None:
    arr = np.arange(6).reshape(3, 2)
    assert Table(columns=["a", "b"], data=arr).data == [[0, 1], [2, 3], [4, 5]]
    assert Table(columns=["a", "b"], rows=[(1, 2)]).data == [[1, 2]]
    assert Table(data=[[1, 2]]).columns == ["col0", "col1"]
    with pytest.raises(ValueError, match="not both"):
        Table(data=[[1]], rows=[[1]])
    with pytest.raises(ValueError, match=r"2-D.*shape \(3,\)"):
        Table(data=np.arange(3))
    with pytest.raises(TypeError, match="list of rows; row 0 is a str"):
        Table(columns=["a"], data=["abc"])


def test_add_column() -> None:
    t = Table(columns=["a"], data=[[1], [2]])
    t.add_column("b", np.array([0.5, 1.5]))
    with pytest.raises(TypeError, match="column 'c' is not optional, but row 1 is None"):
        t.add_column("c", ["x", None])  # wandb's default: optional=False
    t.add_column("c", ["x", None], optional=True)
    assert t.data == [[1, 0.5, "x"], [2, 1.5, None]]
    with pytest.raises(ValueError, match="got 3 values for 2 rows"):
        t.add_column("d", [1, 2, 3])
    with pytest.raises(ValueError, match="already has a column 'a'"):
        t.add_column("a", [1, 2])
    with pytest.raises(TypeError, match="column 'e' holds number values"):
        t.add_column("e", [1, "x"])
    with pytest.raises(TypeError, match="list, tuple, array or tensor"):
        t.add_column("f", "xy")
    assert t.columns == ["a", "b", "c"]
    empty = Table()
    empty.add_column("x", [1, 2, 3])
    empty.add_data(4)
    assert empty.data == [[1], [2], [3], [4]]


def test_nan_and_inf_survive(tmp_path: Path) -> None:
    t = Table(columns=["v", "l"], data=[[float("nan"), [float("inf")]], [float("-inf"), None], [1.0, None]])
    stub = t.to_stub(tmp_path, "t", 0)
    raw = (tmp_path / "files" / stub["path"]).read_text()
    assert "NaN" in raw and "-Infinity" in raw
    data = load(tmp_path, stub)["data"]
    assert math.isnan(data[0][0]) and data[0][1] == [math.inf] and data[1][0] == -math.inf
    json.dumps(stub, allow_nan=False)  # the stub itself stays strict JSON


def test_media_cells(tmp_path: Path) -> None:
    arr = np.full((3, 4, 3), 7, dtype=np.uint8)
    t = Table(columns=["img", "hist", "page"])
    t.add_data(Image(arr, caption="c"), Histogram([1, 2, 3], num_bins=3), Html("<b>x</b>", inject=False))
    t.add_data(None, None, None)
    data = load(tmp_path, t.to_stub(tmp_path, "samples", 2))["data"]
    img, hist, page = data[0]
    assert img["_type"] == "image-file" and img["caption"] == "c"
    assert img["path"].startswith("media/images/samples.img_2_")
    from PIL import Image as PILImage

    np.testing.assert_array_equal(np.asarray(PILImage.open(tmp_path / "files" / img["path"])), arr)
    assert hist == {
        "_type": "histogram",
        "values": [1, 1, 1],
        "bins": [1.0, 1.6666666666666665, 2.333333333333333, 3.0],
    }
    assert (tmp_path / "files" / page["path"]).read_text() == "<b>x</b>"
    assert data[1] == [None, None, None]


def test_tables_and_nested_media_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot hold a Table"):
        Table(columns=["t"], data=[[Table()]])
    with pytest.raises(TypeError, match="only directly"):
        Table(columns=["l"], data=[[[Image(np.zeros((2, 2)))]]])


def test_snapshot_ignores_later_rows(tmp_path: Path) -> None:
    t = Table(columns=["a"], data=[[1]])
    frozen = t.snapshot()
    t.add_data(2)
    t.add_column("b", [1, 2])
    assert load(tmp_path, frozen.to_stub(tmp_path, "t", 0)) == {"columns": ["a"], "data": [[1]]}
    assert frozen.nrows == 1 and t.nrows == 2


def test_dataframe_round_trip(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {"i": [1, 2, 3], "f": [0.5, np.nan, 2.0], "s": ["a", "b", None], "b": [True, False, True]}
    )
    for t in (Table(dataframe=df), Table(data=df)):
        assert t.columns == ["i", "f", "s", "b"]
        assert type(t.data[0][0]) is int and type(t.data[0][3]) is bool
        pd.testing.assert_frame_equal(t.get_dataframe(), df)
        file = load(tmp_path, t.to_stub(tmp_path, "df", 0))
        pd.testing.assert_frame_equal(pd.DataFrame(file["data"], columns=file["columns"]), df)
    with pytest.raises(ValueError, match="dataframe= alone"):
        Table(columns=["x"], dataframe=df)
    with pytest.raises(TypeError, match="DataFrame"):
        Table(dataframe=[[1]])  # type: ignore[arg-type]


def test_dataframe_missing_markers_and_names() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({0: pd.array([1, None], dtype="Int64"), "t": pd.to_datetime(["2024-01-01", None])})
    t = Table(dataframe=df)
    assert t.columns == ["0", "t"]
    assert t.data == [[1, "2024-01-01T00:00:00"], [None, None]]


cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
)


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return type(a) is type(b) and a == b


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=4).flatmap(lambda n: st.lists(st.tuples(*[cells] * n), max_size=8)))
def test_json_round_trip_of_random_rows(rows: list[tuple]) -> None:
    ncols = len(rows[0]) if rows else 1
    t = Table(columns=[f"c{i}" for i in range(ncols)], allow_mixed_types=True)
    for row in rows:
        t.add_data(*row)
    with tempfile.TemporaryDirectory() as tmp:
        stub = t.to_stub(Path(tmp), "k", 0)
        back = load(Path(tmp), stub)
    assert back["columns"] == t.columns and stub["nrows"] == len(rows)
    assert len(back["data"]) == len(rows)
    for got, want in zip(back["data"], rows, strict=True):
        assert all(same(g, w) for g, w in zip(got, want, strict=True)), (got, want)


# -- wandb's Table surface: cast, optional, index, computed columns, log modes, joins ---------------------


def test_cast_optional_and_dtype() -> None:
    t = Table(columns=["a", "b"], data=[[1, "x"], [None, "y"]])
    with pytest.raises(TypeError, match=r"Table.cast\('a'\): row 1 is None; pass optional=True"):
        t.cast("a", int)
    t.cast("a", float, optional=True)
    with pytest.raises(TypeError, match=r"row 0 holds a str \('x'\), not a number"):
        t.cast("b", int)
    t.cast("b", str)
    with pytest.raises(TypeError, match="column 'b' is not optional, but row 2 is None"):
        t.add_data(2, None)
    with pytest.raises(KeyError, match="no column 'zz'"):
        t.cast("zz", int)
    with pytest.raises(TypeError, match="not one a cell can hold"):
        t.cast("a", set)
    typed = Table(columns=["n", "s"], dtype=[int, str], optional=[False, True])
    with pytest.raises(TypeError, match="column 'n' holds number values, but row 0 has a str"):
        typed.add_data("1", None)
    typed.add_data(1, None)
    assert typed.column_kind("n") == "number" and typed.column_kind("s") == "str"


def test_index_iterrows_and_computed_columns() -> None:
    t = Table(columns=["x", "y"], data=[[3, 1], [4, 6]])
    assert t.get_index() == [0, 1]
    assert list(t.iterrows()) == [(0, [3, 1]), (1, [4, 6])]
    t.add_computed_columns(lambda ndx, row: {"diff": row["x"] - row["y"], "i": ndx})
    assert t.columns == ["x", "y", "diff", "i"] and t.get_column("diff") == [2, -2]
    assert t.get_column("i", convert_to="numpy").tolist() == [0, 1]
    assert t.get_dataframe()["diff"].tolist() == [2, -2]


def logged_tables(run_dir: Path, key: str) -> list[dict]:
    return [load(run_dir, row[key]) for row in history(run_dir) if key in row]


def test_log_modes() -> None:
    with pytest.raises(ValueError, match="log_mode must be one of"):
        Table(columns=["a"], log_mode="APPEND")
    run = wakelog.init(mode="offline")
    immutable = Table(columns=["a"], data=[[1]])
    mutable = Table(columns=["a"], data=[[1]], log_mode="MUTABLE")
    incremental = Table(columns=["a"], data=[[1]], log_mode="INCREMENTAL")
    run.log({"i": immutable, "m": mutable, "n": incremental})
    with pytest.warns(UserWarning, match="log_mode='IMMUTABLE'.*logged already"):
        immutable.add_data(2)
    mutable.add_data(2)
    incremental.add_data(2)
    incremental.add_data(3)
    run.log({"i": immutable, "m": mutable, "n": incremental})
    run.log({"n": incremental})  # nothing new: the same increment again
    incremental.add_data(4)
    run.log({"n": incremental})
    run.finish()
    assert [t["data"] for t in logged_tables(run.run_dir, "i")] == [[[1]], [[1]]]
    assert [t["data"] for t in logged_tables(run.run_dir, "m")] == [[[1]], [[1], [2]]]
    assert [t["data"] for t in logged_tables(run.run_dir, "n")] == [[[1]], [[2], [3]], [[2], [3]], [[4]]]
    stubs = [row["n"] for row in history(run.run_dir) if "n" in row]
    assert [s["_type"] for s in stubs] == ["incremental-table-file"] * 4
    assert [s["increment_num"] for s in stubs] == [0, 1, 1, 2]
    assert stubs[3]["previous_increments_paths"] == [stubs[0]["path"], stubs[1]["path"]]
    assert {row["i"]["log_mode"] for row in history(run.run_dir) if "i" in row} == {"IMMUTABLE"}
    with pytest.raises(ValueError, match="cannot gain columns once logged"):
        incremental.add_column("b", [1, 2, 3, 4])


def test_joined_table(tmp_path: Path) -> None:
    left = Table(columns=["id", "x"], data=[[1, "a"], [2, "b"]])
    right = Table(columns=["key", "y"], data=[[2, 0.5]])
    joined = wakelog.JoinedTable(left, right, ["id", "key"])
    stub = joined.to_stub(tmp_path, "j", 3)
    assert stub["_type"] == "joined-table" and stub["join_key"] == ["id", "key"]
    assert load(tmp_path, stub["table1"])["data"] == [[1, "a"], [2, "b"]]
    assert stub["table2"]["path"].startswith("media/table/j_table2_3_")
    with pytest.raises(ValueError, match="join key 'id' is not a column of table2"):
        wakelog.JoinedTable(left, right, "id")
    with pytest.raises(ValueError, match="a column name or a list of two"):
        wakelog.JoinedTable(left, right, ["id"])
    with pytest.raises(TypeError, match="table1 must be a wakelog Table"):
        wakelog.JoinedTable([[1]], right, "key")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot hold a JoinedTable"):
        Table(columns=["t"], data=[[joined]])
