"""Web app budgets (DESIGN.md §4), in headless Chromium against a seeded ``wakelog server``:

* project page, 1,000 runs × 20 metrics: interactive (run table rows and the charts in view drawn)
  ≤ 1.5 s from navigation;
* one chart of 50 runs × 100k steps (server downsampled): drawn ≤ 200 ms from the moment its data
  arrived (the ``wakelog:chart`` performance measure: merging the runs' columns, smoothing,
  uPlot's first draw); the fetch + draw time is printed beside it; the same chart again with each
  smoothing kind (chart options: debiased EMA, running average, gaussian) and outliers ignored;
* run table of 10k runs: scrolled for 3 s, frames per second ≥ 60 (reported with the slowest frames);
* a histogram-over-time panel (the panel kind; 6 runs × 500 logged steps × 64 bins, one heatmap per
  run): drawn ≤ 1.5 s from navigation, the page budget (its media reads and heatmaps included).

The database is seeded directly through ``wakelog.store.ingest.apply_batch`` (the code the ingest
endpoint runs): a few template runs are ingested and their series copied to the others with SQL,
as ``bench/server_query.py`` does. The browser is Debian's ``/usr/bin/chromium``.

Run: python bench/web.py [--quick] [--chart-only] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from _seed import copy_series_from_templates

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The browser and flags of the browser tests: one definition of how Chromium runs here.
from tests.web.conftest import CHROMIUM  # noqa: E402
from tests.web.conftest import CHROMIUM_FLAGS as FLAGS  # noqa: E402

PAGE_BUDGET_MS = 1500.0
#: The histogram panel bench: its runs (the kind's default "max runs") and each run's logged steps.
HIST_RUNS = 6
HIST_BINS = 64
CHART_BUDGET_MS = 200.0
FPS_BUDGET = 60.0

#: The chart bench again with each smoothing kind (at an amount a person would pick: the workspace's
#: URL parameters) and outliers ignored: computed once per data change, inside the measured draw.
SMOOTHING_CASES = {
    "ema 0.9": "smoothk=ema&smooth=0.9",
    "running average 20": "smoothk=average&smooth=20",
    "gaussian σ 10": "smoothk=gaussian&smooth=10",
    "gaussian σ 30 + outliers": "smoothk=gaussian&smooth=30&outliers=1",
}


def seed_project(
    db: Any, project: str, runs: int, keys: list[str], steps: int, templates: int = 4
) -> list[str]:
    """``runs`` runs in bench/<project> logging ``keys`` for ``steps`` steps (templates copied)."""
    from wakelog.store.ingest import apply_batch

    rng = np.random.default_rng(0)
    ids = [f"{project[0]}{i:05d}" for i in range(runs)]
    start = 1_700_000_000.0
    batch = 4096
    for t in range(min(templates, runs)):
        walk = np.cumsum(rng.standard_normal((steps, len(keys))), axis=0).tolist()
        run = {"id": ids[t], "name": f"{project}-{t}", "start_time": start, "group": f"g{t % 3}"}
        config = {"update": {"lr": 10.0**-t, "seed": t}}
        apply_batch(db, "bench", project, ids[t], [(0, "run", start, run), (1, "config", start, config)])
        seq = 2
        for lo in range(0, steps, batch):
            records = []
            for step in range(lo, min(lo + batch, steps)):
                row = dict(zip(keys, walk[step], strict=True))
                row.update(_step=step, _runtime=step * 0.1, _timestamp=start + step * 0.1)
                records.append((seq, "history", start + step * 0.1, row))
                seq += 1
            apply_batch(db, "bench", project, ids[t], records)
    for i in range(templates, runs):
        run = {"id": ids[i], "name": f"{project}-{i}", "start_time": start + i, "group": f"g{i % 3}"}
        config = {"update": {"lr": float(10 ** rng.uniform(-5, -1)), "seed": i}}
        apply_batch(db, "bench", project, ids[i], [(0, "run", start + i, run), (1, "config", start, config)])
    copy_series_from_templates(db, ids, templates, f"{project[0]}%")
    return ids


def seed_histograms(db: Any, steps: int) -> None:
    """bench/hist: ``HIST_RUNS`` runs logging ``grads/w`` (a ``wandb.Histogram`` of ``HIST_BINS``
    bins, its mean drifting) at ``steps`` steps, as the SDK stores one (a history object)."""
    from wakelog.store.ingest import apply_batch

    rng = np.random.default_rng(1)
    start = 1_700_000_000.0
    edges = np.linspace(-4, 4, HIST_BINS + 1)
    for r in range(HIST_RUNS):
        run_id = f"h{r:05d}"
        apply_batch(db, "bench", "hist", run_id, [(0, "run", start, {"id": run_id, "name": f"hist-{r}"})])
        records = []
        for step in range(steps):
            counts, _ = np.histogram(rng.normal(step / steps + r * 0.1, 1, 2000), bins=edges)
            stub = {"_type": "histogram", "values": counts.tolist(), "bins": edges.tolist()}
            records.append((step + 1, "history", start + step, {"_step": step, "grads/w": stub}))
        for lo in range(0, steps, 256):
            apply_batch(db, "bench", "hist", run_id, records[lo : lo + 256])


def histogram_panel(browser: Any, base: str, password: str, repeat: int) -> list[float]:
    """Milliseconds from navigation until the workspace's histogram panel drew a heatmap per run."""
    context = browser.new_context()
    context.request.post(f"{base}/api/v1/auth/login", data={"username": "admin", "password": password})
    csrf = context.request.get(f"{base}/api/v1/auth/me").json()["csrf_token"]
    panel = {"id": "p-hist", "kind": "histogram", "title": "", "config": {"key": "grads/w"}}
    layout = f"{base}/api/v1/projects/bench/hist/workspace"
    answer = context.request.put(layout, data={"panels": [panel]}, headers={"X-CSRF-Token": csrf})
    assert answer.ok, answer.text()
    context.close()
    ready = f"""() => [...document.querySelectorAll('[data-testid=histogram-runs] > li')]
        .filter(li => li.querySelector('canvas')).length >= {HIST_RUNS}"""
    return page_load(browser, base, password, "/bench/hist?view=charts", ready, repeat)


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "wakelog", "server", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def page_load(browser: Any, base: str, password: str, path: str, ready: str, repeat: int) -> list[float]:
    """Milliseconds from navigation start until ``ready`` (a JS function) is true, ``repeat`` times."""
    times = []
    for _ in range(repeat + 1):  # the first load warms the server's caches and the HTTP cache
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.request.post(f"{base}/api/v1/auth/login", data={"username": "admin", "password": password})
        page = context.new_page()
        page.goto(base + path, wait_until="commit")
        page.wait_for_function(ready, polling="raf", timeout=60_000)
        times.append(page.evaluate("() => performance.now()"))
        context.close()
    return times[1:]


def chart_draw(
    browser: Any, base: str, password: str, path: str, repeat: int
) -> tuple[list[float], list[float], dict]:
    draws, totals, detail = [], [], {}
    for _ in range(repeat + 1):
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.request.post(f"{base}/api/v1/auth/login", data={"username": "admin", "password": password})
        page = context.new_page()
        page.goto(base + path, wait_until="commit")
        page.wait_for_function(
            "() => performance.getEntriesByName('wakelog:chart').length > 0", polling="raf", timeout=60_000
        )
        entry = page.evaluate(
            "() => { const e = performance.getEntriesByName('wakelog:chart')[0];"
            " const h = performance.getEntriesByType('resource').filter(r => r.name.includes('/history'))[0];"
            " return {draw: e.duration, end: e.startTime + e.duration, detail: e.detail,"
            " fetch_start: h ? h.startTime : null}; }"
        )
        draws.append(entry["draw"])
        totals.append(entry["end"] - (entry["fetch_start"] or 0))
        detail = entry["detail"]
        context.close()
    return draws[1:], totals[1:], detail


def scroll_fps(browser: Any, base: str, password: str, path: str, seconds: float) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.request.post(f"{base}/api/v1/auth/login", data={"username": "admin", "password": password})
    page = context.new_page()
    page.goto(base + path)
    page.wait_for_function("() => document.querySelectorAll('[data-run]').length > 10", timeout=60_000)
    page.wait_for_timeout(500)
    # The floor: frames per second of an idle page in this browser (headless, software compositing).
    idle = page.evaluate(
        """(seconds) => new Promise(resolve => {
            let n = 0; const t0 = performance.now();
            function step(now) { n++; if (now - t0 < seconds * 1000) requestAnimationFrame(step);
                                 else resolve(n / ((now - t0) / 1000)); }
            requestAnimationFrame(step);
        })""",
        1.0,
    )
    result = page.evaluate(
        """(seconds) => new Promise(resolve => {
            const el = document.querySelector('.rt-scroll');
            const frames = [];
            let last = performance.now();
            const t0 = last;
            function step(now) {
                frames.push(now - last);
                last = now;
                el.scrollTop += 120;  // 4 rows a frame: new rows every frame, pages loading as it goes
                if (now - t0 < seconds * 1000) requestAnimationFrame(step);
                else resolve({frames, elapsed: now - t0, top: el.scrollTop,
                              rows: document.querySelectorAll('[data-run]').length});
            }
            requestAnimationFrame(step);
        })""",
        seconds,
    )
    context.close()
    frames = sorted(result["frames"][1:])
    return {
        "fps": len(frames) / (result["elapsed"] / 1000),
        "p95_frame_ms": frames[int(len(frames) * 0.95)],
        "max_frame_ms": frames[-1],
        "scrolled_px": result["top"],
        "idle_fps": idle,
    }


def verdict(value: float, budget: float, higher_is_better: bool = False) -> str:
    ok = value >= budget if higher_is_better else value <= budget
    return "PASS" if ok else "MISS"


class Sizes(NamedTuple):
    runs: int
    metrics: int
    metric_steps: int
    chart_runs: int
    chart_steps: int
    table_runs: int
    hist_steps: int


FULL = Sizes(
    runs=1000, metrics=20, metric_steps=1000, chart_runs=50, chart_steps=100_000, table_runs=10_000,
    hist_steps=500,
)  # fmt: skip
QUICK = Sizes(
    runs=200, metrics=20, metric_steps=200, chart_runs=20, chart_steps=10_000, table_runs=1000,
    hist_steps=100,
)  # fmt: skip


def seed(data_dir: Path, sizes: Sizes, chart_only: bool = False) -> tuple[str, list[str]]:
    """A prepared server data folder with the three projects; the admin password and the chart's run ids."""
    from server_query import seed_table
    from wakelog.server.config import ServerConfig
    from wakelog.server.serve import prepare
    from wakelog.store.database import Database

    config = ServerConfig(data_dir=data_dir)
    prepare(config)
    password = re.search(r"password: (\S+)", (data_dir / "admin-credentials.txt").read_text()).group(1)  # type: ignore[union-attr]
    db = Database(config.database_url)
    t0 = time.perf_counter()
    keys = [f"{section}/m{i:02d}" for section in ("train", "eval") for i in range(sizes.metrics // 2)]
    if not chart_only:
        seed_project(db, "page", sizes.runs, keys, sizes.metric_steps)
    chart_ids = seed_project(db, "chart", sizes.chart_runs, ["loss"], sizes.chart_steps)
    if not chart_only:
        seed_table(db, sizes.table_runs)
        seed_histograms(db, sizes.hist_steps)
    db.dispose()
    print(f"seeded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return password, chart_ids


def measure(
    data_dir: Path, password: str, chart_ids: list[str], repeat: int, chart_only: bool = False
) -> dict[str, Any]:
    """Page load, chart draw and table scroll timings, in Chromium against a server on ``data_dir``."""
    from playwright.sync_api import sync_playwright

    from tests.server.conftest import free_port

    port = free_port()
    server = start_server(data_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            ready = """() => document.querySelectorAll('[data-run]').length >= 20
                && [...document.querySelectorAll('[data-testid=panel]')]
                    .filter(p => { const r = p.getBoundingClientRect();
                                   return r.top < innerHeight && r.bottom > 0; })
                    .every(p => p.querySelector('[data-points]'))"""
            page_times = (
                [] if chart_only else page_load(browser, base, password, "/bench/page", ready, repeat)
            )
            sel = ",".join(chart_ids)
            chart_path = f"/bench/chart?view=charts&sel={sel}"
            draws, totals, detail = chart_draw(browser, base, password, chart_path, repeat)
            smoothed = {
                name: chart_draw(browser, base, password, f"{chart_path}&{query}", repeat)[0]
                for name, query in SMOOTHING_CASES.items()
            }
            fps = None if chart_only else scroll_fps(browser, base, password, "/bench/table?view=table", 3.0)
            hist = [] if chart_only else histogram_panel(browser, base, password, repeat)
            browser.close()
    finally:
        server.terminate()
        server.wait(20)
    return {
        "page_ms": page_times,
        "chart_draw_ms": draws,
        "chart_total_ms": totals,
        "chart_detail": detail,
        "chart_smoothed_ms": smoothed,
        "scroll": fps,
        "histogram_panel_ms": hist,
    }


def verdict_lines(sizes: Sizes, measured: dict[str, Any]) -> list[str]:
    page_times, detail, fps = measured["page_ms"], measured["chart_detail"], measured["scroll"]
    draw_ms = statistics.median(measured["chart_draw_ms"])
    total_ms = statistics.median(measured["chart_total_ms"])
    chart_line = (
        f"chart of {sizes.chart_runs} runs × {sizes.chart_steps:,} steps "
        f"({detail.get('points', '?')} x values, {detail.get('columns', '?')} columns): "
        f"drawn in {draw_ms:.0f} ms median after its data arrived "
        f"({total_ms:.0f} ms with the fetch) — budget ≤ {CHART_BUDGET_MS:.0f} ms: "
        f"{draw_ms / CHART_BUDGET_MS:.2f}×"
    )
    lines = [f"{verdict(draw_ms, CHART_BUDGET_MS)}  {chart_line}"]
    for name, times in measured["chart_smoothed_ms"].items():
        ms = statistics.median(times)
        lines.append(
            f"{verdict(ms, CHART_BUDGET_MS)}  the same chart, {name}: drawn in {ms:.0f} ms median "
            f"(max {max(times):.0f}) — budget ≤ {CHART_BUDGET_MS:.0f} ms: {ms / CHART_BUDGET_MS:.2f}×"
        )
    if page_times:
        page_ms = statistics.median(page_times)
        page_line = (
            f"project page, {sizes.runs:,} runs × {sizes.metrics} metrics: "
            f"interactive in {page_ms:.0f} ms median "
            f"(min {min(page_times):.0f}, max {max(page_times):.0f}) — budget ≤ {PAGE_BUDGET_MS:.0f} ms: "
            f"{page_ms / PAGE_BUDGET_MS:.2f}×"
        )
        lines.insert(0, f"{verdict(page_ms, PAGE_BUDGET_MS)}  {page_line}")
    if fps is not None:
        scroll_line = (
            f"run table, {sizes.table_runs:,} runs scrolled for 3 s: {fps['fps']:.1f} frames/s "
            f"(p95 frame {fps['p95_frame_ms']:.1f} ms, slowest {fps['max_frame_ms']:.1f} ms; an idle page: "
            f"{fps['idle_fps']:.1f}) — budget 60 fps"
        )
        lines.append(f"{verdict(fps['fps'], FPS_BUDGET * 0.95, higher_is_better=True)}  {scroll_line}")
    hist = measured.get("histogram_panel_ms") or []
    if hist:
        ms = statistics.median(hist)
        lines.append(
            f"{verdict(ms, PAGE_BUDGET_MS)}  histogram panel, {HIST_RUNS} runs × {sizes.hist_steps} steps × "
            f"{HIST_BINS} bins: drawn in {ms:.0f} ms median from navigation (max {max(hist):.0f}) — "
            f"budget ≤ {PAGE_BUDGET_MS:.0f} ms: {ms / PAGE_BUDGET_MS:.2f}×"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data (the ratios then mean little)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--chart-only", action="store_true", help="only the chart budget (and its smoothing cases)"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL

    results: dict[str, Any] = {"mode": "quick" if args.quick else "full"}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        password, chart_ids = seed(data_dir, sizes, chart_only=args.chart_only)
        measured = measure(data_dir, password, chart_ids, args.repeat, chart_only=args.chart_only)
    lines = verdict_lines(sizes, measured)
    print("\n".join(lines))
    results.update(measured, lines=lines)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
