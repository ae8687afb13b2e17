"""Images: arrays, tensors, PIL images, image files and charts, stored as PNG (or JPEG).

An image may carry overlays in wandb's formats: segmentation masks (``_masks.py``) and
bounding boxes (``_boxes.py``), each named set stored beside the image and listed in its stub.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _figures
from ._base import Media
from ._boxes import BoundingBoxes2D
from ._classes import Classes, as_classes
from ._convert import to_numpy
from ._files import write_media_file
from ._masks import ImageMask
from ._pixels import check_array, to_uint8

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image as PILImage

_FORMATS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg"}
_EXT = {"png": "png", "jpeg": "jpg"}
_PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG"}
_JPEG_QUALITY = 90
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}
_JPEG_MODES = {"1", "L", "RGB", "CMYK"}
_ACCEPTED = (
    "a numpy array (HW, HWC or CHW with 1, 3 or 4 channels), a tensor with .numpy(), "
    "a PIL.Image.Image, a matplotlib or plotly figure, or a path to an image file"
)


def _encodable(img: PILImage.Image, fmt: str) -> PILImage.Image:
    """Convert ``img`` to a mode the target format can store."""
    modes = _PNG_MODES if fmt == "png" else _JPEG_MODES
    if img.mode in modes:
        return img
    if img.mode in ("I", "F", "I;16", "LA", "La") and (fmt == "jpeg" or img.mode in ("I", "F")):
        return img.convert("L")
    has_alpha = "A" in img.mode or "a" in img.mode or "transparency" in img.info
    return img.convert("RGBA" if has_alpha and fmt == "png" else "RGB")


def _check_options(mode: str | None, caption: str | None, file_type: str | None) -> str | None:
    """Validate ``Image``'s keyword arguments; return the wanted format (None: decide from the data)."""
    from PIL import ImageMode

    if caption is not None and not isinstance(caption, str):
        raise TypeError(f"Image caption must be a str or None; got {type(caption).__name__}")
    if mode is not None:
        try:
            ImageMode.getmode(mode)
        except (KeyError, TypeError):
            raise ValueError(f"Image mode {mode!r} is not a PIL mode (e.g. 'L', 'RGB', 'RGBA')") from None
    if file_type is None:
        return None
    fmt = _FORMATS.get(str(file_type).lower().lstrip("."))
    if fmt is None:
        raise ValueError(f"Image file_type must be 'png', 'jpeg' or 'jpg'; got {file_type!r}")
    return fmt


def _overlays(kind: type[Any], given: Any, name: str) -> dict[str, Any]:
    """``masks``/``boxes``: a dict of set name to the wandb dict form (or an already built set)."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise TypeError(
            f"Image {name} must be a dict of set names to {name} dicts; got {type(given).__name__}"
        )
    built: dict[str, Any] = {}
    for key, value in given.items():
        if not isinstance(key, str):
            raise TypeError(f"Image {name} set names must be str; got {key!r}")
        built[key] = value if isinstance(value, kind) else kind(value, key)
    return built


class Image(Media):
    """An image logged as a PNG (default) or JPEG file, optionally with masks and boxes.

    Args:
        data_or_path: numpy array (HW, HWC, CHW with 1/3/4 channels; bool, int or
            float), tensor with ``.numpy()`` (bf16 handled), ``PIL.Image.Image``,
            a matplotlib figure (or ``pyplot``, or an Axes), a plotly figure, or a
            path to an image file.
        mode: PIL mode to convert to before encoding (e.g. ``"L"``, ``"RGB"``).
        caption: text shown under the image.
        grouping: wandb's grouping number, kept in the stub.
        classes: ``Classes`` or a list of ``{"id", "name"}`` dicts naming the
            class ids of the masks and boxes.
        boxes: ``{set name: {"box_data": [...], "class_labels": {...}}}`` (see ``_boxes.py``).
        masks: ``{set name: {"mask_data": array | "path": png, "class_labels": {...}}}``.
        file_type: ``"png"`` or ``"jpeg"``/``"jpg"``. Default: PNG, except that
            PNG and JPEG files given by path keep their format.
        normalize: apply wandb's range rule to arrays (see ``_pixels.py``); False
            casts the values to uint8 as they are.

    The pixels are copied now; encoding happens when the writer calls ``to_stub``.
    """

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        grouping: int | None = None,
        classes: Classes | list[dict[str, Any]] | None = None,
        boxes: dict[str, Any] | None = None,
        masks: dict[str, Any] | None = None,
        file_type: str | None = None,
        normalize: bool = True,
    ) -> None:
        from PIL import Image as PILImage

        fmt = _check_options(mode, caption, file_type)
        self._caption = caption
        self._mode = mode
        self._normalize = normalize
        self._grouping = grouping
        self._classes = as_classes(classes)
        self._boxes: dict[str, BoundingBoxes2D] = _overlays(BoundingBoxes2D, boxes, "boxes")
        self._masks: dict[str, ImageMask] = _overlays(ImageMask, masks, "masks")
        self._pixels: np.ndarray | None = None
        self._pil: PILImage.Image | None = None
        self._raw: bytes | None = None  # encoded file content given by path or rendered from a figure
        self._plotly: dict[str, Any] | None = None  # a plotly figure, rendered by the writer thread
        self._encoded: bytes | None = None  # cache: encoding once serves every later to_stub
        self._lock = threading.Lock()  # one object may be serialised twice (e.g. in two tables)
        self._width: int | None = None
        self._height: int | None = None

        if isinstance(data_or_path, str | os.PathLike):
            self._read_bytes(self._read_path(Path(data_or_path)), fmt, str(data_or_path))
        elif isinstance(data_or_path, PILImage.Image):
            self._pil = data_or_path.copy()
            self._width, self._height = self._pil.size
            self._format = fmt or "png"
        elif _figures.is_matplotlib(data_or_path):
            self._read_bytes(_figures.matplotlib_png(data_or_path), fmt, "matplotlib figure")
        elif _figures.is_plotly(data_or_path):
            self._plotly = _figures.plotly_json(data_or_path)
            self._format = fmt or "png"
        else:
            self._copy_pixels(data_or_path)
            self._format = fmt or "png"

    @staticmethod
    def _read_path(path: Path) -> bytes:
        if not path.is_file():
            raise FileNotFoundError(f"Image path {str(path)!r} does not exist or is not a file")
        return path.read_bytes()

    def _read_bytes(self, raw: bytes, fmt: str | None, source: str) -> None:
        from PIL import Image as PILImage
        from PIL import UnidentifiedImageError

        try:
            with PILImage.open(io.BytesIO(raw)) as probe:
                source_fmt = (probe.format or "").lower()
                self._width, self._height = probe.size
        except UnidentifiedImageError:
            raise ValueError(f"Image path {source!r} is not an image file PIL can read") from None
        source_fmt = _FORMATS.get(source_fmt, "")
        self._format = fmt or source_fmt or "png"
        self._raw = raw
        if self._format == source_fmt and self._mode is None:
            self._encoded = raw  # already in the wanted format: copy the file as is

    def _copy_pixels(self, data: Any) -> None:
        import numpy as np

        try:
            arr = to_numpy(data)
        except Exception as exc:
            raise TypeError(
                f"Image cannot use a {type(data).__name__}: expected {_ACCEPTED} ({exc})"
            ) from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"Image cannot use a {type(data).__name__} with dtype {arr.dtype}; expected {_ACCEPTED}"
            )
        view, self._height, self._width = check_array(arr)
        # Snapshot only (one memcpy); the pixel conversion waits for the writer thread.
        self._pixels = np.array(view, copy=True)

    @property
    def width(self) -> int:
        if self._width is None:
            self._encode()  # a plotly figure's size is known once it is rendered
        assert self._width is not None
        return self._width

    @property
    def height(self) -> int:
        if self._height is None:
            self._encode()
        assert self._height is not None
        return self._height

    @property
    def caption(self) -> str | None:
        return self._caption

    @property
    def format(self) -> str:
        """``"png"`` or ``"jpeg"``: the format of the file ``to_stub`` writes."""
        return self._format

    def _to_pil(self) -> PILImage.Image:
        from PIL import Image as PILImage

        if self._pixels is not None:
            return PILImage.fromarray(to_uint8(self._pixels, self._normalize))
        if self._pil is not None:
            return self._pil
        if self._plotly is not None:
            self._raw = _figures.plotly_png(self._plotly)
        assert self._raw is not None
        img = PILImage.open(io.BytesIO(self._raw))
        img.load()
        return img

    def _encode(self) -> bytes:
        with self._lock:
            return self._encode_locked()

    def _encode_locked(self) -> bytes:
        if self._encoded is None:
            img = self._to_pil()
            self._width, self._height = img.size
            if self._mode is not None and img.mode != self._mode:
                img = img.convert(self._mode)
            img = _encodable(img, self._format)
            buf = io.BytesIO()
            options = {"quality": _JPEG_QUALITY} if self._format == "jpeg" else {}
            img.save(buf, format=_PIL_FORMAT[self._format], **options)
            self._encoded = buf.getvalue()
            # The encoded bytes now carry the content; drop the decoded copies.
            self._pixels = self._pil = self._raw = self._plotly = None
        return self._encoded

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        data = self._encode()
        stub: dict[str, Any] = {"_type": "image-file"}
        stub.update(write_media_file(run_dir, "images", key, step, data=data, ext=_EXT[self._format]))
        stub.update(format=self._format, width=self._width, height=self._height)
        if self._caption is not None:
            stub["caption"] = self._caption
        if self._grouping:
            stub["grouping"] = self._grouping
        if self._classes is not None:
            stub["classes"] = self._classes.to_json()
        if self._masks:
            stub["masks"] = {name: mask.to_stub(run_dir, key, step) for name, mask in self._masks.items()}
        if self._boxes:
            stub["boxes"] = {name: boxes.to_stub(run_dir, key, step) for name, boxes in self._boxes.items()}
        return stub

    def class_labels(self, key: str) -> dict[str, dict[str, Any]]:
        """The run-config entries wandb writes for this image's masks and boxes logged under ``key``.

        ``{"mask/class_labels": {"<key>_wandb_delimeter_<set>": {"type", "key", "value"}},
        "bounding_box/class_labels": {...}}`` (wandb's spelling of "delimiter"), empty without overlays.
        """
        found: dict[str, dict[str, Any]] = {}
        sets: list[tuple[str, dict[str, Any]]] = [
            ("mask/class_labels", self._masks),
            ("bounding_box/class_labels", self._boxes),
        ]
        for kind, named in sets:
            for name, overlay in named.items():
                labels = overlay.class_labels
                if labels is not None:
                    entry = f"{key}_wandb_delimeter_{name}"
                    found.setdefault(kind, {})[entry] = {"type": kind, "key": entry, "value": labels}
        return found

    def __repr__(self) -> str:
        size = "" if self._width is None else f"{self._width}x{self._height}, "
        caption = f", caption={self._caption!r}" if self._caption is not None else ""
        overlays = "".join(
            f", {n}={sorted(s)}" for n, s in (("masks", self._masks), ("boxes", self._boxes)) if s
        )
        return f"Image({size}{self._format}{caption}{overlays})"
