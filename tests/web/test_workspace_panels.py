"""The workspace's panel system, as a W&B user builds a workspace: add a scalar and a bar panel
(report panel kinds, drawn for the workspace's runs), duplicate one, make a section and move the
copy there, rename and collapse it, reorder with the keyboard's move buttons, reload and find it
all kept (saved on the server) — in English and Chinese, axe-checked, and on a 390 px phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, Pages, Seeded, run_finished_script, shot
from tests.web.test_accessibility import AXE, check_page

#: The controls' names in each language (web/src/i18n).
UI = {
    "en": {
        "locale": "en-US",
        "add": "Add panel",
        "create": "Add",
        "kind": "Kind",
        "metric": "Metric",
        "title": "Panel title",
        "new": "New panel",
        "duplicate": "Duplicate panel: Accuracy",
        "section_of": "Section of Accuracy (copy)",
        "new_section": "New section",
        "section_1": "Section 1",
        "rename": "Rename section: Section 1",
        "section_name": "Section name",
        "save": "Save",
        "move_up": "Move up: Accuracy",
        "default": "Panels",
        "move_loss": "Move loss to a section",
    },
    "zh": {
        "locale": "zh-CN",
        "add": "添加面板",
        "create": "添加",
        "kind": "类型",
        "metric": "指标",
        "title": "面板标题",
        "new": "新面板",
        "duplicate": "复制面板：Accuracy",
        "section_of": "Accuracy（副本） 所在分区",
        "new_section": "新建分区",
        "section_1": "分区 1",
        "rename": "重命名分区：分区 1",
        "section_name": "分区名称",
        "save": "保存",
        "move_up": "上移：Accuracy",
        "default": "面板",
        "move_loss": "将 loss 移到分区",
    },
}


@pytest.fixture(scope="module")
def panel_projects(seeded: Seeded) -> None:
    """Two finished runs with an `acc` summary in each language's own project."""
    for language in UI:
        for name, acc in (("alpha", 0.5), ("beta", 0.75)):
            body = f"""
            run = wakelog.init(name={name!r})
            for step in range(5):
                run.log({{"acc": {acc} * step / 4, "loss": 1 - step / 5}})
            run.finish()
            """
            run_finished_script(seeded, f"{name}-{language}", body, WAKELOG_PROJECT=f"panels-{language}")
            run_finished_script(seeded, f"{name}-m{language}", body, WAKELOG_PROJECT=f"moves-{language}")


def saved(page: Any, action: Callable[[], None]) -> None:
    """Do `action` and wait until the layout it changed is saved on the server."""
    with page.expect_response(lambda r: r.url.endswith("/workspace") and r.request.method == "PUT") as answer:
        action()
    assert answer.value.ok, answer.value.text()


def add_panel(page: Any, ui: dict[str, str], kind: str, title: str) -> None:
    page.get_by_role("button", name=ui["add"], exact=True).click()
    form = page.get_by_role("form", name=ui["new"])
    form.get_by_label(ui["kind"]).select_option(kind)
    form.get_by_label(ui["title"]).fill(title)
    form.get_by_label(ui["metric"], exact=True).fill("acc")
    saved(page, lambda: form.get_by_role("button", name=ui["create"], exact=True).click())
    expect(form).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_panels_and_sections_are_built_and_kept(pages: Pages, panel_projects: None, language: str) -> None:
    ui = UI[language]
    page = pages.new(locale=ui["locale"])
    page.goto(pages.url(f"/{ENTITY}/panels-{language}?view=charts"))
    page.locator("[data-testid=panel][data-metric=acc]").wait_for()
    panels = page.get_by_test_id("ws-panels")

    add_panel(page, ui, "scalar", "Best acc")
    scalar = panels.locator("[data-testid=report-panel][data-kind=scalar]")
    expect(scalar.get_by_test_id("scalar-value")).to_have_text(
        ["0.75", "0.5"]
    )  # newest run first, as the table
    add_panel(page, ui, "bar", "Accuracy")
    default = panels.locator("details[data-section=panels]")
    expect(default.locator("[data-testid=report-panel]")).to_have_count(2)
    expect(default.locator("[data-kind=bar] canvas").first).to_be_visible()

    saved(page, lambda: page.get_by_role("button", name=ui["duplicate"]).click())
    expect(default.locator("[data-kind=bar]")).to_have_count(2)
    saved(page, lambda: page.get_by_role("button", name=ui["new_section"]).click())
    saved(page, lambda: page.get_by_label(ui["section_of"]).select_option(label=ui["section_1"]))
    custom = panels.locator("details.ws-section").nth(1)
    expect(custom.locator("summary h2")).to_have_text(ui["section_1"])
    expect(custom.locator("[data-kind=bar]")).to_have_count(1)
    expect(default.locator("[data-testid=report-panel]")).to_have_count(2)

    custom.get_by_role("button", name=ui["rename"]).click()
    custom.get_by_label(ui["section_name"]).fill("Eval 评估")
    saved(page, lambda: custom.get_by_role("button", name=ui["save"]).click())
    expect(custom.locator("summary h2")).to_have_text("Eval 评估")

    # Reorder from the keyboard: the bar panel's "move up" button, focused and pressed.
    up = default.get_by_role("button", name=ui["move_up"])
    up.focus()
    saved(page, lambda: page.keyboard.press("Enter"))
    assert default.locator("[data-testid=report-panel]").evaluate_all(
        "els => els.map(e => e.dataset.kind)"
    ) == ["bar", "scalar"]

    shot(page, f"workspace-panels-{language}")
    check_page(page, AXE.read_text(), f"workspace-panels-{language}")
    saved(page, lambda: custom.locator(":scope > summary").click())  # collapse
    expect(custom).not_to_have_attribute("open", "")

    page.reload()
    panels.locator("[data-testid=report-panel]").first.wait_for()
    assert default.locator("[data-testid=report-panel]").evaluate_all(
        "els => els.map(e => e.dataset.kind)"
    ) == ["bar", "scalar"]
    expect(default.locator("summary h2")).to_have_text(ui["default"])
    expect(custom.locator("summary h2")).to_have_text("Eval 评估")
    expect(custom).not_to_have_attribute("open", "")
    custom.locator(":scope > summary").click()
    expect(custom.locator("[data-kind=bar]")).to_have_count(1)
    expect(scalar.get_by_test_id("scalar-value")).to_have_text(
        ["0.75", "0.5"]
    )  # newest run first, as the table

    page.set_viewport_size({"width": 390, "height": 844})
    panels.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, f"workspace-panels-{language}-phone")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_metric_chart_moves_into_a_section_of_its_own(
    pages: Pages, panel_projects: None, language: str
) -> None:
    """W&B lets any chart be dragged into the user's own section: a metric's automatic chart moves
    there as a line panel of the metric, and the automatic one goes (kept after a reload)."""
    ui = UI[language]
    page = pages.new(locale=ui["locale"])
    page.goto(pages.url(f"/{ENTITY}/moves-{language}?view=charts"))
    automatic_of = "details.section:not(.ws-section) [data-testid=panel][data-metric={}]".format
    automatic = page.locator(automatic_of("loss"))
    automatic.wait_for()
    saved(page, lambda: page.get_by_role("button", name=ui["new_section"]).click())
    saved(page, lambda: page.get_by_label(ui["move_loss"]).select_option(label=ui["section_1"]))

    def check() -> None:
        mine = page.get_by_test_id("ws-panels").locator(
            "details.ws-section", has=page.locator("summary h2", has_text=ui["section_1"])
        )
        moved = mine.locator("[data-testid=report-panel][data-kind=line] [data-metric=loss]")
        moved.scroll_into_view_if_needed()
        expect(moved.locator("canvas").first).to_be_visible()
        expect(automatic).to_have_count(0)
        expect(page.locator(automatic_of("acc"))).to_have_count(1)

    check()
    shot(page, f"workspace-move-metric-{language}")
    check_page(page, AXE.read_text(), f"workspace-move-metric-{language}")
    page.reload()
    check()
