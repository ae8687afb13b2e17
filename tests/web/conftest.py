"""The web app in a real browser: a real server, runs made by the real SDK, the system Chromium.

Chromium is Debian's ``/usr/bin/chromium`` (``scripts/test.sh`` installs it), driven by the
Python ``playwright`` package with ``executable_path``: no browser is ever downloaded. Set
``WAKELOG_TEST_NO_BROWSER=1`` to skip these tests on a machine without Chromium.

Screenshots of every page go to ``tests/web/artifacts/`` (not committed).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests._env import child_env
from tests.server.conftest import ServerProcess, start_server

T = TypeVar("T")

NO_BROWSER = os.environ.get("WAKELOG_TEST_NO_BROWSER") == "1"
CHROMIUM = os.environ.get("WAKELOG_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ENTITY = "team"
PROJECT = "web"

#: The runs every test sees: name -> (config, score offset). ``score`` at step s is 2*s + offset.
RUNS: dict[str, tuple[dict[str, Any], int]] = {
    "alpha": ({"lr": 0.1, "batch_size": 32, "optimizer": {"name": "adam"}}, 0),
    "beta": ({"lr": 0.01, "batch_size": 32, "optimizer": {"name": "sgd"}}, 1000),
    "gamma": ({"lr": 0.001, "batch_size": 64, "optimizer": {"name": "adam"}}, 2000),
}
STEPS = 60


def sdk_env(server: ServerProcess, **extra: str) -> dict[str, str]:
    return child_env(
        **{
            "WAKELOG_CONSOLE": None,  # the tests read the runs' console output
            "WAKELOG_MODE": "online",
            "WAKELOG_BASE_URL": server.url,
            "WAKELOG_API_KEY": server.key,
            "WAKELOG_ENTITY": ENTITY,
            "WAKELOG_PROJECT": PROJECT,
            "WAKELOG_SILENT": "true",
            "WAKELOG_DISABLE_STATS": "true",
            **extra,
        }
    )


def sdk_script(tmp: Path, name: str, body: str) -> Path:
    script = tmp / f"{name}.py"
    script.write_text("import wakelog\n" + textwrap.dedent(body))
    return script


def log_run(
    tmp: Path, server: ServerProcess, name: str, config: dict[str, Any], offset: int
) -> subprocess.Popen:
    body = f"""
    import numpy as np
    run = wakelog.init(name={name!r}, config={config!r}, tags=["web", {name!r}], group="g-{name[0]}")
    for step in range({STEPS}):
        run.log({{"score": 2 * step + {offset}, "train/loss": 1.0 / (step + 1), "eval/acc": step / {STEPS}}})
        if step % 20 == 0:
            pixels = np.full((8, 8, 3), step * 4, dtype="uint8")
            weights = wakelog.Histogram(np.arange(step + 10))
            sample = wakelog.Image(pixels, caption=f"grey level {{step * 4}}")
            run.log({{"sample": sample, "weights": weights}}, commit=False)
    print("hello from {name}: \\x1b[32mgreen\\x1b[0m done")
    open("notes.txt", "w").write("notes of {name}")
    run.save("notes.txt", policy="now")
    run.finish()
    """
    workdir = tmp / name
    workdir.mkdir()
    return subprocess.Popen(
        [sys.executable, str(sdk_script(workdir, name, body))],
        cwd=workdir,
        env=sdk_env(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Seeded:
    server: ServerProcess
    password: str
    #: run name -> run id
    ids: dict[str, str]
    tmp: Path


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A server with three finished runs in team/web, made by SDK subprocesses."""
    tmp = tmp_path_factory.mktemp("web")
    server = start_server(tmp)
    try:
        procs = [log_run(tmp, server, name, config, offset) for name, (config, offset) in RUNS.items()]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        with server.client() as http:
            runs = http.get(f"/api/v1/projects/{ENTITY}/{PROJECT}/runs", params={"limit": 100}).json()["runs"]
        ids = {r["name"]: r["id"] for r in runs}
        assert set(ids) == set(RUNS), runs
        credentials = (server.data_dir / "admin-credentials.txt").read_text()
        password = re.search(r"password: (\S+)", credentials).group(1)  # type: ignore[union-attr]
        yield Seeded(server, password, ids, tmp)
    finally:
        server.stop()


# One Chromium per module, not per session: Playwright's sync API keeps an event loop running while
# it is open, and pytest-xdist hands a worker other folders' files in between, whose in-process
# tests start event loops of their own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if NO_BROWSER:
        pytest.skip("WAKELOG_TEST_NO_BROWSER=1")
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's chromium package (scripts/test.sh does) "
            "or set WAKELOG_TEST_NO_BROWSER=1 to skip the browser tests",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


class Pages:
    """A fresh browser context per test, optionally signed in, with console errors collected."""

    def __init__(self, browser: Any, seeded: Seeded) -> None:
        self.browser = browser
        self.seeded = seeded
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def new(self, *, signed_in: bool = True, locale: str = "en-US") -> Any:
        context = self.browser.new_context(viewport={"width": 1440, "height": 900}, locale=locale)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}")
                # Answers the tests provoke (401 signed out, 400 bad filter) are checked on the page.
                if message.type == "error" and not message.text.startswith("Failed to load resource")
                else None
            ),
        )
        if signed_in:
            answer = context.request.post(
                f"{self.seeded.server.url}/api/v1/auth/login",
                data={"username": "admin", "password": self.seeded.password},
            )
            assert answer.ok, answer.text()
        return page

    def url(self, path: str) -> str:
        return self.seeded.server.url + path

    def close(self) -> None:
        for context in self.contexts:
            context.close()


#: What Chromium logs when a logged ``wandb.Html`` page's script is refused by the frame's sandbox:
#: the sandbox doing its job, not an error of the app.
REFUSED_SCRIPT = "Blocked script execution in 'about:srcdoc'"


@pytest.fixture
def pages(browser: Any, seeded: Seeded) -> Iterator[Pages]:
    opened = Pages(browser, seeded)
    yield opened
    opened.close()
    errors = [e for e in opened.errors if REFUSED_SCRIPT not in e]
    assert not errors, errors


def drawn_panel(page: Any, metric: str) -> Any:
    """The workspace panel of ``metric`` once its chart is drawn. A panel draws only once it comes
    near the viewport, so it is scrolled into view first: how far down a panel sits depends on the
    layout, not on what a test checks."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    panel = page.locator(f"[data-testid=panel][data-metric='{metric}']")
    deadline = time.monotonic() + 15
    while True:  # panels above it may still grow as their data arrives, moving it out of view again
        panel.scroll_into_view_if_needed()
        try:
            panel.locator("canvas").first.wait_for(timeout=2_000)
            return panel
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise


def hover_middle(page: Any, chart: Any) -> Any:
    """Moves the cursor to the middle of ``chart`` and returns its visible tooltip. A chart drawn
    after the cursor arrived has seen no move, so its tooltip stays hidden until the next one:
    :func:`on_plot_area` hovers again."""

    def hover(box: dict[str, float]) -> Any:
        page.mouse.move(0, 0)
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tooltip = chart.get_by_test_id("chart-tooltip")
        tooltip.wait_for(state="visible", timeout=3_000)
        return tooltip

    return on_plot_area(chart, hover)


def on_plot_area(chart: Any, gesture: Callable[[dict[str, float]], T]) -> T:
    """Scrolls ``chart``'s plot area into view and runs ``gesture`` with its box on the page. A chart
    rebuilt meanwhile (new data, new y limits) detaches the plot area or swallows the gesture; the
    gesture is tried again on the new one, up to a deadline. A gesture says it was swallowed by
    letting a Playwright wait time out."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    over = chart.locator(".u-over")
    deadline = time.monotonic() + 15
    while True:
        try:
            over.scroll_into_view_if_needed()
            box = over.bounding_box()
            if box is None:
                raise ChartReplaced(f"{chart} has no plot area on screen")
            return gesture(box)
        except (PlaywrightError, ChartReplaced) as exc:
            replaced = isinstance(exc, ChartReplaced | PlaywrightTimeout) or "not attached" in str(exc)
            if not replaced or time.monotonic() > deadline:
                raise


class ChartReplaced(Exception):
    """The chart's plot area went away between finding it and measuring it (a redraw)."""


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


class GatedRun:
    """An SDK run that logs ``metric`` = 0, then waits for ``release()`` to log 1..39 and finish."""

    def __init__(self, seeded: Seeded, name: str, metric: str) -> None:
        workdir = seeded.tmp / name
        workdir.mkdir(exist_ok=True)
        self.gate = workdir / "go"
        body = f"""
        import os, time
        run = wakelog.init(name={name!r}, config={{"lr": 0.5}})
        run.log({{{metric!r}: 0}})
        print(run.id, flush=True)
        while not os.path.exists({str(self.gate)!r}):
            time.sleep(0.05)
        for step in range(1, 40):
            run.log({{{metric!r}: step}})
            time.sleep(0.05)
        run.finish()
        """
        self.proc = subprocess.Popen(
            [sys.executable, str(sdk_script(workdir, name.replace("-", "_"), body))],
            cwd=workdir,
            env=sdk_env(seeded.server),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.id = self.proc.stdout.readline().strip()  # type: ignore[union-attr]

    def release(self) -> None:
        self.gate.write_text("go")

    def wait(self) -> None:
        """Let the run end (releasing it if the test did not get that far); it must succeed."""
        self.release()
        _, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err


def run_finished_script(seeded: Seeded, name: str, body: str, **env: str) -> str:
    """Run an SDK script to the end against the test server; returns its run id.

    The script ends with ``finish()`` and then writes ``id=<run id>`` to the real stdout."""
    workdir = seeded.tmp / name
    workdir.mkdir(exist_ok=True)
    script = "import sys\n" + textwrap.dedent(body) + 'sys.__stdout__.write(f"id={run.id}\\n")\n'
    result = subprocess.run(
        [sys.executable, str(sdk_script(workdir, name, script))],
        cwd=workdir,
        env=sdk_env(seeded.server, **env),
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return re.search(r"id=(\w+)", result.stdout).group(1)  # type: ignore[union-attr]
