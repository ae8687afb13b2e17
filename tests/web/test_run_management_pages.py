"""Managing runs in the web app: the run page's editor, the table's bulk actions, the project's
trash and the audit trail, in English and Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.harness import wait_until
from tests.server.conftest import ServerProcess, post_records, start_server
from tests.web.conftest import Pages, Seeded, shot
from tests.web.test_accessibility import axe_source, check_page  # noqa: F401  (a fixture)

API = "/api/v1"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The admin's project ``admin/p`` with three finished runs r1, r2, r3."""
    tmp = tmp_path_factory.mktemp("manage")
    server: ServerProcess = start_server(tmp)
    try:
        with server.client() as admin:
            for i, run_id in enumerate(("r1", "r2", "r3")):
                records = [
                    [0, "run", 1.0, {"name": f"run {run_id}", "start_time": 1000.0 + i}],
                    [1, "history", 2.0, {"_step": 0, "loss": 1.0 / (i + 1)}],
                    [2, "exit", 3.0, {"exit_code": 0}],
                ]
                assert post_records(admin, f"admin/p/{run_id}", records).is_success
        credentials = (server.data_dir / "admin-credentials.txt").read_text()
        password = re.search(r"password: (\S+)", credentials).group(1)  # type: ignore[union-attr]
        yield Seeded(server, password, {}, tmp)
    finally:
        server.stop()


def _run(pages: Pages, run_id: str) -> dict:  # type: ignore[type-arg]
    with pages.seeded.server.client() as admin:
        return admin.get(f"{API}/runs/admin/p/{run_id}").json()  # type: ignore[no-any-return]


def test_the_run_page_edits_name_tags_and_notes(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url("/admin/p/runs/r1"))
    page.get_by_role("button", name="Edit").click()
    form = page.get_by_role("form", name="Edit")
    form.get_by_label("Name").fill("baseline fp16")
    form.get_by_label("Tags (comma-separated)").fill("best, fp16")
    notes = "warm-up **helps**\n\n- lr `3e-4`\n\n<img src=x onerror=alert(1)>"
    form.get_by_label("Notes (Markdown)").fill(notes)
    shot(page, "manage-run-editor")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="baseline fp16")).to_be_visible()
    shown = page.locator(".run-notes")
    expect(shown.locator("strong")).to_have_text("helps")  # notes are markdown, rendered
    expect(shown.locator("li code")).to_have_text("3e-4")
    expect(shown.locator("img")).to_have_count(0)  # raw HTML is shown as text, never run
    expect(shown).to_contain_text("<img src=x onerror=alert(1)>")
    shot(page, "manage-run-edited")
    run = _run(pages, "r1")
    assert (run["name"], run["tags"], run["notes"]) == ("baseline fp16", ["best", "fp16"], notes)


def test_bulk_actions_tag_and_delete_and_the_trash_restores(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url("/admin/p?sel=r2,r3&view=table"))
    actions = page.get_by_role("group", name="Actions on 2 selected runs")
    actions.get_by_label("Tags (comma-separated)").fill("sweep-a")
    actions.get_by_role("button", name="Tag", exact=True).click()
    expect(actions.get_by_role("status")).to_have_text("2 runs changed")
    shot(page, "manage-bulk-tagged")
    assert _run(pages, "r2")["tags"] == ["sweep-a"] and _run(pages, "r3")["tags"] == ["sweep-a"]
    page.on("dialog", lambda dialog: dialog.accept())
    actions.get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("run-count")).to_contain_text("1")
    page.get_by_role("link", name="Trash", exact=True).click()
    trash = page.get_by_test_id("trash")
    expect(trash.get_by_role("row")).to_have_count(3)  # the header and two runs
    shot(page, "manage-trash")
    trash.get_by_role("button", name="Restore run r2").click()
    expect(trash.get_by_role("row")).to_have_count(2)
    with pages.seeded.server.client() as admin:
        assert [
            r["id"] for r in admin.get(f"{API}/projects/admin/p/runs", params={"order": "id"}).json()["runs"]
        ] == [
            "r1",
            "r2",
        ]


def test_admins_read_the_audit_trail_in_both_languages(pages: Pages) -> None:
    with pages.seeded.server.client() as admin:
        assert admin.patch(f"{API}/runs/admin/p/r1", json={"group": "ablation"}).is_success
    page = pages.new()
    page.goto(pages.url("/settings"))
    page.get_by_role("link", name="Audit trail").click()
    audit = page.get_by_test_id("audit")
    expect(audit.get_by_role("row").nth(1)).to_contain_text("run.edit")
    expect(audit.get_by_role("row").nth(1)).to_contain_text('{"group":"ablation"}')
    expect(page.get_by_role("link", name="Download as JSON Lines")).to_have_attribute(
        "href", "/api/v1/audit/export"
    )
    shot(page, "manage-audit-en")
    chinese = pages.new(locale="zh-CN")
    chinese.goto(pages.url("/audit"))
    expect(chinese.get_by_role("heading", name="审计日志")).to_be_visible()
    expect(chinese.get_by_role("columnheader", name="操作人")).to_be_visible()
    shot(chinese, "manage-audit-zh")
    chinese.goto(pages.url("/admin/p/trash"))
    expect(chinese.get_by_role("heading", name="p 的回收站")).to_be_visible()
    shot(chinese, "manage-trash-zh")


def test_the_stop_button_asks_a_running_run_to_stop(pages: Pages, axe_source: str) -> None:  # noqa: F811
    """Only a running run has the button; once confirmed it asks the server (audited as
    ``run.stop``; what the client then does: tests/integration/test_wandb_client.py) and says so."""
    with pages.seeded.server.client() as admin:
        assert post_records(
            admin, "admin/stopping/live", [[0, "run", 1.0, {"name": "still training"}]]
        ).is_success
    page = pages.new()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(pages.url("/admin/p/runs/r1"))
    expect(page.get_by_role("button", name="Edit")).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)  # a finished run
    page.goto(pages.url("/admin/stopping/runs/live"))
    page.on("dialog", lambda dialog: dialog.accept())
    button = page.get_by_role("button", name="Stop")
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box
    button.click()
    expect(page.get_by_role("status").filter(has_text="Stop requested")).to_be_visible()
    check_page(page, axe_source, "run-stop-390")
    with pages.seeded.server.client() as admin:
        audit = admin.get(f"{API}/audit").json()["entries"]
        assert [e["target"] for e in audit if e["action"] == "run.stop"] == ["admin/stopping/live"]
    chinese = pages.new(locale="zh-CN")
    with pages.seeded.server.client() as admin:
        assert post_records(admin, "admin/stopping/live2", [[0, "run", 1.0, {}]]).is_success
    chinese.goto(pages.url("/admin/stopping/runs/live2"))
    expect(chinese.get_by_role("button", name="停止")).to_be_visible()
    shot(chinese, "run-stop-zh")


def test_the_editor_and_the_untag_and_move_actions_in_chinese(pages: Pages) -> None:
    with pages.seeded.server.client() as admin:
        records = [
            [0, "run", 1.0, {"name": "run m1", "tags": ["old", "keep"]}],
            [1, "exit", 2.0, {"exit_code": 0}],
        ]
        assert post_records(admin, "admin/p/m1", records).is_success
    page = pages.new(locale="zh-CN")
    page.goto(pages.url("/admin/p/runs/m1"))
    page.get_by_role("button", name="编辑").click()
    form = page.get_by_role("form", name="编辑")
    form.get_by_label("名称").fill("基线")
    form.get_by_label("备注（Markdown）").fill("学习率 **3e-4**")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name="基线")).to_be_visible()
    shot(page, "manage-run-edited-zh")

    page.goto(pages.url("/admin/p?sel=m1&view=table"))
    actions = page.get_by_role("group", name="对选中的 1 个运行操作")
    actions.get_by_label("标签（逗号分隔）").fill("old")
    actions.get_by_role("button", name="去标签").click()
    expect(actions.get_by_role("status")).to_have_text("已修改 1 个运行")
    assert _run(pages, "m1")["tags"] == ["keep"]
    actions.get_by_label("实体/项目").fill("admin/archive")
    actions.get_by_role("button", name="移动").click()
    with pages.seeded.server.client() as admin:

        def arrived() -> dict | None:  # type: ignore[type-arg]
            got = admin.get(f"{API}/runs/admin/archive/m1")
            return got.json() if got.is_success else None  # type: ignore[no-any-return]

        moved = wait_until(arrived, what="the moved run")
    assert (moved["name"], moved["tags"], moved["notes"]) == ("基线", ["keep"], "学习率 **3e-4**")
    expect(page.get_by_role("row").filter(has_text="基线")).to_have_count(0)  # gone from the table
    shot(page, "manage-bulk-moved-zh")
