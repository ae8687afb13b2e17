"""Paddle tensors of every dtype in log(): one-element tensors become numbers, larger ones histograms."""

from __future__ import annotations

import math

import pytest

import wakelog
from tests.conftest import history, user_keys

paddle = pytest.importorskip("paddle")
pytestmark = pytest.mark.paddle

DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [[], [1], [1, 1]])
def test_one_element_tensor_logs_as_a_python_number(dtype: str, shape: list[int]) -> None:
    value = paddle.full(shape, 1.5 if "float" in dtype else 1, dtype=dtype)
    run = wakelog.init(mode="offline")
    run.log({"v": value})
    run.finish()
    (row,) = history(run.run_dir)
    logged = row["v"]
    expected = True if dtype == "bool" else (1.5 if "float" in dtype else 1)
    assert logged == expected and type(logged) is type(expected)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16", "int64"])
def test_many_element_tensor_becomes_a_histogram_of_the_real_values(dtype: str) -> None:
    value = paddle.linspace(0, 10, 1000).astype(dtype)
    run = wakelog.init(mode="offline")
    run.log({"weights": value})
    run.finish()
    (row,) = history(run.run_dir)
    stub = row["weights"]
    assert stub["_type"] == "histogram" and sum(stub["values"]) == 1000
    assert math.isclose(stub["bins"][0], 0, abs_tol=0.1) and math.isclose(stub["bins"][-1], 10, abs_tol=0.1)


def test_nan_and_inf_tensors_are_kept() -> None:
    run = wakelog.init(mode="offline")
    run.log({"nan": paddle.to_tensor(float("nan")), "inf": paddle.to_tensor(float("inf"))})
    run.finish()
    (row,) = history(run.run_dir)
    assert math.isnan(row["nan"]) and row["inf"] == math.inf


def test_the_manual_loop_loss_tensor() -> None:
    """The community's loop logs the 0-d loss tensor straight from cross_entropy."""
    logits = paddle.to_tensor([[2.0, 0.5, 0.1]])
    loss = paddle.nn.functional.cross_entropy(logits, paddle.to_tensor([0]))
    run = wakelog.init(mode="offline")
    run.log({"loss": loss})
    run.finish()
    assert user_keys(history(run.run_dir)[0]) == {"loss": pytest.approx(float(loss), rel=1e-6)}
