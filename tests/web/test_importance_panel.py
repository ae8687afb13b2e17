"""The parameter-importance panel, as a W&B user adds one: in the workspace (rated on the server
over the runs of the filter: the key the metric depends on ranks first, its correlation bar on the
right side), in English and Chinese, axe-checked and on a 390 px phone; and in a report."""

from __future__ import annotations

import random
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server.conftest import post_records
from tests.web.conftest import ENTITY, Pages, Seeded, shot
from tests.web.test_accessibility import AXE, check_page
from tests.web.test_workspace_panels import UI, saved

N_RUNS = 24


@pytest.fixture(scope="module")
def importance_projects(seeded: Seeded) -> None:
    """In each language's project, 24 runs whose ``acc`` falls with ``lr`` and ignores ``dropout``;
    ``define_metric("val_acc", summary="max,last")`` gives each a ``val_acc`` of two views."""
    with seeded.server.client() as http:
        for language in UI:
            rng = random.Random(0)
            for i in range(N_RUNS):
                lr = rng.uniform(0.001, 0.1)
                config = {"lr": lr, "dropout": rng.uniform(0, 0.5), "opt": "adam" if i % 2 else "sgd"}
                start = 1_700_000_000.0 + i
                acc = 1 - 5 * lr + rng.gauss(0, 0.002)
                # The SDK sends define_metric's views in the exit record's whole summary.
                summary = {"acc": acc, "val_acc": {"max": 0.9, "last": 0.8}}
                exit_ = {"exit_code": 0, "state": "finished", "runtime": 2.0, "summary": summary}
                records: list[list[Any]] = [
                    [0, "run", start, {"id": f"imp{i:02d}", "name": f"trial-{i}", "start_time": start}],
                    [1, "config", start, {"update": config}],
                    [2, "metric", start, {"name": "val_acc", "summary": ["max", "last"]}],
                    [3, "history", start + 1, {"_step": 0, "acc": acc, "val_acc": 0.8}],
                    [4, "exit", start + 2, exit_],
                ]
                answer = post_records(http, f"{ENTITY}/importance-{language}/imp{i:02d}", records)
                assert answer.status_code == 200, answer.text


def importance_panel(page: Any) -> Any:
    """The workspace's importance panel once its rating is drawn (scrolled into view first)."""
    panel = page.locator("[data-testid=report-panel][data-kind=importance]")
    panel.scroll_into_view_if_needed()
    panel.get_by_test_id("importance").wait_for()
    return panel


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_panel_ranks_the_config_keys_of_the_filtered_runs(
    pages: Pages, importance_projects: None, language: str
) -> None:
    ui = UI[language]
    page = pages.new(locale=ui["locale"])
    page.goto(pages.url(f"/{ENTITY}/importance-{language}?view=charts"))
    page.locator("[data-testid=panel][data-metric=acc]").wait_for()
    # The metric field suggests the summary's define_metric views, which the server rates by too.
    page.get_by_role("button", name=ui["add"], exact=True).click()
    form = page.get_by_role("form", name=ui["new"])
    form.get_by_label(ui["kind"]).select_option("importance")
    metric = form.get_by_label(ui["metric"], exact=True)
    suggested = metric.evaluate("e => [...e.list.options].map(o => o.value)")
    assert {"acc", "val_acc.max", "val_acc.last"} <= set(suggested), suggested
    metric.fill("acc")
    saved(page, lambda: form.get_by_role("button", name=ui["create"], exact=True).click())

    panel = importance_panel(page)
    rows = panel.locator("tbody tr")
    expect(rows.locator("th")).to_have_text(["lr", "dropout", "opt"])
    expect(rows.first.locator(".bar.negative")).to_have_count(1)  # acc falls as lr grows
    expect(rows.nth(2).locator(".bar")).to_have_count(1)  # opt: a category has no correlation bar
    over = {"en": f"Over {N_RUNS} runs with acc", "zh": f"基于 {N_RUNS} 个记录了 acc 的运行"}[language]
    expect(panel.get_by_test_id("importance-runs")).to_have_text(over)
    expect(panel.locator("h3")).to_have_text({"en": "Parameter importance", "zh": "参数重要性"}[language])
    shot(page, f"importance-panel-{language}")
    check_page(page, AXE.read_text(encoding="utf-8"), f"importance-panel-{language}")

    # The workspace's filter is the panel's: half the runs, one optimizer (a key that no longer varies).
    page.goto(pages.url(f"/{ENTITY}/importance-{language}?view=charts&filter=config.opt%20%3D%20%27adam%27"))
    panel = importance_panel(page)
    expect(panel.locator("tbody tr th")).to_have_text(["lr", "dropout"])
    expect(panel.get_by_test_id("importance-runs")).to_contain_text(str(N_RUNS // 2))

    page.set_viewport_size({"width": 390, "height": 844})
    panel.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, f"importance-panel-{language}-phone")


def test_a_report_draws_the_rating_of_its_run_set(pages: Pages, importance_projects: None) -> None:
    panel = {"id": "imp", "kind": "importance", "title": "What matters", "config": {"metric": "acc"}}
    runset = {"id": "all", "name": "All", "filter": ""}
    block = {"id": "b", "type": "panels", "runsets": [runset], "panels": [panel]}
    with pages.seeded.server.client() as http:
        made = http.post(
            f"/api/v1/projects/{ENTITY}/importance-en/reports",
            json={"title": "Importance", "spec": {"blocks": [block]}},
        )
        assert made.status_code == 201, made.text
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/importance-en/reports/{made.json()['id']}"))
    shown = page.locator("[data-testid=report-panel][data-kind=importance]")
    expect(shown.locator("tbody tr th").first).to_have_text("lr")
    expect(shown.get_by_test_id("importance-runs")).to_have_text(f"Over {N_RUNS} runs with acc")
    shot(page, "importance-report")
