"""wakelog Image: every accepted input, pixel-exact PNG output, file layout, snapshots."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from wakelog.sdk.media import Image, Media


def decode(run_dir: Path, stub: dict) -> PILImage.Image:
    img = PILImage.open(run_dir / "files" / stub["path"])
    img.load()
    return img


def pixels(run_dir: Path, stub: dict) -> np.ndarray:
    return np.asarray(decode(run_dir, stub))


def rgb(h: int = 4, w: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


# -- array forms ----------------------------------------------------------------------


def test_grey_hw_uint8(tmp_path: Path) -> None:
    arr = np.arange(20, dtype=np.uint8).reshape(4, 5) * 12
    stub = Image(arr).to_stub(tmp_path, "grey", 0)
    assert decode(tmp_path, stub).mode == "L"
    np.testing.assert_array_equal(pixels(tmp_path, stub), arr)
    assert (stub["width"], stub["height"], stub["format"]) == (5, 4, "png")


@pytest.mark.parametrize(("channels", "mode"), [(1, "L"), (3, "RGB"), (4, "RGBA")])
def test_hwc_channels(tmp_path: Path, channels: int, mode: str) -> None:
    arr = np.random.default_rng(1).integers(0, 256, size=(6, 7, channels), dtype=np.uint8)
    stub = Image(arr).to_stub(tmp_path, "hwc", 0)
    img = decode(tmp_path, stub)
    assert img.mode == mode
    assert (stub["width"], stub["height"]) == (7, 6)
    np.testing.assert_array_equal(np.asarray(img), arr[..., 0] if channels == 1 else arr)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_chw_detected_and_transposed(tmp_path: Path, channels: int) -> None:
    hwc = np.random.default_rng(2).integers(0, 256, size=(6, 7, channels), dtype=np.uint8)
    chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))
    stub = Image(chw).to_stub(tmp_path, "chw", 0)
    assert (stub["width"], stub["height"]) == (7, 6)
    expected = hwc[..., 0] if channels == 1 else hwc
    np.testing.assert_array_equal(pixels(tmp_path, stub), expected)


def test_ambiguous_shape_prefers_hwc(tmp_path: Path) -> None:
    arr = rgb(3, 5)  # (3, 5, 3): the last dim is a channel count, so HWC wins
    stub = Image(arr).to_stub(tmp_path, "amb", 0)
    assert (stub["width"], stub["height"]) == (5, 3)
    np.testing.assert_array_equal(pixels(tmp_path, stub), arr)


def test_float_in_unit_range_is_scaled_and_truncated(tmp_path: Path) -> None:
    arr = np.linspace(0.0, 1.0, 12, dtype=np.float32).reshape(3, 4)
    stub = Image(arr).to_stub(tmp_path, "f", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), (arr * 255).astype(np.uint8))


def test_float_truncation_exact_bytes(tmp_path: Path) -> None:
    # wandb: (x * 255).astype(uint8): 0.999 * 255 = 254.745 -> 254, 0.5 -> 127 (rounding would give 255, 128)
    arr = np.array([[0.0, 0.5], [0.999, 1.0]], dtype=np.float64)
    stub = Image(arr).to_stub(tmp_path, "f", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), [[0, 127], [254, 255]])


def test_float_in_minus_one_one_is_mapped(tmp_path: Path) -> None:
    # wandb: 127.5 * (x + 1), truncated: -1 -> 0, -0.5 -> 63, 0 -> 127, 0.5 -> 191, 1 -> 255
    arr = np.array([[-1.0, -0.5, 0.0], [0.5, 0.999, 1.0]], dtype=np.float32)
    stub = Image(arr).to_stub(tmp_path, "f", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), [[0, 63, 127], [191, 254, 255]])


def test_float_above_one_is_clipped_and_truncated(tmp_path: Path) -> None:
    arr = np.array([[-5.0, 0.4, 100.9], [254.6, 300.0, 1.0]], dtype=np.float64)
    stub = Image(arr).to_stub(tmp_path, "f", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), [[0, 0, 100], [254, 255, 1]])


def test_float_non_finite_values(tmp_path: Path) -> None:
    # A NaN makes the minimum NaN, so (as in wandb) the array is clipped, not scaled: 0.5 -> 0.
    arr = np.array([[np.nan, np.inf], [-np.inf, 0.5]])
    stub = Image(arr).to_stub(tmp_path, "f", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), [[0, 255], [0, 0]])


def test_integer_arrays_are_clipped(tmp_path: Path) -> None:
    arr = np.array([[-3, 300], [7, 255]], dtype=np.int16)
    stub = Image(arr).to_stub(tmp_path, "i", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), [[0, 255], [7, 255]])


def test_integer_zero_one_array_is_scaled_like_wandb(tmp_path: Path) -> None:
    arr = np.array([[0, 1], [1, 0]], dtype=np.uint8)
    stub = Image(arr).to_stub(tmp_path, "i", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), [[0, 255], [255, 0]])


def test_normalize_false_casts_as_is(tmp_path: Path) -> None:
    arr = np.array([[0.0, 0.9], [1.0, 200.7]], dtype=np.float32)
    stub = Image(arr, normalize=False).to_stub(tmp_path, "n", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), [[0, 0], [1, 200]])


def test_bool_array(tmp_path: Path) -> None:
    arr = np.array([[True, False], [False, True]])
    stub = Image(arr).to_stub(tmp_path, "b", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), [[255, 0], [0, 255]])


def test_nested_list_is_accepted(tmp_path: Path) -> None:
    stub = Image([[0, 10], [20, 30]]).to_stub(tmp_path, "l", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), [[0, 10], [20, 30]])


# -- PIL and files --------------------------------------------------------------------


def test_pil_image_is_copied(tmp_path: Path) -> None:
    arr = rgb()
    pil = PILImage.fromarray(arr)
    image = Image(pil)
    pil.paste((0, 0, 0), (0, 0, 5, 4))  # mutate after construction
    np.testing.assert_array_equal(pixels(tmp_path, image.to_stub(tmp_path, "pil", 0)), arr)


def test_pil_palette_image(tmp_path: Path) -> None:
    pil = PILImage.fromarray(rgb()).convert("P")
    stub = Image(pil).to_stub(tmp_path, "p", 0)
    np.testing.assert_array_equal(
        np.asarray(decode(tmp_path, stub).convert("RGB")), np.asarray(pil.convert("RGB"))
    )


def test_png_path_is_copied_byte_for_byte(tmp_path: Path) -> None:
    src = tmp_path / "in.png"
    PILImage.fromarray(rgb()).save(src)
    for given in (src, str(src)):
        stub = Image(given).to_stub(tmp_path, "file", 1)
        assert (tmp_path / "files" / stub["path"]).read_bytes() == src.read_bytes()
        assert stub["format"] == "png"
        assert (stub["width"], stub["height"]) == (5, 4)


def test_jpeg_path_keeps_its_format(tmp_path: Path) -> None:
    src = tmp_path / "in.jpg"
    PILImage.fromarray(rgb()).save(src, format="JPEG")
    stub = Image(src).to_stub(tmp_path, "jpg", 0)
    assert stub["format"] == "jpeg"
    assert stub["path"].endswith(".jpg")
    assert (tmp_path / "files" / stub["path"]).read_bytes() == src.read_bytes()


def test_gif_path_is_reencoded_as_png(tmp_path: Path) -> None:
    src = tmp_path / "in.gif"
    arr = np.array([[0, 255], [255, 0]], dtype=np.uint8)
    PILImage.fromarray(arr).save(src, format="GIF")
    stub = Image(src).to_stub(tmp_path, "gif", 0)
    assert stub["format"] == "png"
    img = decode(tmp_path, stub)
    assert img.format == "PNG"
    np.testing.assert_array_equal(np.asarray(img.convert("L")), arr)


def test_path_file_changed_after_construction(tmp_path: Path) -> None:
    src = tmp_path / "in.png"
    arr = rgb()
    PILImage.fromarray(arr).save(src)
    image = Image(src)
    PILImage.fromarray(rgb(seed=9)).save(src)
    np.testing.assert_array_equal(pixels(tmp_path, image.to_stub(tmp_path, "k", 0)), arr)


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Image(tmp_path / "missing.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="not an image"):
        Image(junk)


def test_file_type_jpeg(tmp_path: Path) -> None:
    arr = np.full((8, 8, 4), 200, dtype=np.uint8)  # RGBA: alpha must be dropped for JPEG
    stub = Image(arr, file_type="JPG").to_stub(tmp_path, "j", 0)
    img = decode(tmp_path, stub)
    assert (stub["format"], img.format, img.mode) == ("jpeg", "JPEG", "RGB")
    assert stub["path"].endswith(".jpg")
    assert np.abs(np.asarray(img).astype(int) - 200).max() <= 2


def test_mode_conversion(tmp_path: Path) -> None:
    stub = Image(rgb(), mode="L").to_stub(tmp_path, "m", 0)
    assert decode(tmp_path, stub).mode == "L"


# -- stub, file layout ----------------------------------------------------------------


def test_stub_shape_and_caption(tmp_path: Path) -> None:
    stub = Image(rgb(), caption="a cat").to_stub(tmp_path, "train/samples", 12)
    assert set(stub) == {"_type", "path", "sha256", "size", "format", "width", "height", "caption"}
    assert stub["_type"] == "image-file"
    assert stub["caption"] == "a cat"
    assert stub["path"].startswith("media/images/train_samples_12_")
    assert stub["path"].endswith(f"{stub['sha256'][:20]}.png")
    file = tmp_path / "files" / stub["path"]
    assert file.resolve().parent == (tmp_path / "files" / "media" / "images").resolve()
    assert stub["size"] == file.stat().st_size
    json.dumps(stub, allow_nan=False)
    assert "caption" not in Image(rgb()).to_stub(tmp_path, "k", 0)


def test_same_content_same_name(tmp_path: Path) -> None:
    a = Image(rgb()).to_stub(tmp_path, "k", 3)
    b = Image(rgb()).to_stub(tmp_path, "k", 3)
    c = Image(rgb()).to_stub(tmp_path, "k", 4)
    assert a == b
    assert c["sha256"] == a["sha256"] and c["path"] != a["path"]
    names = sorted(p.name for p in (tmp_path / "files" / "media" / "images").iterdir())
    assert len(names) == 2 and not any(n.startswith(".tmp") for n in names)


def test_mutation_after_construction_is_ignored(tmp_path: Path) -> None:
    for arr in (rgb(), rgb().astype(np.float32) / 255, rgb().transpose(2, 0, 1)):
        expected = Image(arr.copy()).to_stub(tmp_path, "k", 0)
        image = Image(arr)
        arr[...] = 0
        assert image.to_stub(tmp_path, "k", 0) == expected


def test_to_stub_twice_is_stable(tmp_path: Path) -> None:
    image = Image(rgb())
    assert image.to_stub(tmp_path, "k", 0) == image.to_stub(tmp_path, "k", 0)
    assert isinstance(image, Media) and image.frozen() is image


def test_concurrent_writers(tmp_path: Path) -> None:
    images = [Image(rgb(seed=i % 5)) for i in range(40)]
    stubs: list[dict] = [{}] * len(images)

    def work(i: int) -> None:
        stubs[i] = images[i].to_stub(tmp_path, "k", 0)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, stub in enumerate(stubs):
        np.testing.assert_array_equal(pixels(tmp_path, stub), rgb(seed=i % 5))
    files = list((tmp_path / "files" / "media" / "images").iterdir())
    assert len(files) == 5


# -- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arr", "match"),
    [
        (np.zeros((2, 3, 4, 5)), r"shape \(2, 3, 4, 5\).*list of Images"),
        (np.zeros(5), r"shape \(5,\)"),
        (np.zeros(()), r"shape \(\)"),
        (np.zeros((0, 4)), r"empty.*shape \(0, 4\)"),
        (np.zeros((5, 6, 2)), r"shape \(5, 6, 2\).*1, 3 or 4"),
        (np.zeros((2, 2, 2)), r"shape \(2, 2, 2\)"),
    ],
)
def test_bad_shapes(arr: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Image(arr)


@pytest.mark.parametrize(
    "value", [np.array([["a", "b"]]), np.ones((2, 2), dtype=complex), {"x": 1}, object()]
)
def test_bad_types(value: object) -> None:
    with pytest.raises(TypeError, match="Image"):
        Image(value)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="caption"):
        Image(rgb(), caption=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="file_type"):
        Image(rgb(), file_type="bmp")
    with pytest.raises(ValueError, match="mode"):
        Image(rgb(), mode="NOPE")


# -- tensor-likes without a framework -------------------------------------------------


class FakeBf16:
    """Mimics a tensor whose .numpy() returns bf16 bit patterns and which has no cast method."""

    dtype = "bfloat16"

    def __init__(self, values: np.ndarray) -> None:
        self._bits = (values.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)

    def numpy(self) -> np.ndarray:
        return self._bits.copy()


class FakeTorchBf16(FakeBf16):
    """Like torch: bf16 .numpy() fails; .float() casts."""

    dtype = "torch.bfloat16"

    def numpy(self) -> np.ndarray:
        raise TypeError("Got unsupported ScalarType BFloat16")

    def float(self) -> FakeFloat:
        return FakeFloat((self._bits.astype(np.uint32) << 16).view(np.float32))


class FakeFloat:
    dtype = "float32"

    def __init__(self, values: np.ndarray) -> None:
        self._values = values

    def numpy(self) -> np.ndarray:
        return self._values  # shares memory, like torch


@pytest.mark.parametrize("cls", [FakeBf16, FakeTorchBf16])
def test_bf16_tensor_like(tmp_path: Path, cls: type) -> None:
    values = np.array([[0.0, 0.5], [0.25, 1.0]], dtype=np.float32)  # exactly representable in bf16
    stub = Image(cls(values)).to_stub(tmp_path, "bf", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), (values * 255).astype(np.uint8))


def test_tensor_sharing_memory_is_snapshotted(tmp_path: Path) -> None:
    values = np.full((2, 2), 0.5, dtype=np.float32)
    image = Image(FakeFloat(values))
    values[...] = 0
    np.testing.assert_array_equal(pixels(tmp_path, image.to_stub(tmp_path, "k", 0)), [[127, 127], [127, 127]])


def test_encoded_png_is_decodable_from_bytes(tmp_path: Path) -> None:
    stub = Image(rgb()).to_stub(tmp_path, "k", 0)
    raw = (tmp_path / "files" / stub["path"]).read_bytes()
    assert PILImage.open(io.BytesIO(raw)).format == "PNG"
