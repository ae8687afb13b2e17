"""Image masks, boxes, classes and figures: wandb's input formats, how they are stored, the errors."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage

import wakelog
from tests.conftest import history, records
from wakelog.sdk.media import BoundingBoxes2D, Classes, Image, ImageMask, _figures

LABELS = {0: "background", 1: "road", 2: "car"}


def segmentation() -> np.ndarray:
    mask = np.zeros((6, 8), dtype=np.int64)
    mask[1:4, 2:6] = 2
    mask[5, :] = 1
    return mask


def read_png(path: Path) -> tuple[str | None, str, tuple[int, int], np.ndarray]:
    with PILImage.open(path) as png:
        return png.format, png.mode, png.size, np.asarray(png)


def read_json(run_dir: Path, stub: dict[str, Any]) -> Any:
    return json.loads((run_dir / "files" / stub["path"]).read_text())


BOXES = {
    "box_data": [
        {
            "position": {"minX": 0.1, "maxX": 0.4, "minY": 0.2, "maxY": 0.8},
            "class_id": 2,
            "box_caption": "car 0.93",
            "scores": {"conf": np.float32(0.5), "iou": 1},
        },
        {"position": {"middle": [4, 3], "width": 2, "height": 4}, "domain": "pixel", "class_id": np.int64(1)},
    ],
    "class_labels": LABELS,
}


# -- masks ----------------------------------------------------------------------------


def test_mask_stored_as_png_of_class_ids(tmp_path: Path) -> None:
    mask = segmentation()
    image = Image(
        np.zeros((6, 8, 3), np.uint8), masks={"prediction": {"mask_data": mask, "class_labels": LABELS}}
    )
    mask[:] = 0  # the Image made its own copy
    stub = image.to_stub(tmp_path, "val/seg", 3)
    entry = stub["masks"]["prediction"]
    assert entry["_type"] == "mask"
    assert entry["path"].startswith("media/images/mask/val_seg_3_") and entry["path"].endswith(".mask.png")
    assert entry["class_labels"] == {"0": "background", "1": "road", "2": "car"}
    fmt, mode, _, ids = read_png(tmp_path / "files" / entry["path"])
    assert (fmt, mode) == ("PNG", "L")
    np.testing.assert_array_equal(ids, segmentation())
    data = (tmp_path / "files" / entry["path"]).read_bytes()
    assert entry["size"] == len(data)


def test_mask_without_labels_names_the_ids_present(tmp_path: Path) -> None:
    stub = Image(np.zeros((6, 8)), masks={"gt": {"mask_data": segmentation()}}).to_stub(tmp_path, "k", 0)
    assert stub["masks"]["gt"]["class_labels"] == {"0": "class_0", "1": "class_1", "2": "class_2"}


def test_mask_from_png_path_is_copied_byte_for_byte(tmp_path: Path) -> None:
    source = tmp_path / "mask.png"
    PILImage.fromarray(segmentation().astype(np.uint8)).save(source)
    image = Image(np.zeros((6, 8)), masks={"gt": {"path": str(source), "class_labels": LABELS}})
    stub = image.to_stub(tmp_path / "run", "k", 0)
    assert (tmp_path / "run" / "files" / stub["masks"]["gt"]["path"]).read_bytes() == source.read_bytes()


def test_built_mask_and_box_objects_are_accepted(tmp_path: Path) -> None:
    image = Image(
        np.zeros((6, 8)),
        masks={"gt": ImageMask({"mask_data": segmentation()}, "gt")},
        boxes={"pred": BoundingBoxes2D(BOXES, "pred")},
    )
    stub = image.to_stub(tmp_path, "k", 0)
    assert set(stub["masks"]) == {"gt"} and set(stub["boxes"]) == {"pred"}


@pytest.mark.parametrize(
    ("masks", "error", "message"),
    [
        ([1], TypeError, r"Image masks must be a dict of set names"),
        (
            {"gt": {"data": 1}},
            TypeError,
            r"masks\['gt'\] needs 'mask_data' .* or 'path'.*got keys \['data'\]",
        ),
        (
            {"gt": {"mask_data": np.zeros((2, 2, 3))}},
            ValueError,
            r"masks\['gt'\]\['mask_data'\] must be a 2-D .* shape \(2, 2, 3\)",
        ),
        (
            {"gt": {"mask_data": np.array([[0, 256]])}},
            ValueError,
            r"class ids must be 0\.\.255; got values from 0 to 256",
        ),
        ({"gt": {"mask_data": np.array([[0.5, 1.0]])}}, ValueError, r"not whole numbers"),
        (
            {"gt": {"mask_data": np.zeros((2, 2)), "class_labels": {"a": "x"}}},
            TypeError,
            r"\['class_labels'\] key 'a' must be an integer",
        ),
        (
            {"gt": {"mask_data": np.zeros((2, 2)), "class_labels": {1: 2}}},
            TypeError,
            r"\['class_labels'\]\[1\] must be a str",
        ),
        (
            {"gt": {"path": "/no/such/mask.png"}},
            FileNotFoundError,
            r"masks\['gt'\]\['path'\] '/no/such/mask.png' does not exist",
        ),
    ],
)
def test_bad_masks_name_what_is_wrong(masks: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Image(np.zeros((2, 2)), masks=masks)


# -- boxes ----------------------------------------------------------------------------


def test_boxes_stored_as_json_beside_the_image(tmp_path: Path) -> None:
    stub = Image(np.zeros((6, 8)), boxes={"predictions": BOXES}).to_stub(tmp_path, "det", 9)
    entry = stub["boxes"]["predictions"]
    assert entry["_type"] == "boxes2D"
    assert entry["path"].startswith("media/metadata/boxes2D/det_9_") and entry["path"].endswith(
        ".boxes2D.json"
    )
    assert read_json(tmp_path, entry) == {
        "box_data": [
            {
                "position": {"minX": 0.1, "maxX": 0.4, "minY": 0.2, "maxY": 0.8},
                "class_id": 2,
                "box_caption": "car 0.93",
                "scores": {"conf": 0.5, "iou": 1},
            },
            {"position": {"middle": [4, 3], "width": 2, "height": 4}, "domain": "pixel", "class_id": 1},
        ],
        "class_labels": {"0": "background", "1": "road", "2": "car"},
    }


def test_boxes_without_labels_name_the_ids_present(tmp_path: Path) -> None:
    boxes = {"box_data": [{"position": {"middle": [0.5, 0.5], "width": 0.1, "height": 0.1}, "class_id": 7}]}
    stub = Image(np.zeros((4, 4)), boxes={"b": boxes}).to_stub(tmp_path, "k", 0)
    assert read_json(tmp_path, stub["boxes"]["b"])["class_labels"] == {"7": "class_7"}


def box(**fields: Any) -> dict[str, Any]:
    return {"box_data": [{"position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1}, **fields}]}


@pytest.mark.parametrize(
    ("boxes", "error", "message"),
    [
        ({"b": {"boxes": []}}, TypeError, r"boxes\['b'\] must be a dict with 'box_data'"),
        ({"b": {"box_data": {}}}, TypeError, r"\['box_data'\] must be a list of boxes"),
        (
            {"b": {"box_data": [{"position": {"x": 1}}]}},
            TypeError,
            r"\['box_data'\]\[0\]\['position'\] needs minX, maxX, minY, maxY or middle, width, "
            r"height; got keys \['x'\]",
        ),
        (
            {"b": {"box_data": [{"position": {"minX": 0, "maxX": "1", "minY": 0, "maxY": 1}}]}},
            TypeError,
            r"\['position'\]\['maxX'\] must be a finite number; got '1'",
        ),
        (
            {"b": {"box_data": [{"position": {"middle": [1], "width": 1, "height": 1}}]}},
            TypeError,
            r"\['middle'\] must be \[x, y\]",
        ),
        ({"b": box(domain="percent")}, ValueError, r"\['domain'\] must be 'pixel' or absent"),
        ({"b": box(class_id=1.5)}, TypeError, r"\['class_id'\] must be an integer class id; got 1.5"),
        ({"b": box(box_caption=3)}, TypeError, r"\['box_caption'\] must be a str"),
        ({"b": box(scores=[1])}, TypeError, r"\['scores'\] must be a dict of str names to numbers"),
        (
            {"b": box(scores={"conf": float("nan")})},
            TypeError,
            r"\['scores'\]\['conf'\] must be a finite number",
        ),
    ],
)
def test_bad_boxes_name_what_is_wrong(boxes: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Image(np.zeros((2, 2)), boxes=boxes)


# -- classes, grouping, the run config ---------------------------------------------------


def test_classes_and_grouping_in_the_stub(tmp_path: Path) -> None:
    classes = Classes([{"id": 1, "name": "road"}, {"id": 2, "name": "car"}])
    stub = Image(np.zeros((2, 2)), classes=classes, grouping=4).to_stub(tmp_path, "k", 0)
    assert stub["classes"] == [{"id": 1, "name": "road"}, {"id": 2, "name": "car"}]
    assert stub["grouping"] == 4
    plain = Image(np.zeros((2, 2)), classes=[{"id": 3, "name": "sky"}]).to_stub(tmp_path, "k", 0)
    assert plain["classes"] == [{"id": 3, "name": "sky"}]
    assert "masks" not in plain and "boxes" not in plain and "grouping" not in plain


def test_bad_classes() -> None:
    with pytest.raises(TypeError, match=r"classes\[1\] must be a dict with 'id' and 'name'"):
        Classes([{"id": 1, "name": "a"}, {"id": 2}])


def test_logged_overlays_put_class_labels_in_the_run_config() -> None:
    run = wakelog.init(mode="offline")
    image = Image(
        np.zeros((6, 8)),
        masks={"gt": {"mask_data": segmentation(), "class_labels": LABELS}},
        boxes={"pred": BOXES},
    )
    run.log({"seg": image})
    run.log({"seg": image})  # the same labels again: no new config record
    run.finish()
    labels = {"0": "background", "1": "road", "2": "car"}
    assert run.config["_wandb"] == {
        "mask/class_labels": {
            "seg_wandb_delimeter_gt": {
                "type": "mask/class_labels",
                "key": "seg_wandb_delimeter_gt",
                "value": labels,
            }
        },
        "bounding_box/class_labels": {
            "seg_wandb_delimeter_pred": {
                "type": "bounding_box/class_labels",
                "key": "seg_wandb_delimeter_pred",
                "value": labels,
            }
        },
    }
    run_dir = Path(run.dir).parent
    configs = [r.data["update"] for r in records(run_dir, "config") if "_wandb" in r.data["update"]]
    assert len(configs) == 1
    stub = history(run_dir)[0]["seg"]
    assert stub["masks"]["gt"]["_type"] == "mask" and stub["boxes"]["pred"]["_type"] == "boxes2D"
    assert (run_dir / "files" / stub["masks"]["gt"]["path"]).is_file()


# -- figures ----------------------------------------------------------------------------


def test_matplotlib_figure_axes_and_pyplot(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
    ax.plot([0, 1], [1, 0])
    try:
        for source in (fig, ax, plt):
            stub = Image(source).to_stub(tmp_path, "mpl", 0)
            fmt, _, size, _ = read_png(tmp_path / "files" / stub["path"])
            assert fmt == "PNG" and (stub["width"], stub["height"]) == size == (100, 50)
    finally:
        plt.close(fig)


def test_a_plotly_render_that_fails_in_the_browser_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """kaleido's Chromium tab may not be ready on a loaded machine; the image is not lost to it,
    and a render that keeps failing says why after a bounded number of tries."""
    pio = pytest.importorskip("plotly.io")
    calls: list[dict[str, Any]] = []

    def render(figure: dict[str, Any], format: str, *, failures: int) -> bytes:
        calls.append(figure)
        if len(calls) <= failures:
            raise RuntimeError("ReferenceError: kaleido_scopes is not defined")
        return b"png"

    monkeypatch.setattr(pio, "to_image", functools.partial(render, failures=_figures.RENDER_TRIES - 1))
    assert _figures.plotly_png({"data": []}) == b"png"
    assert len(calls) == _figures.RENDER_TRIES
    calls.clear()
    monkeypatch.setattr(pio, "to_image", functools.partial(render, failures=_figures.RENDER_TRIES))
    with pytest.raises(RuntimeError, match="kaleido_scopes"):
        _figures.plotly_png({"data": []})
    assert len(calls) == _figures.RENDER_TRIES


def test_plotly_figure_rendered_later_from_a_snapshot(tmp_path: Path) -> None:
    go = pytest.importorskip("plotly.graph_objects")
    pytest.importorskip("kaleido")
    if not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")):
        pytest.skip("kaleido needs a Chromium")
    fig = go.Figure(go.Bar(x=[1, 2], y=[3, 1]))
    fig.update_layout(width=320, height=200)
    image = Image(fig)
    fig.update_layout(width=100)  # later edits do not change the logged image
    stub = image.to_stub(tmp_path, "plotly", 0)
    fmt, _, size, _ = read_png(tmp_path / "files" / stub["path"])
    assert fmt == "PNG" and size == (320, 200) == (stub["width"], stub["height"])
