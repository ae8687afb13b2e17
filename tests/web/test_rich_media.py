"""Every rich media type, logged through the real SDK, shown by the run's media tab.

Video plays, audio loads its duration, point clouds and meshes draw on a WebGL canvas,
molecules draw their atoms, Plotly charts have their traces, HTML sits in a sandboxed frame,
and table cells open the same viewers.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, run_finished_script, shot

#: What Chromium logs when the sandboxed frame refuses the logged page's <script>: wanted, not a fault.

pytest.importorskip("imageio_ffmpeg")
pytest.importorskip("soundfile")
pytest.importorskip("plotly")

ETHANOL = """\
HETATM    1  C1  EOH A   1      -0.748   0.015   0.024  1.00  0.00           C
HETATM    2  C2  EOH A   1       0.558   0.758  -0.233  1.00  0.00           C
HETATM    3  O   EOH A   1       1.635  -0.128   0.009  1.00  0.00           O
HETATM    4  H1  EOH A   1      -1.590   0.694  -0.174  1.00  0.00           H
HETATM    5  H2  EOH A   1      -0.817  -0.848  -0.648  1.00  0.00           H
HETATM    6  H3  EOH A   1      -0.800  -0.331   1.061  1.00  0.00           H
CONECT    1    2    4    5    6
CONECT    2    1    3
END
"""

SCRIPT = f"""
import numpy as np
import plotly.graph_objects as go
run = wakelog.init(name="rich-media")
t = np.arange(24)
frames = np.zeros((24, 3, 48, 64), np.uint8)
for i in t:
    frames[i, 0, :, i * 2 : i * 2 + 16] = 255  # a red bar moving right
    frames[i, 2] = 80
rng = np.random.default_rng(0)
cloud = np.concatenate([rng.normal(size=(500, 3)), rng.integers(0, 255, size=(500, 3))], axis=1)
box = wakelog.box3d(center=(0, 0, 0), size=(2, 2, 2), orientation=(1, 0, 0, 0), color=(1, 0, 0),
                    label="car", score=0.87)
far = wakelog.box3d(center=(3, 0, 0), size=(1, 1, 1), orientation=(1, 0, 0, 0), color=(0, 0, 1), label="tree")
with open("ethanol.pdb", "w") as f:
    f.write({ETHANOL!r})
with open("tetra.obj", "w") as f:
    f.write("v 0 0 0\\nv 1 0 0\\nv 0 1 0\\nv 0 0 1\\nf 1 2 3\\nf 1 2 4\\nf 1 3 4\\nf 2 3 4\\n")
tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.float32)
figure = go.Figure([go.Scatter(y=[1, 3, 2], name="a"), go.Bar(y=[2, 1, 3], name="b")])
run.log({{
    "clip": wakelog.Video(frames, fps=12, format="mp4", caption="moving bar"),
    "clip_webm": wakelog.Video(frames[None].repeat(3, axis=0), fps=12, format="webm"),
    "clip_gif": wakelog.Video(frames[:6], fps=4, format="gif"),
    "tone": wakelog.Audio(tone, sample_rate=8000, caption="440 Hz"),
    "cloud": wakelog.Object3D(cloud),
    "scene": wakelog.Object3D.from_point_cloud(points=cloud[:, :3], boxes=[box, far]),
    "mesh": wakelog.Object3D("tetra.obj"),
    "molecule": wakelog.Molecule("ethanol.pdb", caption="ethanol"),
    "chart": wakelog.Plotly(figure),
    "page": wakelog.Html("<h1>Report</h1><p>all good</p><script>document.title = 'ran'</script>"),
    "cells": wakelog.Table(
        columns=["name", "sound", "shape"],
        data=[["tone", wakelog.Audio(tone, sample_rate=8000), wakelog.Object3D(cloud[:50])]],
    ),
}})
run.finish()
"""


@pytest.fixture(scope="module")
def media_run(seeded: Seeded) -> str:
    return run_finished_script(seeded, "rich_media", SCRIPT)


def open_media(pages: Pages, run_id: str) -> Any:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{run_id}?tab=media"))
    page.get_by_role("region", name="clip", exact=True).wait_for()
    return page


def drawn_pixels(canvas: Any) -> int:
    """How many pixels of a WebGL canvas are not the white background."""
    return canvas.evaluate(
        """c => {
            const copy = document.createElement('canvas');
            copy.width = c.width; copy.height = c.height;
            const g = copy.getContext('2d');
            g.drawImage(c, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240) n++;
            return n;
        }"""
    )


def test_video_and_audio_play(pages: Pages, media_run: str) -> None:
    page = open_media(pages, media_run)
    for key in ("clip", "clip_webm"):
        video = page.get_by_role("region", name=key, exact=True).locator("video")
        video.wait_for()
        video.evaluate("v => v.play()")
        page.wait_for_function("v => v.readyState >= 2 && v.currentTime > 0.2", arg=video.element_handle())
        assert abs(video.evaluate("v => v.duration") - 2.0) < 0.2, key
    webm = page.get_by_role("region", name="clip_webm", exact=True).locator("video")
    assert webm.evaluate("v => [v.videoWidth, v.videoHeight]") == [256, 48]  # 3 videos in a 1 x 4 grid
    gif = page.get_by_role("region", name="clip_gif", exact=True).locator("img")
    expect(gif).to_have_js_property("complete", True)
    assert gif.evaluate("i => i.naturalWidth") == 64
    expect(page.get_by_role("region", name="clip", exact=True).get_by_text("moving bar")).to_be_visible()
    audio = page.get_by_role("region", name="tone", exact=True).locator("audio")
    page.wait_for_function("a => a.readyState >= 1", arg=audio.element_handle())
    assert abs(audio.evaluate("a => a.duration") - 1.0) < 0.01
    page.get_by_role("region", name="clip", exact=True).scroll_into_view_if_needed()
    shot(page, "rich-media-video-audio")


def test_3d_molecule_plotly_and_html(pages: Pages, media_run: str) -> None:
    page = open_media(pages, media_run)
    for key, points in (("cloud", "500"), ("scene", "500"), ("mesh", None)):
        viewer = page.get_by_role("region", name=key, exact=True).get_by_test_id("object3d")
        viewer.scroll_into_view_if_needed()
        expect(viewer).to_have_attribute("data-state", "ready")
        if points:
            expect(viewer).to_have_attribute("data-points", points)
        assert drawn_pixels(viewer.locator("canvas")) > 200, key
    shot(page, "rich-media-3d")

    # The scene's boxes carry their label and score as text, placed over the canvas.
    scene = page.get_by_role("region", name="scene", exact=True).get_by_test_id("object3d")
    tags = scene.get_by_test_id("box3d-tag")
    expect(tags).to_have_text(["car 0.87", "tree"])
    canvas_box = scene.locator("canvas").bounding_box()
    for i in range(2):
        tag = tags.nth(i).bounding_box()
        assert (
            canvas_box
            and tag
            and canvas_box["x"] <= tag["x"]
            and tag["x"] + tag["width"] <= canvas_box["x"] + canvas_box["width"]
        )
    assert tags.nth(0).evaluate("t => getComputedStyle(t).backgroundColor") == "rgb(255, 0, 0)"
    scene.scroll_into_view_if_needed()
    shot(page, "rich-media-3d-box-labels")

    molecule = page.get_by_role("region", name="molecule", exact=True).get_by_test_id("molecule")
    molecule.scroll_into_view_if_needed()
    expect(molecule).to_have_attribute("data-state", "ready")
    expect(molecule).to_have_attribute("data-atoms", "6")
    assert drawn_pixels(molecule.locator("canvas").first) > 200
    shot(page, "rich-media-molecule")

    chart = page.get_by_role("region", name="chart", exact=True).get_by_test_id("plotly")
    chart.scroll_into_view_if_needed()
    chart.locator(".main-svg").first.wait_for()
    assert chart.evaluate("c => c.data.map(t => t.type)") == ["scatter", "bar"]
    expect(chart.locator(".scatterlayer .trace")).to_have_count(1)
    expect(chart.locator(".barlayer .trace")).to_have_count(1)
    shot(page, "rich-media-plotly")

    frame = page.get_by_role("region", name="page", exact=True).locator("iframe")
    assert frame.get_attribute("sandbox") == ""
    content = page.frame_locator("iframe.media-html")
    expect(content.get_by_role("heading", name="Report")).to_be_visible()
    assert frame.evaluate("f => f.contentDocument === null")  # a unique origin, not the app's
    assert content.locator("h1").evaluate("h => h.ownerDocument.title") != "ran"  # its script did not run
    frame.scroll_into_view_if_needed()
    shot(page, "rich-media-html")


def test_table_cells_play_and_open_viewers(pages: Pages, media_run: str) -> None:
    page = open_media(pages, media_run)
    panel = page.get_by_role("region", name="cells", exact=True)
    panel.scroll_into_view_if_needed()
    audio = panel.get_by_role("table").locator("audio")
    page.wait_for_function("a => a.readyState >= 1", arg=audio.element_handle())
    panel.get_by_role("button", name="View in 3-D").click()
    dialog = page.get_by_role("dialog")
    viewer = dialog.get_by_test_id("object3d")
    expect(viewer).to_have_attribute("data-points", "50")
    assert drawn_pixels(viewer.locator("canvas")) > 50
    shot(page, "rich-media-table-dialog")
    dialog.get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
