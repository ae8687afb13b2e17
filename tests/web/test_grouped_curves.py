"""Grouped curves as W&B draws them: six runs logged with ``group=`` into two groups; the workspace
grouped by ``group`` draws one line per group with its band and a tooltip naming the group's runs
(mean and median, in Chinese too), and a report's run set grouped by a config key does the same."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, Pages, Seeded, hover_middle, run_finished_script, shot
from tests.web.test_accessibility import AXE, check_page
from tests.web.test_e2e import wait_for_rows

API = "/api/v1"
GROUPED = f"/{ENTITY}/grouped"
#: run name -> (group, width, offset): loss at step s is offset + 10 - s/2.
RUNS = {
    "base-1": ("基线", 32, 0),
    "base-2": ("基线", 32, 1),
    "base-3": ("基线", 32, 2),
    "wide-1": ("wide", 64, 20),
    "wide-2": ("wide", 64, 21),
    "wide-3": ("wide", 64, 24),
}


@pytest.fixture(scope="module")
def grouped(seeded: Seeded) -> dict[str, str]:
    """Six runs in project ``grouped``, three per group, each group sharing a config width."""
    ids = {}
    for name, (group, width, offset) in RUNS.items():
        body = f"""
        run = wakelog.init(name={name!r}, group={group!r}, config={{"width": {width}}})
        for step in range(20):
            run.log({{"loss": {offset} + 10 - step / 2}})
        run.finish()
        """
        ids[name] = run_finished_script(seeded, name, body, WAKELOG_PROJECT="grouped")
    return ids


#: Sets each (test id, value) select and sends its change event, all in one task.
CHOOSE_AT_ONCE = """(choices) => {
  const setValue = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, "value").set;
  for (const [id, value] of choices) {
    const select = document.querySelector(`[data-testid="${id}"]`);
    setValue.call(select, value);
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }
}"""


def runs_of(detail: str) -> list[str]:
    """The run names a group's tooltip line lists after its "N runs:" ("N 个运行：")."""
    return sorted(detail.replace("：", ":").rsplit(":", 1)[1].strip().split(", "))


def tooltip_values(tooltip: Any) -> dict[str, str]:
    """Each line's name in the tooltip -> its value."""
    names = tooltip.locator(".tt-name").all_inner_texts()
    return dict(zip(names, tooltip.locator(".tt-value").all_inner_texts(), strict=True))


def test_the_workspace_grouped_by_group_draws_one_line_per_group(
    pages: Pages, grouped: dict[str, str]
) -> None:
    page = pages.new()
    page.goto(pages.url(GROUPED))
    wait_for_rows(page, 6)
    page.get_by_label("Group by").select_option("group")
    chart = page.locator("[data-testid=panel][data-metric='loss'] [data-testid=line-chart]")
    # Two lines, each with its band (two hidden edge series): x + 2 × (line, min, max).
    expect(chart).to_have_attribute("data-points", "20")
    legend = page.locator("[data-testid=panel][data-metric='loss'] [data-testid=chart-legend] li")
    expect(legend).to_have_text(["wide", "基线"])
    tooltip = hover_middle(page, chart)
    assert sorted(tooltip.locator(".tt-name").all_inner_texts()) == ["wide", "基线"]
    details = tooltip.get_by_test_id("tooltip-group").all_inner_texts()
    assert len(details) == 2
    wide = next(d for d in details if "wide-1" in d)
    base = next(d for d in details if "base-1" in d)
    assert wide.startswith("Mean [") and "· 3 runs: " in wide
    assert runs_of(wide) == ["wide-1", "wide-2", "wide-3"]
    assert runs_of(base) == ["base-1", "base-2", "base-3"]
    values = tooltip_values(tooltip)
    step = float(tooltip.locator(".tt-value").first.get_attribute("data-x") or "nan")
    # The mean of offsets 20, 21, 24 and of 0, 1, 2 at this step.
    assert float(values["wide"]) == pytest.approx(65 / 3 + 10 - step / 2, abs=0.01)
    assert float(values["基线"]) == pytest.approx(1 + 10 - step / 2, abs=0.01)
    # The band's edges are the group's min and max.
    assert f"[{20 + 10 - step / 2:g} – {24 + 10 - step / 2:g}]" in wide
    shot(page, "grouped-workspace")

    # The median with a ±std band, kept in the URL: both chosen in one go (before React renders
    # again, the second change once dropped the first from the URL, now and then in a real click).
    page.evaluate(CHOOSE_AT_ONCE, [["group-aggregate", "median"], ["group-band", "std"]])
    page.wait_for_url(lambda url: "agg=median" in url and "band=std" in url)
    tooltip = hover_middle(page, chart)
    wide = next(d for d in tooltip.get_by_test_id("tooltip-group").all_inner_texts() if "wide-1" in d)
    assert wide.startswith("Median [")
    values = tooltip_values(tooltip)
    step = float(tooltip.locator(".tt-value").first.get_attribute("data-x") or "nan")
    assert float(values["wide"]) == pytest.approx(21 + 10 - step / 2, abs=0.01)

    # Not grouped: one line per run again.
    page.get_by_label("Group by").select_option("")
    expect(legend).to_have_count(6)


def test_grouped_curves_in_chinese(pages: Pages, grouped: dict[str, str]) -> None:
    page = pages.new(locale="zh-CN")
    page.goto(pages.url(f"{GROUPED}?group=group&band=none"))
    wait_for_rows(page, 6)
    chart = page.locator("[data-testid=panel][data-metric='loss'] [data-testid=line-chart]")
    tooltip = hover_middle(page, chart)
    details = tooltip.get_by_test_id("tooltip-group").all_inner_texts()
    base = next(d for d in details if "base-1" in d)
    assert base.startswith("均值 · 3 个运行：") and runs_of(base) == ["base-1", "base-2", "base-3"], details
    expect(page.get_by_test_id("group-band")).to_have_value("none")
    shot(page, "grouped-workspace-zh")
    # The tooltip's group lines and the new controls pass the axe checks, and the page fits a phone.
    check_page(page, AXE.read_text(), "grouped-workspace-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_test_id("group-band").scroll_into_view_if_needed()
    expect(page.get_by_test_id("group-aggregate")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "grouped-workspace-zh-phone")


def test_a_report_run_set_grouped_by_a_config_key_draws_grouped_lines(
    pages: Pages, seeded: Seeded, grouped: dict[str, str]
) -> None:
    spec = {
        "blocks": [
            {
                "id": "charts",
                "type": "panels",
                "runsets": [
                    {
                        "id": "set",
                        "name": "all",
                        "filter": "",
                        "runs": None,
                        "group_by": "config.width",
                        "colors": {},
                        "hidden": [],
                    }
                ],
                "panels": [
                    {
                        "id": "curve",
                        "kind": "line",
                        "title": "Loss",
                        "config": {"metrics": ["loss"], "x": "step"},
                    }
                ],
            }
        ]
    }
    with seeded.server.client() as admin:
        body = {"title": "按宽度分组", "spec": spec}
        made = admin.post(f"{API}/projects/{ENTITY}/grouped/reports", json=body)
        assert made.status_code == 201, made.text
        report = made.json()
    page = pages.new()
    page.goto(pages.url(f"{GROUPED}/reports/{report['id']}"))
    chart = page.get_by_test_id("line-chart")
    expect(chart).to_have_attribute("data-points", "20")
    tooltip = hover_middle(page, chart)
    assert sorted(tooltip.locator(".tt-name").all_inner_texts()) == ["32", "64"]
    details = tooltip.get_by_test_id("tooltip-group").all_inner_texts()
    assert sorted(runs_of(d)[0] for d in details) == ["base-1", "wide-1"], details
    shot(page, "grouped-report")

    # The editor picks the median with a ±std band for the panel; the saved report draws it.
    page.goto(pages.url(f"{GROUPED}/reports/{report['id']}/edit"))
    editor = page.get_by_test_id("report-editor")
    line = editor.get_by_test_id("panel-editor").first
    expect(line.get_by_label("Group line")).to_have_value("mean")
    line.get_by_label("Group line").select_option("median")
    line.get_by_label("Band").select_option("std")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.get_by_role("status").filter(has_text="Saved as version 2")).to_be_visible()
    chart = editor.get_by_test_id("report-body").get_by_test_id("line-chart")
    deadline = time.monotonic() + 15
    while True:  # the preview redraws the saved version
        tooltip = hover_middle(page, chart)
        details = tooltip.get_by_test_id("tooltip-group").all_inner_texts()
        if all(d.startswith("Median [") for d in details) or time.monotonic() > deadline:
            break
    assert all(d.startswith("Median [") for d in details) and len(details) == 2, details
    step = float(tooltip.locator(".tt-value").first.get_attribute("data-x") or "nan")
    assert tooltip_values(tooltip)["64"] == f"{21 + 10 - step / 2:g}"
    shot(page, "grouped-report-editor")
