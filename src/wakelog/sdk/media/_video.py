"""Videos: frame arrays encoded as GIF, MP4, WebM or Ogg, or video files stored as they are.

Arrays are ``(T, C, H, W)``, or ``(N, T, C, H, W)`` for a batch, which becomes one video of a
grid of ``N`` tiles the way wandb lays it out: the batch is padded with black videos to a power
of two, with ``2 ** ((bits(N) - 1) // 2)`` rows. Values are cast to uint8 as wandb does
(``astype``: floats truncate, so scale [0, 1] data by 255 first). GIF needs only Pillow; MP4,
WebM and Ogg need ffmpeg, from the ``wakelog[media]`` extra (imageio-ffmpeg).
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from wakelog._warn import warn

from ._convert import to_numpy
from ._source import FileMedia, check_caption, extension_of, is_file_like, is_path, read_file_like, read_path

if TYPE_CHECKING:
    import numpy as np

FORMATS = ("gif", "mp4", "webm", "ogg")
DEFAULT_FPS = 4
#: ffmpeg's encoder and output pixel format per container: what browsers play.
_CODECS = {"mp4": ("libx264", "yuv420p"), "webm": ("libvpx", "yuv420p"), "ogg": ("libtheora", "yuv420p")}
_ACCEPTED = "a (T, C, H, W) or (N, T, C, H, W) array or tensor, a video file path, or a file object"


def _check_format(fmt: Any) -> str | None:
    if fmt is None:
        return None
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise ValueError(f"Video format must be one of {list(FORMATS)}; got {fmt!r}")
    return fmt.lower()


def _check_fps(fps: Any) -> float | None:
    if fps is None:
        return None
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not fps > 0:
        raise ValueError(f"Video fps must be a positive number; got {fps!r}")
    return float(fps)


def _frames(data: Any) -> np.ndarray:
    """A snapshot of the frames as a 5-D (N, T, C, H, W) array."""
    import numpy as np

    try:
        arr = to_numpy(data)
    except Exception as exc:
        raise TypeError(f"Video cannot use a {type(data).__name__}: expected {_ACCEPTED} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Video cannot use a {type(data).__name__} of dtype {arr.dtype}: frames must be numbers; "
            f"expected {_ACCEPTED}"
        )
    if arr.ndim not in (4, 5):
        raise ValueError(
            f"Video got an array of shape {tuple(arr.shape)}; expected 4 dims (time, channels, height, "
            f"width) or 5 (batch, time, channels, height, width)"
        )
    if arr.size == 0:
        raise ValueError(f"Video got an empty array (shape {tuple(arr.shape)})")
    if arr.shape[-3] not in (1, 3, 4):
        raise ValueError(
            f"Video got an array of shape {tuple(arr.shape)}: the channel dimension (third from the end) "
            f"must be 1, 3 or 4"
        )
    return np.array(arr.reshape((1, *arr.shape)) if arr.ndim == 4 else arr, copy=True)


def grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns of the grid for a batch of ``n`` videos (padded to a power of two)."""
    padded = n if n & (n - 1) == 0 else 2 ** n.bit_length()
    rows = 2 ** ((n.bit_length() - 1) // 2)
    return rows, padded // rows


def tile(video: np.ndarray) -> np.ndarray:
    """(N, T, C, H, W) frames as (T, H', W', C) uint8 frames of a grid of the N videos."""
    import numpy as np

    n, t, c, h, w = video.shape
    frames = video.astype(np.uint8)  # wandb's cast: no scaling, floats truncate
    rows, cols = grid_shape(n)
    if rows * cols > n:  # pad the batch with black videos
        frames = np.concatenate([frames, np.zeros((rows * cols - n, t, c, h, w), np.uint8)])
    grid = frames.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return np.ascontiguousarray(grid.reshape(t, rows * h, cols * w, c))


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad (T, H, W, C) frames with black to even sizes, which yuv420p (what players take) needs."""
    import numpy as np

    _, h, w, _ = frames.shape
    if h % 2 == 0 and w % 2 == 0:
        return frames
    return np.ascontiguousarray(np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0))))


def _rgb(frames: np.ndarray, keep_alpha: bool) -> np.ndarray:
    import numpy as np

    channels = frames.shape[-1]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(frames, 3, axis=-1))
    if channels == 4 and not keep_alpha:
        return np.ascontiguousarray(frames[..., :3])
    return frames


def encode_gif(frames: np.ndarray, fps: float) -> bytes:
    """A looping GIF of (T, H, W, C) uint8 frames (Pillow, as imageio does for wandb)."""
    from PIL import Image as PILImage

    images = [PILImage.fromarray(frame) for frame in _rgb(frames, keep_alpha=True)]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=1000 / fps, loop=0)
    return buf.getvalue()


def _ffmpeg() -> Any:
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(
            "Video needs ffmpeg to encode mp4, webm or ogg: pip install 'wakelog[media]' "
            "(imageio-ffmpeg), or log format='gif'"
        ) from None
    return imageio_ffmpeg


def encode_ffmpeg(frames: np.ndarray, fps: float, fmt: str) -> bytes:
    """(T, H, W, C) uint8 frames as an mp4/webm/ogg file, encoded by ffmpeg into a temporary file."""
    ffmpeg = _ffmpeg()
    codec, pix_fmt = _CODECS[fmt]
    rgb = _even(_rgb(frames, keep_alpha=False))
    _, h, w, _ = rgb.shape
    with tempfile.TemporaryDirectory(prefix="wakelog-video-") as tmp:
        target = os.path.join(tmp, f"video.{fmt}")
        writer = ffmpeg.write_frames(
            target,
            (w, h),
            fps=fps,
            codec=codec,
            pix_fmt_out=pix_fmt,
            macro_block_size=1,  # _even made the sizes even; no scaling
            ffmpeg_log_level="error",
            output_params=["-b:v", "2M"] if fmt != "mp4" else None,
        )
        writer.send(None)
        for frame in rgb:
            writer.send(frame)
        writer.close()
        with open(target, "rb") as fh:
            return fh.read()


class Video(FileMedia):
    """A video, from frames or a file.

    Args:
        data_or_path: a ``(T, C, H, W)`` or ``(N, T, C, H, W)`` array or tensor of frames
            (C is 1, 3 or 4; a batch becomes a grid), a path to a gif/mp4/webm/ogg file, or a
            file object (``format`` says which).
        caption: text shown with the video.
        fps: frames per second for frames (default 4); files keep their own rate.
        format: ``"gif"`` (the default for frames), ``"mp4"``, ``"webm"`` or ``"ogg"``.

    Frames are copied now and encoded when the writer thread calls ``to_stub``.
    """

    _log_type = "video-file"
    _kind = "videos"

    def __init__(
        self,
        data_or_path: Any,
        caption: str | None = None,
        fps: float | None = None,
        format: str | None = None,
    ) -> None:
        self._caption = check_caption(caption, "Video")
        fmt = _check_format(format)
        self._fps = _check_fps(fps)
        self._frames: np.ndarray | None = None
        self._encoded: bytes | None = None
        self._width: int | None = None
        self._height: int | None = None
        self._lock = threading.Lock()  # one object may be logged under two keys
        if is_path(data_or_path) or is_file_like(data_or_path):
            self._read(data_or_path, fmt)
            if fps is not None:
                warn("Video fps applies to frames only; a video file keeps its own frame rate")
            return
        self._frames = _frames(data_or_path)
        self._format = fmt or "gif"
        n, _, _, h, w = self._frames.shape
        rows, cols = grid_shape(n)
        self._height, self._width = rows * h, cols * w

    def _read(self, source: Any, fmt: str | None) -> None:
        if is_path(source):
            name = os.fspath(source)
            ext = extension_of(name, FORMATS)
            if ext is None:
                raise ValueError(f"Video file {name!r} is not one of {list(FORMATS)} (by its extension)")
            self._encoded = read_path(name, "Video")
            self._format = ext
        else:
            self._encoded = read_file_like(source, "Video")
            self._format = fmt or "gif"

    @property
    def format(self) -> str:
        return self._format

    def _content(self) -> tuple[bytes, str]:
        with self._lock:
            if self._encoded is None:
                assert self._frames is not None
                frames = tile(self._frames)
                fps = self._fps or DEFAULT_FPS
                if self._format == "gif":
                    self._encoded = encode_gif(frames, fps)
                else:
                    self._encoded = encode_ffmpeg(frames, fps, self._format)
                self._frames = None  # the file now carries the content
            return self._encoded, self._format

    def _extra(self) -> dict[str, Any]:
        if self._width is None:
            return {}
        return {"width": self._width, "height": self._height}

    def __repr__(self) -> str:
        size = f"{self._width}x{self._height}, " if self._width is not None else ""
        return f"Video({size}{self._format})"
