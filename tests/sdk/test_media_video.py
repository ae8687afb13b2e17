"""wakelog.Video: frames (single and batched into a grid) encoded as gif/mp4/webm/ogg, and files."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from wakelog.sdk.media import Video
from wakelog.sdk.media._video import grid_shape, tile

ffmpeg = pytest.importorskip("imageio_ffmpeg")


def gif_frames(path: Path) -> np.ndarray:
    with PILImage.open(path) as gif:
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB")))
        return np.stack(frames)


def decoded(path: Path, size: tuple[int, int]) -> tuple[str, list[np.ndarray]]:
    """The file's stream description (ffmpeg's words) and its frames as RGB."""
    exe = ffmpeg.get_ffmpeg_exe()
    info = subprocess.run(
        [exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False
    ).stderr
    raw = subprocess.run(
        [exe, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    w, h = size
    return info, list(np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3))


def blocks(t: int, n: int = 1) -> np.ndarray:
    """(n, t, 3, 8, 12) frames of flat colours (a few colours: GIF keeps them exactly)."""
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)
    out = np.zeros((n, t, 3, 8, 12), np.uint8)
    for b in range(n):
        for i in range(t):
            out[b, i] = colours[(b + i) % 4][:, None, None]
    return out


def test_gif_from_frames_is_exact(tmp_path: Path) -> None:
    frames = blocks(5)[0]
    stub = Video(frames, caption="c", fps=10, format="gif").to_stub(tmp_path, "clip", 3)
    assert set(stub) == {"_type", "path", "sha256", "size", "width", "height", "caption"}
    assert stub["_type"] == "video-file"
    assert stub["path"].startswith("media/videos/clip_3_") and stub["path"].endswith(".gif")
    assert (stub["width"], stub["height"], stub["caption"]) == (12, 8, "c")
    file = tmp_path / "files" / stub["path"]
    assert stub["size"] == file.stat().st_size
    np.testing.assert_array_equal(gif_frames(file), frames.transpose(0, 2, 3, 1))
    with PILImage.open(file) as gif:
        assert gif.info["duration"] == 100 and gif.info["loop"] == 0


@pytest.mark.parametrize(("fmt", "codec"), [("mp4", "h264"), ("webm", "vp8"), ("ogg", "theora")])
def test_ffmpeg_formats_decode_to_the_frames(tmp_path: Path, fmt: str, codec: str) -> None:
    frames = np.zeros((8, 3, 15, 21), np.uint8)  # odd sizes: padded, not scaled
    frames[:, 0] = 200
    frames[:, 2] = np.arange(8)[:, None, None] * 30  # distinct frames (Ogg drops repeated ones)
    stub = Video(frames, fps=8, format=fmt).to_stub(tmp_path, "v", 0)
    assert stub["path"].endswith("." + fmt) and (stub["width"], stub["height"]) == (21, 15)
    info, out = decoded(tmp_path / "files" / stub["path"], (22, 16))
    assert f"Video: {codec}" in info and "22x16" in info
    assert "8 fps" in info or "8 tbr" in info
    assert len(out) == 8
    for i, frame in enumerate(out):  # lossy, but close
        assert np.abs(frame[7, 10].astype(int) - [200, 0, i * 30]).max() < 12, (i, frame[7, 10])


def test_batch_becomes_wandb_grid() -> None:
    assert [grid_shape(n) for n in (1, 2, 3, 4, 5, 8, 9, 16)] == [
        (1, 1), (1, 2), (1, 4), (2, 2), (2, 4), (2, 4), (2, 8), (4, 4)
    ]  # fmt: skip
    video = blocks(2, n=3)
    grid = tile(video)
    assert grid.shape == (2, 8, 48, 3)  # 3 padded to 4 videos, one row
    for b in range(3):
        np.testing.assert_array_equal(grid[:, :, b * 12 : (b + 1) * 12], video[b].transpose(0, 2, 3, 1))
    assert not grid[:, :, 36:].any()  # the padding video is black


def test_uint8_cast_truncates_as_wandb() -> None:
    frames = np.full((1, 1, 3, 2, 2), 0.9)
    frames[0, 0, 0] = 254.7
    out = tile(frames)
    assert out[0, 0, 0].tolist() == [254, 0, 0]


def test_batched_stub_size(tmp_path: Path) -> None:
    stub = Video(blocks(2, n=5), format="gif").to_stub(tmp_path, "grid", 0)
    assert (stub["width"], stub["height"]) == (48, 16)
    assert gif_frames(tmp_path / "files" / stub["path"]).shape == (2, 16, 48, 3)


def test_frames_are_copied_and_encoding_waits(tmp_path: Path) -> None:
    frames = blocks(3)[0]
    video = Video(frames, format="gif")
    frames[:] = 0
    assert gif_frames(tmp_path / "files" / video.to_stub(tmp_path, "k", 0)["path"]).any()
    assert video._frames is None  # the encoded file replaced the frames


def test_files_are_kept_as_they_are(tmp_path: Path) -> None:
    clip = tmp_path / "clip.WEBM"
    clip.write_bytes(b"\x1aE\xdf\xa3 not really a webm")
    stub = Video(clip).to_stub(tmp_path, "f", 1)
    assert stub["path"].endswith(".webm") and set(stub) == {"_type", "path", "sha256", "size"}
    assert (tmp_path / "files" / stub["path"]).read_bytes() == clip.read_bytes()
    stub = Video(io.BytesIO(b"GIF89a..."), format="gif", caption="x").to_stub(tmp_path, "b", 0)
    assert stub["path"].endswith(".gif") and (tmp_path / "files" / stub["path"]).read_bytes() == b"GIF89a..."
    with pytest.warns(UserWarning, match="fps applies to frames only"):
        Video(str(clip), fps=30)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.zeros((2, 3, 4)),), {}, ValueError, "shape \\(2, 3, 4\\); expected 4 dims"),
        ((np.zeros((2, 2, 4, 4)),), {}, ValueError, "channel dimension"),
        ((np.zeros((0, 3, 4, 4)),), {}, ValueError, "empty"),
        ((np.zeros((2, 3, 4, 4), dtype="U1"),), {}, TypeError, "numbers"),
        ((np.zeros((2, 3, 4, 4)),), {"format": "avi"}, ValueError, "format must be one of"),
        ((np.zeros((2, 3, 4, 4)),), {"fps": 0}, ValueError, "fps must be a positive number"),
        ((np.zeros((2, 3, 4, 4)),), {"caption": 3}, TypeError, "caption must be a str"),
        (("movie.avi",), {}, ValueError, "not one of \\['gif', 'mp4', 'webm', 'ogg'\\]"),
        (("missing.mp4",), {}, FileNotFoundError, "missing.mp4"),
        ((object(),), {}, TypeError, "Video cannot use a object"),
    ],
)
def test_refusals_name_the_problem(args: tuple, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Video(*args, **kwargs)


def test_missing_ffmpeg_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    video = Video(blocks(2)[0], format="mp4")
    with pytest.raises(ImportError, match=r"wakelog\[media\]"):
        video.to_stub(tmp_path, "v", 0)
    Video(blocks(2)[0], format="gif").to_stub(tmp_path, "v", 0)  # gif needs only Pillow
