"""Bounding boxes on an image: ``Image(boxes={name: {...}})`` and ``BoundingBoxes2D``.

wandb's input format, per box set::

    {"box_data": [{"position": {"minX", "maxX", "minY", "maxY"}    # or
                               {"middle": [x, y], "width", "height"},
                   "domain": "pixel",        # absent: fractions of the image size
                   "class_id": 1, "box_caption": "car 0.93", "scores": {"conf": 0.93}}, ...],
     "class_labels": {1: "car", ...}}

Stored as wandb stores them: the set as JSON (``box_data`` and ``class_labels``)
under ``media/metadata/boxes2D/`` named ``<key>_<step>_<hash>.boxes2D.json``, and
in the image's stub ``{"_type": "boxes2D", "path", "sha256", "size"}``. Without
``class_labels`` the ids present are named ``class_<id>``, as in wandb.
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path
from typing import Any

from ._classes import check_labels, class_id, default_labels
from ._files import write_media_file

_CORNERS = ("minX", "maxX", "minY", "maxY")
_CENTRE = ("middle", "width", "height")


def _number(value: Any, where: str) -> float | int:
    if hasattr(value, "tolist") and not isinstance(value, numbers.Number):
        value = value.tolist()  # a 0-d tensor or array
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{where} must be a finite number; got {value!r}")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _position(position: Any, where: str) -> dict[str, Any]:
    if not isinstance(position, dict):
        raise TypeError(f"{where} must be a dict; got {type(position).__name__}")
    if all(k in position for k in _CORNERS):
        return {k: _number(position[k], f"{where}[{k!r}]") for k in _CORNERS}
    if all(k in position for k in _CENTRE):
        middle = position["middle"]
        if hasattr(middle, "tolist"):
            middle = middle.tolist()  # tensors and arrays, as wandb accepts
        if not isinstance(middle, list | tuple) or len(middle) != 2:
            raise TypeError(f"{where}['middle'] must be [x, y]; got {middle!r}")
        return {
            "middle": [_number(v, f"{where}['middle'][{i}]") for i, v in enumerate(middle)],
            "width": _number(position["width"], f"{where}['width']"),
            "height": _number(position["height"], f"{where}['height']"),
        }
    raise TypeError(
        f"{where} needs minX, maxX, minY, maxY or middle, width, height; "
        f"got keys {sorted(map(str, position))}"
    )


def _box(box: Any, where: str) -> dict[str, Any]:
    if not isinstance(box, dict) or "position" not in box:
        raise TypeError(f"{where} must be a dict with a 'position'; got {box!r}")
    out: dict[str, Any] = {"position": _position(box["position"], f"{where}['position']")}
    domain = box.get("domain")
    if domain not in (None, "pixel"):
        raise ValueError(
            f"{where}['domain'] must be 'pixel' or absent (fractions of the image); got {domain!r}"
        )
    if domain is not None:
        out["domain"] = domain
    if "class_id" in box:
        out["class_id"] = class_id(box["class_id"], f"{where}['class_id']")
    if "box_caption" in box:
        if not isinstance(box["box_caption"], str):
            raise TypeError(f"{where}['box_caption'] must be a str; got {type(box['box_caption']).__name__}")
        out["box_caption"] = box["box_caption"]
    if "scores" in box:
        scores = box["scores"]
        if not isinstance(scores, dict) or not all(isinstance(k, str) for k in scores):
            raise TypeError(f"{where}['scores'] must be a dict of str names to numbers; got {scores!r}")
        out["scores"] = {k: _number(v, f"{where}['scores'][{k!r}]") for k, v in scores.items()}
    return out


class BoundingBoxes2D:
    """One named box set of an ``Image`` (``wandb.data_types.BoundingBoxes2D``)."""

    def __init__(self, val: dict[str, Any], key: str) -> None:
        where = f"Image boxes[{key!r}]"
        if not isinstance(val, dict) or "box_data" not in val:
            raise TypeError(f"{where} must be a dict with 'box_data' (a list of boxes); got {val!r}")
        if not isinstance(val["box_data"], list | tuple):
            raise TypeError(
                f"{where}['box_data'] must be a list of boxes; got {type(val['box_data']).__name__}"
            )
        self._key = key
        self._boxes = [_box(b, f"{where}['box_data'][{i}]") for i, b in enumerate(val["box_data"])]
        if "class_labels" in val:
            self._labels = check_labels(val["class_labels"], f"{where}['class_labels']")
        else:
            self._labels = default_labels([b["class_id"] for b in self._boxes if "class_id" in b])
        self._json = json.dumps({"box_data": self._boxes, "class_labels": self._labels}).encode()

    @property
    def class_labels(self) -> dict[str, str]:
        return dict(self._labels)

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        stub: dict[str, Any] = {"_type": "boxes2D"}
        stub.update(
            write_media_file(run_dir, "metadata/boxes2D", key, step, data=self._json, ext="boxes2D.json")
        )
        return stub
