"""The run page's "Reproduce this run": the `wakelog restore` command and the same steps by hand
(clone, checkout on a wakelog/RUN_ID branch, the diff, the venv, the rerun command), each copyable."""

from __future__ import annotations

import subprocess

from tests.web.conftest import ENTITY, Pages, run_finished_script, shot


def git(repo: object, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,  # type: ignore[arg-type]
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_reproduce_section_lists_the_restore_command_and_the_steps_with_copy_buttons(pages: Pages) -> None:
    repo = pages.seeded.tmp / "repro"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "git@github.com:team/ocr.git")
    (repo / "model.py").write_text("lr = 0.1\n")
    git(repo, "add", "model.py")
    git(repo, "commit", "-q", "-m", "first")
    commit = git(repo, "rev-parse", "HEAD")
    (repo / "model.py").write_text("lr = 0.2\n")  # an uncommitted change: diff.patch
    body = """
    sys.argv[1:] = ["--lr", "0.2", "--note", "a b"]
    run = wakelog.init(name="reproducible")
    run.log({"x": 1})
    run.finish()
    """
    run_id = run_finished_script(pages.seeded, "repro", body)
    page = pages.new()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(pages.url(f"/{ENTITY}/web/runs/{run_id}"))
    section = page.get_by_test_id("reproduce")
    section.wait_for()
    restore = f"wakelog restore {ENTITY}/web/{run_id} --dir web-{run_id} --venv"
    assert section.get_by_test_id("reproduce-restore").inner_text() == restore
    section.get_by_role("button", name="Copy the wakelog restore command").click()
    section.get_by_role("button", name="Copy the wakelog restore command").filter(
        has_text="Copied"
    ).wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == restore

    section.get_by_text("The same steps by hand").click()
    steps = section.get_by_test_id("reproduce-steps").inner_text()
    assert steps.startswith("# 1. The code: clone the recorded remote\n")
    assert f"git clone git@github.com:team/ocr.git web-{run_id} && cd web-{run_id}" in steps
    assert f"git checkout -b wakelog/{run_id} {commit}" in steps
    assert f"/api/v1/runs/{ENTITY}/web/{run_id}/files/diff.patch | git apply" in steps
    assert "python -m venv .venv && .venv/bin/pip install -r wakelog/requirements.txt" in steps
    assert steps.rstrip().endswith(".venv/bin/python repro.py --lr 0.2 --note 'a b'")
    section.get_by_role("button", name="Copy the steps").click()
    assert page.evaluate("navigator.clipboard.readText()") == steps.strip()
    section.scroll_into_view_if_needed()
    shot(page, "run-reproduce")

    zh = pages.new(locale="zh-CN")
    zh.goto(pages.url(f"/{ENTITY}/web/runs/{run_id}"))
    zh.get_by_role("heading", name="复现此运行").wait_for()
    assert zh.get_by_role("button", name="复制 wakelog restore 命令").is_visible()
