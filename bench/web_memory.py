"""Web app budget "memory bounded when a run streams for an hour", in headless Chromium.

A person starts a training and keeps its pages open: the workspace with the run selected (run
table and charts live), the run page's charts, and its console following the output. This bench
makes that hour happen in a few minutes: a real ``wakelog server``, a real SDK run streaming
online (``bench/_streaming_run.py``) at ``--rate`` steps per second for ``--duration`` seconds.
By default 200 steps/s for 180 s: 36,000 steps × 10 metrics, one console line per step and
system metrics every 10 simulated seconds, which is an hour of a typical training (10 steps/s,
``TYPICAL_STEPS_PER_S``). ``--rate 10 --duration 3600`` is a real hour.

Every ``--sample`` seconds each page's JS heap is measured after a forced garbage collection
(CDP ``HeapProfiler.collectGarbage``, then ``Performance.getMetrics``: ``JSHeapUsedSize``, with
``Nodes`` and ``JSEventListeners``), with Blink's heap beside it (``Runtime.getHeapUsage``:
DOM objects, performance entries…; it also holds Playwright's record of every request, about
350 bytes each, which a browser without DevTools attached does not keep), and the private memory
of the browser's renderer processes.

Bounded, per page: over the second half of the stream the heap grows by at most 10 % of the warm
heap (the first sample after 10 % of the stream), and by at most ``HOURLY_GROWTH_BUDGET_MB`` per
simulated hour. The growth is the slope of a Theil–Sen line (the median of the slopes between
every two samples: a sample taken while a response is still held does not tilt it) through the
samples of the second half. The floor is the heap of the same page opened fresh on the finished
run (the same data), measured the same way; the heap at the end is printed as a multiple of it.
With less than an hour of steps (``--quick``: 30 s) the figures are printed, not judged: the
console has not filled its window and the JIT is still compiling.

The pages refresh once a second whatever the rate (the live stream's batches), so the default run
has 180 refreshes where a real hour has 3,600: a leak per refresh shows 20 times smaller than in
a real hour. ``tests/web/test_live_memory.py`` checks that refreshes add no charts and no
performance entries; a real hour (above) measures both at once.

Run: python bench/web_memory.py [--quick] [--duration S] [--rate STEPS_PER_S] [--lines N] [--json PATH]
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _bare_chromium import BareChromium, renderer_memory
from _common import Report, parser, table

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
ENTITY, PROJECT = "bench", "stream"
#: A typical training logs 10 steps a second: 36,000 steps are an hour of it.
TYPICAL_STEPS_PER_S = 10.0
STEPS_PER_HOUR = TYPICAL_STEPS_PER_S * 3600
#: A typical training's system-metrics interval (the SDK's default), in its own seconds.
STATS_INTERVAL_S = 10.0
WARM_FRACTION = 0.1
SECOND_HALF_GROWTH_BUDGET = 0.10
HOURLY_GROWTH_BUDGET_MB = 1.0
MB = 1024 * 1024

CHART_DRAWN = "() => document.querySelector('[data-testid=panel] [data-points]') !== null"
CONSOLE_SHOWN = "() => document.querySelector('[data-testid=console] .console-line') !== null"
LINE_SHOWN = (
    "(text) => [...document.querySelectorAll('.console-line')].some(e => e.textContent.includes(text))"
)


@dataclass
class View:
    name: str
    path: str
    #: A JS function, true once the page shows the run.
    ready: str


@dataclass
class Sample:
    wall_s: float
    step: int
    heap: float
    #: Blink's own heap (DOM, performance entries…: ``embedderHeapUsedSize``), not in ``heap``.
    blink: float
    nodes: float
    listeners: float


@dataclass
class Watched:
    """An open page and its measurements."""

    view: View
    page: Any
    cdp: Any
    samples: list[Sample] = field(default_factory=list)


def views(run_id: str) -> list[View]:
    run = f"/{ENTITY}/{PROJECT}/runs/{run_id}"
    return [
        View("workspace", f"/{ENTITY}/{PROJECT}?sel={run_id}", CHART_DRAWN),
        View("run charts", f"{run}?tab=charts", CHART_DRAWN),
        View("run console", f"{run}?tab=logs", CONSOLE_SHOWN),
    ]


def open_page(browser: Any, base: str, password: str, view: View) -> Watched:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    login = {"username": "admin", "password": password}
    answer = context.request.post(f"{base}/api/v1/auth/login", data=login)
    assert answer.ok, answer.text()
    page = context.new_page()
    page.goto(base + view.path)
    page.wait_for_function(view.ready, timeout=60_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    return Watched(view, page, cdp)


def measure(watched: Watched, wall_s: float, step: int) -> Sample:
    watched.cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in watched.cdp.send("Performance.getMetrics")["metrics"]}
    blink = watched.cdp.send("Runtime.getHeapUsage")["embedderHeapUsedSize"]
    sample = Sample(
        wall_s, step, metrics["JSHeapUsedSize"], blink, metrics["Nodes"], metrics["JSEventListeners"]
    )
    watched.samples.append(sample)
    return sample


def theil_sen_slope(xs: list[float], ys: list[float]) -> float:
    """The median of the slopes between every two points (robust to a few outliers)."""
    slopes = [
        (ys[j] - ys[i]) / (xs[j] - xs[i])
        for i, j in itertools.combinations(range(len(xs)), 2)
        if xs[j] != xs[i]
    ]
    return statistics.median(slopes) if slopes else float("nan")


def growth_per_hour(samples: list[Sample], from_step: float, heap: Callable[[Sample], float]) -> float:
    """Bytes per simulated hour of ``heap`` over the samples from ``from_step`` on."""
    tail = [s for s in samples if s.step >= from_step]
    return theil_sen_slope([s.step for s in tail], [heap(s) for s in tail]) * STEPS_PER_HOUR


# -- the run -----------------------------------------------------------------------------------
class StreamingRun:
    """``bench/_streaming_run.py`` in a child process, steered through files in a folder."""

    def __init__(self, tmp: Path, base: str, key: str, args: Any, steps: int) -> None:
        self.control = tmp / "control"
        self.control.mkdir()
        workdir = tmp / "run"
        workdir.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WAKELOG_", "WANDB_"))}
        env.update(
            WAKELOG_MODE="online",
            WAKELOG_BASE_URL=base,
            WAKELOG_API_KEY=key,
            WAKELOG_ENTITY=ENTITY,
            WAKELOG_PROJECT=PROJECT,
            WAKELOG_SILENT="true",
            WAKELOG_STATS_SAMPLING_INTERVAL=str(STATS_INTERVAL_S * TYPICAL_STEPS_PER_S / args.rate),
        )
        command = [sys.executable, str(BENCH / "_streaming_run.py"), "--control", str(self.control)]
        command += ["--steps", str(steps), "--rate", str(args.rate)]
        command += ["--metrics", str(args.metrics), "--lines", str(args.lines)]
        self.proc = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def wait_for(self, name: str, timeout: float) -> str:
        path = self.control / name
        deadline = time.monotonic() + timeout
        while not path.exists():
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
                raise RuntimeError(f"the streaming run ended early: {err}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {name} from the streaming run after {timeout:.0f} s")
            time.sleep(0.05)
        return path.read_text()

    def signal(self, name: str) -> None:
        (self.control / name).write_text(name)

    def streamed(self) -> bool:
        return (self.control / "done").exists()

    def finish(self) -> None:
        self.signal("stop")
        _, err = self.proc.communicate(timeout=300)
        if self.proc.returncode != 0:
            raise RuntimeError(f"the streaming run failed: {err.decode()[-2000:]}")


class Server:
    """The run as the server has it (API-key requests)."""

    def __init__(self, http: Any, run_id: str) -> None:
        self.http, self.path = http, f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}"

    def run(self) -> dict[str, Any] | None:
        answer = self.http.get(self.path)
        return answer.json() if answer.status_code == 200 else None

    def last_step(self) -> int:
        run = self.run()
        return run["last_step"] if run else -1

    def console_lines(self) -> int:
        answer = self.http.get(f"{self.path}/console", params={"tail": 1})
        return answer.json()["total"] if answer.status_code == 200 else 0


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(0.2)


# -- the measurement ---------------------------------------------------------------------------
@dataclass
class Measured:
    pages: list[Watched]
    #: (seconds since the stream started, renderer processes' private bytes), Playwright's browser
    renderers: list[tuple[float, float]]
    #: (seconds since the stream started, step, renderer processes' private bytes), the bare browser
    bare: list[tuple[float, int, float]]
    streamed_s: float
    #: page name -> heap of the same page opened on the finished run
    floors: dict[str, float]


def open_bare_pages(base: str, password: str, run_id: str, profile: Path) -> BareChromium:
    """The same pages in a browser no test driver watches, signed in with a session cookie."""
    import httpx

    from web import CHROMIUM, FLAGS

    login = httpx.post(f"{base}/api/v1/auth/login", json={"username": "admin", "password": password})
    login.raise_for_status()
    bare = BareChromium(CHROMIUM, FLAGS, profile)
    cookies = [
        {"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": "/", "httpOnly": True}
        for c in login.cookies.jar
    ]
    bare.send("Storage.setCookies", cookies=cookies)
    for view in views(run_id):
        bare.open_window(base + view.path)
    return bare


def measure_stream(
    browser: Any,
    base: str,
    password: str,
    server: Server,
    run: StreamingRun,
    run_id: str,
    args: Any,
    steps: int,
    profile: Path,
) -> Measured:
    """Open the pages (in Playwright's browser and in a bare one), let the run stream and sample
    them; then measure the floors."""
    wait_until(
        lambda: server.last_step() == 0 and server.console_lines() > 0, 120, "the first step on the server"
    )
    browser_cdp = browser.new_browser_cdp_session()

    def playwright_renderers() -> float:
        return renderer_memory(browser_cdp.send("SystemInfo.getProcessInfo")["processInfo"])

    pages = [open_page(browser, base, password, view) for view in views(run_id)]
    renderers: list[tuple[float, float]] = []
    bare = open_bare_pages(base, password, run_id, profile)
    bare_samples: list[tuple[float, int, float]] = []
    run.signal("go")
    started = time.monotonic()
    tick = 0
    while not run.streamed():
        wall, step = time.monotonic() - started, server.last_step()
        for watched in pages:
            measure(watched, wall, step)
        renderers.append((wall, playwright_renderers()))
        bare_samples.append((wall, step, bare.renderer_memory()))
        tick += 1
        while not run.streamed() and time.monotonic() < started + tick * args.sample:
            time.sleep(0.05)
    streamed_s = float(run.wait_for("done", timeout=60))

    # The end: every step and line on the server, and the pages' refresh after them.
    wait_until(lambda: server.last_step() == steps - 1, 120, "every step on the server")
    wait_until(lambda: server.console_lines() == steps * args.lines, 120, "every line on the server")
    console = next(w.page for w in pages if w.view.name == "run console")
    console.wait_for_function(LINE_SHOWN, arg=f"step {steps - 1:>6} [{args.lines - 1}]", timeout=60_000)
    time.sleep(3)  # a live batch (1 s) and the refetches it starts
    for watched in pages:
        measure(watched, time.monotonic() - started, steps - 1)
    renderers.append((time.monotonic() - started, playwright_renderers()))
    bare_samples.append((time.monotonic() - started, steps - 1, bare.renderer_memory()))
    bare.close()
    for watched in pages:
        watched.page.context.close()

    run.finish()
    wait_until(lambda: (server.run() or {}).get("state") != "running", 120, "the run finished")
    floors = {}
    for view in views(run_id):
        fresh = open_page(browser, base, password, view)
        fresh.page.wait_for_timeout(3000)
        floors[view.name] = measure(fresh, 0, steps - 1).heap
        fresh.page.context.close()
    return Measured(pages, renderers, bare_samples, streamed_s, floors)


def summarize(watched: Watched, floor: float, steps: int) -> dict[str, Any]:
    samples = watched.samples
    warm = next(s for s in samples if s.step >= WARM_FRACTION * steps)
    growth = growth_per_hour(samples, steps / 2, lambda s: s.heap)
    second_half = growth * (steps / 2) / STEPS_PER_HOUR
    budget = min(
        SECOND_HALF_GROWTH_BUDGET * warm.heap / (steps / 2) * STEPS_PER_HOUR, HOURLY_GROWTH_BUDGET_MB * MB
    )
    return {
        "page": watched.view.name,
        "warm_heap": warm.heap,
        "end_heap": samples[-1].heap,
        "peak_heap": max(s.heap for s in samples),
        "floor_heap": floor,
        "growth_per_hour": growth,
        "growth_second_half": second_half,
        "growth_budget_per_hour": budget,
        "blink_heap": [warm.blink, samples[-1].blink],
        "blink_growth_per_hour": growth_per_hour(samples, steps / 2, lambda s: s.blink),
        "nodes": [samples[0].nodes, samples[-1].nodes],
        "listeners": [samples[0].listeners, samples[-1].listeners],
        "samples": [asdict(s) for s in samples],
    }


def summarize_bare(samples: list[tuple[float, int, float]], steps: int) -> dict[str, Any]:
    """The bare browser's renderer memory: warm, end, peak, the band of the second half and its drift."""
    warm = next(b for _, step, b in samples if step >= WARM_FRACTION * steps)
    tail = [(step, b) for _, step, b in samples if step >= steps / 2]
    growth = theil_sen_slope([s for s, _ in tail], [b for _, b in tail]) * STEPS_PER_HOUR
    return {
        "warm": warm,
        "end": samples[-1][2],
        "peak": max(b for _, _, b in samples),
        "second_half_band": [min(b for _, b in tail), max(b for _, b in tail)],
        "growth_per_hour": growth,
        "growth_second_half": growth * (steps / 2) / STEPS_PER_HOUR,
    }


def report_bare(report: Report, row: dict[str, Any]) -> None:
    """Printed, not judged: most of a renderer's memory is the browser's own (V8 code space, Skia and
    font caches, allocator pools), grown to sizes Chromium picks; what the app holds is the JS and
    Blink heaps, judged above. This is what a person would see in a task manager."""
    low, high = row["second_half_band"]
    report.note(
        f"renderer memory of the three pages in a browser no test driver watches (not judged): warm "
        f"{row['warm'] / MB:.0f} MB, {low / MB:.0f}–{high / MB:.0f} MB over the second half (drift "
        f"{row['growth_second_half'] / MB:+.0f} MB by a Theil–Sen fit), peak {row['peak'] / MB:.0f} MB, "
        f"end {row['end'] / MB:.0f} MB"
    )


def report_page(report: Report, row: dict[str, Any], judged: bool) -> None:
    growth, budget = row["growth_per_hour"], row["growth_budget_per_hour"]
    floor, end, half = row["floor_heap"], row["end_heap"], row["growth_second_half"]
    line = (
        f"{row['page']}: heap {growth / MB:+.2f} MB per simulated hour ({half / MB:+.2f} MB over the "
        f"second half) — budget ≤ {budget / MB:.2f} MB/h: {growth / budget:.2f}×; heap warm "
        f"{row['warm_heap'] / MB:.1f} MB, end {end / MB:.1f} MB = {end / floor:.2f}× floor (the page "
        f"opened on the finished run, {floor / MB:.1f} MB), peak {row['peak_heap'] / MB:.1f} MB"
    )
    if not judged:
        report.note(f"(not judged)  {line}")
        return
    report.budget(
        f"heap growth, {row['page']}",
        growth / MB,
        budget / MB,
        "MB/h",
        line,
        shown=f"{growth / MB:+.2f} MB/h (end {end / MB:.1f} MB)",
        limit=f"≤ {budget / MB:.2f} MB/h",
        floors={"floor-finished-page": f"end {end / floor:.2f}× ({floor / MB:.1f} MB)"},
    )


def page_table(rows: list[dict[str, Any]]) -> str:
    def mb(value: float) -> str:
        return f"{value / MB:.2f} MB"

    return table(
        [
            "page",
            "heap warm",
            "end",
            "peak",
            "floor",
            "end ÷ floor",
            "growth / sim. hour",
            "Blink heap warm → end",
            "its growth / sim. hour",
            "DOM nodes",
            "listeners",
        ],
        [
            [
                r["page"],
                mb(r["warm_heap"]),
                mb(r["end_heap"]),
                mb(r["peak_heap"]),
                mb(r["floor_heap"]),
                f"{r['end_heap'] / r['floor_heap']:.2f}×",
                f"{r['growth_per_hour'] / MB:+.2f} MB",
                f"{mb(r['blink_heap'][0])} → {mb(r['blink_heap'][1])}",
                f"{r['blink_growth_per_hour'] / MB:+.2f} MB",
                f"{r['nodes'][0]:,.0f} → {r['nodes'][1]:,.0f}",
                f"{r['listeners'][0]:,.0f} → {r['listeners'][1]:,.0f}",
            ]
            for r in rows
        ],
    )


def missing_requirements() -> str | None:
    """Why this interpreter cannot run the bench (the peers' venv has no server or browser driver)."""
    modules = ["playwright", "fastapi", "sqlalchemy", "numpy", "httpx"]
    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    if absent:
        return f"{', '.join(absent)} not importable in {sys.executable} (run it with the project's venv)"
    from web import CHROMIUM

    return None if Path(CHROMIUM).exists() else f"no Chromium at {CHROMIUM}"


def run_and_measure(args: Any, steps: int) -> Measured:
    """A server, the streaming run and the browser, in a temporary folder."""
    import httpx
    from playwright.sync_api import sync_playwright

    from tests.server.conftest import free_port
    from wakelog.server.config import ServerConfig
    from wakelog.server.serve import prepare
    from web import CHROMIUM, FLAGS, start_server

    with tempfile.TemporaryDirectory(prefix="wakelog-web-memory-") as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "data"
        prepare(ServerConfig(data_dir=data_dir))
        credentials = (data_dir / "admin-credentials.txt").read_text()
        password = re.search(r"password: (\S+)", credentials).group(1)  # type: ignore[union-attr]
        key = (data_dir / "admin.key").read_text().strip()
        port = free_port()
        server_proc = start_server(data_dir, port)
        base = f"http://127.0.0.1:{port}"
        run = StreamingRun(tmp, base, key, args, steps)
        try:
            with (
                sync_playwright() as playwright,
                httpx.Client(base_url=base, auth=("api", key), timeout=30) as http,
            ):
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                run_id = run.wait_for("run_id", timeout=120)
                server = Server(http, run_id)
                measured = measure_stream(
                    browser, base, password, server, run, run_id, args, steps, tmp / "bare-profile"
                )
                browser.close()
        finally:
            if run.proc.poll() is None:
                run.proc.kill()
            server_proc.terminate()
            server_proc.wait(20)
    return measured


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, help="seconds of streaming (default 180; --quick: 30)")
    p.add_argument("--rate", type=float, default=200.0, help="steps per second (default 200)")
    p.add_argument("--metrics", type=int, default=10, help="scalars per step (default 10)")
    p.add_argument("--lines", type=int, default=1, help="console lines per step (default 1)")
    p.add_argument("--sample", type=float, help="seconds between samples (default: duration / 36, ≥ 2)")
    args = p.parse_args()
    args.no_peers = True  # no peer's web app is measured here
    duration = args.duration or (30.0 if args.quick else 180.0)
    args.sample = args.sample or max(2.0, duration / 36)
    steps = int(duration * args.rate)

    report = Report("web_memory", args)
    hours = steps / STEPS_PER_HOUR
    report.header(
        f"pages open on a live run: {steps:,} steps × {args.metrics} metrics and {args.lines} console "
        f"line(s) a step in {duration:.0f} s = {hours:.2f} h of a {TYPICAL_STEPS_PER_S:.0f} steps/s "
        f"training; heap sampled every {args.sample:.0f} s"
    )
    missing = missing_requirements()
    if missing:
        report.note(f"skipped: {missing}")
        report.finish()
        return
    measured = run_and_measure(args, steps)
    rows = [summarize(w, measured.floors[w.view.name], steps) for w in measured.pages]
    # Less than an hour: the console has not filled its window, the JIT is still warming up.
    judged = steps >= STEPS_PER_HOUR
    for row in rows:
        report_page(report, row, judged)
    bare = summarize_bare(measured.bare, steps)
    report_bare(report, bare)
    if not judged:
        report.note(f"{hours:.2f} simulated hour(s) < 1: the budgets are judged on an hour (the default run)")
    renderers = [r for _, r in measured.renderers]
    print()
    print(page_table(rows))
    print(
        f"\nrenderer processes' private memory (RssAnon, all pages) in Playwright's browser, which records "
        f"every request: {renderers[0] / MB:.0f} MB at the start, {max(renderers) / MB:.0f} MB peak, "
        f"{renderers[-1] / MB:.0f} MB at the end; in the bare browser: "
        + ", ".join(f"{b / MB:.0f}" for _, _, b in measured.bare)
        + " MB"
    )
    print(
        f"{len(rows[0]['samples'])} samples per page over {measured.streamed_s:.0f} s of streaming "
        f"({steps / measured.streamed_s:.0f} steps/s); the pages refreshed about once a second"
    )
    report.data["results"] = {
        "steps": steps,
        "rate": args.rate,
        "metrics": args.metrics,
        "lines_per_step": args.lines,
        "streamed_s": measured.streamed_s,
        "simulated_hours": hours,
        "pages": rows,
        "renderer_rss_anon": measured.renderers,
        "bare_renderer_rss_anon": measured.bare,
        "bare": bare,
    }
    report.finish()


if __name__ == "__main__":
    main()
