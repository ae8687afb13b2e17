"""What a team switching from W&B trips over first: summaries kept by ``define_metric``, metrics
drawn against their ``step_metric``, chart legends, parallel coordinates over a real config, a
project one may not read, dates in the UI language, and every page on a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, run_finished_script, shot
from tests.web.test_e2e import wait_for_rows
from tests.web.test_workspace_views import RECORD_CANVAS_TEXT, redraw, tooltip_runs

API = "/api/v1"
PADDLE = f"/{ENTITY}/paddle"
#: Ten config keys every run shares, as a real training config has: never a default axis.
FIXED = {f"model.layer{i}": 64 * (i + 1) for i in range(10)}
#: A config key too long for an axis name: cut short on the plot, whole on hover.
LONG = "optimizer_config.weight_decay_schedule.warmup_ratio"
RUNS = {"p-adam": (0.1, "adam", 0.0), "p-sgd": (0.01, "sgd", 0.1), "p-mom": (0.001, "momentum", 0.05)}


@pytest.fixture(scope="module")
def paddle(seeded: Seeded) -> dict[str, str]:
    """Three runs as the Paddle callback logs them: ``eval/*`` against ``epoch``, kept as their max."""
    ids = {}
    for name, (lr, optimizer, bonus) in RUNS.items():
        body = f"""
        config = {{"lr": {lr}, "optimizer": {optimizer!r}, **{FIXED!r}}}
        config[{LONG!r}] = {lr} * 3
        run = wakelog.init(name={name!r}, config=config)
        run.define_metric("epoch")
        run.define_metric("eval/*", step_metric="epoch", summary="max")
        for step in range(40):
            run.log({{"train/loss": 1.0 / (step + 1)}})
            if step % 10 == 9:
                epoch = step // 10
                run.log({{"epoch": epoch, "eval/acc": 0.5 + {bonus} + 0.1 * (epoch % 3)}})
        run.finish()
        """
        ids[name] = run_finished_script(seeded, name, body, WAKELOG_PROJECT="paddle")
    return ids


def test_define_metric_summaries_show_as_labelled_values_everywhere(
    pages: Pages, paddle: dict[str, str]
) -> None:
    page = pages.new()
    page.add_init_script(RECORD_CANVAS_TEXT)
    page.goto(pages.url(PADDLE))
    wait_for_rows(page, 3)
    page.get_by_label("Add a column").select_option("summary:eval/acc.max")
    header = page.locator("[role=columnheader][data-column='summary:eval/acc.max']")
    assert header.inner_text().strip().startswith("eval/acc (max)")
    # Sorting asks the server (summary.`eval/acc.max`): the best run first, whatever the page holds.
    header.click()
    header.click()
    page.wait_for_url(re.compile(r"order=-summary"))
    page.wait_for_function("() => document.querySelector('[data-run] .run-link')?.textContent === 'p-sgd'")
    cells = page.locator("[data-run] [data-column='summary:eval/acc.max']").all_inner_texts()
    assert cells == ["0.8", "0.75", "0.7"], cells
    shot(page, "polish-summary-column")

    # Parallel coordinates: the varying config keys and the main (sorted) metric, every run drawn.
    page.locator("[data-section=parallel] > summary").click()
    picker = page.get_by_test_id("axis-picker")
    picker.locator("summary").wait_for()
    assert re.match(r"Axes \(4 of \d+\)", picker.locator("summary").inner_text()), picker.inner_text()
    page.wait_for_function("() => window.canvasText('Parallel coordinates').includes('lr')")
    painted = page.evaluate("window.canvasText('Parallel coordinates')")
    assert "eval/acc (max)" in painted and "optimizer" in painted, painted
    assert not [t for t in painted if t.startswith("model.")], "shared config keys are no default axis"
    assert LONG not in painted and [
        t for t in painted if t.startswith("optimizer_config") and t.endswith("...")
    ]
    assert hover_finds(page, 2, 4, LONG), "hovering the cut name shows it whole"
    picker.locator("summary").click()
    picker.get_by_label("model.layer3").check()
    page.wait_for_function("() => window.canvasText('Parallel coordinates').includes('model.layer3')")
    page.get_by_test_id("parallel").scroll_into_view_if_needed()
    shot(page, "polish-parallel-axes")
    # The scatter plot reads the same values: all three runs, none dropped.
    page.get_by_label("X", exact=True).select_option("config:lr")
    page.get_by_label("Y", exact=True).select_option("summary:eval/acc.max")
    page.wait_for_function("() => window.canvasText('Scatter plot').includes('eval/acc (max)')")

    # Compare and the run page list it by its label.
    page.goto(pages.url(f"{PADDLE}/compare?runs={paddle['p-adam']},{paddle['p-sgd']}"))
    row = page.get_by_test_id("summary-diff").locator("tr", has=page.locator("th", has_text="eval/acc (max)"))
    row.wait_for()
    assert row.locator("td").all_inner_texts() == ["0.7", "0.8"]
    page.goto(pages.url(f"{PADDLE}/runs/{paddle['p-sgd']}"))
    assert "eval/acc (max)" in page.get_by_test_id("summary-table").inner_text()


def hover_finds(page: Any, axis: int, axes: int, text: str) -> bool:
    """Move the mouse over where the name of parallel axis ``axis`` (of ``axes``) is drawn, until
    the chart's tooltip shows ``text``."""
    chart = page.get_by_role("img", name="Parallel coordinates")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    x = box["x"] + 40 + axis * (box["width"] - 120) / (axes - 1)
    tip = chart.locator("div", has_text=text)
    for dy in range(-4, -48, -4):
        for dx in range(-4, 64, 6):
            page.mouse.move(x + dx, box["y"] + 70 + dy)
            if tip.count() and tip.first.is_visible():
                shot(page, "polish-parallel-hover")
                return True
    return False


def test_metrics_are_drawn_against_their_step_metric_until_another_axis_is_chosen(
    pages: Pages, paddle: dict[str, str]
) -> None:
    page = pages.new()
    page.goto(pages.url(f"{PADDLE}?sel={paddle['p-adam']}"))
    chart = page.locator("[data-metric='eval/acc'] [data-testid=line-chart]")
    chart.locator(".u-over").wait_for()
    assert tooltip_head(page, "eval/acc").startswith("epoch ")
    assert tooltip_head(page, "train/loss").startswith("Step ")
    shot(page, "polish-step-metric")
    redraw(page, lambda: page.get_by_test_id("x-axis").select_option("_step"), metric="eval/acc")
    assert "x=_step" in page.url
    assert tooltip_head(page, "eval/acc").startswith("Step ")


def tooltip_head(page: Any, metric: str) -> str:
    """The x axis name and value the tooltip of ``metric``'s chart shows mid-chart."""
    tooltip_runs(page, metric)
    return page.locator(f"[data-metric='{metric}'] .tt-head").inner_text()


def test_legends_highlight_a_run_and_can_be_switched_off(pages: Pages) -> None:
    page = pages.new(locale="zh-CN")
    ids = pages.seeded.ids
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}?sel={ids['alpha']},{ids['beta']}"))
    legend = page.locator("[data-metric=score] [data-testid=chart-legend]")
    legend.wait_for()
    assert sorted(legend.get_by_role("button").all_inner_texts()) == ["alpha", "beta"]
    beta = legend.get_by_role("button", name="beta")
    beta.click()
    assert beta.get_attribute("aria-pressed") == "true"
    shot(page, "polish-legend-zh")
    beta.click()
    assert beta.get_attribute("aria-pressed") == "false"
    page.get_by_test_id("legend-toggle").click()
    page.wait_for_url(re.compile(r"legend=0"))
    # The address changes before React draws the page again: wait for the legends to go.
    expect(page.locator("[data-testid=chart-legend]")).to_have_count(0)


def test_a_project_one_may_not_read_is_a_not_found_page(pages: Pages, paddle: dict[str, str]) -> None:
    with pages.seeded.server.client() as admin:
        password = admin.post(f"{API}/users", json={"username": "carol"}).json()["password"]
        assert admin.patch(f"{API}/projects/{ENTITY}/paddle", json={"visibility": "members"}).is_success
    try:
        for locale, title in [("en-US", "Project not found"), ("zh-CN", "项目不存在")]:
            page = pages.new(signed_in=False, locale=locale)
            answer = page.context.request.post(
                pages.url(f"{API}/auth/login"), data={"username": "carol", "password": password}
            )
            assert answer.ok
            for path in [PADDLE, f"{PADDLE}/runs/{paddle['p-adam']}", f"{PADDLE}/overview"]:
                page.goto(pages.url(path))
                page.get_by_role("heading", name=title).wait_for()
                assert page.get_by_test_id("workspace").count() == 0
            shot(page, f"polish-not-found-{locale}")
        page.goto(pages.url("/nowhere/at/all/x/y"))
        page.get_by_role("heading", name="页面不存在").wait_for()
    finally:
        with pages.seeded.server.client() as admin:
            admin.patch(f"{API}/projects/{ENTITY}/paddle", json={"visibility": "signed_in"})


def test_dates_and_errors_follow_the_ui_language(pages: Pages) -> None:
    page = pages.new(locale="zh-CN")
    # A refused request: the server's code translated, its English detail kept for the position.
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}?filter=config.lr%20%3C"))
    error = page.get_by_test_id("filter-error")
    error.wait_for()
    assert "无法解析筛选条件" in error.inner_text() and "position 11" in error.inner_text()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}"))
    wait_for_rows(page, 3)
    created = page.locator("[data-run] [data-column=created_at]").first.inner_text()
    assert re.match(r"^\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d$", created), created
    # The wall-clock axis: its tooltip and its ticks.
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}?x=_timestamp&sel={pages.seeded.ids['alpha']}"))
    head = tooltip_head_zh(page)
    assert re.match(r"^实际时间 \d{4}年", head), head


def tooltip_head_zh(page: Any) -> str:
    tooltip_runs(page, "score")
    return page.locator("[data-metric=score] .tt-head").inner_text()


#: Every kind of page, by path (``{run}`` is a run of team/web).
PHONE_PAGES = [
    "/",
    f"/{ENTITY}",
    f"/{ENTITY}/{PROJECT}",
    f"/{ENTITY}/{PROJECT}?view=charts",
    f"/{ENTITY}/{PROJECT}/overview",
    f"/{ENTITY}/{PROJECT}/compare?runs={{run}},{{run2}}",
    f"/{ENTITY}/{PROJECT}/runs/{{run}}",
    f"/{ENTITY}/{PROJECT}/runs/{{run}}?tab=charts",
    f"/{ENTITY}/{PROJECT}/runs/{{run}}?tab=system",
    f"/{ENTITY}/{PROJECT}/runs/{{run}}?tab=media",
    f"/{ENTITY}/{PROJECT}/runs/{{run}}?tab=logs",
    f"/{ENTITY}/{PROJECT}/runs/{{run}}?tab=files",
    f"/{ENTITY}/{PROJECT}/runs/{{run}}?tab=artifacts",
    f"/{ENTITY}/{PROJECT}/runs/{{run}}?tab=comments",
    f"/{ENTITY}/{PROJECT}/sweeps",
    f"/{ENTITY}/{PROJECT}/sweeps/new",
    f"/{ENTITY}/{PROJECT}/artifacts",
    f"/{ENTITY}/{PROJECT}/trash",
    f"/{ENTITY}/{PROJECT}/alerts",
    f"/{ENTITY}/{PROJECT}/settings",
    "/settings",
    "/settings/notifications",
    "/audit",
    f"/registry/{ENTITY}",
    "/no/such/page/here",
]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_every_page_fits_a_phone(pages: Pages, locale: str) -> None:
    """390 x 844 (an iPhone 12-15): no page scrolls sideways, and Sign out is on screen."""
    ids = pages.seeded.ids
    context = pages.browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
    pages.contexts.append(context)
    assert context.request.post(
        pages.url(f"{API}/auth/login"), data={"username": "admin", "password": pages.seeded.password}
    ).ok
    page = context.new_page()
    page.set_default_timeout(15_000)
    too_wide = {}
    for path in PHONE_PAGES:
        page.goto(pages.url(path.format(run=ids["alpha"], run2=ids["beta"])))
        page.locator("main").wait_for()
        page.wait_for_load_state("networkidle")
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if widths[0] > widths[1]:
            too_wide[path] = widths
            shot(page, f"polish-phone-too-wide-{len(too_wide)}")
        sign_out = page.get_by_role("button", name=re.compile("Sign out|退出登录"))
        box = sign_out.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (path, box)
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}"))
    wait_for_rows(page, 3)
    shot(page, f"polish-phone-workspace-{locale}")
    assert not too_wide, too_wide
