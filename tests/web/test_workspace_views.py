"""Views of the runs that a person changes while looking: hidden runs, the scatter plot's axes, and
the compare page of a run that is still logging."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, GatedRun, Pages, hover_middle, shot
from tests.web.test_e2e import WORKSPACE, wait_for_rows

#: Only the three seeded runs (a live run started by a test here is not tagged "web").
SEEDED_ONLY = "filter=tags%20contains%20%22web%22"

#: Keeps, for every canvas, the texts painted on it since it was last cleared: the words a person
#: sees on an ECharts chart (axis names, category labels), which are not in the DOM.
RECORD_CANVAS_TEXT = """
(() => {
  const painted = new WeakMap();
  const proto = CanvasRenderingContext2D.prototype;
  const clearRect = proto.clearRect;
  proto.clearRect = function (...args) {
    painted.set(this.canvas, []);
    return clearRect.apply(this, args);
  };
  for (const method of ["fillText", "strokeText"]) {
    const draw = proto[method];
    proto[method] = function (text, ...args) {
      if (!painted.has(this.canvas)) painted.set(this.canvas, []);
      painted.get(this.canvas).push(String(text));
      return draw.call(this, text, ...args);
    };
  }
  window.canvasText = (label) => {
    const canvases = document.querySelectorAll(`[role=img][aria-label="${label}"] canvas`);
    return [...canvases].flatMap((canvas) => painted.get(canvas) ?? []);
  };
})();
"""


def url_list(url: str, name: str) -> list[str]:
    """A list parameter of a page's URL (``sel=a,b``)."""
    values = parse_qs(urlparse(url).query).get(name, [""])
    return [v for v in values[0].split(",") if v]


def tooltip_runs(page: Any, metric: str = "score") -> list[str]:
    """The runs the chart's tooltip lists with the cursor in the middle of the chart."""
    panel = page.locator(f"[data-testid=panel][data-metric='{metric}']")
    panel.scroll_into_view_if_needed()  # a panel draws its chart once it comes into view
    chart = panel.get_by_test_id("line-chart")
    return sorted(hover_middle(page, chart).locator(".tt-name").all_inner_texts())


def redraw(page: Any, action: Any, metric: str = "score") -> None:
    """Do ``action`` and wait until the chart of ``metric`` is built again (new runs: a new uPlot)."""
    old = page.locator(f"[data-metric='{metric}'] .u-over").element_handle()
    action()
    page.wait_for_function("(over) => !over.isConnected", arg=old)


def test_a_hidden_run_leaves_the_charts_but_stays_selected(pages: Pages) -> None:
    ids = pages.seeded.ids
    page = pages.new()
    page.goto(pages.url(f"{WORKSPACE}?sel={ids['alpha']},{ids['beta']}&{SEEDED_ONLY}"))
    wait_for_rows(page, 3)
    assert tooltip_runs(page) == ["alpha", "beta"]

    redraw(page, lambda: page.get_by_role("button", name="Hide run: beta").click())
    assert tooltip_runs(page) == ["alpha"]
    assert url_list(page.url, "hidden") == [ids["beta"]]
    assert page.get_by_label("Show in charts: beta").is_checked(), "hiding does not unselect"
    assert page.get_by_text("2 selected").is_visible()
    beta_name = page.locator("[data-run] .run-link", has_text="beta")
    assert beta_name.evaluate("e => getComputedStyle(e.closest('[role=cell]')).opacity") == "0.45"
    shot(page, "workspace-hidden-run")

    # A link reproduces it.
    page.reload()
    page.get_by_role("button", name="Show run: beta").wait_for()
    assert tooltip_runs(page) == ["alpha"]

    # The hidden run is still compared.
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url(re.compile(r"/compare\?"))
    assert url_list(page.url, "runs") == [ids["alpha"], ids["beta"]]
    page.get_by_test_id("config-diff").wait_for()
    page.go_back()
    page.get_by_role("button", name="Show run: beta").wait_for()
    assert tooltip_runs(page) == ["alpha"], "back from the comparison, beta is still hidden"

    redraw(page, lambda: page.get_by_role("button", name="Show run: beta").click())
    assert tooltip_runs(page) == ["alpha", "beta"]
    assert "hidden=" not in page.url


def test_a_group_rows_eye_hides_and_shows_all_its_runs(pages: Pages) -> None:
    ids = pages.seeded.ids
    page = pages.new()
    page.goto(pages.url(f"{WORKSPACE}?group=state&{SEEDED_ONLY}"))
    wait_for_rows(page, 3)
    page.locator("[data-metric=score] .u-over").wait_for()
    page.get_by_role("button", name="Hide the runs of finished").click()
    page.wait_for_url(re.compile(r"hidden="))
    assert sorted(url_list(page.url, "hidden")) == sorted(ids.values())
    for name in ids:
        page.get_by_role("button", name=f"Show run: {name}").wait_for()
    page.locator("[data-metric=score]").get_by_text("No data").wait_for()
    shot(page, "workspace-group-hidden")

    page.get_by_role("button", name="Show the runs of finished").click()
    page.locator("[data-metric=score] .u-over").wait_for()
    assert "hidden=" not in page.url


def test_a_hidden_run_leaves_the_parallel_coordinates(pages: Pages) -> None:
    ids = pages.seeded.ids
    page = pages.new()
    page.add_init_script(RECORD_CANVAS_TEXT)
    page.goto(pages.url(f"{WORKSPACE}?{SEEDED_ONLY}"))
    wait_for_rows(page, 3)
    page.locator("details[data-section=parallel] > summary").click()
    # beta is the only run with optimizer "sgd": a category on the optimizer.name axis.
    page.wait_for_function("() => canvasText('Parallel coordinates').includes('sgd')")
    page.get_by_role("button", name="Hide run: beta").click()
    page.wait_for_function(
        "() => { const text = canvasText('Parallel coordinates');"
        " return text.includes('lr') && !text.includes('sgd'); }"
    )
    assert url_list(page.url, "hidden") == [ids["beta"]]


def test_changing_the_scatter_plots_axes_redraws_it_with_those_columns(pages: Pages) -> None:
    page = pages.new()
    page.add_init_script(RECORD_CANVAS_TEXT)
    page.goto(pages.url(f"{WORKSPACE}?view=charts&{SEEDED_ONLY}"))
    section = page.locator("details[data-section=parallel]")
    section.locator(":scope > summary").click()
    x_axis = section.get_by_label("X", exact=True)
    y_axis = section.get_by_label("Y", exact=True)
    first_x = x_axis.locator("option:checked").inner_text()
    first_y = y_axis.locator("option:checked").inner_text()
    drawn = "([shown, gone]) => { const text = canvasText('Scatter plot');"
    drawn += " return shown.every((t) => text.includes(t)) && !gone.some((t) => text.includes(t)); }"
    page.wait_for_function(drawn, arg=[[first_x, first_y], []])
    assert {first_x, first_y}.isdisjoint({"score", "lr"})

    x_axis.select_option("summary:score")
    page.wait_for_function(drawn, arg=[["score", first_y], [first_x]])
    y_axis.select_option("config:lr")
    page.wait_for_function(drawn, arg=[["score", "lr"], [first_x, first_y]])
    section.get_by_role("img", name="Scatter plot").scroll_into_view_if_needed()
    shot(page, "scatter-axes")


def test_the_compare_page_follows_a_live_run(pages: Pages) -> None:
    seeded = pages.seeded
    run = GatedRun(seeded, "compare-live", "ticks")
    run_id = run.id
    try:
        with seeded.server.client() as http:  # the first point is on the server before the page opens
            for _ in range(600):
                answer = http.get(f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}")
                if answer.status_code == 200 and answer.json()["summary"].get("ticks") == 0:
                    break
                time.sleep(0.05)
        page = pages.new()
        page.goto(pages.url(f"/{ENTITY}/{PROJECT}/compare?runs={seeded.ids['alpha']},{run_id}"))
        summary = page.get_by_test_id("summary-diff")
        ticks = summary.locator("tbody tr", has=page.locator("th", has_text="ticks")).locator("td")
        live_state = summary.locator("thead th").nth(2).locator(".state")
        chart = page.locator("[data-testid=panel][data-metric=ticks] [data-testid=line-chart]")
        expect(ticks).to_have_text(["–", "0"])
        expect(live_state).to_have_text("running")
        chart.scroll_into_view_if_needed()
        expect(chart).to_have_attribute("data-points", "1")

        run.release()
        expect(ticks).to_have_text(["–", "39"], timeout=30_000)
        expect(live_state).to_have_text("finished", timeout=30_000)
        expect(chart).to_have_attribute("data-points", "40", timeout=30_000)
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        shot(page, "compare-live")
    finally:
        run.wait()
