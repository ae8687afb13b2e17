"""Media from real PaddlePaddle tensors (float32, bfloat16, uint8)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from wakelog.sdk.media import Histogram, Image, Table

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "No ccache found" on import
    paddle = pytest.importorskip("paddle")

pytestmark = pytest.mark.paddle


def pixels(run_dir: Path, stub: dict) -> np.ndarray:
    return np.asarray(PILImage.open(run_dir / "files" / stub["path"]))


def test_float32_chw_tensor(tmp_path: Path) -> None:
    hwc = np.random.default_rng(0).random((6, 5, 3)).astype(np.float32)
    tensor = paddle.to_tensor(hwc.transpose(2, 0, 1))
    image = Image(tensor)
    tensor.set_value(paddle.zeros_like(tensor))  # in-place change after construction
    stub = image.to_stub(tmp_path, "t", 0)
    assert (stub["width"], stub["height"]) == (5, 6)
    np.testing.assert_array_equal(pixels(tmp_path, stub), (hwc * 255).astype(np.uint8))  # truncated, as wandb


def test_bf16_tensor_uses_values_not_bits(tmp_path: Path) -> None:
    values = np.array([[0.0, 0.25], [0.5, 1.0]], dtype=np.float32)  # exact in bf16
    tensor = paddle.to_tensor(values, dtype="bfloat16")
    assert tensor.numpy().dtype == np.uint16  # the trap this guards against
    stub = Image(tensor).to_stub(tmp_path, "bf", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), (values * 255).astype(np.uint8))


def test_uint8_hwc_tensor(tmp_path: Path) -> None:
    arr = np.random.default_rng(1).integers(0, 256, size=(4, 7, 4), dtype=np.uint8)
    stub = Image(paddle.to_tensor(arr)).to_stub(tmp_path, "u8", 0)
    np.testing.assert_array_equal(pixels(tmp_path, stub), arr)


def test_histogram_of_tensors(tmp_path: Path) -> None:
    data = np.random.default_rng(2).normal(size=500).astype(np.float32)
    stub = Histogram(paddle.to_tensor(data), num_bins=16).to_stub(tmp_path, "h", 0)
    assert stub["values"] == np.histogram(data.astype(np.float64), bins=16)[0].tolist()

    bf = paddle.to_tensor(data, dtype="bfloat16")
    as_float = bf.astype("float32").numpy().astype(np.float64)
    hist = Histogram(bf, num_bins=16)
    assert hist.histogram == np.histogram(as_float, bins=16)[0].tolist()
    assert -10 < hist.bins[0] < hist.bins[-1] < 10  # uint16 bits would span 0..65535


def test_table_cells_from_tensors() -> None:
    t = Table(columns=["loss", "vec"])
    t.add_data(paddle.to_tensor(0.5), paddle.to_tensor([1, 2], dtype="int64"))
    t.add_data(paddle.to_tensor([1.5], dtype="bfloat16"), paddle.to_tensor([3, 4], dtype="int64"))
    assert t.data == [[0.5, [1, 2]], [1.5, [3, 4]]]  # one-element tensors become scalars
