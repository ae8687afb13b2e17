"""Notifications in a real browser: the bell counts a run's ``wandb.alert``, its metric rule and its
failure live, lists them newest first, each leading to its run, and marks them read; the settings
page saves and reloads; a project's alerts page creates and deletes a metric rule, saves team
webhooks and shows the server's refusals; the project page's Subscribe switch; both languages; axe.

The runs are the real SDK's, against a real server without SMTP (so choosing e-mail is refused).
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, run_finished_script, sdk_env, sdk_script, shot
from tests.web.test_accessibility import LOCALES, axe_source, check_page  # noqa: F401  (a fixture)

WORKSPACE = f"/{ENTITY}/{PROJECT}"
ALERTS = f"{WORKSPACE}/alerts"
API = f"/api/v1/projects/{ENTITY}/{PROJECT}"


def unread(seeded: Seeded) -> int:
    with seeded.server.client() as http:
        return int(http.get("/api/v1/notifications/unread").json()["unread"])


def failing_run(seeded: Seeded) -> str:
    """A run that logs ``loss`` over 5, alerts, and dies of a ValueError; returns its id."""
    workdir = seeded.tmp / "boom"
    workdir.mkdir(exist_ok=True)
    body = """
    import sys
    run = wakelog.init(name="boom")
    sys.__stdout__.write(f"id={run.id}\\n")
    sys.__stdout__.flush()
    run.log({"loss": 1.0})
    run.log({"loss": 10.0})
    run.alert(title="Loss exploded", text="loss = 10 at step 1", level=wakelog.AlertLevel.ERROR)
    raise ValueError("lr too high")
    """
    result = subprocess.run(
        [sys.executable, str(sdk_script(workdir, "boom", body))],
        cwd=workdir,
        env=sdk_env(seeded.server),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode != 0 and "lr too high" in result.stderr, result.stderr
    return re.search(r"id=(\w+)", result.stdout).group(1)  # type: ignore[union-attr]


def bell(page: Any) -> Any:
    return page.get_by_test_id("bell")


def test_the_bell_counts_an_alert_a_rule_and_a_failure_live_and_marks_them_read(pages: Pages) -> None:
    seeded = pages.seeded
    with seeded.server.client() as http:
        rule = http.post(f"{API}/alert-rules", json={"key": "loss", "op": ">", "value": 5})
    assert rule.status_code == 201, rule.text
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    before = unread(seeded)  # the seeded runs' "finished"
    expect(bell(page)).to_have_attribute("data-unread", str(before))

    run_id = failing_run(seeded)
    # Three new ones without a reload: the alert, the metric rule, the failure.
    expect(bell(page)).to_have_attribute("data-unread", str(before + 3), timeout=30_000)
    expect(bell(page)).to_have_accessible_name(f"Notifications, {before + 3} unread")
    shot(page, "bell-count-en")

    bell(page).click()
    panel = page.get_by_test_id("notifications")
    items = panel.locator("li.bell-item")
    expect(items).to_have_count(before + 3)
    first = items.nth(0)  # newest first: the run's end comes last
    expect(first).to_have_attribute("data-event", "failed")
    expect(first).to_contain_text("Run boom failed")
    expect(first).to_contain_text("ValueError: lr too high")
    assert {items.nth(i).get_attribute("data-event") for i in range(3)} == {"failed", "alert", "threshold"}
    expect(panel.locator("li[data-event=threshold]")).to_contain_text("loss > 5")
    expect(panel.locator("li[data-event=alert]")).to_contain_text("loss = 10 at step 1")
    shot(page, "bell-panel-en")

    # Mark one read.
    alert = panel.locator("li[data-event=alert]")
    alert.get_by_role("button", name="Mark read: Loss exploded").click()
    expect(alert).to_have_attribute("data-read", "true")
    expect(bell(page)).to_have_attribute("data-unread", str(before + 2))
    assert unread(seeded) == before + 2

    # Following one to its run marks it read too; Escape closes the panel and gives the focus back.
    first.get_by_role("link", name="Run boom failed").click()
    page.wait_for_url(re.compile(f"{WORKSPACE}/runs/{run_id}$"))
    expect(bell(page)).to_have_attribute("data-unread", str(before + 1))
    bell(page).click()
    expect(panel).to_be_visible()
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    expect(bell(page)).to_be_focused()

    bell(page).click()
    panel.get_by_role("button", name="Mark all read").click()
    expect(bell(page)).to_have_attribute("data-unread", "0")
    expect(bell(page).locator(".bell-count")).to_have_count(0)
    expect(bell(page)).to_have_accessible_name("Notifications")
    expect(panel.locator("li.bell-item.unread")).to_have_count(0)
    assert unread(seeded) == 0
    shot(page, "bell-all-read-en")
    with seeded.server.client() as http:
        assert http.delete(f"{API}/alert-rules/{rule.json()['id']}").status_code == 204


def test_the_notification_settings_save_and_reload(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url("/settings"))
    page.get_by_role("link", name="Notification settings").click()
    page.wait_for_url(re.compile("/settings/notifications$"))
    form = page.get_by_test_id("my-notifications")
    bell_finished = form.get_by_role("checkbox", name="Bell: Finished")
    expect(bell_finished).to_be_checked()  # the default: every event to the bell

    # E-mail is refused by a server without SMTP, and the page says why.
    bell_finished.uncheck()
    form.get_by_role("checkbox", name="E-mail: Failed").check()
    form.get_by_label("E-mail address").fill("me@example.com")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_contain_text("this server sends no e-mail")
    shot(page, "notification-settings-refused-en")

    form.get_by_role("checkbox", name="E-mail: Failed").uncheck()
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    expect(form.get_by_role("alert")).to_have_count(0)
    with pages.seeded.server.client() as http:
        saved = http.get("/api/v1/notifications/settings").json()
    assert [(t["channel"], t["events"]) for t in saved["targets"]] == [
        ("inapp", ["alert", "failed", "crashed", "threshold"])
    ]

    page.reload()
    expect(form.get_by_role("checkbox", name="Bell: Failed")).to_be_checked()
    expect(form.get_by_role("checkbox", name="Bell: Finished")).not_to_be_checked()
    expect(form.get_by_role("checkbox", name="E-mail: Failed")).not_to_be_checked()
    shot(page, "notification-settings-en")


def test_the_subscribe_switch_on_the_project_page(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    switch = page.get_by_role("button", name="Subscribe")
    expect(switch).to_have_attribute("aria-pressed", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    with pages.seeded.server.client() as http:
        targets = http.get(f"{API}/subscription").json()["targets"]
    assert [(t["channel"], t["events"]) for t in targets] == [
        ("inapp", ["alert", "finished", "failed", "crashed", "threshold"])
    ]
    page.reload()
    expect(switch).to_have_attribute("aria-pressed", "true")
    shot(page, "project-subscribed-en")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "false")
    with pages.seeded.server.client() as http:
        assert http.get(f"{API}/subscription").json()["targets"] == []


def test_a_metric_rule_is_created_and_deleted_with_the_servers_refusals_shown(pages: Pages) -> None:
    page = pages.new()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(pages.url(WORKSPACE))
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.wait_for_url(re.compile(f"{ALERTS}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Alerts of {PROJECT}")
    form = page.get_by_test_id("rule-form")
    form.get_by_label("Metric").fill("eval/acc")
    form.get_by_label("Comparison").select_option("<")
    form.get_by_label("Threshold").fill("half")
    form.get_by_label("After step (optional)").fill("1000")
    form.get_by_role("button", name="Add rule").click()
    error = page.get_by_test_id("rule-error")
    expect(error).to_contain_text("Some fields are missing or invalid")
    expect(error).to_contain_text("value: Input should be a valid number")
    shot(page, "alert-rule-refused-en")

    form.get_by_label("Threshold").fill("0.5")
    form.get_by_label("Level").select_option(label="Error")
    form.get_by_role("button", name="Add rule").click()
    rules = page.get_by_test_id("alert-rules")
    row = rules.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("eval/acc < 0.5 after step 1000")
    expect(row).to_contain_text("Error")
    expect(error).to_have_count(0)
    shot(page, "alert-rule-created-en")
    with pages.seeded.server.client() as http:
        (saved,) = http.get(f"{API}/alert-rules").json()["rules"]
    assert (saved["key"], saved["op"], saved["value"], saved["after_step"], saved["level"]) == (
        "eval/acc",
        "<",
        0.5,
        1000,
        "ERROR",
    )

    row.get_by_role("button", name="Delete rule eval/acc < 0.5 after step 1000").click()
    expect(rules).to_have_count(0)
    expect(page.get_by_text("No rules yet.")).to_be_visible()
    with pages.seeded.server.client() as http:
        assert http.get(f"{API}/alert-rules").json()["rules"] == []


def test_team_channels_save_webhooks_and_show_the_servers_refusals(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(ALERTS))
    team = page.get_by_test_id("team-channels")
    expect(team).to_contain_text("No team channels yet.")
    team.get_by_role("button", name="Add webhook").click()
    target = team.locator("fieldset[data-target='1']")
    target.get_by_label("Webhook URL").fill("ftp://bot.example.com/hook")
    team.get_by_role("button", name="Save team channels").click()
    refusal = team.get_by_test_id("team-error")
    expect(refusal).to_contain_text("target 1 (webhook): url 'ftp://bot.example.com/hook' is not an http")
    shot(page, "team-channels-refused-en")

    url = "https://oapi.dingtalk.com/robot/send?access_token=t0k3n"
    target.get_by_label("Format").select_option("dingtalk")
    target.get_by_label("Webhook URL").fill(url)
    target.get_by_label("Signing secret").fill("SEC-123")
    target.get_by_role("checkbox", name="Finished").check()
    team.get_by_role("button", name="Add webhook").click()
    second = team.locator("fieldset[data-target='2']")
    second.get_by_label("Format").select_option("wecom")
    second.get_by_label("Webhook URL").fill("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
    team.get_by_role("button", name="Save team channels").click()
    expect(team.get_by_role("status")).to_have_text("Saved.")
    expect(refusal).to_have_count(0)
    with pages.seeded.server.client() as http:
        saved = http.get(f"{API}/notification-settings").json()["targets"]
    assert saved == [
        {
            "channel": "webhook",
            "events": ["finished", "failed", "crashed", "threshold"],
            "url": url,
            "format": "dingtalk",
            "secret": "SEC-123",
        },
        {
            "channel": "webhook",
            "events": ["failed", "crashed", "threshold"],
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            "format": "wecom",
        },
    ]

    page.reload()
    expect(target.get_by_label("Format")).to_have_value("dingtalk")
    expect(target.get_by_label("Webhook URL")).to_have_value(url)
    expect(second.get_by_label("Format")).to_have_value("wecom")
    shot(page, "team-channels-en")

    # An e-mail list needs the server's SMTP; removing a target saves the rest.
    team.get_by_role("button", name="Add e-mail").click()
    team.locator("fieldset[data-target='3']").get_by_label("E-mail address").fill("team@example.com")
    team.get_by_role("button", name="Save team channels").click()
    expect(refusal).to_contain_text("this server sends no e-mail")
    team.get_by_role("button", name="Remove target 3").click()
    team.get_by_role("button", name="Remove target 2").click()
    team.get_by_role("button", name="Save team channels").click()
    expect(team.get_by_role("status")).to_have_text("Saved.")
    with pages.seeded.server.client() as http:
        left = http.get(f"{API}/notification-settings").json()["targets"]
    assert [t["format"] for t in left] == ["dingtalk"]


def test_the_notification_pages_read_in_chinese(pages: Pages) -> None:
    seeded = pages.seeded
    page = pages.new(locale="zh-CN")
    page.goto(pages.url(WORKSPACE))
    expect(bell(page)).to_have_attribute("data-unread", str(unread(seeded)))
    body = """
    run = wakelog.init(name="warned")
    run.alert("显存不足", "batch 太大", level="WARN")
    run.finish()
    """
    run_finished_script(seeded, "warned", body)
    expect(bell(page)).to_have_accessible_name(re.compile(r"^通知，\d+ 条未读$"), timeout=30_000)
    bell(page).click()
    panel = page.get_by_test_id("notifications")
    expect(panel.locator("li[data-event=alert]").first).to_contain_text("显存不足")
    expect(panel.locator("li[data-event=alert]").first).to_contain_text("告警")
    expect(panel.get_by_role("button", name="全部标为已读")).to_be_visible()
    shot(page, "bell-panel-zh")

    page.goto(pages.url(ALERTS))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{PROJECT} 的告警")
    expect(page.get_by_role("heading", name="指标规则")).to_be_visible()
    expect(page.get_by_role("heading", name="团队渠道")).to_be_visible()
    expect(page.get_by_test_id("team-channels").get_by_label("格式")).to_have_value("dingtalk")
    page.get_by_test_id("rule-form").get_by_label("阈值").fill("abc")
    page.get_by_test_id("rule-form").get_by_label("指标").fill("eval/acc")
    page.get_by_role("button", name="添加规则").click()
    expect(page.get_by_test_id("rule-error")).to_contain_text("有字段缺失或无效")
    shot(page, "alerts-page-zh")

    page.goto(pages.url("/settings/notifications"))
    expect(page.get_by_role("heading", level=1)).to_have_text("通知")
    expect(page.get_by_role("checkbox", name="铃铛：失败")).to_be_checked()
    shot(page, "notification-settings-zh")


def open_bell(page: Any) -> None:
    bell(page).click()
    page.get_by_test_id("notifications").locator("li.bell-item").first.wait_for()


SCREENS = {
    "notification-settings": (
        "/settings/notifications",
        lambda page: page.get_by_test_id("my-notifications").wait_for(),
    ),
    "alerts": (ALERTS, lambda page: page.get_by_test_id("team-channels").wait_for()),
    "bell": ("/", open_bell),
}


@pytest.mark.parametrize("name", SCREENS)
@pytest.mark.parametrize("language", LOCALES)
def test_the_notification_pages_pass_axe(pages: Pages, axe_source: str, language: str, name: str) -> None:  # noqa: F811
    path, ready = SCREENS[name]
    page = pages.new(locale=LOCALES[language])
    page.goto(pages.url(path))
    ready(page)
    check_page(page, axe_source, f"{name}-{language}")
