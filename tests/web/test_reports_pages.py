"""Reports in the browser: written in the editor (markdown, a line and a scalar panel on a filtered run
set), saved, published and read by a viewer; a stale save refused with its message; history with a
diff and revert; a share link that works signed out until revoked; the pinned report as the project's
live dashboard; the offline HTML export opened from disk with the network blocked; Chinese, 390 px
and the axe checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.server.conftest import post_records
from tests.web.conftest import ENTITY, PROJECT, GatedRun, Pages, Seeded, shot
from tests.web.test_accessibility import AXE, LOCALES, check_page

API = "/api/v1"
REPORTS = f"/{ENTITY}/{PROJECT}/reports"


def _spec(runs: list[str] | None, metric: str = "score", filter_: str = "") -> dict[str, Any]:
    return {
        "blocks": [
            {"id": "intro", "type": "markdown", "text": "## Findings\n\nThe **learning rate** matters."},
            {
                "id": "charts",
                "type": "panels",
                "runsets": [
                    {
                        "id": "set",
                        "name": "runs",
                        "filter": filter_,
                        "runs": runs,
                        "group_by": None,
                        "colors": {},
                        "hidden": [],
                    }
                ],
                "panels": [
                    {
                        "id": "curve",
                        "kind": "line",
                        "title": "Score",
                        "config": {"metrics": [metric], "x": "step"},
                    },
                    {"id": "last", "kind": "scalar", "title": "Last score", "config": {"metric": metric}},
                    {"id": "cmp", "kind": "comparer", "title": "", "config": {"fields": ["config.lr"]}},
                ],
            },
        ]
    }


def _report(http: httpx.Client, title: str, spec: dict[str, Any], *, publish: bool = True) -> dict[str, Any]:
    made = http.post(f"{API}/projects/{ENTITY}/{PROJECT}/reports", json={"title": title, "spec": spec})
    assert made.status_code == 201, made.text
    report: dict[str, Any] = made.json()
    if publish:
        answer = http.post(f"{API}/reports/{ENTITY}/{PROJECT}/{report['id']}/publish")
        assert answer.is_success, answer.text
        report = answer.json()
    return report


def _sign_in_as(pages: Pages, username: str, password: str, **context: Any) -> Any:
    page = pages.new(signed_in=False, **context)
    answer = page.context.request.post(
        pages.url(f"{API}/auth/login"), data={"username": username, "password": password}
    )
    assert answer.ok, answer.text()
    return page


def _texts(locator: Any) -> list[str]:
    """The texts of what a locator finds, sorted: the server orders a run set's runs."""
    locator.first.wait_for()
    return sorted(t.strip() for t in locator.all_inner_texts())


#: The elements that reach past the viewport's right edge (the outermost of each), for the message.
WIDE = """(limit) => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > limit + 1
    && !(e.parentElement && e.parentElement.getBoundingClientRect().right > limit + 1))
  .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`)"""


def _no_sideways_scroll(page: Any) -> None:
    limit = page.viewport_size["width"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= limit, f"the page is {width}px wide: {page.evaluate(WIDE, limit)}"


def test_a_report_is_written_saved_published_and_read_by_a_viewer(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}"))
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_test_id("report-list")).to_be_visible()
    page.get_by_label("New report's title").fill("Learning rate study")
    page.get_by_role("button", name="Create report").click()
    editor = page.get_by_test_id("report-editor")
    expect(editor.get_by_role("heading", name="Editing “Learning rate study”")).to_be_visible()

    editor.get_by_role("button", name="Add text").click()
    editor.get_by_label("Text (Markdown)").fill("## Findings\n\nSmall **lr** wins.")
    editor.get_by_role("button", name="Add panels").click()
    editor.get_by_label("Filter", exact=True).fill("config.lr < 0.05")
    editor.get_by_label("New panel").select_option("line")
    editor.get_by_role("button", name="Add panel", exact=True).click()
    line = editor.get_by_test_id("panel-editor").nth(0)
    line.get_by_label("Panel title").fill("Score curve")
    line.get_by_label("Metrics (comma-separated, * globs)").fill("score")
    editor.get_by_label("New panel").select_option("scalar")
    editor.get_by_role("button", name="Add panel", exact=True).click()
    scalar = editor.get_by_test_id("panel-editor").nth(1)
    scalar.get_by_label("Metric", exact=True).fill("score")
    scalar.get_by_label("Summary").select_option("max")
    # The panel block goes first: reorder.
    editor.get_by_role("button", name="Move block 2 up").click()
    expect(editor.get_by_test_id("block-editor").first).to_have_attribute("data-type", "panels")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.get_by_role("status").filter(has_text="Saved as version 2")).to_be_visible()

    # The preview draws the saved version: beta and gamma (lr < 0.05), the scalar their max score.
    preview = editor.get_by_test_id("report-body")
    expect(preview.get_by_test_id("scalar-value")).to_have_count(2)
    assert _texts(preview.get_by_test_id("report-runs").locator("li")) == ["beta", "gamma"]
    assert _texts(preview.get_by_test_id("scalar-value")) == ["1118", "2118"]
    expect(preview.locator("[data-kind=line] canvas").first).to_be_visible()
    # Under the page's headings: `##` in the text is a level-3 heading.
    expect(preview.get_by_role("heading", name="Findings", level=3)).to_be_visible()
    editor.get_by_role("button", name="Publish", exact=True).click()
    expect(editor.get_by_test_id("report-status")).to_contain_text("Published")
    shot(page, "reports-editor")

    with pages.seeded.server.client() as admin:
        password = admin.post(f"{API}/users", json={"username": "rita"}).json()["password"]
        assert admin.put(f"{API}/entities/{ENTITY}/members/rita", json={"role": "viewer"}).is_success
    reader = _sign_in_as(pages, "rita", password)
    reader.goto(pages.url(REPORTS))
    reader.get_by_role("link", name="Learning rate study").click()
    view = reader.get_by_test_id("report-view")
    expect(view.get_by_role("heading", name="Learning rate study")).to_be_visible()
    expect(view.get_by_test_id("scalar-value")).to_have_count(2)
    assert _texts(view.get_by_test_id("scalar-value")) == ["1118", "2118"]
    expect(view.get_by_role("link", name="Edit")).to_have_count(0)
    expect(view.get_by_test_id("report-actions")).to_have_count(0)
    shot(reader, "reports-viewer")


def test_a_stale_save_is_refused_with_a_message_and_history_diffs_and_reverts(
    pages: Pages, seeded: Seeded
) -> None:
    with seeded.server.client() as admin:
        report = _report(admin, "Two editors", _spec(None), publish=False)
    url = pages.url(f"{REPORTS}/{report['id']}/edit")
    first, second = pages.new(), pages.new()
    first.goto(url)
    second.goto(url)
    for page in (first, second):
        expect(page.get_by_label("Title", exact=True)).to_have_value("Two editors")
    first.get_by_label("Title", exact=True).fill("Two editors, first")
    first.get_by_label("Text (Markdown)").fill("## Findings\n\nThe **batch size** matters more.")
    first.get_by_role("button", name="Save", exact=True).click()
    expect(first.get_by_role("status").filter(has_text="Saved as version 2")).to_be_visible()
    second.get_by_label("Text (Markdown)").fill("## Findings\n\nA stale edit.")
    second.get_by_role("button", name="Save", exact=True).click()
    conflict = second.get_by_test_id("save-conflict")
    expect(conflict).to_contain_text("Someone else saved version 2 while you were editing version 1")
    shot(second, "reports-conflict")
    conflict.get_by_role("button", name="Reload the latest version").click()
    expect(second.get_by_label("Title", exact=True)).to_have_value("Two editors, first")

    first.goto(pages.url(f"{REPORTS}/{report['id']}/history"))
    revisions = first.get_by_test_id("revisions")
    expect(revisions.locator("tbody tr")).to_have_count(2)
    diff = first.get_by_test_id("report-diff")
    expect(diff).to_contain_text("Changes from v1 to v2")
    expect(diff.locator("del")).to_have_text("Two editors")
    expect(diff.locator("ins")).to_have_text("Two editors, first")
    changed = diff.locator("[data-change=changed]")
    expect(changed.locator(".diff-before strong")).to_have_text("learning rate")
    expect(changed.locator(".diff-after strong")).to_have_text("batch size")
    shot(first, "reports-history-diff")
    revisions.get_by_role("button", name="Revert to v1").click()
    expect(revisions.locator("tbody tr")).to_have_count(3)
    expect(revisions.locator("tbody tr").first).to_contain_text("Two editors")
    with seeded.server.client() as admin:
        latest = admin.get(f"{API}/reports/{ENTITY}/{PROJECT}/{report['id']}").json()
    assert (latest["version"], latest["title"]) == (3, "Two editors")


def test_a_share_link_opens_signed_out_until_it_is_revoked(pages: Pages, seeded: Seeded) -> None:
    with seeded.server.client() as admin:
        report = _report(admin, "Shared results", _spec([seeded.ids["alpha"]]))
    page = pages.new()
    page.goto(pages.url(f"{REPORTS}/{report['id']}"))
    page.get_by_role("button", name="Create share link").click()
    link = page.get_by_test_id("share-url")
    expect(link).to_have_value(re.compile(r"/share/\S+$"))
    url = link.input_value()
    shot(page, "reports-share-made")

    stranger = pages.new(signed_in=False)
    stranger.goto(url)
    shared = stranger.get_by_test_id("shared-report")
    expect(shared.get_by_role("heading", name="Shared results")).to_be_visible()
    expect(shared.get_by_test_id("scalar-value")).to_have_text(["118"])
    expect(stranger.get_by_role("button", name="Sign in")).to_have_count(0)
    shot(stranger, "reports-shared-signed-out")

    page.get_by_role("button", name="Revoke link").click()
    expect(page.get_by_test_id("share-exists")).to_have_count(0)
    expect(page.get_by_role("button", name="Create share link")).to_be_visible()
    stranger.goto(url)
    expect(stranger.get_by_role("alert")).to_contain_text("This link does not work")


def test_the_pinned_report_is_the_live_dashboard(pages: Pages, seeded: Seeded) -> None:
    live = GatedRun(seeded, "dash-live", "dash/metric")
    try:
        with seeded.server.client() as admin:
            report = _report(admin, "Team dashboard", _spec([live.id], metric="dash/metric"))
            assert admin.post(f"{API}/reports/{ENTITY}/{PROJECT}/{report['id']}/pin").is_success
        page = pages.new()
        page.goto(pages.url(f"/{ENTITY}/{PROJECT}/overview"))
        board = page.get_by_test_id("dashboard")
        expect(board.get_by_role("link", name="Team dashboard")).to_be_visible()
        expect(board.get_by_test_id("scalar-value")).to_have_text(["0"])
        live.release()
        # The run logs up to 39; the dashboard fetches again after the events (batched 5 s).
        expect(board.get_by_test_id("scalar-value")).to_have_text(["39"], timeout=40_000)
        expect(board.locator("[data-kind=line] canvas").first).to_be_visible()
        shot(page, "reports-dashboard-live")
    finally:
        live.wait()
        with seeded.server.client() as admin:
            admin.post(f"{API}/reports/{ENTITY}/{PROJECT}/{report['id']}/unpin")


def test_the_run_picker_finds_any_run_by_searching_the_server_in_chinese(
    pages: Pages, seeded: Seeded
) -> None:
    """A project with more runs than one page: the oldest is found by name and picked; a new run set's
    name and the picker's words are Chinese."""
    with seeded.server.client() as admin:
        for i, (run_id, name) in enumerate(
            [("needle", "needle-run")] + [(f"h{i:03d}", f"hay-{i:03d}") for i in range(510)]
        ):
            start = 1000.0 + i
            records = [
                [0, "run", start, {"name": name, "start_time": start}],
                [1, "exit", start + 1, {"exit_code": 0}],
            ]
            assert post_records(admin, f"{ENTITY}/many/{run_id}", records).is_success
        made = admin.post(
            f"{API}/projects/{ENTITY}/many/reports", json={"title": "大海捞针", "spec": {"blocks": []}}
        )
        assert made.status_code == 201, made.text
        report = made.json()
    page = pages.new(locale=LOCALES["zh"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(pages.url(f"/{ENTITY}/many/reports/{report['id']}/edit"))
    editor = page.get_by_test_id("report-editor")
    editor.get_by_role("button", name="添加面板组", exact=True).click()
    runset = editor.get_by_test_id("runset-editor")
    expect(runset.get_by_label("名称", exact=True)).to_have_value("新运行集")
    runset.get_by_label("选定的运行").check()
    picker = runset.get_by_test_id("run-picker")
    expect(picker).to_contain_text("显示 511 个匹配运行中的 50 个")
    expect(picker.get_by_role("checkbox")).to_have_count(50)
    expect(picker.get_by_label("needle-run")).to_have_count(0)
    picker.get_by_label("按名称或 ID 搜索运行").fill("NEEDLE")
    picker.get_by_label("needle-run").check()
    picker.get_by_label("按名称或 ID 搜索运行").fill("hay-00")
    expect(picker.get_by_role("checkbox")).to_have_count(11)  # the picked one stays, with hay-000..009
    expect(picker.get_by_label("needle-run")).to_be_checked()
    picker.get_by_label("按名称或 ID 搜索运行").fill("无此运行")
    expect(picker).to_contain_text("没有匹配的运行。")
    _no_sideways_scroll(page)
    shot(page, "reports-run-picker-zh-390")
    check_page(page, AXE.read_text(encoding="utf-8"), "reports-run-picker-zh-390")
    editor.get_by_role("button", name="保存", exact=True).click()
    expect(editor.get_by_role("status").filter(has_text="2")).to_be_visible()
    with seeded.server.client() as admin:
        saved = admin.get(f"{API}/reports/{ENTITY}/many/{report['id']}").json()
    assert [(s["name"], s["runs"]) for s in saved["spec"]["blocks"][0]["runsets"]] == [
        ("新运行集", ["needle"])
    ]


def test_the_html_export_opens_offline_from_disk(pages: Pages, seeded: Seeded, tmp_path: Path) -> None:
    with seeded.server.client() as admin:
        spec = _spec(None, filter_="config.lr >= 0.01 and config.lr <= 0.1")
        report = _report(admin, "Audit archive", spec)
        answer = admin.get(f"{API}/reports/{ENTITY}/{PROJECT}/{report['id']}/export.html")
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    exported = tmp_path / "report.html"
    exported.write_bytes(answer.content)

    page = pages.new(signed_in=False)
    requests: list[str] = []

    def block(route: Any) -> None:
        requests.append(route.request.url)
        route.abort()

    page.context.route(re.compile(r"^(?!file:|data:)"), block)
    page.goto(exported.as_uri())
    doc = page.get_by_test_id("report-export")
    expect(doc.get_by_role("heading", name="Audit archive")).to_be_visible()
    expect(doc.get_by_test_id("scalar-value")).to_have_count(2)
    assert _texts(doc.get_by_test_id("report-runs").locator("li")) == ["alpha", "beta"]
    assert _texts(doc.get_by_test_id("scalar-value")) == ["1118", "118"]
    expect(doc.locator("[data-kind=line] canvas").first).to_be_visible()
    archive = doc.get_by_test_id("report-archive")
    expect(archive.locator("details[data-run]")).to_have_count(2)
    expect(archive.get_by_test_id(f"config-{seeded.ids['alpha']}")).to_contain_text("batch_size")
    expect(archive.get_by_test_id(f"summary-{seeded.ids['alpha']}")).to_contain_text("score")
    expect(archive).to_contain_text("Git commit")
    assert requests == []
    shot(page, "reports-export-offline")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_reports_fit_a_phone_in_both_languages_and_pass_axe(
    pages: Pages, seeded: Seeded, language: str
) -> None:
    with seeded.server.client() as admin:
        report = _report(admin, f"Phone {language}", _spec(None))
    source = AXE.read_text(encoding="utf-8")
    page = pages.new(locale=LOCALES[language])
    page.set_viewport_size({"width": 390, "height": 844})
    #: Each page, what shows it is drawn, and a control named in each language.
    for path, name, ready, control in (
        (f"{REPORTS}/{report['id']}", "view", "scalar-value", ("link", "Edit", "编辑")),
        (f"{REPORTS}/{report['id']}/edit", "editor", "scalar-value", ("button", "Add panels", "添加面板组")),
        (f"{REPORTS}/{report['id']}/history", "history", "revisions", ("heading", "History", "历史")),
        (REPORTS, "list", "report-list", ("heading", "Reports", "报告")),
    ):
        page.goto(pages.url(path))
        expect(page.get_by_test_id(ready).first).to_be_visible()
        role, english, chinese = control
        named = chinese if language == "zh" else english
        expect(page.get_by_role(role, name=named, exact=True)).to_be_visible()
        _no_sideways_scroll(page)
        shot(page, f"reports-{name}-{language}-390")
        check_page(page, source, f"reports-{name}-{language}-390")


def test_create_report_makes_a_draft_from_the_workspace_view(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}?filter=config.lr%20%3C%200.05&smooth=0.5"))
    expect(page.get_by_test_id("panel").first).to_be_visible()
    shown = sorted(page.get_by_test_id("panel").evaluate_all("(els) => els.map((e) => e.dataset.metric)"))
    page.get_by_role("button", name="Create report").click()
    editor = page.get_by_test_id("report-editor")
    expect(editor.get_by_label("Filter", exact=True)).to_have_value("config.lr < 0.05")
    panels = editor.get_by_test_id("panel-editor")
    expect(panels).to_have_count(len(shown))
    expect(panels.first.get_by_label("Smoothing (0–0.99)")).to_have_value("0.5")
    expect(editor.get_by_test_id("report-status")).to_contain_text("Draft")
    expect(editor.locator("[data-kind=line] canvas").first).to_be_visible()
    shot(page, "reports-from-workspace")
