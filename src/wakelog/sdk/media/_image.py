"""Images: arrays, tensors, PIL images and image files, stored as PNG (or JPEG)."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import Media
from ._convert import to_numpy
from ._files import write_media_file

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image as PILImage

_FORMATS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg"}
_EXT = {"png": "png", "jpeg": "jpg"}
_PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG"}
_CHANNELS = (1, 3, 4)
_JPEG_QUALITY = 90
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}
_JPEG_MODES = {"1", "L", "RGB", "CMYK"}
_ACCEPTED = (
    "a numpy array (HW, HWC or CHW with 1, 3 or 4 channels), a tensor with .numpy(), "
    "a PIL.Image.Image, or a path to an image file"
)


def _check_array(arr: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Validate an image array; return an HW/HWC view of it (CHW is transposed) and its height, width."""
    shape = tuple(arr.shape)
    if arr.size == 0:
        raise ValueError(f"Image got an empty array (shape {shape}); it needs at least one pixel")
    if arr.ndim == 3:
        if shape[-1] in _CHANNELS:
            pass
        elif shape[0] in _CHANNELS:
            arr = arr.transpose(1, 2, 0)  # CHW -> HWC
        else:
            raise ValueError(
                f"Image got an array of shape {shape}: neither the last (HWC) nor the first (CHW) "
                f"dimension is a channel count of 1, 3 or 4"
            )
        if arr.shape[-1] == 1:
            arr = arr[..., 0]
    elif arr.ndim != 2:
        hint = "; log a list of Images for a batch" if arr.ndim == 4 else ""
        raise ValueError(f"Image got an array of shape {shape}; expected 2 (HW) or 3 (HWC/CHW) dims{hint}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Image arrays must hold bool, integer or float values; got dtype {arr.dtype}")
    return arr, int(arr.shape[0]), int(arr.shape[1])


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Pixel values of a checked HW/HWC array as C-contiguous uint8.

    Floats whose finite maximum is <= 1.0 are taken as [0, 1] and scaled by 255
    (wandb's rule); everything is then rounded and clipped to 0..255. NaN becomes
    0, +inf 255, -inf 0. Booleans become 0/255.
    """
    import numpy as np

    kind = arr.dtype.kind
    if kind == "b":
        scaled: np.ndarray = np.ascontiguousarray(arr, dtype=np.uint8) * np.uint8(255)
        return scaled
    if kind in "ui":
        return np.ascontiguousarray(np.clip(arr, 0, 255), dtype=np.uint8)
    data = arr.astype(np.float32 if arr.dtype.itemsize <= 4 else np.float64, order="C")
    top = np.max(data, where=np.isfinite(data), initial=-np.inf)
    if top <= 1.0:
        data *= 255.0
    np.nan_to_num(data, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
    np.clip(data, 0.0, 255.0, out=data)
    np.rint(data, out=data)
    return data.astype(np.uint8)


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


class Image(Media):
    """An image logged as a PNG (default) or JPEG file.

    Args:
        data_or_path: numpy array (HW, HWC, CHW with 1/3/4 channels; bool, int or
            float), tensor with ``.numpy()`` (bf16 handled), ``PIL.Image.Image``,
            or a path to an image file.
        mode: PIL mode to convert to before encoding (e.g. ``"L"``, ``"RGB"``).
        caption: text shown under the image.
        file_type: ``"png"`` or ``"jpeg"``/``"jpg"``. Default: PNG, except that
            PNG and JPEG files given by path keep their format.

    The pixels are copied now; encoding happens when the writer calls ``to_stub``.
    """

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        file_type: str | None = None,
    ) -> None:
        from PIL import Image as PILImage

        fmt = _check_options(mode, caption, file_type)
        self._caption = caption
        self._mode = mode
        self._pixels: np.ndarray | None = None
        self._pil: PILImage.Image | None = None
        self._raw: bytes | None = None  # encoded file content given by path
        self._encoded: bytes | None = None  # cache: encoding once serves every later to_stub
        self._lock = threading.Lock()  # one object may be serialised twice (e.g. in two tables)

        if isinstance(data_or_path, str | os.PathLike):
            self._read_file(Path(data_or_path), fmt)
        elif isinstance(data_or_path, PILImage.Image):
            self._pil = data_or_path.copy()
            self._width, self._height = self._pil.size
            self._format = fmt or "png"
        else:
            self._copy_pixels(data_or_path)
            self._format = fmt or "png"

    def _read_file(self, path: Path, fmt: str | None) -> None:
        from PIL import Image as PILImage
        from PIL import UnidentifiedImageError

        if not path.is_file():
            raise FileNotFoundError(f"Image path {str(path)!r} does not exist or is not a file")
        raw = path.read_bytes()
        try:
            with PILImage.open(io.BytesIO(raw)) as probe:
                source_fmt = (probe.format or "").lower()
                self._width, self._height = probe.size
        except UnidentifiedImageError:
            raise ValueError(f"Image path {str(path)!r} is not an image file PIL can read") from None
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
        view, self._height, self._width = _check_array(arr)
        # Snapshot only (one memcpy); the pixel conversion waits for the writer thread.
        self._pixels = np.array(view, copy=True)

    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
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
            return PILImage.fromarray(_to_uint8(self._pixels))
        if self._pil is not None:
            return self._pil
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
            if self._mode is not None and img.mode != self._mode:
                img = img.convert(self._mode)
            img = _encodable(img, self._format)
            buf = io.BytesIO()
            options = {"quality": _JPEG_QUALITY} if self._format == "jpeg" else {}
            img.save(buf, format=_PIL_FORMAT[self._format], **options)
            self._encoded = buf.getvalue()
            # The encoded bytes now carry the content; drop the decoded copies.
            self._pixels = self._pil = self._raw = None
        return self._encoded

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        data = self._encode()
        stub: dict[str, Any] = {"_type": "image-file"}
        stub.update(write_media_file(run_dir, "images", key, step, data=data, ext=_EXT[self._format]))
        stub.update(format=self._format, width=self._width, height=self._height)
        if self._caption is not None:
            stub["caption"] = self._caption
        return stub

    def __repr__(self) -> str:
        caption = f", caption={self._caption!r}" if self._caption is not None else ""
        return f"Image({self._width}x{self._height}, {self._format}{caption})"
