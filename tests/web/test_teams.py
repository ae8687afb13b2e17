"""The Teams section of the Settings page: your entities and roles; an entity admin manages members."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server.conftest import ServerProcess, start_server
from tests.web.conftest import Pages, Seeded, shot
from tests.web.test_accessibility import axe_source, check_page  # noqa: F401 (axe_source: a fixture)

API = "/api/v1"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A server with the team entity ``vision``, administered by ``alice``; ``bob`` is nobody there.
    (No runs: this page needs none.) The ``password`` is alice's."""
    tmp = tmp_path_factory.mktemp("teams")
    server: ServerProcess = start_server(tmp)
    try:
        with server.client() as admin:
            password = admin.post(f"{API}/users", json={"username": "alice"}).json()["password"]
            assert admin.post(f"{API}/users", json={"username": "bob"}).status_code == 201
            assert admin.post(f"{API}/entities", json={"name": "vision"}).status_code == 201
            assert admin.put(f"{API}/entities/vision/members/alice", json={"role": "admin"}).is_success
        yield Seeded(server, password, {}, tmp)
    finally:
        server.stop()


def alice_page(pages: Pages, locale: str = "en-US") -> Any:
    page = pages.new(signed_in=False, locale=locale)
    answer = page.context.request.post(
        pages.url(f"{API}/auth/login"), data={"username": "alice", "password": pages.seeded.password}
    )
    assert answer.ok, answer.text()
    page.goto(pages.url("/settings"))
    return page


def roles_of(pages: Pages, entity: str) -> dict[str, str]:
    with pages.seeded.server.client() as admin:
        members = admin.get(f"{API}/entities/{entity}/members").json()["members"]
    return {m["username"]: m["role"] for m in members}


def test_an_entity_admin_adds_changes_and_removes_members(pages: Pages) -> None:
    page = alice_page(pages)
    teams = page.get_by_test_id("teams")
    expect(teams.get_by_role("row", name="alice Admin")).to_be_visible()  # the personal entity
    expect(teams.get_by_role("row", name="vision Admin")).to_be_visible()
    page.get_by_role("button", name="Manage members vision").click()
    members = page.get_by_test_id("members")
    expect(members.get_by_role("heading", name="Members of vision")).to_be_visible()

    members.get_by_label("User").fill("bob")
    members.get_by_label("Role of the new member").select_option("viewer")
    members.get_by_role("button", name="Add or change").click()
    expect(members.get_by_label("Role of bob")).to_have_value("viewer")
    assert roles_of(pages, "vision") == {"alice": "admin", "bob": "viewer"}

    members.get_by_label("Role of bob").select_option("member")
    expect(members.get_by_label("Role of bob")).to_have_value("member")
    assert roles_of(pages, "vision")["bob"] == "member"
    shot(page, "settings-teams")

    # the last admin cannot step down: the server says why, and nothing changes
    members.get_by_label("Role of alice").select_option("viewer")
    expect(members.get_by_role("alert")).to_contain_text("only admin")
    expect(members.get_by_label("Role of alice")).to_have_value("admin")

    page.once("dialog", lambda dialog: dialog.accept())
    members.get_by_role("button", name="Remove bob").click()
    expect(members.get_by_label("Role of bob")).to_have_count(0)
    assert roles_of(pages, "vision") == {"alice": "admin"}

    members.get_by_label("User").fill("nobody")
    members.get_by_role("button", name="Add or change").click()
    expect(members.get_by_role("alert")).to_contain_text("no user 'nobody'")


@pytest.mark.parametrize(
    ("locale", "heading", "row"), [("en-US", "Teams", "vision Admin"), ("zh-CN", "团队", "vision 管理员")]
)
def test_the_section_speaks_both_languages_and_passes_axe(
    pages: Pages,
    axe_source: str,  # noqa: F811 (the fixture imported above)
    locale: str,
    heading: str,
    row: str,
) -> None:
    page = alice_page(pages, locale=locale)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_test_id("teams").get_by_role("row", name=row)).to_be_visible()
    page.get_by_test_id("teams").get_by_role("button").last.click()
    page.get_by_test_id("members").get_by_role("combobox").last.wait_for()
    check_page(page, axe_source, f"settings-teams-{locale}")
