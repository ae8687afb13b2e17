"""A page left open on a live run holds a bounded amount: the console keeps at most its cap of
lines however much the run prints, and live refreshes redraw the charts without adding any.

Structural bounds only (line counts, charts, performance entries): the heap's size over an hour is
measured by ``bench/web_memory.py``."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.web.conftest import ENTITY, PROJECT, Pages, sdk_env, sdk_script

#: ``MAX_HELD_LINES`` in web/src/lib/useConsoleLines.ts.
MAX_HELD_LINES = 10_000
FIRST_LINES = 50
BURSTS = 8
LINES_PER_BURST = 2_000
LAST_LINE = FIRST_LINES + BURSTS * LINES_PER_BURST - 1


@dataclass
class LiveRun:
    id: str
    control: Path

    def go(self) -> None:
        (self.control / "go").write_text("go")


@pytest.fixture
def live_run(pages: Pages, tmp_path: Path) -> Iterator[LiveRun]:
    """A run that prints ``FIRST_LINES`` lines, then, once told to go, ``BURSTS`` bursts of lines
    (one step each) a little apart, so the page gets several live refreshes; it finishes when the
    test is over."""
    control = tmp_path
    body = f"""
    import os, time
    run = wakelog.init(name="printing")
    print("\\n".join(f"line {{i}}" for i in range({FIRST_LINES})))
    run.log({{"score": 0, "train/loss": 1.0}})
    open({str(control / "run_id.part")!r}, "w").write(run.id)
    os.replace({str(control / "run_id.part")!r}, {str(control / "run_id")!r})
    while not os.path.exists({str(control / "go")!r}):
        time.sleep(0.05)
    for burst in range({BURSTS}):
        first = {FIRST_LINES} + burst * {LINES_PER_BURST}
        print("\\n".join(f"line {{i}}" for i in range(first, first + {LINES_PER_BURST})))
        run.log({{"score": burst + 1, "train/loss": 1.0 / (burst + 2)}})
        time.sleep(0.7)
    while not os.path.exists({str(control / "stop")!r}):
        time.sleep(0.05)
    run.finish()
    """
    proc = subprocess.Popen(
        [sys.executable, str(sdk_script(control, "printing", body))],
        cwd=control,
        env=sdk_env(pages.seeded.server, WAKELOG_CONSOLE="wrap"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not (control / "run_id").exists():
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.05)
        run_id = (control / "run_id").read_text()
        wait_for_lines(pages, run_id, FIRST_LINES)
        yield LiveRun(run_id, control)
    finally:
        (control / "stop").write_text("stop")
        (control / "go").write_text("go")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


def wait_for_lines(pages: Pages, run_id: str, count: int) -> None:
    """Until the server has the run's first ``count`` console lines (the page opens on them)."""
    with pages.seeded.server.client() as http:
        for _ in range(600):
            answer = http.get(f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}/console", params={"tail": 1})
            if answer.status_code == 200 and answer.json()["total"] >= count:
                return
            time.sleep(0.1)
    pytest.fail(f"the server never had the {count} first lines of run {run_id}")


def run_page(pages: Pages, run: LiveRun, tab: str):
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{run.id}?tab={tab}"))
    return page


def held_lines(page) -> int:
    return int(
        page.get_by_test_id("console").locator(".console-scroll").get_attribute("data-held-lines") or 0
    )


def test_a_followed_console_holds_at_most_its_cap_of_lines(pages: Pages, live_run: LiveRun) -> None:
    page = run_page(pages, live_run, "logs")
    console = page.get_by_test_id("console")
    console.get_by_text(f"line {FIRST_LINES - 1}", exact=True).wait_for()
    # The most lines the console ever held, whatever happens between two looks.
    console.locator(".console-scroll").evaluate(
        """e => { window.mostHeld = Number(e.dataset.heldLines);
                  new MutationObserver(() => { window.mostHeld = Math.max(window.mostHeld,
                      Number(e.dataset.heldLines)); }).observe(e, {attributes: true}); }"""
    )
    live_run.go()
    console.get_by_text(f"line {LAST_LINE}", exact=True).wait_for(timeout=60_000)
    assert LAST_LINE + 1 > MAX_HELD_LINES, "the run printed more lines than the console holds"
    assert held_lines(page) == MAX_HELD_LINES
    assert page.evaluate("window.mostHeld") <= MAX_HELD_LINES
    assert console.get_by_label("Follow").is_checked()

    # Read back to the first line, then down to the last again: the lines let go come back.
    scroller = console.locator(".console-scroll")
    for text, script in [
        ("line 0", "e => { e.scrollTop = 0; e.dispatchEvent(new Event('scroll')); }"),
        (f"line {LAST_LINE}", "e => { e.scrollTop = e.scrollHeight; e.dispatchEvent(new Event('scroll')); }"),
    ]:
        target = console.get_by_text(text, exact=True)
        for _ in range(20):
            scroller.evaluate(script)
            page.wait_for_timeout(300)
            if target.count():
                break
        target.wait_for()
    assert page.evaluate("window.mostHeld") <= MAX_HELD_LINES
    assert not console.get_by_label("Follow").is_checked(), "reading back stops following the end"


def test_live_refreshes_redraw_the_charts_without_adding_any(pages: Pages, live_run: LiveRun) -> None:
    page = run_page(pages, live_run, "charts")
    chart = page.locator("[data-testid=panel][data-metric=score] [data-points]")
    chart.wait_for()
    count = """() => ({panels: document.querySelectorAll('[data-testid=panel]').length,
                      charts: document.querySelectorAll('.uplot').length,
                      canvases: document.querySelectorAll('canvas').length,
                      measures: performance.getEntriesByName('wakelog:chart').length})"""
    page.wait_for_function("() => document.querySelectorAll('[data-testid=panel] .uplot').length === 2")
    before = page.evaluate(count)
    live_run.go()
    page.wait_for_function(
        "(n) => Number(document.querySelector('[data-metric=score] [data-points]').dataset.points) === n",
        arg=BURSTS + 1,
        timeout=60_000,
    )
    after = page.evaluate(count)
    assert after == before
    assert after["measures"] <= after["charts"], "one draw measured per chart, not one per refresh"
