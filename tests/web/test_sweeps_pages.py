"""The sweep pages in a real browser: the project's sweeps list, a sweep's page (trials, the metric
over time, parallel coordinates, importance, the best run), the YAML editor that checks as one
types, and the pause / resume / cancel controls.

Trials are made the way an agent makes them: an agent registers through the HTTP routes, asks for
its next trial, and the real SDK logs the run with the id the server chose.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.harness import wait_until
from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, sdk_env, sdk_script, shot
from tests.web.test_accessibility import axe_source, check_page, tab_to  # noqa: F401  (a fixture)

SWEEPS = f"/{ENTITY}/{PROJECT}/sweeps"
API = f"/api/v1/sweeps/{ENTITY}/{PROJECT}"

GRID_YAML = """\
name: grid-web
program: train.py
method: grid
metric:
  name: loss
  goal: minimize
parameters:
  lr:
    values: [0.001, 0.01, 0.1]
  batch_size:
    values: [16, 64]
"""

#: The trials the grid sweep's agent runs to the end (of its six points).
TRIALS = 4
STEPS = 15


def create_sweep(seeded: Seeded, config: str | dict[str, Any]) -> dict[str, Any]:
    with seeded.server.client() as http:
        answer = http.post(f"/api/v1/projects/{ENTITY}/{PROJECT}/sweeps", json={"config": config})
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def sweep_state(seeded: Seeded, sweep: str) -> str:
    with seeded.server.client() as http:
        return http.get(f"{API}/{sweep}").json()["state"]  # type: ignore[no-any-return]


def run_trial(seeded: Seeded, run_id: str, params: dict[str, Any]) -> subprocess.Popen[str]:
    """The run of one trial, as an agent's subprocess would log it: loss falls with the steps and
    rises with lr and batch size, so the best trial is the smallest of both."""
    body = f"""
    params = {params!r}
    run = wakelog.init(id={run_id!r}, config=params)
    for step in range({STEPS}):
        run.log({{"loss": params["lr"] * 10 + params["batch_size"] / 100 + 1 / (step + 1)}})
    run.finish()
    """
    workdir = seeded.tmp / f"trial-{run_id}"
    workdir.mkdir()
    return subprocess.Popen(
        [sys.executable, str(sdk_script(workdir, f"trial_{run_id}", body))],
        cwd=workdir,
        env=sdk_env(seeded.server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class GridSweep:
    id: str
    #: run id -> params, of the trials that ran to the end
    trials: dict[str, dict[str, Any]]
    best: str


@pytest.fixture(scope="module")
def grid(seeded: Seeded) -> Iterator[GridSweep]:
    """A grid sweep with four finished trials, logged by the real SDK."""
    sweep = create_sweep(seeded, GRID_YAML)["id"]
    trials: dict[str, dict[str, Any]] = {}
    with seeded.server.client() as http:
        agent = http.post(f"{API}/{sweep}/agents", json={"host": "web-test", "pid": os.getpid()})
        assert agent.status_code == 201, agent.text
        agent_id = agent.json()["agent_id"]
        for _ in range(TRIALS):
            step = http.post(f"{API}/{sweep}/agents/{agent_id}/next").json()
            assert step["action"] == "run", step
            trials[step["run_id"]] = step["params"]
        procs = [run_trial(seeded, run_id, params) for run_id, params in trials.items()]
        for proc in procs:
            _, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
        http.post(f"{API}/{sweep}/agents/{agent_id}/heartbeat", json={"running": []})

        def all_finished() -> bool:
            answer = http.get(f"{API}/{sweep}").json()
            return all(t["state"] == "finished" and t["metric"] is not None for t in answer["trials"])

        wait_until(all_finished, timeout=60)
    best = min(trials, key=lambda r: trials[r]["lr"] * 10 + trials[r]["batch_size"] / 100)
    yield GridSweep(sweep, trials, best)


def test_the_sweeps_list_leads_to_a_sweep_page_with_trials_charts_and_importance(
    pages: Pages, grid: GridSweep
) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}"))
    page.get_by_role("link", name="Sweeps", exact=True).click()
    page.wait_for_url(re.compile(f"{SWEEPS}$"))

    row = page.get_by_test_id("sweeps").locator("tr", has_text="grid-web")
    expect(row).to_contain_text("Grid")
    expect(row).to_contain_text("running")
    expect(row).to_contain_text("loss")
    expect(row).to_contain_text("minimize")
    expect(row).to_contain_text(f"{TRIALS} · {TRIALS} finished")
    shot(page, "sweeps-list-en")

    row.get_by_role("link", name="grid-web").click()
    page.wait_for_url(re.compile(f"{SWEEPS}/{grid.id}$"))
    trials = page.get_by_test_id("trials")
    expect(trials.locator("tbody tr")).to_have_count(TRIALS)
    for run_id, params in grid.trials.items():
        expect(trials.locator(f"tr[data-run='{run_id}']")).to_contain_text(str(params["lr"]))
    # The best trial is marked in the table and named above it.
    expect(trials.locator("tr.best")).to_have_attribute("data-run", grid.best)
    expect(page.get_by_test_id("best-run")).to_contain_text(grid.best)
    # The metric over steps for every trial, the parameters coloured by it, and their importance.
    page.locator("[data-metric=loss] canvas").first.wait_for()
    page.get_by_test_id("parallel").locator("canvas").first.wait_for()
    importance = page.get_by_test_id("importance")
    # (The server's first importance fit imports Optuna and scikit-learn: seconds on a busy machine.)
    expect(importance.locator("tbody tr")).to_have_count(2, timeout=60_000)
    expect(importance).to_contain_text("lr")
    expect(importance).to_contain_text("batch_size")
    shot(page, "sweep-page-en")
    page.locator("details[data-section=config] > summary").click()
    expect(page.get_by_test_id("sweep-yaml")).to_contain_text("method: grid")
    shot(page, "sweep-page-config-en")

    # Sorting by the metric puts the best trial first.
    page.get_by_role("button", name="loss").click()
    expect(trials.locator("tbody tr").first).to_have_attribute("data-run", grid.best)


def test_the_sweep_pages_read_in_chinese(pages: Pages, grid: GridSweep) -> None:
    page = pages.new(locale="zh-CN")
    page.goto(pages.url(SWEEPS))
    expect(page.get_by_test_id("sweeps")).to_contain_text("网格")
    expect(page.get_by_role("heading", level=1)).to_contain_text("超参搜索")
    shot(page, "sweeps-list-zh")
    page.goto(pages.url(f"{SWEEPS}/{grid.id}"))
    page.locator("[data-metric=loss] canvas").first.wait_for()
    expect(page.get_by_role("heading", name="参数对 loss 的重要性")).to_be_visible()
    expect(page.get_by_role("button", name="暂停")).to_be_visible()
    shot(page, "sweep-page-zh")
    page.goto(pages.url(f"{SWEEPS}/new"))
    expect(page.get_by_test_id("validation")).to_contain_text("配置有效")
    shot(page, "sweep-new-zh")


BAD_YAML = """\
name: typo-web
program: train.py
method: random
metric:
  name: loss
parameters:
  lr:
    distribution: log_uniformm
    min: 0.0001
    max: 0.1
  batch_size:
    values: [16, 64]
"""


def test_the_yaml_editor_flags_a_bad_distribution_beside_its_key_and_creates_a_sweep(
    pages: Pages,
) -> None:
    page = pages.new()
    page.goto(pages.url(SWEEPS))
    page.get_by_role("link", name="New sweep").click()
    page.wait_for_url(re.compile(f"{SWEEPS}/new$"))
    expect(page.get_by_test_id("validation")).to_contain_text("Valid configuration")

    editor = page.get_by_role("textbox", name="Configuration")
    editor.fill(BAD_YAML)
    distribution_line = BAD_YAML.splitlines().index("    distribution: log_uniformm") + 1
    note = page.get_by_test_id("yaml-note")
    expect(note).to_have_attribute("data-line", str(distribution_line))
    expect(note).to_contain_text("log_uniformm")
    expect(page.get_by_test_id("validation")).to_contain_text("parameters.lr.distribution")
    expect(page.get_by_role("button", name="Create sweep")).to_be_disabled()
    shot(page, "sweep-new-error-en")

    editor.fill(BAD_YAML.replace("log_uniformm", "log_uniform_values"))
    expect(page.get_by_test_id("validation")).to_contain_text("Valid configuration")
    expect(note).to_have_count(0)
    page.get_by_role("button", name="Create sweep").click()
    command = page.get_by_test_id("agent-command")
    expect(command).to_have_text(re.compile(rf"^wakelog agent {ENTITY}/{PROJECT}/[a-z0-9]{{8}}$"))
    sweep = command.inner_text().rsplit("/", 1)[1]
    shot(page, "sweep-created-en")

    with pages.seeded.server.client() as http:
        created = http.get(f"{API}/{sweep}").json()
    assert created["name"] == "typo-web"
    assert created["config"]["parameters"]["lr"]["distribution"] == "log_uniform_values"
    page.get_by_role("link", name="Open the sweep page").click()
    expect(page.get_by_test_id("sweep-yaml")).to_contain_text("distribution: log_uniform_values")


def test_pause_resume_and_cancel_change_the_sweeps_state(pages: Pages) -> None:
    seeded = pages.seeded
    sweep = create_sweep(
        seeded,
        {
            "name": "controls-web",
            "method": "random",
            "metric": {"name": "loss"},
            "parameters": {"lr": {"min": 0.0, "max": 1.0}},
        },
    )["id"]
    with seeded.server.client() as http:  # a trial an agent took but has not started yet
        agent_id = http.post(f"{API}/{sweep}/agents", json={"host": "web-test", "pid": 1}).json()["agent_id"]
        pending = http.post(f"{API}/{sweep}/agents/{agent_id}/next").json()["run_id"]
    page = pages.new()
    page.goto(pages.url(f"{SWEEPS}/{sweep}"))
    trial = page.get_by_test_id("trials").locator(f"tr[data-run='{pending}']")
    expect(trial).to_contain_text("pending")
    state = page.get_by_test_id("sweep-state")
    expect(state).to_have_text("running")

    # The controls are buttons a keyboard reaches.
    tab_to(page, ".sweep-controls button[data-action=pause]")
    page.keyboard.press("Enter")
    expect(state).to_have_text("paused")
    assert sweep_state(seeded, sweep) == "paused"
    shot(page, "sweep-paused-en")

    page.get_by_role("button", name="Resume").click()
    expect(state).to_have_text("running")
    assert sweep_state(seeded, sweep) == "running"

    # Cancel asks first: declining leaves the sweep running, accepting cancels it.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Cancel sweep").click()
    expect(state).to_have_text("running")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel sweep").click()
    expect(state).to_have_text("canceled")
    expect(trial).to_contain_text("killed")
    expect(trial).to_contain_text("sweep canceled")
    expect(page.get_by_role("group", name="Sweep controls")).to_have_count(0)
    assert sweep_state(seeded, sweep) == "canceled"


def test_a_trial_that_starts_shows_up_live(pages: Pages, grid: GridSweep) -> None:
    page = pages.new()
    page.goto(pages.url(f"{SWEEPS}/{grid.id}"))
    expect(page.get_by_test_id("live-status")).to_have_text("Live")
    rows = page.get_by_test_id("trials").locator("tbody tr")
    expect(rows).to_have_count(TRIALS)
    with pages.seeded.server.client() as http:
        agent_id = http.post(f"{API}/{grid.id}/agents", json={"host": "web-test", "pid": 1}).json()[
            "agent_id"
        ]
        step = http.post(f"{API}/{grid.id}/agents/{agent_id}/next").json()
    assert step["action"] == "run", step
    proc = run_trial(pages.seeded, step["run_id"], step["params"])
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    expect(rows).to_have_count(TRIALS + 1)
    expect(page.get_by_test_id("trials").locator(f"tr[data-run='{step['run_id']}']")).to_contain_text(
        "finished", timeout=30_000
    )


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_sweep_pages_pass_axe(pages: Pages, grid: GridSweep, axe_source: str, language: str) -> None:  # noqa: F811
    page = pages.new(locale={"en": "en-US", "zh": "zh-CN"}[language])
    page.goto(pages.url(SWEEPS))
    page.get_by_test_id("sweeps").wait_for()
    check_page(page, axe_source, f"sweeps-{language}")
    page.goto(pages.url(f"{SWEEPS}/{grid.id}"))
    page.locator("[data-metric=loss] canvas").first.wait_for()
    page.get_by_test_id("parallel").locator("canvas").first.wait_for()
    check_page(page, axe_source, f"sweep-{language}")
    page.goto(pages.url(f"{SWEEPS}/new"))
    page.get_by_role("textbox").fill(BAD_YAML)
    page.get_by_test_id("yaml-note").wait_for()
    check_page(page, axe_source, f"sweep-new-{language}")


def test_a_viewer_sees_a_sweep_without_its_controls(pages: Pages, grid: GridSweep) -> None:
    with pages.seeded.server.client() as admin:
        password = admin.post("/api/v1/users", json={"username": "sweep-viewer"}).json()["password"]
        role = {"role": "viewer"}
        assert admin.put(f"/api/v1/entities/{ENTITY}/members/sweep-viewer", json=role).is_success
    page = pages.new(signed_in=False)
    login = {"username": "sweep-viewer", "password": password}
    assert page.context.request.post(pages.url("/api/v1/auth/login"), data=login).ok
    page.goto(pages.url(SWEEPS))
    expect(page.get_by_test_id("sweeps")).to_contain_text("grid-web")
    expect(page.get_by_role("link", name="New sweep")).to_have_count(0)
    page.goto(pages.url(f"{SWEEPS}/{grid.id}"))
    expect(page.get_by_test_id("trials").locator("tr.best")).to_have_attribute("data-run", grid.best)
    expect(page.get_by_role("group", name="Sweep controls")).to_have_count(0)
