"""Comments on the run page: a thread written with @mention autocomplete and a preview, edited,
replied to and resolved; markdown rendered without raw HTML (the XSS checks); a viewer reading
along in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server.conftest import ServerProcess, post_records, start_server
from tests.web.conftest import Pages, Seeded, shot

API = "/api/v1"
#: Each tries to run script in a reader's browser; a run sets window.__xss.
HOSTILE = (
    "<script>window.__xss = 1</script>\n\n"
    'hi <img src=x onerror="window.__xss = 2"> <b onmouseover="window.__xss = 3">bold?</b>\n\n'
    "[click me](javascript:window.__xss=4) and [ok](https://example.org/docs)\n\n"
    '<a href="javascript:window.__xss=5">raw link</a> <iframe src="javascript:window.__xss=6"></iframe>\n\n'
    "![pic](http://127.0.0.1:9/tracker.png)"
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The admin's run ``admin/p/r1``; ``bob`` and ``bea`` are members of the admin's entity,
    ``vic`` its viewer (``ids`` holds vic's password)."""
    tmp = tmp_path_factory.mktemp("comments")
    server: ServerProcess = start_server(tmp)
    try:
        with server.client() as admin:
            records = [[0, "run", 1.0, {"name": "baseline"}], [1, "exit", 2.0, {"exit_code": 0}]]
            assert post_records(admin, "admin/p/r1", records).is_success
            passwords = {}
            for name, role in (("bob", "member"), ("bea", "member"), ("vic", "viewer")):
                passwords[name] = admin.post(f"{API}/users", json={"username": name}).json()["password"]
                assert admin.put(f"{API}/entities/admin/members/{name}", json={"role": role}).is_success
        credentials = (server.data_dir / "admin-credentials.txt").read_text()
        password = re.search(r"password: (\S+)", credentials).group(1)  # type: ignore[union-attr]
        yield Seeded(server, password, passwords, tmp)
    finally:
        server.stop()


def _notifications(pages: Pages, user: str) -> list[dict[str, Any]]:
    with pages.seeded.server.client() as admin:
        key = admin.post(f"{API}/keys", json={"user": user}).json()["key"]
    with pages.seeded.server.client(key) as client:
        return client.get(f"{API}/notifications").json()["notifications"]  # type: ignore[no-any-return]


def test_a_thread_with_a_mention_a_preview_an_edit_a_reply_and_resolving(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url("/admin/p/runs/r1?tab=comments"))
    comments = page.get_by_test_id("comments")
    expect(comments.get_by_text("No comments yet")).to_be_visible()
    box = comments.get_by_role("textbox")
    box.press_sequentially("Is lr too high? @b")
    names = comments.get_by_role("listbox", name="People to mention")
    expect(names.get_by_role("option")).to_have_text(["@bea", "@bob"])
    box.press("ArrowDown")
    shot(page, "comments-mention-autocomplete")
    box.press("Enter")
    expect(box).to_have_value("Is lr too high? @bob ")
    box.press_sequentially("try **1e-4**:\n```py\nlr = 1e-4\n```")
    comments.get_by_role("button", name="Preview").click()
    preview = comments.get_by_test_id("comment-preview")
    expect(preview.locator("strong")).to_have_text("1e-4")
    expect(preview.locator("pre code")).to_have_text("lr = 1e-4\n")
    shot(page, "comments-preview")
    comments.get_by_role("button", name="Comment", exact=True).click()
    thread = comments.locator("article.comment-thread")
    expect(thread.locator("pre code")).to_have_text("lr = 1e-4\n")
    mention = [n for n in _notifications(pages, "bob") if n["event"] == "mention"]
    assert [n["title"] for n in mention] == ["admin mentioned you on run baseline"]
    assert _notifications(pages, "bea") == []
    # edit the comment
    thread.get_by_role("button", name="Edit").click()
    editing = thread.get_by_role("textbox")
    editing.fill("Is lr too high? @bob try *1e-4*")
    thread.get_by_role("button", name="Save").click()
    expect(thread.locator(".markdown em")).to_have_text("1e-4")
    expect(thread.get_by_text("edited")).to_be_visible()
    # reply, then resolve
    thread.get_by_role("button", name="Reply").click()
    thread.get_by_role("textbox").fill("it converged, thanks")
    thread.get_by_role("form", name="Reply").get_by_role("button", name="Reply").click()
    expect(thread.locator("li.comment")).to_have_count(2)
    shot(page, "comments-thread")
    thread.get_by_role("button", name="Resolve").click()
    expect(thread.get_by_text(re.compile(r"Resolved by admin .* 2 comments"))).to_be_visible()
    expect(thread.get_by_role("button", name="Reopen")).to_be_visible()
    shot(page, "comments-resolved")
    thread.get_by_role("button", name="Reopen").click()
    page.on("dialog", lambda dialog: dialog.accept())
    thread.locator("li.comment").last.get_by_role("button", name="Delete").click()
    expect(thread.locator("li.comment")).to_have_count(1)


def test_comments_render_no_raw_html(pages: Pages) -> None:
    with pages.seeded.server.client() as admin:
        made = admin.post(f"{API}/runs/admin/p/r1/threads", json={"body": HOSTILE})
        assert made.status_code == 201, made.text
    page = pages.new()
    page.goto(pages.url("/admin/p/runs/r1?tab=comments"))
    body = page.locator(f"li.comment[data-comment='{made.json()['comments'][0]['id']}'] .markdown")
    expect(body.get_by_text("<script>window.__xss = 1</script>")).to_be_visible()
    expect(body.get_by_role("link", name="ok")).to_have_attribute("href", "https://example.org/docs")
    expect(body.get_by_role("link", name="ok")).to_have_attribute("rel", "noopener noreferrer nofollow")
    body.get_by_text("bold?").hover()
    body.get_by_text("click me").click()
    shot(page, "comments-xss")
    assert body.locator("script, img, iframe, [onerror], [onmouseover]").count() == 0
    hrefs = body.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert all(h is None or not h.lower().startswith("javascript") for h in hrefs), hrefs
    assert page.evaluate("window.__xss") is None


def test_a_viewer_reads_the_discussion_in_chinese(pages: Pages) -> None:
    with pages.seeded.server.client() as admin:
        admin.post(f"{API}/runs/admin/p/r1/threads", json={"body": "warm-up **helps** @vic"})
    assert any(n["event"] == "mention" for n in _notifications(pages, "vic"))
    page = pages.new(signed_in=False, locale="zh-CN")
    answer = page.context.request.post(
        pages.url(f"{API}/auth/login"), data={"username": "vic", "password": pages.seeded.ids["vic"]}
    )
    assert answer.ok, answer.text()
    page.goto(pages.url("/admin/p/runs/r1?tab=comments"))
    comments = page.get_by_test_id("comments")
    expect(comments.get_by_role("heading", name="讨论")).to_be_visible()
    expect(comments.locator(".markdown strong").last).to_have_text("helps")
    expect(comments.get_by_text("留言需要 member 角色")).to_be_visible()
    expect(comments.get_by_role("textbox")).to_have_count(0)
    expect(comments.get_by_role("button", name="编辑")).to_have_count(0)
    shot(page, "comments-viewer-zh")
