"""Histories over HTTP: envelope downsampling, zooming, x axes, exports, rows, system metrics,
console, media and file downloads — checked against exactly what was logged."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import numpy as np
import pytest

from tests.harness import InProcessServer
from tests.server.conftest import post_records

API = "/api/v1"
RUN = "acme/hist/h1"
N = 20_000
START = 1_700_000_000.0
NAN_STEPS = {77, 5003, 12_345}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def loss_values() -> np.ndarray:
    values = np.cumsum(np.random.default_rng(7).standard_normal(N))
    values[list(NAN_STEPS)] = np.nan
    values[999] = np.inf
    values[15_000] = -np.inf
    return values


def logged_rows() -> list[dict[str, Any]]:
    """Every history row as logged (what export and scans must give back)."""
    loss = loss_values()
    rows = []
    for step in range(N):
        row: dict[str, Any] = {"_step": step, "_runtime": step * 0.01, "_timestamp": START + step * 0.01}
        row["loss"] = float(loss[step])
        if step % 10 == 0:
            row["acc"] = step / N
        if step % 1000 == 0:
            row["epoch"] = step / 1000
        if step in (0, 5000):
            row["img"] = {"_type": "image-file", "path": f"media/images/img_{step}.png", "format": "png"}
        if step == 3:
            row["note"] = 'hello, "world"'
        rows.append(row)
    return rows


def records() -> list[list[Any]]:
    out: list[list[Any]] = [[0, "run", START, {"id": "h1", "project": "hist", "start_time": START}]]
    for row in logged_rows():
        out.append([len(out), "history", START + row["_step"] * 0.01, row])
    for i in range(20):
        out.append([len(out), "stats", START + i, {"_runtime": i * 1.5, "system/cpu_percent": float(i)}])
    lines = [[START + i, "stderr" if i % 7 == 0 else "stdout", f"line {i}"] for i in range(50)]
    out.append([len(out), "output", START, {"lines": lines}])
    names = ["media/images/img_0.png", "pending.txt"]
    out.append([len(out), "files", START, {"files": [{"name": n, "policy": "now"} for n in names]}])
    return out


def upload(http: httpx.Client, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    response = http.put(
        f"{API}/runs/{RUN}/blobs/{sha}", params={"offset": 0, "total": len(content)}, content=content
    )
    assert response.status_code == 200, response.text
    return sha


FILES = {
    "media/images/img_0.png": PNG,
    "report.html": b"<script>alert(1)</script>",
    "plot.svg": b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    "data/metrics.json": b'{"a": 1}',
    "model.bin": bytes(range(256)),
    "notes/read me.txt": "héllo\n".encode(),
}


@pytest.fixture(scope="module")
def http(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        batch = records()
        live = range(N - 1499, N + 1)  # the last 1,500 rows come a few at a time, as from a live run
        sends = [batch[start : min(start + 3000, live.start)] for start in range(0, live.start, 3000)]
        sends += [batch[start : start + 5] for start in range(live.start, live.stop, 5)]
        sends.append(batch[live.stop :])
        for send in sends:  # the series end in staged rows, after several joins (store/series.py)
            response = post_records(client, RUN, send)
            assert response.status_code == 200, response.text
        for i, run_id in enumerate(["h2", "h3"]):
            rows = [[0, "run", START, {"id": run_id}]]
            rows += [[s + 1, "history", START, {"_step": s, "loss": float(s * (i + 2))}] for s in range(300)]
            post_records(client, f"acme/hist/{run_id}", rows)
        listing = [
            {"name": name, "sha256": upload(client, data), "size": len(data)} for name, data in FILES.items()
        ]
        assert client.post(f"{API}/runs/{RUN}/files", json={"files": listing}).status_code == 200
        yield client


_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def floats(values: list[Any]) -> np.ndarray:
    return np.array([_NON_FINITE.get(v, v) if isinstance(v, str) else v for v in values], dtype=np.float64)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def check_envelope(series: dict[str, Any], steps: np.ndarray, values: np.ndarray) -> None:
    """Every raw point lies in the [min, max] of the bin it fell in; each bin's point is real."""
    out_steps = np.array(series["steps"], dtype=np.int64)
    out_values, mins, maxs = floats(series["values"]), floats(series["min"]), floats(series["max"])
    assert np.all(np.diff(out_steps) > 0)
    assert len(steps) == series["count"]
    assert out_steps[-1] == steps[-1]
    raw_at = dict(zip(steps.tolist(), values.tolist(), strict=True))
    for step, value in zip(out_steps.tolist(), out_values.tolist(), strict=True):
        assert same(raw_at[step], value)
    bins = np.searchsorted(out_steps, steps, side="left")
    finite = ~np.isnan(values)
    assert np.all(mins[bins][finite] <= values[finite])
    assert np.all(maxs[bins][finite] >= values[finite])


def raw_series(key: str, lo: int = 0, hi: int = N - 1) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for r in logged_rows() if key in r and lo <= r["_step"] <= hi]
    return np.array([r["_step"] for r in rows], dtype=np.int64), np.array(
        [r[key] for r in rows], dtype=np.float64
    )


def history(http: httpx.Client, **params: Any) -> dict[str, Any]:
    response = http.get(f"{API}/runs/{RUN}/history", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_downsampled_series_keep_the_envelope(http: httpx.Client) -> None:
    answer = history(http, keys=["loss", "acc"], points=300)
    assert (
        "app;dur=" in http.get(f"{API}/runs/{RUN}/history", params={"keys": "loss"}).headers["server-timing"]
    )
    loss, acc = answer["series"]
    assert loss["downsampled"] and acc["downsampled"] and "x" not in loss
    assert len(loss["steps"]) <= 300 and len(acc["steps"]) <= 300
    check_envelope(loss, *raw_series("loss"))
    check_envelope(acc, *raw_series("acc"))
    assert max(floats(loss["max"])) == math.inf and min(floats(loss["min"])) == -math.inf
    # The default: every key not starting with "_".
    assert [s["key"] for s in history(http, points=10)["series"]] == ["acc", "epoch", "loss"]


def test_zoomed_ranges(http: httpx.Client) -> None:
    raw = history(http, keys=["loss"], points=1000, min_step=4990, max_step=5010)["series"][0]
    steps, values = raw_series("loss", 4990, 5010)
    assert not raw["downsampled"] and raw["steps"] == steps.tolist()
    assert all(same(a, b) for a, b in zip(floats(raw["values"]).tolist(), values.tolist(), strict=True))
    assert "NaN" in raw["values"] and raw["min"] == raw["values"] == raw["max"]
    # A zoom with more points than asked: downsampled inside the range only.
    zoom = history(http, keys=["loss"], points=100, min_step=2500, max_step=9000)["series"][0]
    assert zoom["downsampled"] and zoom["steps"][0] >= 2500 and zoom["steps"][-1] == 9000
    check_envelope(zoom, *raw_series("loss", 2500, 9000))
    inf = history(http, keys=["loss"], min_step=990, max_step=1000)["series"][0]
    assert inf["values"][9] == "Infinity" and inf["steps"][9] == 999
    empty = history(http, keys=["loss", "missing"], min_step=N + 5)["series"]
    assert [(s["key"], s["steps"], s["count"]) for s in empty] == [("loss", [], 0), ("missing", [], 0)]


def test_x_axes(http: httpx.Client) -> None:
    runtime = history(http, keys=["loss"], x_axis="_runtime", min_step=100, max_step=120)["series"][0]
    assert runtime["x"] == [s * 0.01 for s in range(100, 121)]
    epoch = history(http, keys=["loss"], x_axis="epoch", points=200)["series"][0]
    x = floats(epoch["x"])
    steps = np.array(epoch["steps"])
    inside = steps <= 19_000
    assert np.allclose(x[inside], steps[inside] / 1000) and np.all(np.isnan(x[~inside]))
    window = history(http, keys=["loss"], x_axis="_runtime", x_min=50.0, x_max=60.0, points=5000)["series"][0]
    assert not window["downsampled"] and window["steps"] == list(range(5000, 6001))
    assert min(window["x"]) >= 50.0 and max(window["x"]) <= 60.0
    coarse = history(http, keys=["loss"], x_axis="_timestamp", x_min=START + 20, x_max=START + 150, points=50)
    series = coarse["series"][0]
    assert series["downsampled"] and len(series["steps"]) <= 50
    assert min(series["x"]) >= START + 19 and max(series["x"]) <= START + 151


def test_msgpack_matches_json(http: httpx.Client) -> None:
    params = {"keys": ["loss", "acc"], "points": 200, "x_axis": "_runtime"}
    as_json = history(http, **params)
    response = http.get(f"{API}/runs/{RUN}/history", params=params, headers={"Accept": "application/msgpack"})
    assert response.headers["content-type"].startswith("application/msgpack")
    packed = msgspec.msgpack.decode(response.content)
    for a, b in zip(as_json["series"], packed["series"], strict=True):
        assert np.frombuffer(b["steps"], "<f8").astype(np.int64).tolist() == a["steps"]
        for name in ("values", "min", "max", "x"):
            assert np.array_equal(np.frombuffer(b[name], "<f8"), floats(a[name]), equal_nan=True)


def test_many_runs_at_once(http: httpx.Client) -> None:
    body = {"runs": ["h2", "nope", "h3"], "keys": ["loss"], "points": 50}
    posted = http.post(f"{API}/projects/acme/hist/history", json=body).json()
    assert [(s["run"], s["downsampled"], s["count"]) for s in posted["series"]] == [
        ("h2", True, 300),
        ("h3", True, 300),
    ]
    got = http.get(f"{API}/projects/acme/hist/history", params={**body, "runs": body["runs"]}).json()
    assert got == posted
    for series, factor in zip(posted["series"], (2, 3), strict=True):
        check_envelope(series, np.arange(300), np.arange(300) * float(factor))
    too_many = {"runs": [f"r{i}" for i in range(1001)], "keys": ["loss"]}
    assert http.post(f"{API}/projects/acme/hist/history", json=too_many).status_code == 400
    assert http.post(f"{API}/projects/acme/hist/history", json={**body, "points": 0}).status_code == 422
    assert http.post(f"{API}/projects/acme/nope/history", json=body).status_code == 404


def test_export_gives_back_what_was_logged(http: httpx.Client) -> None:
    logged = logged_rows()
    keys = ["_runtime", "_timestamp", "acc", "epoch", "img", "loss", "note"]
    response = http.get(f"{API}/runs/{RUN}/history/export", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["_step", *keys] and len(table) == N + 1
    for row, cells in zip(logged, table[1:], strict=True):
        assert int(cells[0]) == row["_step"]
        for key, cell in zip(keys, cells[1:], strict=True):
            if key not in row:
                assert cell == ""
            elif isinstance(row[key], (dict, str)):
                assert json.loads(cell) == row[key]
            else:
                assert same(float(cell), float(row[key])), (row["_step"], key)
    lines = http.get(f"{API}/runs/{RUN}/history/export", params={"format": "jsonl"}).text.splitlines()
    assert len(lines) == N
    for row, line in zip(logged, lines, strict=True):
        parsed = json.loads(line)
        assert parsed.keys() == row.keys()
        assert all(same(parsed[k], row[k]) for k in row)
    part = http.get(
        f"{API}/runs/{RUN}/history/export",
        params={"format": "jsonl", "keys": ["acc"], "min_step": 95, "max_step": 120},
    ).text
    assert [json.loads(line) for line in part.splitlines()] == [
        {"_step": s, "acc": s / N} for s in (100, 110, 120)
    ]


def test_rows_page_through_everything(http: httpx.Client) -> None:
    logged = logged_rows()
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"page_size": 7777, "keys": ["loss", "note"]}
    pages = 0
    while True:
        page = http.get(f"{API}/runs/{RUN}/history/rows", params=params).json()
        rows += page["rows"]
        pages += 1
        if page["next_step"] is None:
            break
        params["min_step"] = page["next_step"]
    assert pages == 3 and len(rows) == N
    for row, got in zip(logged, rows, strict=True):
        want = {k: row[k] for k in ("_step", "loss", "note") if k in row}
        assert got.keys() == want.keys()
        assert all(same(floats([got[k]])[0], want[k]) if k == "loss" else got[k] == want[k] for k in want)
    sparse = http.get(
        f"{API}/runs/{RUN}/history/rows",
        params={"keys": ["acc", "epoch"], "require": "all", "page_size": 100},
    ).json()
    assert [r["_step"] for r in sparse["rows"]] == list(range(0, N, 1000)) and sparse["next_step"] is None


def test_system_metrics(http: httpx.Client) -> None:
    answer = http.get(f"{API}/runs/{RUN}/system").json()
    (series,) = answer["series"]
    assert series["key"] == "system/cpu_percent" and answer["x_axis"] == "_runtime"
    assert series["steps"] == [round(i * 1.5 * 1000) for i in range(20)]
    assert series["x"] == [i * 1.5 for i in range(20)] and series["values"] == [float(i) for i in range(20)]
    stamped = http.get(f"{API}/runs/{RUN}/system", params={"x_axis": "_timestamp", "x_min": START + 3}).json()
    assert stamped["series"][0]["x"][0] == START + 3.0
    assert http.get(f"{API}/runs/{RUN}/system", params={"x_axis": "loss"}).status_code == 400
    keys = http.get(f"{API}/runs/{RUN}/keys").json()
    assert [k["key"] for k in keys["history"]] == ["_runtime", "_timestamp", "acc", "epoch", "loss"]
    assert keys["history"][2] == {"key": "acc", "count": N // 10, "first_step": 0, "last_step": N - 10}
    assert keys["system"][0]["count"] == 20
    assert [(k["key"], k["count"]) for k in keys["objects"]] == [("img", 2), ("note", 1)]


def test_console_tail_and_paging(http: httpx.Client) -> None:
    url = f"{API}/runs/{RUN}/console"
    tail = http.get(url, params={"tail": 5}).json()
    assert [line["text"] for line in tail["lines"]] == [f"line {i}" for i in range(45, 50)]
    assert tail["total"] == 50
    page = http.get(url, params={"offset": 10, "limit": 5}).json()
    assert [line["line"] for line in page["lines"]] == list(range(10, 15)) and page["next_offset"] == 15
    last = http.get(url, params={"offset": 48, "limit": 5}).json()
    assert len(last["lines"]) == 2 and last["next_offset"] is None
    before = http.get(url, params={"before": 10, "limit": 3}).json()
    assert [line["line"] for line in before["lines"]] == [7, 8, 9]
    errors = http.get(url, params={"stream": "stderr", "limit": 100}).json()
    assert [line["line"] for line in errors["lines"]] == list(range(0, 50, 7))
    assert http.get(url, params={"tail": 5, "offset": 3}).status_code == 400


def test_media_and_file_downloads(http: httpx.Client) -> None:
    media = http.get(f"{API}/runs/{RUN}/media", params={"key": "img"}).json()["items"]
    assert [(m["step"], m["value"]["path"]) for m in media] == [
        (0, "media/images/img_0.png"),
        (5000, "media/images/img_5000.png"),
    ]
    image = http.get(media[0]["url"])
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["content-disposition"].startswith("inline")
    assert "sandbox" in image.headers["content-security-policy"]
    assert http.get(media[0]["url"], headers={"If-None-Match": image.headers["etag"]}).status_code == 304
    for name in ("report.html", "plot.svg", "model.bin"):
        response = http.get(f"{API}/runs/{RUN}/files/{name}")
        assert response.content == FILES[name]
        assert response.headers["content-type"] == "application/octet-stream", name
        assert response.headers["content-disposition"].startswith("attachment"), name
        assert response.headers["x-content-type-options"] == "nosniff"
    data = http.get(f"{API}/runs/{RUN}/files/data/metrics.json")
    assert data.headers["content-type"].startswith("application/json") and data.json() == {"a": 1}
    text = http.get(f"{API}/runs/{RUN}/files/notes/read%20me.txt")
    assert text.headers["content-type"] == "text/plain; charset=utf-8" and text.text == "héllo\n"
    forced = http.get(f"{API}/runs/{RUN}/files/data/metrics.json", params={"download": True})
    assert forced.headers["content-disposition"].startswith("attachment")
    listing = http.get(f"{API}/runs/{RUN}/files").json()
    names = [f["name"] for f in listing["files"]]
    assert names == sorted([*FILES, "pending.txt"]) and listing["total"] == len(FILES) + 1
    pending = next(f for f in listing["files"] if f["name"] == "pending.txt")
    assert pending["uploaded"] is False and http.get(f"{API}/runs/{RUN}/files/pending.txt").status_code == 404
    assert [
        f["name"] for f in http.get(f"{API}/runs/{RUN}/files", params={"prefix": "media/"}).json()["files"]
    ] == ["media/images/img_0.png"]
    assert http.get(f"{API}/runs/{RUN}/files/nope.txt").status_code == 404
    for hostile in ("a/%2e%2e/%2e%2e/etc/passwd", "%2fetc/passwd", "a%5cb", "a//b"):
        assert http.get(f"{API}/runs/{RUN}/files/{hostile}").status_code in (400, 404), hostile
    assert http.get(f"{API}/runs/{RUN}/files/a/%2e%2e/x").status_code == 400
