"""Segmentation masks on an image: ``Image(masks={name: {...}})`` and ``ImageMask``.

wandb's input format, per mask set::

    {"mask_data": 2-D array of class ids 0..255, "class_labels": {id: name}}   # or
    {"path": "a greyscale PNG whose pixel values are class ids", "class_labels": {...}}

Stored as wandb stores them: a greyscale PNG under ``media/images/mask/`` named
``<key>_<step>_<hash>.mask.png``, and in the image's stub
``{"_type": "mask", "path", "sha256", "size"}``; wakelog adds the set's
``class_labels`` there so the web app needs nothing else to name the classes.
Without ``class_labels`` the ids present are named ``class_<id>``, as in wandb.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._classes import check_labels, default_labels
from ._convert import to_numpy
from ._files import write_media_file

if TYPE_CHECKING:
    import numpy as np


class ImageMask:
    """One named mask set of an ``Image`` (``wandb.data_types.ImageMask``)."""

    def __init__(self, val: dict[str, Any], key: str) -> None:
        where = f"Image masks[{key!r}]"
        if not isinstance(val, dict):
            raise TypeError(f"{where} must be a dict with 'mask_data' or 'path'; got {type(val).__name__}")
        self._key = key
        self._png: bytes | None = None
        self._ids: np.ndarray | None = None
        if "mask_data" in val:
            self._ids = _check_mask_data(val["mask_data"], where)
        elif "path" in val:
            self._png = _read_png(val["path"], where)
        else:
            raise TypeError(
                f"{where} needs 'mask_data' (a 2-D array of class ids) or 'path' (a mask PNG); "
                f"got keys {sorted(map(str, val))}"
            )
        if "class_labels" in val:
            self._labels: dict[str, str] | None = check_labels(
                val["class_labels"], f"{where}['class_labels']"
            )
        elif self._ids is not None:
            import numpy as np

            self._labels = default_labels(np.unique(self._ids).tolist())
        else:
            self._labels = None  # a mask file without labels: wandb names none either

    @property
    def class_labels(self) -> dict[str, str] | None:
        return None if self._labels is None else dict(self._labels)

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        if self._png is None:
            from PIL import Image as PILImage

            assert self._ids is not None
            buf = io.BytesIO()
            PILImage.fromarray(self._ids, mode="L").save(buf, format="PNG")
            self._png, self._ids = buf.getvalue(), None
        stub: dict[str, Any] = {"_type": "mask"}
        stub.update(write_media_file(run_dir, "images/mask", key, step, data=self._png, ext="mask.png"))
        if self._labels is not None:
            stub["class_labels"] = dict(self._labels)
        return stub


def _check_mask_data(data: Any, where: str) -> np.ndarray:
    """A 2-D array of whole numbers 0..255 as a uint8 copy."""
    import numpy as np

    try:
        arr = to_numpy(data)
    except Exception as exc:
        raise TypeError(
            f"{where}['mask_data'] must be a 2-D array of class ids; got {type(data).__name__} ({exc})"
        ) from None
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(
            f"{where}['mask_data'] must be a 2-D array (height, width) of class ids; got shape {arr.shape}"
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where}['mask_data'] must hold integer class ids; got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.floor(arr))):
        raise ValueError(
            f"{where}['mask_data'] holds floats that are not whole numbers; class ids are integers"
        )
    low, high = arr.min(), arr.max()
    if low < 0 or high > 255:
        raise ValueError(f"{where}['mask_data'] class ids must be 0..255; got values from {low} to {high}")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _read_png(path: Any, where: str) -> bytes:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{where}['path'] must be a file path; got {type(path).__name__}")
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{where}['path'] {str(file)!r} does not exist or is not a file")
    raw = file.read_bytes()
    try:
        with PILImage.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
    except UnidentifiedImageError:
        fmt = None
    if fmt != "PNG":
        raise ValueError(f"{where}['path'] {str(file)!r} is not a PNG file (a mask is a PNG of class ids)")
    return raw
