"""What a person checks in the web app, in the system Chromium, against runs the SDK logged."""

from __future__ import annotations

import re

from tests.web.conftest import (
    ENTITY,
    PROJECT,
    RUNS,
    STEPS,
    GatedRun,
    Pages,
    drawn_panel,
    hover_middle,
    on_plot_area,
    run_finished_script,
    shot,
)

WORKSPACE = f"/{ENTITY}/{PROJECT}"


def row_names(page) -> list[str]:
    return page.locator("[data-testid=run-table] [role=row][data-run] .run-link").all_inner_texts()


def zoom_of(url: str) -> tuple[float, float]:
    """The zoomed x range in a page's URL (``xr=lo,hi``)."""
    from urllib.parse import parse_qs, urlparse

    lo, hi = parse_qs(urlparse(url).query)["xr"][0].split(",")
    return float(lo), float(hi)


def wait_for_rows(page, count: int) -> None:
    page.wait_for_function(
        "(n) => document.querySelectorAll('[data-testid=run-table] [data-run]').length === n", arg=count
    )


def wait_for_names(page, names: str) -> None:
    page.wait_for_function(
        "(names) => [...document.querySelectorAll('[data-run] .run-link')]"
        ".map(e => e.textContent).join() === names",
        arg=names,
    )


def test_an_unauthenticated_visit_gets_the_sign_in_page(pages: Pages) -> None:
    page = pages.new(signed_in=False)
    page.goto(pages.url(WORKSPACE))
    page.get_by_role("heading", name="Sign in to wakelog").wait_for()
    assert page.get_by_label("Username").is_visible()
    shot(page, "sign-in")


def test_signing_in_with_the_keyboard_shows_the_projects(pages: Pages) -> None:
    page = pages.new(signed_in=False)
    page.goto(pages.url("/"))
    page.get_by_label("Username").wait_for()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type(pages.seeded.password)
    page.keyboard.press("Enter")
    table = page.get_by_test_id("projects")
    table.wait_for()
    row = table.locator("tr", has_text=PROJECT)
    assert row.locator("td").nth(2).inner_text() == str(len(RUNS))
    shot(page, "projects")


def test_a_wrong_password_is_refused_and_an_api_key_signs_in(pages: Pages) -> None:
    page = pages.new(signed_in=False)
    page.goto(pages.url("/"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert "Wrong username or password" in page.get_by_role("alert").inner_text()
    page.get_by_role("tab", name="API key").click()
    page.get_by_label("API key").fill(pages.seeded.server.key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("projects").wait_for()


def test_the_run_table_lists_the_runs_with_their_values(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(f"{WORKSPACE}?cols=config%3Alr,summary%3Ascore"))
    page.get_by_test_id("run-table").wait_for()
    wait_for_rows(page, 3)
    assert sorted(row_names(page)) == sorted(RUNS)
    for name, (config, offset) in RUNS.items():
        row = page.locator("[data-testid=run-table] [role=row][data-run]", has_text=name)
        cells = row.locator("[role=cell]").all_inner_texts()
        assert "finished" in cells
        assert str(config["lr"]) in cells
        assert str(2 * (STEPS - 1) + offset) in cells  # the summary's last score
    assert page.get_by_test_id("run-count").inner_text() == "3 of 3 runs"
    shot(page, "workspace")


def test_sorting_and_filtering_change_the_rows(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    wait_for_rows(page, 3)
    header = page.get_by_role("columnheader", name="Name")
    header.get_by_role("button").click()
    page.wait_for_url(re.compile(r"order=name"))
    wait_for_names(page, "alpha,beta,gamma")
    header.get_by_role("button").click()
    page.wait_for_url(re.compile(r"order=-name"))
    wait_for_names(page, "gamma,beta,alpha")
    assert header.get_attribute("aria-sort") == "descending"

    page.get_by_test_id("filter").fill("config.lr < 0.05 and config.optimizer.name = 'adam'")
    page.get_by_test_id("filter").press("Enter")
    wait_for_rows(page, 1)
    assert row_names(page) == ["gamma"]
    assert page.get_by_test_id("run-count").inner_text() == "1 of 1 runs"
    assert "filter=" in page.url

    # The builder reads the same filter back as conditions.
    page.get_by_role("button", name="Builder").click()
    builder = page.get_by_test_id("filter-builder")
    assert builder.get_by_label("Field").nth(0).input_value() == "config.lr"
    assert builder.get_by_label("Value").nth(1).input_value() == "adam"
    shot(page, "workspace-filtered")

    page.get_by_test_id("filter").fill("config.lr <")
    page.get_by_test_id("filter").press("Enter")
    assert "position" in page.get_by_test_id("filter-error").inner_text()


def test_a_chart_is_drawn_and_its_tooltip_shows_the_logged_value(pages: Pages) -> None:
    page = pages.new()
    alpha = pages.seeded.ids["alpha"]
    page.goto(pages.url(f"{WORKSPACE}?sel={alpha}"))
    panel = page.locator("[data-testid=panel][data-metric=score]")
    chart = panel.get_by_test_id("line-chart")
    chart.locator("canvas").wait_for()
    page.wait_for_function(
        """() => { const c = document.querySelector('[data-metric=score] canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; }"""
    )
    tooltip = hover_middle(page, chart)
    text = tooltip.inner_text()
    step = int(re.search(r"Step (\d+)", text).group(1))  # type: ignore[union-attr]
    assert "alpha" in text
    value = tooltip.locator(".tt-value").first
    assert value.inner_text() == str(2 * step)  # score = 2 * step for alpha
    shot(page, "chart-tooltip")


def test_smoothing_and_axes_live_in_the_url(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(f"{WORKSPACE}?smooth=0.6&log=1&x=_runtime"))
    drawn_panel(page, "train/loss")
    assert page.get_by_test_id("smoothing").input_value() == "0.6"
    assert page.get_by_label("Log scale").is_checked()
    assert page.get_by_test_id("x-axis").input_value() == "_runtime"


def test_a_live_runs_chart_grows_without_a_reload(pages: Pages) -> None:
    run = GatedRun(pages.seeded, "live-one", "score")
    try:
        page = pages.new()
        page.goto(pages.url(f"{WORKSPACE}?sel={run.id}&filter=name%20%3D%20%22live-one%22"))
        chart = page.locator("[data-testid=panel][data-metric=score] [data-testid=line-chart]")
        chart.scroll_into_view_if_needed()
        chart.wait_for()
        page.get_by_text("Live", exact=True).wait_for()
        before = int(chart.get_attribute("data-points") or 0)
        run.release()
        page.wait_for_function(
            "() => document.querySelector('[data-metric=score] [data-points]').dataset.points >= 30",
            timeout=30_000,
        )
        assert before < 30
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        shot(page, "live")
    finally:
        run.wait()


def test_the_language_switch_turns_the_ui_chinese_and_is_kept(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    page.get_by_test_id("run-table").wait_for()
    page.get_by_test_id("language").select_option("zh")
    page.get_by_role("link", name="项目").wait_for()
    page.locator("[data-metric=score] canvas").wait_for()
    assert page.get_by_role("button", name="对比所选运行").is_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    shot(page, "workspace-zh")
    page.reload()
    page.get_by_role("link", name="项目").wait_for()
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("heading", name="登录 wakelog").wait_for()
    shot(page, "sign-in-zh")


def test_the_compare_page_shows_the_config_difference(pages: Pages) -> None:
    page = pages.new()
    ids = pages.seeded.ids
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/compare?runs={ids['alpha']},{ids['gamma']}"))
    table = page.get_by_test_id("config-diff")
    table.wait_for()
    rows = table.locator("tbody tr")
    keys = rows.locator("th").all_inner_texts()
    keys = [k.split("\n")[0].split(" (")[0] for k in keys]
    classes = rows.evaluate_all("rs => rs.map(r => r.className)")
    differing = [k for k, c in zip(keys, classes, strict=True) if c]
    assert set(differing) == {"lr", "batch_size"}
    assert set(keys[:2]) == {"batch_size", "lr"}  # differing keys first
    lr = table.locator("tr", has=page.locator("th", has_text="lr")).locator("td").all_inner_texts()
    assert lr == ["0.1", "0.001"]
    page.locator("[data-metric=score] canvas").wait_for()
    shot(page, "compare")


def test_the_run_page_shows_config_summary_logs_and_files(pages: Pages) -> None:
    page = pages.new()
    run_id = pages.seeded.ids["beta"]
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{run_id}"))
    config = page.get_by_test_id("config-table")
    config.wait_for()
    assert "0.01" in config.locator("tr", has_text="lr").inner_text()
    assert "sgd" in config.locator("tr", has_text="optimizer.name").inner_text()
    summary = page.get_by_test_id("summary-table")
    assert str(2 * (STEPS - 1) + 1000) in summary.locator("tr", has_text="score").inner_text()
    shot(page, "run-overview")

    page.get_by_role("tab", name="Logs").click()
    assert "tab=logs" in page.url
    line = page.get_by_test_id("console").get_by_text("hello from beta")
    line.wait_for()
    green = page.get_by_test_id("console").locator("span", has_text="green")
    assert green.evaluate("e => getComputedStyle(e).color") == "rgb(0, 187, 0)"  # ANSI green
    shot(page, "run-logs")

    page.get_by_role("tab", name="Charts").click()
    page.locator("[data-metric=score] canvas").wait_for()
    shot(page, "run-charts")

    page.get_by_role("tab", name="Files").click()
    page.get_by_test_id("files").get_by_role("link", name="notes.txt").wait_for()
    shot(page, "run-files")

    page.get_by_role("tab", name="Media").click()
    media = page.get_by_test_id("media")
    media.get_by_role("img", name="grey level 160").wait_for()  # the newest image; its caption is its alt
    media.get_by_label("Step").first.fill("0")  # the slider goes back to the first image
    image = media.get_by_role("img", name="grey level 0")
    image.wait_for()
    assert media.locator("figcaption", has_text="grey level 0").is_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=media] img')].every(i => i.complete)"
    )
    assert image.evaluate("img => img.naturalWidth") == 8
    media.get_by_role("img", name="Histogram over steps").locator("canvas").wait_for()
    shot(page, "run-media")


def test_settings_create_and_revoke_an_api_key(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url("/settings"))
    page.get_by_label("Name of the new key").fill("from the browser")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_test_id("new-key").inner_text()
    assert key.startswith("wk_")
    row = page.get_by_test_id("keys").locator("tr", has_text="from the browser")
    assert "Active" in row.inner_text()
    shot(page, "settings")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile("Revoke")).click()
    revoked = row.filter(has_text="Revoked")
    revoked.wait_for()


def test_every_control_has_a_label(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    page.locator("[data-metric=score] canvas").wait_for()
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button')].filter(e => {
             const labels = e.labels ? [...e.labels].map(l => l.textContent).join('') : '';
             const name = (e.getAttribute('aria-label') || labels || e.textContent || '').trim();
             return !name; }).map(e => e.outerHTML.slice(0, 120))"""
    )
    assert unlabelled == []
    # Keyboard: from the row checkbox, the arrow key moves to the next row.
    first = page.locator("[data-testid=run-table] [data-index='0'] input")
    first.focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.activeElement.closest('[data-index]')?.dataset.index === '1'")


def test_many_runs_still_load_through_the_table(pages: Pages) -> None:
    """The table asks the server page by page; a project with more runs than a page still lists them all."""
    seeded = pages.seeded
    with seeded.server.client() as http:
        total = http.get(f"/api/v1/projects/{ENTITY}/{PROJECT}/runs", params={"limit": 1}).json()["total"]
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    page.get_by_test_id("run-count").wait_for()
    page.wait_for_function(
        "(n) => document.querySelector('[data-testid=run-count]').textContent.endsWith(`of ${n} runs`)",
        arg=total,
    )


def test_dragging_zooms_in_and_the_keyboard_pans(pages: Pages) -> None:
    page = pages.new()
    alpha = pages.seeded.ids["alpha"]
    page.goto(pages.url(f"{WORKSPACE}?sel={alpha}"))
    chart = page.locator("[data-testid=panel][data-metric=score] [data-testid=line-chart]")

    def drag(box: dict[str, float]) -> None:
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.3, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
        page.mouse.up()
        page.wait_for_url(re.compile(r"xr="), timeout=3_000)

    on_plot_area(chart, drag)
    lo, hi = zoom_of(page.url)
    assert 0 < lo < hi < STEPS
    # Zoomed data is fetched for the range: the chart holds only the steps inside it.
    page.wait_for_function(
        "(n) => document.querySelector('[data-metric=score] [data-points]').dataset.points <= n",
        arg=int(hi - lo) + 2,
    )
    zoomed = page.evaluate("() => new URLSearchParams(location.search).get('xr')")
    chart.focus()
    page.keyboard.press("ArrowRight")  # pans by a quarter of the range
    page.wait_for_function("(xr) => new URLSearchParams(location.search).get('xr') !== xr", arg=zoomed)
    assert zoom_of(page.url)[0] > lo
    page.get_by_role("button", name="Reset zoom").first.click()
    page.wait_for_function("() => !location.search.includes('xr=')")


def test_grouping_the_table_by_group(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(f"{WORKSPACE}?filter=tags%20contains%20%22web%22"))
    wait_for_rows(page, 3)
    page.get_by_label("Group by").select_option("group")
    groups = page.locator("[data-testid=run-table] .rt-group")
    groups.first.wait_for()
    assert groups.all_inner_texts() == ["▾ g-a (1)", "▾ g-b (1)", "▾ g-g (1)"]
    groups.first.get_by_role("button", expanded=True).click()
    wait_for_rows(page, 2)
    shot(page, "workspace-grouped")


def test_parallel_coordinates_are_drawn(pages: Pages) -> None:
    page = pages.new()
    page.goto(pages.url(f"{WORKSPACE}?view=charts"))
    section = page.locator("details[data-section=parallel]")
    section.locator(":scope > summary").click()
    section.get_by_test_id("parallel").locator("canvas").first.wait_for()
    section.scroll_into_view_if_needed()
    shot(page, "parallel")


def test_a_removed_panel_stays_removed_in_another_browser(pages: Pages) -> None:
    """Panel layouts are kept on the server for the user, not only in one browser's storage."""
    page = pages.new()
    page.goto(pages.url(WORKSPACE))
    page.locator("[data-testid=panel][data-metric=score]").wait_for()
    with page.expect_response(lambda r: r.url.endswith("/workspace") and r.request.method == "PUT") as saved:
        page.get_by_role("button", name="Remove panel: score").click()
    assert saved.value.ok
    other = pages.new()  # a fresh browser context: nothing in its localStorage
    other.goto(pages.url(WORKSPACE))
    other.locator("[data-testid=panel][data-metric='train/loss']").wait_for()
    other.wait_for_load_state("networkidle")
    assert other.locator("[data-testid=panel][data-metric=score]").count() == 0
    with other.expect_response(lambda r: r.url.endswith("/workspace") and r.request.method == "PUT"):
        other.get_by_role("button", name="Reset panels").click()  # leave the layout as it was


def test_a_long_console_opens_at_its_end_and_loads_older_lines_when_scrolled_up(pages: Pages) -> None:
    body = """
    run = wakelog.init(name="chatty")
    for i in range(25000):
        print(f"line {i}")
    run.finish()
    """
    run_id = run_finished_script(pages.seeded, "chatty", body, WAKELOG_CONSOLE="wrap")
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{run_id}?tab=logs"))
    console = page.get_by_test_id("console")
    console.get_by_text("line 24999", exact=True).wait_for()
    assert console.locator(".console-line").count() < 200, "virtualised: only the lines in view"
    first_line = console.get_by_text("line 0", exact=True)
    for _ in range(20):  # each scroll to the top brings the page before (10,000 lines)
        console.locator(".console-scroll").evaluate(
            "e => { e.scrollTop = 0; e.dispatchEvent(new Event('scroll')); }"
        )
        page.wait_for_timeout(300)
        if first_line.count():
            break
    first_line.wait_for()
    assert not console.get_by_label("Follow").is_checked(), "reading back stops following the end"


def test_system_metrics_tables_and_confusion_matrices_are_shown(pages: Pages) -> None:
    body = """
    import time
    run = wakelog.init(name="rich")
    table = wakelog.Table(columns=["image_id", "score"], data=[["img-1", 0.5], ["img-2", float("nan")]])
    classes = ["cat", "dog", "fox"]
    matrix = wakelog.plot.confusion_matrix(y_true=[0, 1, 1, 2], preds=[0, 1, 2, 2], class_names=classes)
    run.log({"predictions": table, "confusion": matrix})
    time.sleep(1.5)  # a few system-metric samples
    run.finish()
    """
    stats = {"WAKELOG_DISABLE_STATS": "false", "WAKELOG_STATS_SAMPLING_INTERVAL": "0.2"}
    run_id = run_finished_script(pages.seeded, "rich", body, **stats)
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{run_id}?tab=media"))
    media = page.get_by_test_id("media")
    media.get_by_role("cell", name="img-2").wait_for()
    assert media.get_by_role("cell", name="NaN").count() == 1, "a NaN in a table is shown, not fatal"
    media.get_by_label("confusion matrix").or_(media.locator("[aria-label*=onfusion]")).first.wait_for()
    shot(page, "run-media-tables")
    page.get_by_role("tab", name="System").click()
    system_panels = page.locator("[data-testid=panel][data-metric^='system/']")
    system_panels.first.locator("canvas").wait_for()
    metrics = system_panels.evaluate_all("panels => panels.map(p => p.dataset.metric)")
    assert "system/proc_rss_mb" in metrics and "system/cpu_percent" in metrics
    shot(page, "run-system")
