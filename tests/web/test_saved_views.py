"""Saved views in the workspace: save what the workspace shows under a name, make it the project's
default (a bare project address opens it), share it (``?sv=<id>`` opens the same state for someone
else), rename it in Chinese on a phone, delete it; the menu passes the axe checks."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, shot
from tests.web.test_accessibility import AXE, check_page
from tests.web.test_e2e import WORKSPACE, wait_for_rows

#: The user's own panel layout of a project (read, then written as it changes).
LAYOUT = re.compile(r".*/api/v1/projects/[^/]+/[^/]+/workspace$")
#: The workspace as saved: only the seeded runs, smoothed, legends off.
SAVED = {"filter": ['tags contains "web"'], "smooth": ["0.5"], "legend": ["0"]}


def params(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def wait_for_state(page: Any, view_id: str) -> None:
    """The address holds the saved state and names the view (the app writes it after loading it)."""
    expect(page).to_have_url(re.compile(rf"[?&]sv={view_id}(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]smooth=0\.5(&|$)"))
    got = params(page)
    assert {name: got.get(name) for name in SAVED} == SAVED, page.url


def test_save_open_share_and_default_a_view(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(f"{WORKSPACE}?filter=tags%20contains%20%22web%22&smooth=0.5&legend=0"))
    wait_for_rows(page, 3)
    page.get_by_test_id("views-button").click()
    expect(page.get_by_text("No saved views yet.")).to_be_visible()
    page.get_by_label("New view name").fill("Smoothed")
    page.get_by_role("button", name="Save as new view").click()
    expect(page.get_by_test_id("views-button")).to_have_text("View: Smoothed")
    view_id = params(page)["sv"][0]
    page.get_by_role("button", name="Make project default").click()
    expect(page.get_by_text("default", exact=True)).to_be_visible()
    check_page(page, AXE.read_text(), "saved-views-menu")
    shot(page, "saved-views-menu")

    # Someone opening the project bare gets its default view, the state in the address.
    bare = pages.new()
    bare.goto(pages.url(WORKSPACE))
    wait_for_state(bare, view_id)
    wait_for_rows(bare, 3)

    # A link naming the view opens it, whatever else the address held before.
    shared = pages.new()
    shared.goto(pages.url(f"{WORKSPACE}?smooth=0.9&sv={view_id}"))
    wait_for_state(shared, view_id)


def test_rename_and_delete_a_view_in_chinese_on_a_phone(pages: Pages) -> None:
    page = pages.new(locale="zh-CN")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(pages.url(f"{WORKSPACE}?filter=tags%20contains%20%22web%22&smooth=0.5&legend=0"))
    wait_for_rows(page, 3)
    page.get_by_test_id("views-button").click()
    page.get_by_label("新视图名称").fill("手机")
    page.get_by_role("button", name="另存为新视图").click()
    expect(page.get_by_test_id("views-button")).to_have_text("视图：手机")
    page.get_by_label("重命名为").fill("平滑曲线")
    page.get_by_role("button", name="重命名", exact=True).click()
    expect(page.get_by_test_id("views-button")).to_have_text("视图：平滑曲线")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check_page(page, AXE.read_text(), "saved-views-menu-zh-phone")
    shot(page, "saved-views-menu-zh-phone")
    page.get_by_role("button", name="删除视图").click()
    expect(page.get_by_test_id("views-button")).to_have_text("视图")
    assert "sv" not in params(page)
    expect(page.get_by_role("button", name="平滑曲线")).to_have_count(0)


def test_a_view_opened_before_the_saved_layout_arrives_keeps_its_layout(pages: Pages) -> None:
    """Opening a view sets its panel layout; the user's own layout, answered by the server after
    that (a slow request), does not put the view's hidden panel back."""
    page = pages.new()
    api = pages.seeded.server.client()  # the admin, as the page is signed in
    base = f"/api/v1/projects/{ENTITY}/{PROJECT}"
    shown_all = {"removed": [], "added": [], "sizes": {}}
    assert api.put(f"{base}/workspace", json=shown_all).is_success
    view = {"params": {}, "layout": {**shown_all, "removed": ["score"]}}
    made = api.post(f"{base}/views", json={"name": "Without score", "state": view})
    assert made.is_success, made.text
    view_id = made.json()["id"]
    held: dict[str, Any] = {}

    def hold(route: Any) -> None:  # the layout's read and the view's write wait for the test
        held[route.request.method] = route

    try:
        page.route(LAYOUT, hold)
        with page.expect_request(lambda asked: asked.method == "PUT" and LAYOUT.match(asked.url) is not None):
            page.goto(pages.url(f"{WORKSPACE}?sv={view_id}"))
        wait_for_rows(page, 3)
        expect(page.locator("[data-testid=panel][data-metric=score]")).to_have_count(0)
        expect(page.locator("[data-testid=panel]").first).to_be_visible()
        deadline = time.monotonic() + 15
        while len(held) < 2 and time.monotonic() < deadline:  # the handler runs as events arrive
            page.wait_for_timeout(50)
        for method in ("GET", "PUT"):  # the read first: it answers the layout from before the view
            with page.expect_response(lambda answer, m=method: answer.request.method == m):
                held[method].continue_()
        expect(page.locator("[data-testid=panel][data-metric=score]")).to_have_count(0)
        assert api.get(f"{base}/workspace").json()["layout"]["removed"] == ["score"], "the view's, kept"
    finally:
        page.unroute_all()
        assert api.put(f"{base}/workspace", json=shown_all).is_success
        assert api.delete(f"{base}/views/{view_id}").is_success
        api.close()
