"""A run that dies of an uncaught exception, made by the real SDK: its overview shows the exit code
and the traceback the SDK recorded, in both languages, within a phone's width, passing axe."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, sdk_env, sdk_script, shot
from tests.web.test_accessibility import LOCALES, axe_source, check_page  # noqa: F401 (a fixture)

SCRIPT = """
import sys
run = wakelog.init(name="diverged")
run.log({"loss": 1.0})
sys.__stdout__.write(f"id={run.id}\\n")
sys.__stdout__.flush()

def train_step():
    raise FloatingPointError("loss is nan at step 1")

train_step()
"""


@pytest.fixture(scope="module")
def failed_run(seeded: Seeded) -> str:
    workdir = seeded.tmp / "diverged"
    workdir.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, str(sdk_script(workdir, "diverged", SCRIPT))],
        cwd=workdir,
        env=sdk_env(seeded.server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # it fails, as it should: the return code is checked below
    )
    assert result.returncode == 1 and "FloatingPointError" in result.stderr, result.stderr
    return result.stdout.split("id=", 1)[1].split()[0]


@pytest.mark.parametrize("language", LOCALES)
def test_the_overview_shows_the_traceback(
    pages: Pages,
    failed_run: str,
    language: str,
    axe_source: str,  # noqa: F811
) -> None:
    page = pages.new(locale=LOCALES[language])
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{failed_run}"))
    error = page.get_by_role("region", name="Error" if language == "en" else "错误")
    expect(error).to_contain_text("exit code 1" if language == "en" else "退出码 1")
    trace = error.get_by_test_id("traceback")
    expect(trace).to_contain_text("Traceback (most recent call last)")
    expect(trace).to_contain_text("in train_step")
    expect(trace).to_contain_text("FloatingPointError: loss is nan at step 1")
    shot(page, f"run-failure-{language}")
    check_page(page, axe_source, f"run-failure-{language}")


def test_traceback_fits_a_phone(pages: Pages, failed_run: str) -> None:
    page = pages.new()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{failed_run}"))
    trace = page.get_by_test_id("traceback")
    expect(trace).to_contain_text("FloatingPointError")
    box: Any = trace.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # long lines scroll inside it
    shot(page, "run-failure-phone")


def test_a_finished_run_shows_no_error(pages: Pages, seeded: Seeded) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{seeded.ids['alpha']}"))
    page.get_by_test_id("config-table").wait_for()
    expect(page.get_by_test_id("traceback")).to_have_count(0)
