"""Chart options as W&B has them: in the workspace's chart settings (smoothing kind and amount,
ignore outliers, a y range, max runs shown) and per panel (its own options menu, saved with the
panel layout), read back from what the chart draws — the y scale it drew (``data-y-min``/``-max``
on the chart) and the tooltip's smoothed and raw values — in English and Chinese."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, Pages, Seeded, hover_middle, run_finished_script, shot
from tests.web.test_accessibility import AXE, check_page
from tests.web.test_e2e import wait_for_rows

OPTIONS = f"/{ENTITY}/chartopts"
#: ``loss`` at step s is s for both runs, except spiky's step 25: an outlier of 1000.
RUNS = {"calm": None, "spiky": 1000}


@pytest.fixture(scope="module")
def two_runs(seeded: Seeded) -> dict[str, str]:
    ids = {}
    for name, spike in RUNS.items():
        body = f"""
        run = wakelog.init(name={name!r})
        for step in range(50):
            run.log({{"loss": {spike} if step == 25 and {spike!r} else step}})
        run.finish()
        """
        ids[name] = run_finished_script(seeded, name, body, WAKELOG_PROJECT="chartopts")
    return ids


def check(box: Any) -> None:
    """Ticks a checkbox whose state lives in the URL (it shows ticked once the URL has changed, which
    Playwright's ``check()`` does not wait for)."""
    box.click()
    expect(box).to_be_checked()


def chart(page: Any) -> Any:
    return page.locator("[data-testid=panel][data-metric=loss] [data-testid=line-chart]")


def y_scale(page: Any) -> tuple[float, float]:
    el = chart(page)
    return float(el.get_attribute("data-y-min") or "nan"), float(el.get_attribute("data-y-max") or "nan")


def wait_y(page: Any, test: str) -> None:
    """Waits until the loss chart's drawn y scale (``lo``, ``hi``) satisfies ``test``."""
    page.wait_for_function(
        f"""() => {{ const el = document.querySelector("[data-metric=loss] [data-testid=line-chart]");
             if (!el || el.dataset.yMax === undefined) return false;
             const lo = Number(el.dataset.yMin), hi = Number(el.dataset.yMax); return {test}; }}"""
    )


def calm_values(page: Any) -> tuple[float, float, float]:
    """The calm run's (x, smoothed, raw) in the tooltip with the cursor in the middle of the chart.
    A page just loaded may draw once more as its saved options arrive (seen once, under a full
    suite's load: the y range applied, the smoothing not yet): hovered again until the row shows
    a smoothed and a raw value, up to a deadline."""
    deadline = time.monotonic() + 15
    while True:
        tooltip = hover_middle(page, chart(page))
        value = tooltip.locator(".tt-row", has=page.locator(".tt-name", has_text="calm")).locator(".tt-value")
        x, text = float(value.get_attribute("data-x") or "nan"), value.inner_text()
        if " (" in text:
            smoothed, raw = text.replace(")", "").split(" (")
            return x, float(smoothed), float(raw)
        assert time.monotonic() < deadline, f"the tooltip shows no smoothed and raw value: {text!r}"


def test_workspace_chart_settings_change_what_is_drawn(pages: Pages, two_runs: dict[str, str]) -> None:
    page = pages.new()
    page.goto(pages.url(OPTIONS))
    wait_for_rows(page, 2)
    wait_y(page, "hi >= 1000")  # min–max: the spike is in view

    check(page.get_by_label("Ignore outliers"))
    wait_y(page, "hi < 60 && lo < 5")
    assert "outliers=1" in page.url

    # A running average of 3 points on a line rising by 1 a step lags it by exactly 1.
    page.get_by_test_id("smoothing-kind").select_option("average")
    page.wait_for_url("**smooth=10**")  # a kind starts at its default amount
    slider = page.get_by_test_id("smoothing")
    slider.focus()
    slider.press("Home")
    for _ in range(3):
        slider.press("ArrowRight")
    page.wait_for_url("**smooth=3**")
    x, smoothed, raw = calm_values(page)
    assert raw == x and smoothed == pytest.approx(x - 1), (x, smoothed, raw)
    # Gaussian on a straight line keeps it (away from the spike's neighbourhood only calm is read).
    page.get_by_test_id("smoothing-kind").select_option("gaussian")
    page.wait_for_url("**smoothk=gaussian**")
    x, smoothed, raw = calm_values(page)
    assert smoothed == pytest.approx(x, abs=0.01) and raw == x

    page.get_by_test_id("y-min").fill("-10")
    page.get_by_test_id("y-min").press("Enter")
    wait_y(page, "lo === -10")

    page.get_by_test_id("max-runs").fill("1")
    page.get_by_test_id("max-runs").press("Enter")
    expect(page.get_by_test_id("runs-hidden")).to_have_text("Showing the first 1 of 2 runs: 1 hidden")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-metric=loss] [data-testid=chart-legend] li').length === 1"
    )
    shot(page, "chart-options-workspace")

    # Everything is in the URL: a reload draws the same.
    page.reload()
    expect(page.get_by_test_id("runs-hidden")).to_be_visible()
    wait_y(page, "lo === -10 && hi < 1000")  # spiky alone now: its smoothed bump in view, the spike not


def test_a_panels_own_options_override_the_workspace_and_are_saved(
    pages: Pages, two_runs: dict[str, str]
) -> None:
    page = pages.new()
    page.goto(pages.url(OPTIONS))
    wait_for_rows(page, 2)
    wait_y(page, "hi >= 1000")
    panel = page.locator("[data-testid=panel][data-metric=loss]")
    panel.get_by_role("button", name="Options").click()
    options = panel.get_by_test_id("panel-options")
    options.get_by_label("Y max").fill("20")
    options.get_by_label("Y max").press("Enter")
    wait_y(page, "hi === 20")
    options.get_by_label("Smoothing kind").select_option("average")
    options.get_by_label("Smoothing", exact=True).fill("3")
    with page.expect_response(lambda r: r.url.endswith("/workspace") and r.request.method == "PUT"):
        options.get_by_label("Smoothing", exact=True).press("Enter")
    x, smoothed, raw = calm_values(page)
    assert smoothed == pytest.approx(x - 1) and raw == x
    shot(page, "chart-options-panel")
    # Saved with the panel layout: a new page (no URL parameters) draws the panel's options.
    page.goto(pages.url(OPTIONS))
    wait_for_rows(page, 2)
    wait_y(page, "hi === 20")
    x, smoothed, raw = calm_values(page)
    assert smoothed == pytest.approx(x - 1) and raw == x, (
        "the panel's running average, not the workspace's none"
    )
    # The workspace's settings stay under the panel's: outliers on everywhere, y max still 20 here.
    check(page.get_by_label("Ignore outliers"))
    wait_y(page, "hi === 20")
    panel.get_by_role("button", name="Options").click()
    page.get_by_role("button", name="Use workspace settings").click()
    wait_y(page, "hi < 60 && hi !== 20")


def test_chart_options_in_chinese_on_a_phone(pages: Pages, two_runs: dict[str, str]) -> None:
    page = pages.new(locale="zh-CN")
    page.goto(pages.url(f"{OPTIONS}?maxruns=1&smoothk=gaussian&smooth=2"))
    wait_for_rows(page, 2)
    expect(page.get_by_test_id("runs-hidden")).to_have_text("显示前 1 个运行（共 2 个），隐藏 1 个")
    check(page.get_by_label("忽略离群值"))
    wait_y(page, "hi < 1000")
    panel = page.locator("[data-testid=panel][data-metric=loss]")
    panel.get_by_role("button", name="选项").click()
    expect(panel.get_by_test_id("panel-options").get_by_label("平滑方式")).to_have_value("gaussian")
    shot(page, "chart-options-zh")
    check_page(page, AXE.read_text(), "chart-options-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    panel.get_by_test_id("panel-options").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "chart-options-zh-phone")
