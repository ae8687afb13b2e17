"""Accessibility, checked by axe-core in the browser on every main page in both languages, and a
walk through the app with the keyboard alone.

axe-core is the npm package in ``web/node_modules`` (a devDependency; ``scripts/test.sh`` runs
``npm ci`` first). The server's Content-Security-Policy forbids inline scripts, so its source is
evaluated through the driver instead of added as a ``<script>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, run_finished_script, shot

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
WORKSPACE = f"/{ENTITY}/{PROJECT}"

#: What axe checks: WCAG 2.0-2.2 A and AA (contrast, names of controls, links and images, ARIA
#: roles and attributes and their values, tables, lists, the page's language…), duplicate ids
#: (WCAG 2.2 dropped the parsing criterion, so axe files them as obsolete, but a duplicate id still
#: breaks the labels and ARIA references that point at it), and axe's best practices (heading
#: order, landmarks, one main, a skip link that works…). No rule is left out.
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {
        "type": "tag",
        "values": [
            "wcag2a",
            "wcag2aa",
            "wcag21a",
            "wcag21aa",
            "wcag22aa",
            "wcag2a-obsolete",
            "best-practice",
        ],
    },
    "resultTypes": ["violations"],
}

LOCALES = {"en": "en-US", "zh": "zh-CN"}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed ({AXE} is missing): run `cd web && npm ci` first")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rich_run(seeded: Seeded) -> str:
    """A run with system metrics and a table (with an image cell), for the system and media tabs."""
    body = """
    import time
    import numpy as np
    run = wakelog.init(name="a11y")
    picture = wakelog.Image(np.full((4, 4, 3), 120, dtype="uint8"), caption="grey")
    table = wakelog.Table(columns=["id", "label", "picture"], data=[[1, "cat", picture], [2, "dog", None]])
    run.log({"predictions": table, "score": 1.0})
    print("\\x1b[34mblue\\x1b[0m \\x1b[31mred\\x1b[0m \\x1b[90mgrey\\x1b[0m \\x1b[1;35mbold magenta\\x1b[0m")
    time.sleep(1.0)  # a few system-metric samples
    run.finish()
    """
    stats = {"WAKELOG_DISABLE_STATS": "false", "WAKELOG_STATS_SAMPLING_INTERVAL": "0.2"}
    return run_finished_script(seeded, "a11y", body, **stats)


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per failing element: rule, where, and for contrast the ratio found and needed."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            detail = node.get("failureSummary", "").replace("\n", " ")
            for check in node.get("any", []) + node.get("all", []) + node.get("none", []):
                data = check.get("data") or {}
                if isinstance(data, dict) and "contrastRatio" in data:
                    detail = (
                        f"contrast {data['contrastRatio']}:1, needs {data['expectedContrastRatio']}"
                        f" ({data.get('fgColor')} on {data.get('bgColor')},"
                        f" {data.get('fontSize')} {data.get('fontWeight')})"
                    )
            lines.append(f"  {target}: {detail}")
    return "\n".join(lines)


def check_page(page: Any, axe_source: str, name: str) -> None:
    page.evaluate(axe_source)
    results = page.evaluate("(options) => axe.run(document, options)", AXE_OPTIONS)
    shot(page, f"a11y-{name}")
    violations = results["violations"]
    assert not violations, f"axe found problems on {name}:\n{describe(violations)}"


def open_workspace(page: Any) -> None:
    """The workspace with its filter builder and parallel coordinates open, so they are checked too."""
    page.locator("[data-metric=score] canvas").wait_for()
    page.get_by_role("button", name=re.compile("^(Builder|条件编辑器)$")).click()
    page.get_by_test_id("filter-builder").wait_for()
    page.locator("details[data-section=parallel] > summary").click()
    page.get_by_test_id("parallel").locator("canvas").first.wait_for()
    page.get_by_test_id("axis-picker").locator("summary").click()
    page.locator("[data-metric=score] [data-testid=chart-legend]").wait_for()


@dataclass(frozen=True)
class Screen:
    #: The page's path, from the seeded runs and the rich run's id.
    path: Callable[[Seeded, str], str]
    #: Waits until the page is drawn.
    ready: Callable[[Any], Any]
    signed_in: bool = True


def run_tab(tab: str, ready: Callable[[Any], Any]) -> Screen:
    return Screen(lambda _, rich: f"/{ENTITY}/{PROJECT}/runs/{rich}?tab={tab}", ready)


SCREENS: dict[str, Screen] = {
    "sign-in": Screen(
        lambda _, __: "/", lambda page: page.locator("input[name=username]").wait_for(), signed_in=False
    ),
    "projects": Screen(lambda _, __: "/", lambda page: page.get_by_test_id("projects").wait_for()),
    "workspace": Screen(lambda seeded, _: f"{WORKSPACE}?sel={seeded.ids['alpha']}", open_workspace),
    "run-overview": run_tab("overview", lambda page: page.get_by_test_id("config-table").wait_for()),
    "run-charts": run_tab("charts", lambda page: page.locator("[data-metric=score] canvas").wait_for()),
    "run-system": run_tab(
        "system", lambda page: page.locator("[data-metric^='system/'] canvas").first.wait_for()
    ),
    "run-logs": run_tab(
        "logs", lambda page: page.get_by_test_id("console").get_by_text("magenta").wait_for()
    ),
    "run-files": run_tab("files", lambda page: page.get_by_test_id("files").wait_for()),
    "run-media": run_tab("media", lambda page: page.locator("img.mt-thumb").evaluate("i => i.decode()")),
    "compare": Screen(
        lambda seeded, _: f"{WORKSPACE}/compare?runs={seeded.ids['alpha']},{seeded.ids['gamma']}",
        lambda page: page.locator("[data-metric=score] canvas").wait_for(),
    ),
    "not-found": Screen(
        lambda _, __: f"/{ENTITY}/no-such-project", lambda page: page.get_by_test_id("not-found").wait_for()
    ),
    # The admin's first API key is listed, so the key table and its buttons are checked too.
    "settings": Screen(lambda _, __: "/settings", lambda page: page.get_by_test_id("keys").wait_for()),
}


@pytest.mark.parametrize("name", SCREENS)
@pytest.mark.parametrize("language", LOCALES)
def test_each_page_passes_axe(pages: Pages, axe_source: str, rich_run: str, language: str, name: str) -> None:
    screen = SCREENS[name]
    page = pages.new(signed_in=screen.signed_in, locale=LOCALES[language])
    page.goto(pages.url(screen.path(pages.seeded, rich_run)))
    screen.ready(page)
    check_page(page, axe_source, f"{name}-{language}")


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector``; then its focus must be visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            assert_focus_visible(page)
            return
    raise AssertionError(f"{limit} presses of Tab never reached {selector}")


def assert_focus_visible(page: Any) -> None:
    outline = page.evaluate(
        """() => { const e = document.activeElement, s = getComputedStyle(e);
                   return { visible: e.matches(':focus-visible'), style: s.outlineStyle,
                            width: parseFloat(s.outlineWidth), html: e.outerHTML.slice(0, 120) }; }"""
    )
    assert outline["visible"] and outline["style"] != "none" and outline["width"] >= 2, outline


def focused_run(page: Any) -> str:
    return page.evaluate("() => document.activeElement.closest('[data-run]').dataset.run")


def test_the_keyboard_alone_reaches_a_run_and_its_tabs(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url("/"))
    page.get_by_test_id("projects").wait_for()

    tab_to(page, f"[data-testid=projects] a[href='{WORKSPACE}']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"{WORKSPACE}$"))
    page.locator("[data-testid=run-table] [data-run]").first.wait_for()

    # The first run's checkbox: Space takes it out of the charts and puts it back.
    tab_to(page, "[data-testid=run-table] [data-index='0'] input[type=checkbox]")
    first = focused_run(page)
    checkbox = page.locator(f"[data-run='{first}'] input[type=checkbox]")
    assert checkbox.is_checked(), "the first runs are shown in the charts until one picks"
    page.keyboard.press("Space")
    expect(checkbox).not_to_be_checked()
    page.wait_for_url(re.compile("sel="))
    assert first not in page.url
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    expect(page.locator(f"[data-run='{first}']")).to_have_attribute("aria-selected", "true")
    page.wait_for_url(re.compile(f"sel=[^&]*{first}"))

    # The arrow key moves to the next run; Tab passes its visibility (eye) button to its name; Enter opens it.
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.activeElement.closest('[data-index]')?.dataset.index === '1'")
    assert_focus_visible(page)
    second = focused_run(page)
    tab_to(page, f"[data-run='{second}'] button[aria-label^='Hide run']", limit=1)
    tab_to(page, f"[data-run='{second}'] a.run-link", limit=1)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"/runs/{second}$"))
    page.get_by_test_id("config-table").wait_for()

    # The selected tab is the tab list's stop; the arrow keys (round the ends), End and Home switch tabs.
    tab_to(page, "[role=tab][aria-selected=true]")
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile("tab=charts"))
    expect(page.get_by_role("tab", name="Charts")).to_be_focused()
    page.locator("[data-metric=score] canvas").wait_for()
    page.keyboard.press("End")
    page.wait_for_url(re.compile("tab=comments"))
    expect(page.get_by_role("tab", name="Comments")).to_have_attribute("aria-selected", "true")
    assert_focus_visible(page)
    page.keyboard.press("ArrowRight")  # past the last tab: back to the first
    page.wait_for_url(re.compile(f"/runs/{second}$"))
    expect(page.get_by_role("tab", name="Overview")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(re.compile("tab=comments"))
    page.keyboard.press("Home")
    page.wait_for_url(re.compile(f"/runs/{second}$"))
    expect(page.get_by_role("tab", name="Overview")).to_be_focused()
    # The focused tab holds the tab list's stop at once (TabList), before the selection it made
    # comes back through the URL; Tab then leaves the list from it.
    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("tabindex", "0")
    page.keyboard.press("Tab")  # out of the tab list, into the tab's content
    assert page.evaluate("() => document.activeElement.closest('[role=tabpanel]') !== null")
    shot(page, "keyboard-run-tabs")
    _focus_alone_moves_the_tab_stop(page, second)


def _focus_alone_moves_the_tab_stop(page: Page, run_id: str) -> None:
    """A focused tab is the stop with no selection made; once focus leaves the list the
    selected tab (Overview) is the stop again."""
    charts = page.get_by_role("tab", name="Charts")
    charts.focus()
    expect(charts).to_have_attribute("tabindex", "0")
    expect(charts.locator("xpath=..").locator("[role=tab][tabindex='0']")).to_have_count(1)
    assert re.search(f"/runs/{run_id}$", page.url), "focusing a tab selects nothing"
    page.keyboard.press("Tab")
    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("tabindex", "0")
    expect(charts).to_have_attribute("tabindex", "-1")
