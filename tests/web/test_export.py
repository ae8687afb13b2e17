"""Export from the browser: a chart's data as CSV (raw and smoothed values, as drawn), a chart as PNG
and SVG, and the run table as CSV (the columns shown, every run the filter matches, across the
API's pages), with spreadsheet formulas defused. The files are read back from Playwright's download."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import post_records
from tests.web.conftest import ARTIFACTS, ENTITY, PROJECT, RUNS, STEPS, Pages, drawn_panel, shot
from tests.web.test_accessibility import LOCALES

WORKSPACE = f"/{ENTITY}/{PROJECT}"
#: A project of many runs, more than one page of the API's run list (500).
MANY = "exports"
MANY_RUNS = 503
EVIL = '=HYPERLINK("http://evil.example","x")'


def saved(page: Any, click: Any) -> Path:
    """The file a click downloads."""
    with page.expect_download() as info:
        click()
    path = info.value.path()
    assert path is not None
    return Path(path)


def read_csv(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff"), "a byte-order mark, so spreadsheets read UTF-8"
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def export_from_panel(page: Any, metric: str, item: str) -> Path:
    panel = drawn_panel(page, metric)
    panel.get_by_test_id("export-menu").click()
    return saved(page, lambda: panel.locator(f"[data-export={item}]").click())


def test_a_charts_data_downloads_as_csv_raw_and_smoothed(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    rows = read_csv(export_from_panel(page, "score", "csv"))
    assert rows[0] == ["run", "id", "Step", "value"]
    by_run: dict[str, list[tuple[float, float]]] = {}
    for name, run_id, step, value in rows[1:]:
        assert pages.seeded.ids[name] == run_id
        by_run.setdefault(name, []).append((float(step), float(value)))
    assert set(by_run) == set(RUNS)
    for name, (_, offset) in RUNS.items():
        assert by_run[name] == [(s, 2 * s + offset) for s in range(STEPS)], name

    # With smoothing the raw values stay, and the smoothed ones (what the line draws) come beside them.
    page.goto(pages.url(f"{WORKSPACE}?smooth=0.6"))
    rows = read_csv(export_from_panel(page, "train/loss", "csv"))
    assert rows[0] == ["run", "id", "Step", "value", "smoothed"]
    alpha = [r for r in rows[1:] if r[0] == "alpha"]
    assert [float(r[3]) for r in alpha] == pytest.approx([1.0 / (s + 1) for s in range(STEPS)])
    assert float(alpha[0][4]) == pytest.approx(1.0)  # debiased EMA starts at the first value
    assert float(alpha[1][4]) == pytest.approx((0.4 * 0.6 * 1.0 + 0.4 * 0.5) / (1 - 0.36))


def test_a_chart_downloads_as_png_and_svg(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    png = export_from_panel(page, "score", "png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    svg = export_from_panel(page, "score", "svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "</svg>" in svg
    for name in RUNS:  # the legend names every run
        assert name in svg
    assert svg.count("<path") >= len(RUNS)
    # Kept to look at: the PNG as saved, and the SVG as a browser draws it.
    (ARTIFACTS / "export-score.png").write_bytes(png)
    viewer = pages.new(signed_in=False)
    viewer.set_content(svg)
    shot(viewer, "export-score-svg")

    # ECharts panels (parallel coordinates) have the same menu.
    page.locator("details[data-section=parallel] > summary").click()
    parallel = page.get_by_test_id("parallel")
    parallel.locator("canvas").first.wait_for()
    with page.expect_download() as info:
        parallel.get_by_test_id("export-menu").first.click()
        parallel.locator("[data-export=svg]").click()
    assert info.value.suggested_filename.endswith(".svg")
    drawn = Path(info.value.path()).read_text(encoding="utf-8")
    assert drawn.startswith("<svg") and "lr" in drawn
    shot(page, "export-parallel")


@pytest.fixture(scope="module")
def exports_project(seeded: Any) -> None:
    """503 finished runs (one named like a spreadsheet formula) and one still running."""
    with seeded.server.client() as http:
        for i in range(MANY_RUNS):
            name = EVIL if i == 7 else f"run-{i:03d}"
            records = [[0, "run", 1.0 + i, {"name": name}], [1, "exit", 2.0 + i, {"exit_code": 0}]]
            assert post_records(http, f"{ENTITY}/{MANY}/r{i:03d}", records).is_success
        assert post_records(http, f"{ENTITY}/{MANY}/live", [[0, "run", 1.0, {"name": "live"}]]).is_success


@pytest.mark.parametrize("language", LOCALES)
def test_the_run_table_downloads_every_matching_run(
    pages: Pages, exports_project: None, language: str
) -> None:
    page = pages.new(locale=LOCALES[language])
    page.goto(pages.url(f'/{ENTITY}/{MANY}?filter=state+%3D+"finished"&order=name'))
    page.locator("[data-testid=run-table] [data-run]").first.wait_for()
    button = page.get_by_test_id("export-table")
    assert button.inner_text() == {"en": "Export CSV", "zh": "导出 CSV"}[language]
    # The headers shown, less the selection column's and the sort mark.
    headers = page.locator(
        "[data-testid=run-table] [role=columnheader]:not([data-column=__select])"
    ).all_inner_texts()
    shown = [h.strip(" ▲▼\n") for h in headers]
    rows = read_csv(saved(page, button.click))
    assert rows[0] == [shown[0], "id", *shown[1:]]
    assert shown[0] == {"en": "Name", "zh": "名称"}[language]
    assert len(rows) - 1 == MANY_RUNS, "every page of the filtered runs, not only the rows loaded"
    names = [r[0] for r in rows[1:]]
    assert "live" not in names
    assert names.count(f"'{EVIL}") == 1 and EVIL not in names, "the formula is defused"
    assert [n for n in names if n.startswith("run-")] == [f"run-{i:03d}" for i in range(MANY_RUNS) if i != 7]
    created = rows[0].index({"en": "Created", "zh": "创建时间"}[language])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", r[created]) for r in rows[1:])
    shot(page, f"export-table-{language}")


def test_the_export_controls_fit_a_phone(pages: Pages) -> None:
    page = pages.new()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(pages.url(f"{WORKSPACE}?view=charts"))
    panel = page.locator("[data-testid=panel][data-metric=score]")
    panel.locator("canvas").first.wait_for()
    panel.get_by_test_id("export-menu").click()
    menu = page.get_by_role("menu").bounding_box()
    assert menu is not None and menu["x"] >= 0 and menu["x"] + menu["width"] <= 390, menu
    shot(page, "export-menu-390")
    page.keyboard.press("Escape")
    page.goto(pages.url(f"{WORKSPACE}?view=table"))
    button = page.get_by_test_id("export-table").bounding_box()
    assert button is not None and button["x"] >= 0 and button["x"] + button["width"] <= 390, button
