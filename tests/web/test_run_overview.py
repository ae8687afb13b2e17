"""The run page's overview tells how to reproduce a run: command, git commit with its diff, versions, GPUs.

One run comes from a real GPU machine: ``data/run-h200gpu1.wakelog`` is the run log of a PyTorch training
on an NVIDIA H200, recorded offline there (``tests/monitor/test_gpu_real.py`` checks the readings on such a
machine), thinned to every 40th step. Here it is uploaded with ``wakelog sync``, as a team brings home runs
from a cluster without network, and its GPU metrics must show in the system tab.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.web.conftest import ENTITY, Pages, run_finished_script, sdk_env, shot

GPU_RUN_LOG = Path(__file__).parent / "data" / "run-h200gpu1.wakelog"
GPU_RUN_ID = "q9yr0fv9"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True
    )


def test_the_overview_shows_command_git_commit_and_the_diff(pages: Pages) -> None:
    repo = pages.seeded.tmp / "gitrun"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "git@github.com:team/ocr.git")
    (repo / "model.py").write_text("lr = 0.1\n")
    git(repo, "add", "model.py")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "model.py").write_text("lr = 0.2  # tuned\n")  # an uncommitted change
    body = """
    run = wakelog.init(name="from-git")
    run.log({"x": 1})
    run.finish()
    """
    run_id = run_finished_script(pages.seeded, "gitrun", body)
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/web/runs/{run_id}"))
    env = page.get_by_test_id("environment")
    env.wait_for()
    assert "python gitrun.py" in env.inner_text()
    assert env.get_by_role("link", name="git@github.com:team/ocr.git").get_attribute("href") == (
        "https://github.com/team/ocr"
    )
    commit = subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=repo, text=True)
    assert env.get_by_test_id("git-commit").get_attribute("title") == commit.strip()
    assert env.get_by_text("uncommitted changes", exact=True).is_visible()
    env.get_by_text("Show the uncommitted changes (diff)").click()
    diff = env.get_by_test_id("diff")
    diff.locator(".diff-add", has_text="+lr = 0.2  # tuned").wait_for()
    assert diff.locator(".diff-del", has_text="-lr = 0.1").count() == 1
    shot(page, "run-overview-git")
    page.get_by_role("tab", name="Files").click()  # the diff and the package list are run files too
    for name in ("diff.patch", "requirements.txt"):
        page.get_by_test_id("files").get_by_role("link", name=name).wait_for()


def test_a_run_synced_from_a_gpu_machine_shows_its_gpus(pages: Pages) -> None:
    run_dir = pages.seeded.tmp / "from-gpu-host" / f"run-20261127_074834-{GPU_RUN_ID}"
    run_dir.mkdir(parents=True)
    shutil.copy(GPU_RUN_LOG, run_dir / GPU_RUN_LOG.name)
    synced = subprocess.run(
        [sys.executable, "-m", "wakelog", "sync", str(run_dir)],
        env=sdk_env(pages.seeded.server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert synced.returncode == 0, synced.stderr + synced.stdout
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/gpu-check/runs/{GPU_RUN_ID}"))
    env = page.get_by_test_id("environment")
    env.wait_for()
    assert "1 × NVIDIA H200 (140 GiB)" in env.inner_text()
    assert "driver 580.159.04 (CUDA ≤ 13.0)" in env.inner_text()
    page.get_by_role("tab", name="System").click()
    panels = page.locator("[data-testid=panel]")
    panels.first.locator("canvas").wait_for()
    metrics = panels.evaluate_all("panels => panels.map(p => p.dataset.metric)")
    # GPUs first, utilisation leading; bookkeeping series such as _timestamp are not charted.
    assert metrics[0] == "system/gpu/0/utilization_percent", metrics
    for key in ("process_memory_mb", "power_w", "temperature_c"):
        assert f"system/gpu/0/{key}" in metrics, metrics
    assert not any(m.startswith("_") for m in metrics), metrics
    shot(page, "run-system-h200")


def test_a_forks_overview_links_to_its_parent_at_the_fork_step(pages: Pages) -> None:
    """``init(fork_from=…)``: the fork's overview says which run it came from and at which step,
    and the link opens the parent's page."""
    body = """
    run = wakelog.init(name="fork-parent")
    for i in range(5):
        run.log({"x": i})
    run.finish()
    """
    parent = run_finished_script(pages.seeded, "forkparent", body)
    fork = f'run = wakelog.init(fork_from="{parent}?_step=2")\nrun.log({{"x": 9}})\nrun.finish()\n'
    child = run_finished_script(pages.seeded, "forkchild", fork)
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/web/runs/{child}"))
    forked = page.get_by_test_id("forked-from")
    forked.wait_for()
    assert forked.inner_text() == f"{parent} at step 2"
    shot(page, "run-forked-from")
    forked.get_by_role("link", name=parent).click()
    page.wait_for_url(f"**/{ENTITY}/web/runs/{parent}")
    page.get_by_text("fork-parent").first.wait_for()
    assert page.get_by_test_id("forked-from").count() == 0
