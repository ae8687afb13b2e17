"""Lists of media — ``log({"samples": [wandb.Image(...), ...]})``, wandb's most common image pattern —
logged by the real SDK: galleries with captions, boxes and a step slider on the media tab, and a
gallery (not a JSON blob) in the run's summary; lists of audio, video, HTML and histograms too."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, run_finished_script, shot
from tests.web.test_accessibility import axe_source, check_page  # noqa: F401 (a fixture)

#: What Chromium logs when the sandboxed frame refuses the logged page's <script>: wanted, not a fault.

SCRIPT = """
import numpy as np
run = wakelog.init(name="media-lists")
rng = np.random.default_rng(0)
boxes = {"predictions": {"box_data": [
    {"position": {"minX": 4, "maxX": 20, "minY": 4, "maxY": 20}, "domain": "pixel", "class_id": 1,
     "box_caption": "cat"}], "class_labels": {1: "cat"}}}
tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(4000) / 8000)).astype(np.float32)
frames = np.zeros((4, 3, 16, 16), np.uint8)
for step in range(2):
    run.log({
        "samples": [
            wakelog.Image(np.full((24, 24, 3), 60 * i + 20 * step, np.uint8), caption=f"s{step} #{i}",
                          boxes=boxes if i == 0 else None)
            for i in range(3)
        ],
        "clips": [wakelog.Audio(tone, sample_rate=8000, caption=f"clip {i}") for i in range(2)],
        "movies": [wakelog.Video(frames + 40 * i, fps=4, format="gif") for i in range(2)],
        "pages": [wakelog.Html(f"<h1>page {i} at {step}</h1><script>document.title='ran'</script>")
                  for i in range(2)],
        "hists": [wakelog.Histogram(rng.normal(i, 1, 300)) for i in range(2)],
    })
run.finish()
"""


@pytest.fixture(scope="module")
def lists_run(seeded: Seeded) -> str:
    return run_finished_script(seeded, "media_lists", SCRIPT)


def images_loaded(gallery: Any, count: int) -> None:
    images = gallery.locator("img")
    expect(images).to_have_count(count)
    for i in range(count):
        expect(images.nth(i)).to_have_js_property("complete", True)
        assert images.nth(i).evaluate("i => i.naturalWidth") > 0


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_lists_are_galleries_on_the_media_tab(
    pages: Pages,
    lists_run: str,
    locale: str,
    axe_source: str,  # noqa: F811
) -> None:
    page = pages.new(locale=locale)
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{lists_run}?tab=media"))
    samples = page.get_by_role("region", name="samples", exact=True)
    gallery = samples.get_by_test_id("gallery")
    images_loaded(gallery, 3)
    expect(gallery.locator("figcaption")).to_have_text(["s1 #0", "s1 #1", "s1 #2"])
    expect(gallery.get_by_test_id("overlay-canvas")).to_have_count(1)  # the boxes of the first
    assert samples.locator("pre.json").count() == 0
    slider = samples.get_by_role("slider")
    slider.fill("0")
    expect(gallery.locator("figcaption")).to_have_text(["s0 #0", "s0 #1", "s0 #2"])
    samples.scroll_into_view_if_needed()
    shot(page, f"media-lists-images-{locale}")

    clips = page.get_by_role("region", name="clips", exact=True)
    expect(clips.locator("audio")).to_have_count(2)
    expect(clips.locator("figcaption")).to_have_text(["clip 0", "clip 1"])
    for i in range(2):  # each plays its own file: half a second at 8 kHz
        audio = clips.locator("audio").nth(i)
        page.wait_for_function("a => a.readyState >= 1", arg=audio.element_handle())
        assert abs(audio.evaluate("a => a.duration") - 0.5) < 0.01
    images_loaded(page.get_by_role("region", name="movies", exact=True).get_by_test_id("gallery"), 2)
    frames = page.get_by_role("region", name="pages", exact=True).locator("iframe")
    expect(frames).to_have_count(2)
    assert [frames.nth(i).get_attribute("sandbox") for i in range(2)] == ["", ""]
    expect(page.frame_locator("iframe.media-html").nth(1).get_by_role("heading")).to_have_text("page 1 at 1")
    hists = page.get_by_role("region", name="hists", exact=True)
    expect(hists.locator("canvas")).to_have_count(2)
    hists.scroll_into_view_if_needed()
    shot(page, f"media-lists-hists-{locale}")
    check_page(page, axe_source, f"media-lists-{locale}")


def test_phone_width_gallery(pages: Pages, lists_run: str) -> None:
    page = pages.new()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{lists_run}?tab=media"))
    images_loaded(page.get_by_role("region", name="samples", exact=True).get_by_test_id("gallery"), 3)
    # Every part of the media tab inside the phone's width (the page header is another item's).
    widest = page.get_by_test_id("media").evaluate(
        "m => Math.max(...[m, ...m.querySelectorAll('*')].map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 390
    shot(page, "media-lists-phone")


def test_summary_shows_the_gallery(pages: Pages, lists_run: str) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{lists_run}"))
    table = page.get_by_test_id("summary-table")
    row = table.get_by_role("row", name="samples")
    images_loaded(row, 3)
    expect(row.get_by_role("img", name="s1 #2")).to_be_visible()
    expect(table.get_by_role("row", name="clips")).to_contain_text("‹audio-file ×2›")
    assert "_type" not in table.inner_text()
    shot(page, "media-lists-summary")


def test_summary_gallery_passes_axe(pages: Pages, lists_run: str, axe_source: str) -> None:  # noqa: F811
    page = pages.new(locale="zh-CN")
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{lists_run}"))
    images_loaded(page.get_by_test_id("summary-table").get_by_role("row", name="samples"), 3)
    check_page(page, axe_source, "media-lists-summary-zh")


def test_compare_names_the_lists(pages: Pages, seeded: Seeded, lists_run: str) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/compare?runs={seeded.ids['alpha']},{lists_run}"))
    summary = page.get_by_test_id("summary-diff")
    expect(summary.get_by_role("row", name="samples")).to_contain_text("‹image-file ×3›")
    expect(summary.get_by_role("row", name="pages")).to_contain_text("‹html-file ×2›")
    assert "_type" not in summary.inner_text()


def test_the_run_table_names_the_lists(pages: Pages, lists_run: str) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}?cols=summary%3Asamples,summary%3Aclips"))
    row = page.locator("[data-testid=run-table] [role=row][data-run]", has_text="media-lists")
    cells = row.locator("[role=cell]")
    expect(cells.filter(has_text="‹image-file ×3›")).to_have_count(1)
    expect(cells.filter(has_text="‹audio-file ×2›")).to_have_count(1)
    assert "_type" not in row.inner_text()
