"""Images with masks and boxes, logged by the real SDK: drawn over the picture, toggled per class and set."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ENTITY, PROJECT, Pages, Seeded, run_finished_script, shot

# An 80x60 grey picture; the mask: top half "background" (0), bottom-left "road" (1), bottom-right
# "car" (2). A pixel box around the car's top (class 2) and a fraction box in the road (class 1).
SCRIPT = """
import numpy as np
run = wakelog.init(name="overlays", config={"lr": 0.1})
picture = np.full((60, 80, 3), 40, dtype=np.uint8)
mask = np.zeros((60, 80), dtype=np.uint8)
mask[30:, :40] = 1
mask[30:, 40:] = 2
labels = {0: "background", 1: "road", 2: "car"}
boxes = {"predictions": {"box_data": [
    {"position": {"minX": 45, "maxX": 75, "minY": 5, "maxY": 25}, "domain": "pixel", "class_id": 2,
     "box_caption": "car", "scores": {"conf": 0.9}},
    {"position": {"middle": [0.175, 0.75], "width": 0.25, "height": 0.4}, "class_id": 1},
], "class_labels": labels}}
def scene():
    return wakelog.Image(picture, caption="street", boxes=boxes,
                         masks={"segmentation": {"mask_data": mask, "class_labels": labels}})
run.log({"scene": scene(),
         "gallery": wakelog.Table(columns=["name", "scene"], data=[["street", scene()]])})
run.finish()
"""

CAR = [0, 130, 200]  # the palette's colours for class ids 2, 1, 0 (ImageOverlays.tsx)
ROAD = [60, 180, 75]
BACKGROUND = [230, 25, 75]
MASK_ALPHA = 115

# The canvas's RGBA at a point given as fractions of its size (or CSS pixels with css=True).
PIXEL_AT = """([c, x, y, css]) => {
    const sx = c.width / c.clientWidth, sy = c.height / c.clientHeight;
    const px = css ? x * sx : x * c.width, py = css ? y * sy : y * c.height;
    return Array.from(c.getContext("2d").getImageData(Math.floor(px), Math.floor(py), 1, 1).data);
}"""


@pytest.fixture(scope="module")
def overlay_run(seeded: Seeded) -> str:
    return run_finished_script(seeded, "overlays", SCRIPT)


def pixel(canvas: Any, x: float, y: float, *, css: bool = False) -> list[int]:
    return canvas.evaluate(f"(c, a) => ({PIXEL_AT})([c, ...a])", [x, y, css])


def wait_pixel(canvas: Any, x: float, y: float, rgba: list[int], *, css: bool = False) -> None:
    """Poll until the canvas shows ``rgba`` (±2 per channel: colour rounding) at the point."""
    canvas.page.wait_for_function(
        f"""([c, x, y, css, want]) => {{
            const got = ({PIXEL_AT})([c, x, y, css]);
            return got.every((v, i) => Math.abs(v - want[i]) <= 2);
        }}""",
        arg=[canvas.element_handle(), x, y, css, rgba],
        timeout=15_000,
    )


def test_masks_and_boxes_drawn_and_toggled(pages: Pages, overlay_run: str) -> None:
    page = pages.new()
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{overlay_run}?tab=media"))
    panel = page.get_by_role("region", name="scene", exact=True)
    canvas = panel.get_by_test_id("overlay-canvas")
    expect(panel.get_by_role("img", name="street")).to_be_visible()

    # Each mask class in its colour, translucent.
    wait_pixel(canvas, 0.8, 0.75, [*CAR, MASK_ALPHA])
    wait_pixel(canvas, 0.4, 0.75, [*ROAD, MASK_ALPHA])
    wait_pixel(canvas, 0.2, 0.2, [*BACKGROUND, MASK_ALPHA])
    # The pixel box's left edge, x = 45 of 80 image pixels, drawn opaque in the car colour.
    width, height = canvas.evaluate("c => [c.clientWidth, c.clientHeight]")
    edge = (45 / 80 * width, 15 / 60 * height)
    wait_pixel(canvas, *edge, [*CAR, 255], css=True)
    shot(page, "image-overlays")

    masks = panel.get_by_role("group", name="Masks: segmentation")
    boxes = panel.get_by_role("group", name="Boxes: predictions")
    expect(masks.get_by_role("checkbox")).to_have_count(4)  # the set and its three classes
    expect(boxes.get_by_role("checkbox", name="car")).to_be_checked()

    # "car" off in the masks: its pixels clear; the box (another set) stays.
    masks.get_by_role("checkbox", name="car").uncheck()
    wait_pixel(canvas, 0.8, 0.75, [0, 0, 0, 0])
    assert pixel(canvas, 0.4, 0.75) == [*ROAD, MASK_ALPHA]
    assert pixel(canvas, *edge, css=True) == [*CAR, 255]
    shot(page, "image-overlays-car-mask-off")

    # The whole box set off: the edge shows the background mask under it again.
    boxes.get_by_role("checkbox", name="Boxes: predictions").uncheck()
    wait_pixel(canvas, *edge, [*BACKGROUND, MASK_ALPHA], css=True)
    expect(boxes.get_by_role("checkbox", name="car")).to_be_disabled()
    # And the mask set off: nothing is drawn.
    masks.get_by_role("checkbox", name="Masks: segmentation").uncheck()
    wait_pixel(canvas, 0.4, 0.75, [0, 0, 0, 0])
    shot(page, "image-overlays-all-off")
    assert not pages.errors, pages.errors


def test_table_thumbnails_draw_the_overlays(pages: Pages, overlay_run: str) -> None:
    page = pages.new(locale="zh-CN")
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{overlay_run}?tab=media"))
    panel = page.get_by_role("region", name="gallery")
    canvas = panel.get_by_role("table", name="gallery").get_by_test_id("overlay-canvas")
    wait_pixel(canvas, 0.8, 0.75, [*CAR, MASK_ALPHA])
    wait_pixel(canvas, 0.2, 0.2, [*BACKGROUND, MASK_ALPHA])
    assert panel.get_by_role("checkbox").count() == 0, (
        "thumbnails draw everything; their toggles wait in a popover"
    )
    # The thumbnail's class toggles, from the keyboard: open, turn "car" off, close with Escape.
    button = panel.get_by_role("button", name="street 的叠加层类别")
    expect(button).to_have_attribute("aria-expanded", "false")
    button.focus()
    page.keyboard.press("Enter")
    popover = page.get_by_role("dialog", name="street 的叠加层类别")
    expect(popover).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    masks = popover.get_by_role("group", name="掩码：segmentation")
    expect(masks.get_by_role("checkbox")).to_have_count(4)
    expect(popover.get_by_role("checkbox", name="掩码：segmentation")).to_be_focused()
    car = masks.get_by_role("checkbox", name="car")
    car.focus()
    page.keyboard.press("Space")
    expect(car).not_to_be_checked()
    wait_pixel(canvas, 0.8, 0.75, [0, 0, 0, 0])
    wait_pixel(canvas, 0.2, 0.2, [*BACKGROUND, MASK_ALPHA])  # other classes stay
    shot(page, "image-overlays-thumb-popover-zh")
    page.keyboard.press("Escape")
    expect(popover).to_have_count(0)
    expect(button).to_be_focused()
    wait_pixel(canvas, 0.8, 0.75, [0, 0, 0, 0])  # the choice outlives the popover
    # The media view's controls, in Chinese.
    scene = page.get_by_role("region", name="scene", exact=True)
    expect(scene.get_by_role("group", name="掩码：segmentation")).to_be_visible()
    expect(scene.get_by_role("group", name="边界框：predictions")).to_be_visible()
    shot(page, "image-overlays-table-zh")

    # The class labels the SDK keeps in config._wandb (as wandb does) are not shown as config.
    page.goto(pages.url(f"/{ENTITY}/{PROJECT}/runs/{overlay_run}"))
    config = page.get_by_test_id("config-table")
    expect(config).to_contain_text("lr")
    expect(config).not_to_contain_text("_wandb")
    assert not pages.errors, pages.errors
