"""Logged tables on the run page's media tab: every row reachable, sortable, filterable."""

from __future__ import annotations

import math
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, run_finished_script, shot

ROWS = 5000
LABELS = ["cat", "dog", "fox", "owl", "yak"]
NAN_ID = 1234
INF_ID = 4321


def label_of(i: int) -> str:
    return LABELS[i % len(LABELS)]


def score_of(i: int) -> float:
    """Every id gets a different score in [0, 1), in an order unlike the ids'."""
    if i == NAN_ID:
        return math.nan
    if i == INF_ID:
        return math.inf
    return (i * 7919 % ROWS) / ROWS


SCRIPT = f"""
import math
import numpy as np
run = wakelog.init(name="tables")
labels = {LABELS!r}
def score(i):
    return math.nan if i == {NAN_ID} else math.inf if i == {INF_ID} else (i * 7919 % {ROWS}) / {ROWS}
rows = [[i, labels[i % len(labels)], score(i)] for i in range(1, {ROWS} + 1)]
picture = wakelog.Image(np.full((4, 4, 3), 200, dtype="uint8"))
run.log({{
    "predictions": wakelog.Table(columns=["id", "label", "score"], data=rows),
    "gallery": wakelog.Table(columns=["name", "picture", "extra"], data=[["grey", picture, {{"k": 1}}]]),
}})
run.finish()
"""


@pytest.fixture(scope="module")
def tables_run(seeded: Seeded) -> str:
    """The run holding the tables, logged once for the module."""
    return run_finished_script(seeded, "tables", SCRIPT)


def first_row(table: Any) -> list[str]:
    return table.locator("[role=row][aria-rowindex='2'] [role=cell]").all_inner_texts()


def ids_of(table: Any) -> list[int]:
    """The ids of the rows now in the DOM, in the order they are shown."""
    return table.evaluate(
        """t => [...t.querySelectorAll('[role=rowgroup] [role=row][aria-rowindex]')]
                .filter(r => r.getAttribute('aria-rowindex') !== '1')
                .sort((a, b) => a.ariaRowIndex - b.ariaRowIndex)
                .map(r => Number(r.querySelector('[role=cell]').textContent))"""
    )


def scroll_to_end(panel: Any) -> None:
    panel.locator(".mt-scroll").evaluate("e => e.scrollTo({ top: e.scrollHeight })")


def expect_first_id(table: Any, row_id: int) -> None:
    expect(table.locator("[role=row][aria-rowindex='2'] [role=cell]").first).to_have_text(str(row_id))


def visible_rows(table: Any) -> list[list[str]]:
    rows = table.locator("[role=rowgroup] [role=row]:not([aria-rowindex='1'])")
    return [row.get_by_role("cell").all_inner_texts() for row in rows.all()]


def test_a_large_table_shows_all_its_rows_sorted_and_filtered(pages: Pages, tables_run: str) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{tables_run}?tab=media"))
    panel = page.get_by_role("region", name="predictions")
    table = panel.get_by_role("table", name="predictions")
    count = panel.get_by_test_id("table-count")
    expect(count).to_have_text("5000 of 5000 rows")
    assert first_row(table) == ["1", "dog", str(score_of(1))]
    assert table.get_by_role("row").count() < 100, "virtualised: only the rows in view are in the DOM"

    scroll_to_end(panel)
    last = table.locator(f"[role=row][aria-rowindex='{ROWS + 1}']")
    last.wait_for()
    assert last.get_by_role("cell").first.inner_text() == str(ROWS)

    # Ascending by score, from the bottom of the table: the order starts again at its top.
    header = table.get_by_role("columnheader", name="score")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    finite = [i for i in range(1, ROWS + 1) if math.isfinite(score_of(i))]
    lowest = min(finite, key=score_of)
    expect_first_id(table, lowest)
    ids = ids_of(table)
    assert [score_of(i) for i in ids] == sorted(score_of(i) for i in ids)

    # Descending: infinity first, NaN still last.
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect_first_id(table, INF_ID)
    assert first_row(table) == [str(INF_ID), label_of(INF_ID), "∞"]
    scroll_to_end(panel)
    table.locator(f"[role=row][aria-rowindex='{ROWS + 1}']").wait_for()
    assert ids_of(table)[-1] == NAN_ID
    assert table.get_by_role("cell", name="NaN").count() == 1
    shot(page, "run-media-table-sorted")

    # A filter keeps the rows with that label, still in the chosen order.
    panel.get_by_label("Filter rows").fill("fox")
    expect(count).to_have_text("1000 of 5000 rows")
    foxes = [i for i in range(1, ROWS + 1) if label_of(i) == "fox"]
    highest_fox = max(foxes, key=score_of)
    expect_first_id(table, highest_fox)
    assert {cells[1] for cells in visible_rows(table)} == {"fox"}
    assert table.get_attribute("aria-rowcount") == "1001"

    panel.get_by_label("Filter rows").fill("fox 4997")  # every word, each in some column
    expect(count).to_have_text("1 of 5000 rows")
    assert [cells[0] for cells in visible_rows(table)] == ["4997"]
    shot(page, "run-media-table-filtered")


def test_image_and_object_cells_are_readable(pages: Pages, tables_run: str) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{tables_run}?tab=media"))
    table = page.get_by_role("table", name="gallery")
    image = table.get_by_role("img", name="picture, row 1")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('img.mt-thumb')?.complete")
    assert image.evaluate("img => img.naturalWidth") == 4
    assert first_row(table) == ["grey", "", '{"k":1}']
