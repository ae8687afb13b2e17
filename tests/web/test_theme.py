"""The dark theme: every main page passes axe in it, the choice (system / light / dark) is remembered
and applied before the app's script runs, and charts follow a switch without a reload."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, shot
from tests.web.test_accessibility import (  # noqa: F401 (axe_source, rich_run: fixtures)
    LOCALES,
    SCREENS,
    WORKSPACE,
    axe_source,
    check_page,
    rich_run,
)
from tests.web.test_artifacts_pages import logged  # noqa: F401 (a fixture)

DARK_BG = "rgb(13, 17, 23)"
LIGHT_BG = "rgb(255, 255, 255)"


def background(page: Any) -> str:
    return page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")


def theme(page: Any) -> str | None:
    return page.evaluate("() => document.documentElement.dataset.theme ?? null")


@pytest.mark.parametrize("name", SCREENS)
def test_each_page_passes_axe_in_the_dark_theme(
    pages: Pages,
    axe_source: str,  # noqa: F811
    rich_run: str,  # noqa: F811
    name: str,
) -> None:
    screen = SCREENS[name]
    page = pages.new(signed_in=screen.signed_in)
    page.emulate_media(color_scheme="dark")  # the system prefers dark; no choice stored: follow it
    page.goto(pages.url(screen.path(pages.seeded, rich_run)))
    screen.ready(page)
    assert theme(page) == "dark"
    assert background(page) == DARK_BG
    check_page(page, axe_source, f"dark-{name}-en")


def test_the_workspace_passes_axe_in_the_dark_theme_in_chinese(
    pages: Pages,
    axe_source: str,  # noqa: F811
) -> None:
    page = pages.new(locale=LOCALES["zh"])
    page.emulate_media(color_scheme="dark")
    screen = SCREENS["workspace"]
    page.goto(pages.url(screen.path(pages.seeded, "")))
    screen.ready(page)
    check_page(page, axe_source, "dark-workspace-zh")


def test_the_theme_choice_is_remembered_and_applied_before_the_app_runs(pages: Pages) -> None:
    page = pages.new()
    page.emulate_media(color_scheme="light")
    page.goto(pages.url(WORKSPACE))
    page.locator("[data-metric=score] canvas").wait_for()
    assert theme(page) == "light" and background(page) == LIGHT_BG
    select = page.get_by_test_id("theme")
    expect(select).to_have_value("system")

    # Switched: the page and the charts turn dark at once, no reload.
    canvas = page.locator("[data-metric=score] canvas").first.element_handle()
    select.select_option("dark")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    assert background(page) == DARK_BG
    # uPlot draws its axes in the theme's colours: the chart is re-created, a new canvas.
    page.wait_for_function("(old) => !old.isConnected", arg=canvas)
    page.locator("[data-metric=score] canvas").first.wait_for()
    shot(page, "theme-switched-dark")

    # Remembered, and applied by theme.js before any of the app's code: with app.js blocked the
    # page is still dark (no white flash while the app loads).
    page.route(re.compile(r".*/assets/app\.js$"), lambda route: route.abort())
    page.reload()
    page.wait_for_load_state("domcontentloaded")
    assert theme(page) == "dark" and background(page) == DARK_BG
    page.unroute(re.compile(r".*/assets/app\.js$"))

    # "System" follows the system's preference, live.
    page.reload()
    page.get_by_test_id("theme").select_option("system")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
    page.emulate_media(color_scheme="dark")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    page.emulate_media(color_scheme="light")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
    assert page.evaluate("() => localStorage.getItem('wakelog.theme')") is None

    # Light, chosen, wins over a dark system.
    page.get_by_test_id("theme").select_option("light")
    page.emulate_media(color_scheme="dark")
    page.reload()
    page.locator("[data-metric=score] canvas").wait_for()
    assert theme(page) == "light" and background(page) == LIGHT_BG


def test_the_artifact_pages_pass_axe_in_the_dark_theme(
    pages: Pages,
    axe_source: str,  # noqa: F811
    logged: Any,  # noqa: F811
) -> None:
    page = pages.new()
    page.emulate_media(color_scheme="dark")
    artifacts = f"/{ENTITY}/{PROJECT}/artifacts"
    page.goto(pages.url(f"{artifacts}/flowers"))
    page.get_by_test_id("versions").wait_for()
    check_page(page, axe_source, "dark-artifact-en")
    page.goto(pages.url(f"{artifacts}/flowers/v1?tab=diff&against=v0"))
    page.get_by_test_id("diff-table").wait_for()
    check_page(page, axe_source, "dark-artifact-diff-en")
    # The lineage graph (ECharts) draws its labels in the theme's text colour.
    page.goto(pages.url(f"{artifacts}/flowers/v1?tab=lineage"))
    page.get_by_test_id("lineage-canvas").locator("canvas").first.wait_for()
    check_page(page, axe_source, "dark-artifact-lineage-en")
