"""Keyboard shortcuts, with the keyboard alone: `/` puts the cursor in the run filter (but not while
typing in a field), the arrow keys move between the run table's rows and Enter opens one, and
Escape closes the filter builder and a chart's export menu, giving the focus back."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, shot
from tests.web.test_accessibility import (  # noqa: F401 (axe_source: a fixture)
    LOCALES,
    assert_focus_visible,
    axe_source,
    check_page,
    focused_run,
    tab_to,
)

WORKSPACE = f"/{ENTITY}/{PROJECT}"


@pytest.mark.parametrize("language", LOCALES)
def test_slash_focuses_the_filter_and_arrows_and_enter_open_a_run(pages: Pages, language: str) -> None:
    page = pages.new(locale=LOCALES[language])
    page.goto(pages.url(WORKSPACE))
    page.locator("[data-testid=run-table] [data-run]").first.wait_for()
    page.locator("[data-metric=score] canvas").wait_for()

    page.keyboard.press("/")
    filter_box = page.get_by_test_id("filter")
    expect(filter_box).to_be_focused()
    # Typing in the box, / is a character like any other.
    page.keyboard.type('name != "a/b"')
    expect(filter_box).to_have_value('name != "a/b"')
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("filter="))
    expect(page.get_by_test_id("run-table")).to_have_attribute("aria-busy", "false")

    # From a row's checkbox, / leaves the table for the filter, its text selected to type over.
    tab_to(page, "[data-testid=run-table] [data-index='0'] input[type=checkbox]")
    page.keyboard.press("/")
    expect(filter_box).to_be_focused()
    assert (
        page.evaluate("() => { const e = document.activeElement; return e.selectionEnd - e.selectionStart; }")
        > 0
    )

    # Arrow keys go down the rows and back up; Enter on a row opens its run.
    tab_to(page, "[data-testid=run-table] [data-index='0'] input[type=checkbox]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.activeElement.closest('[data-index]')?.dataset.index === '2'")
    page.keyboard.press("ArrowUp")
    page.wait_for_function("() => document.activeElement.closest('[data-index]')?.dataset.index === '1'")
    assert_focus_visible(page)
    run = focused_run(page)
    shot(page, f"keyboard-run-table-{language}")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"/runs/{run}$"))
    page.get_by_test_id("config-table").wait_for()


def test_a_new_filter_keeps_the_old_rows_until_its_own_arrive(pages: Pages) -> None:
    """The table never blinks empty while a filter loads (a row being tabbed through would lose its
    focus): the old rows stay, announced as busy, and the answer replaces them."""
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    table = page.get_by_test_id("run-table")
    rows = table.locator("[data-run]")
    expect(rows).to_have_count(3)
    expect(table).to_have_attribute("aria-busy", "false")

    held: list[Any] = []

    def hold(route: Any) -> None:  # a bound method will not do: Playwright tags the handler it gets
        held.append(route)

    page.route(re.compile(r".*/api/v1/projects/[^/]+/[^/]+/runs\?.*filter="), hold)
    with page.expect_request(re.compile(r"/runs\?.*filter=")):
        page.get_by_test_id("filter").fill('name = "alpha"')
        page.get_by_test_id("filter").press("Enter")
    expect(table).to_have_attribute("aria-busy", "true")
    expect(rows).to_have_count(3)

    held[0].continue_()
    expect(table).to_have_attribute("aria-busy", "false")
    expect(rows).to_have_count(1)


def test_escape_closes_the_filter_builder_and_the_export_menu(pages: Pages, axe_source: str) -> None:  # noqa: F811
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    page.locator("[data-metric=score] canvas").wait_for()

    builder = page.get_by_role("button", name="Builder")
    tab_to(page, "form[role=search] button[aria-expanded]")
    page.keyboard.press("Enter")
    page.get_by_test_id("filter-builder").wait_for()
    expect(builder).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")  # into the builder
    assert page.evaluate("() => document.activeElement.closest('[data-testid=filter-builder]') !== null")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("filter-builder")).to_have_count(0)
    expect(builder).to_be_focused()

    # A chart's export menu: Enter opens it on its first item, arrows move, Escape closes it.
    menu_button = page.locator("[data-metric=score]").get_by_test_id("export-menu")
    tab_to(page, "[data-metric=score] [data-testid=export-menu]", limit=120)
    page.keyboard.press("Enter")
    expect(menu_button).to_have_attribute("aria-expanded", "true")
    menu = page.get_by_role("menu")
    expect(menu.get_by_role("menuitem").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem").nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # round the top to the last
    expect(menu.get_by_role("menuitem").last).to_be_focused()
    check_page(page, axe_source, "export-menu-open")  # the open menu passes axe too
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_have_count(0)
    expect(menu_button).to_be_focused()
    expect(menu_button).to_have_attribute("aria-expanded", "false")
