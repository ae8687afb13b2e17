"""The panel system's remaining pieces, as a W&B user meets them: a histogram-over-time panel (a
logged ``wandb.Histogram`` key, one heatmap per run, at most "max runs" of them), a line panel's own
"max runs" overriding the workspace's, sections reordered with buttons and the keyboard and kept,
and runs logged with ``group=`` grouped by default unless the URL says otherwise — in English and
Chinese, axe-checked, and on a 390 px phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, Pages, Seeded, drawn_panel, run_finished_script, shot
from tests.web.test_accessibility import AXE, check_page
from tests.web.test_e2e import wait_for_rows

#: The controls' names in each language (web/src/i18n).
UI = {
    "en": {
        "locale": "en-US",
        "add": "Add panel",
        "create": "Add",
        "kind": "Kind",
        "key": "Histogram key",
        "max_runs": "Max runs",
        "metrics": "Metrics (comma-separated, * globs)",
        "new": "New panel",
        "heatmap": "Histogram over steps: grads/w · ",
        "media_key": "Media key",
        "step": "Step",
        "new_section": "New section",
        "section": "Section {n}",
        "up": "Move section up: Section {n}",
        "down": "Move section down: Section {n}",
    },
    "zh": {
        "locale": "zh-CN",
        "add": "添加面板",
        "create": "添加",
        "kind": "类型",
        "key": "直方图键",
        "max_runs": "最多运行数",
        "metrics": "指标（逗号分隔，支持 * 通配）",
        "new": "新面板",
        "heatmap": "直方图随步数变化: grads/w · ",
        "media_key": "媒体键",
        "step": "步",
        "new_section": "新建分区",
        "section": "分区 {n}",
        "up": "上移分区：分区 {n}",
        "down": "下移分区：分区 {n}",
    },
}
#: Runs of the histogram project, oldest first (the table shows the newest first).
HIST_RUNS = ("h-1", "h-2", "h-3")


@pytest.fixture(scope="module")
def kinds_projects(seeded: Seeded) -> None:
    """Three runs per project logging a histogram of weights at ten steps, and a loss; no group. One
    project per language, and one for the line panel (a line panel of `loss` beside the workspace's
    own `loss` panel are two landmarks of one name, which the other tests' axe checks would meet)."""
    for language in (*UI, "line"):
        for i, name in enumerate(HIST_RUNS):
            body = f"""
            import numpy as np
            rng = np.random.default_rng({i})
            run = wakelog.init(name={name!r})
            for step in range(10):
                weights = wakelog.Histogram(rng.normal(step * 0.2 + {i}, 1, 500))
                run.log({{"grads/w": weights, "loss": 1 / (step + 1)}})
            run.finish()
            """
            run_finished_script(seeded, f"{name}-{language}", body, WAKELOG_PROJECT=f"kinds-{language}")


def saved(page: Any, action: Callable[[], None]) -> None:
    """Do `action` and wait until the layout it changed is saved on the server."""
    with page.expect_response(lambda r: r.url.endswith("/workspace") and r.request.method == "PUT") as answer:
        action()
    assert answer.value.ok, answer.value.text()


def open_workspace(pages: Pages, language: str, project: str = "") -> Any:
    page = pages.new(locale=UI[language]["locale"])
    page.goto(pages.url(f"/{ENTITY}/{project or f'kinds-{language}'}?view=charts"))
    drawn_panel(page, "loss")
    return page


def new_panel_form(page: Any, ui: dict[str, str], kind: str) -> Any:
    page.get_by_role("button", name=ui["add"], exact=True).click()
    form = page.get_by_role("form", name=ui["new"])
    form.get_by_label(ui["kind"]).select_option(kind)
    return form


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_histogram_panel_draws_a_heatmap_per_run_up_to_its_max_runs(
    pages: Pages, kinds_projects: None, language: str
) -> None:
    ui = UI[language]
    page = open_workspace(pages, language)
    form = new_panel_form(page, ui, "histogram")
    key = form.get_by_label(ui["key"])
    # The key picker offers the keys the runs logged a histogram under (not `loss`).
    assert key.locator("option").all_inner_texts()[1:] == ["grads/w"]
    key.select_option("grads/w")
    form.get_by_label(ui["max_runs"]).fill("2")
    saved(page, lambda: form.get_by_role("button", name=ui["create"], exact=True).click())

    panel = page.locator("[data-testid=report-panel][data-kind=histogram]")
    panel.scroll_into_view_if_needed()
    multiples = panel.locator("[data-testid=histogram-runs] > li")
    expect(multiples).to_have_count(2)
    # The first two runs in the table's order (newest first), each a heatmap over its ten steps.
    expect(multiples.locator(".histogram-run")).to_have_text(["h-3", "h-2"])
    for name in ("h-3", "h-2"):
        heatmap = panel.get_by_role("img", name=ui["heatmap"] + name)
        expect(heatmap.locator("canvas").first).to_be_visible()
    shot(page, f"panel-kinds-histogram-{language}")
    check_page(page, AXE.read_text(), f"panel-kinds-histogram-{language}")

    # Kept on the server: the panel is there after a reload, with its own max runs.
    page.reload()
    panel.scroll_into_view_if_needed()
    expect(multiples).to_have_count(2)
    page.set_viewport_size({"width": 390, "height": 844})
    panel.scroll_into_view_if_needed()
    expect(multiples.first.locator("canvas").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, f"panel-kinds-histogram-{language}-phone")


@pytest.fixture(scope="module")
def media_projects(seeded: Seeded) -> None:
    """Two runs per language logging a list of two images at steps 0, 1 and 2 (a shade that says
    the step and the item), and a loss."""
    for language in UI:
        for i, name in enumerate(("m-1", "m-2")):
            body = f"""
            import numpy as np
            run = wakelog.init(name={name!r})
            for step in range(3):
                shades = [np.full((16, 16, 3), 80 * step + 20 * j + {i}, np.uint8) for j in range(2)]
                samples = [wakelog.Image(s, caption=f"s{{step}} #{{j}}") for j, s in enumerate(shades)]
                run.log({{"samples": samples, "loss": 1 / (step + 1)}})
            run.finish()
            """
            run_finished_script(seeded, f"{name}-{language}", body, WAKELOG_PROJECT=f"media-{language}")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_media_panel_shows_each_runs_images_at_the_slider_step(
    pages: Pages, media_projects: None, language: str
) -> None:
    ui = UI[language]
    page = open_workspace(pages, language, f"media-{language}")
    form = new_panel_form(page, ui, "media")
    form.get_by_label(ui["media_key"]).fill("samples")
    saved(page, lambda: form.get_by_role("button", name=ui["create"], exact=True).click())

    panel = page.locator("[data-testid=report-panel][data-kind=media]")
    panel.scroll_into_view_if_needed()
    runs = panel.locator("[data-testid=media-runs] > ul > li")
    expect(runs).to_have_count(2)
    expect(runs.locator(".histogram-run")).to_have_text(["m-2", "m-1"])  # the table's order, newest first
    # Each run's list of two images as a gallery, at the last step to begin with.
    expect(runs.first.locator("[data-testid=gallery] figcaption")).to_have_text(["s2 #0", "s2 #1"])
    slider = panel.get_by_label(ui["step"], exact=True)
    slider.fill("0")
    expect(panel.locator("output")).to_have_text("0")
    for run in (runs.first, runs.last):
        expect(run.locator("[data-testid=gallery] figcaption")).to_have_text(["s0 #0", "s0 #1"])
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-kind=media] img')]"
        ".every(i => i.complete && i.naturalWidth === 16)"
    )
    shot(page, f"panel-kinds-media-{language}")
    check_page(page, AXE.read_text(), f"panel-kinds-media-{language}")

    page.reload()
    panel.scroll_into_view_if_needed()
    expect(runs).to_have_count(2)
    page.set_viewport_size({"width": 390, "height": 844})
    panel.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_line_panels_own_max_runs_overrides_the_workspaces(pages: Pages, kinds_projects: None) -> None:
    ui = UI["en"]
    page = open_workspace(pages, "en", "kinds-line")
    # The workspace draws every shown run (three) in its own loss panel.
    own = page.locator("details[data-section=other] [data-testid=panel][data-metric=loss]")
    expect(own.locator("[data-testid=chart-legend] li")).to_have_count(3)
    form = new_panel_form(page, ui, "line")
    form.get_by_label(ui["metrics"]).fill("loss")
    form.get_by_label(ui["max_runs"]).fill("1")
    form.get_by_label("Y min").press_sequentially("-0.5")  # typed through a lone "-" on the way
    form.get_by_label("Y max").fill("2")
    saved(page, lambda: form.get_by_role("button", name=ui["create"], exact=True).click())
    line = page.locator("[data-testid=report-panel][data-kind=line]")
    line.scroll_into_view_if_needed()
    expect(line.locator("[data-testid=chart-legend] li")).to_have_text(["h-3"])
    # The panel's own y range, where the workspace's own loss chart keeps its automatic one.
    drawn = line.get_by_test_id("line-chart")
    expect(drawn).to_have_attribute("data-y-min", "-0.5")
    expect(drawn).to_have_attribute("data-y-max", "2")
    assert own.get_by_test_id("line-chart").get_attribute("data-y-max") != "2"
    # The workspace's own panel still draws all three.
    expect(own.locator("[data-testid=chart-legend] li")).to_have_count(3)
    shot(page, "panel-kinds-line-max-runs")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_sections_are_reordered_with_buttons_and_keys_and_kept(
    pages: Pages, kinds_projects: None, language: str
) -> None:
    ui = UI[language]
    page = open_workspace(pages, language)
    panels = page.get_by_test_id("ws-panels")
    for _ in range(3):
        saved(page, lambda: page.get_by_role("button", name=ui["new_section"]).click())
    names = panels.locator("details.ws-section[data-section^='custom:'] > summary h2")
    section = [ui["section"].format(n=n) for n in (1, 2, 3)]
    expect(names).to_have_text(section)
    # The first section's "up" is off; the last one's "down".
    expect(panels.get_by_role("button", name=ui["up"].format(n=1))).to_be_disabled()
    expect(panels.get_by_role("button", name=ui["down"].format(n=3))).to_be_disabled()

    saved(page, lambda: panels.get_by_role("button", name=ui["up"].format(n=3)).click())
    expect(names).to_have_text([section[0], section[2], section[1]])
    # From the keyboard: Alt+↓ on a section's heading moves it down.
    panels.locator(f"details[data-section='custom:{section[0]}'] > summary").focus()
    saved(page, lambda: page.keyboard.press("Alt+ArrowDown"))
    expect(names).to_have_text([section[2], section[0], section[1]])
    shot(page, f"panel-kinds-sections-{language}")
    check_page(page, AXE.read_text(), f"panel-kinds-sections-{language}")

    page.reload()
    expect(names).to_have_text([section[2], section[0], section[1]])
    page.set_viewport_size({"width": 390, "height": 844})
    panels.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, f"panel-kinds-sections-{language}-phone")


@pytest.fixture(scope="module")
def group_default(seeded: Seeded) -> None:
    """Four runs logged with ``group=`` (two groups of two) in project ``group-default``."""
    runs = (("gd-1", "exp-a", 0), ("gd-2", "exp-a", 1), ("gd-3", "exp-b", 5), ("gd-4", "exp-b", 6))
    for name, group, offset in runs:
        body = f"""
        run = wakelog.init(name={name!r}, group={group!r})
        for step in range(10):
            run.log({{"loss": {offset} + 10 - step}})
        run.finish()
        """
        run_finished_script(seeded, name, body, WAKELOG_PROJECT="group-default")


def test_runs_logged_with_a_group_are_grouped_by_default(pages: Pages, group_default: None) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/group-default"))
    wait_for_rows(page, 4)
    legend = drawn_panel(page, "loss").locator("[data-testid=chart-legend] li")
    # W&B's default: one line per group, and the table's "Group by" says so.
    expect(legend).to_have_text(["exp-a", "exp-b"])
    expect(page.get_by_label("Group by")).to_have_value("group")
    shot(page, "panel-kinds-group-default")

    # Turned off on purpose: kept in the URL (and so in a saved view), not undone by the default.
    page.get_by_label("Group by").select_option("")
    page.wait_for_url(lambda url: "group=-" in url)
    expect(legend).to_have_count(4)
    page.reload()
    wait_for_rows(page, 4)
    expect(drawn_panel(page, "loss").locator("[data-testid=chart-legend] li")).to_have_count(4)
    expect(page.get_by_label("Group by")).to_have_value("")
    # Another grouping in the URL wins over the default too.
    page.goto(pages.url(f"/{ENTITY}/group-default?group=job_type"))
    wait_for_rows(page, 4)
    expect(page.get_by_label("Group by")).to_have_value("job_type")


def test_a_report_draws_a_histogram_panel_from_its_bundle(
    pages: Pages, seeded: Seeded, kinds_projects: None
) -> None:
    runset = {"id": "all", "name": "all", "filter": "", "runs": None}
    panel = {
        "id": "grads",
        "kind": "histogram",
        "title": "Gradients",
        "config": {"key": "grads/w", "max_runs": 2},
    }
    spec = {"blocks": [{"id": "b", "type": "panels", "runsets": [runset], "panels": [panel]}]}
    with seeded.server.client() as admin:
        made = admin.post(
            f"/api/v1/projects/{ENTITY}/kinds-zh/reports", json={"title": "直方图", "spec": spec}
        )
        assert made.status_code == 201, made.text
    page = pages.new(locale="zh-CN")
    page.goto(pages.url(f"/{ENTITY}/kinds-zh/reports/{made.json()['id']}"))
    shown = page.locator("[data-testid=report-panel][data-kind=histogram] [data-testid=histogram-runs] > li")
    expect(shown.locator(".histogram-run")).to_have_text(["h-3", "h-2"])
    expect(shown.first.locator("canvas").first).to_be_visible()
    shot(page, "panel-kinds-report-histogram-zh")
    check_page(page, AXE.read_text(), "panel-kinds-report-histogram-zh")
