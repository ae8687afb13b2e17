"""wakelog.watch(model): gradient/parameter histograms of a paddle.nn.Layer equal numpy's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import wakelog
from tests.conftest import history

paddle = pytest.importorskip("paddle")
pytestmark = pytest.mark.paddle

from tests.integration.paddle_helpers import MLP_PARAMETERS, mlp  # noqa: E402
from wakelog.integration.paddle import tensor_histogram  # noqa: E402

FLOATS = ["float32", "float64", "float16", "bfloat16"]


def known_values(dtype: str) -> paddle.Tensor:
    # Quarter-integers are exact in every float type, and with 64 bins over [-8, 7.75] none sits
    # on an inner bin edge (only the minimum and maximum are edges), so every method must agree.
    values = np.arange(-32, 32, dtype=np.float64) / 4
    values = np.concatenate([values, values[::3], [1.25] * 7]).reshape(3, 31)
    return paddle.to_tensor(values.astype("float32")).astype(dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("on_device", [False, True])
def test_tensor_histogram_equals_numpy(dtype: str, on_device: bool) -> None:
    tensor = known_values(dtype)
    counts, edges = tensor_histogram(tensor, on_device=on_device)
    expected_counts, expected_edges = np.histogram(tensor.astype("float32").numpy(), 64)
    np.testing.assert_array_equal(counts, expected_counts)
    np.testing.assert_allclose(edges, expected_edges, rtol=1e-7)


def test_host_histogram_of_random_values_is_exactly_numpys() -> None:
    values = np.random.default_rng(0).standard_normal((300, 70)).astype(np.float32)
    counts, edges = tensor_histogram(paddle.to_tensor(values))
    expected = np.histogram(values, 64)
    np.testing.assert_array_equal(counts, expected[0])
    np.testing.assert_array_equal(edges, expected[1])


@pytest.mark.parametrize("on_device", [False, True])
def test_non_finite_values_are_left_out_and_constants_binned_like_numpy(on_device: bool) -> None:
    tensor = paddle.to_tensor([1.0, float("nan"), float("inf"), -float("inf"), 3.0, 2.0])
    counts, edges = tensor_histogram(tensor, 4, on_device=on_device)
    np.testing.assert_array_equal(counts, np.histogram([1.0, 3.0, 2.0], 4)[0])
    assert edges[0] == 1.0 and edges[-1] == 3.0
    constant = paddle.full([5], 2.0)
    counts, edges = tensor_histogram(constant, on_device=on_device)
    expected = np.histogram(np.full(5, 2.0), 64)
    np.testing.assert_array_equal(counts, expected[0])
    np.testing.assert_allclose(edges, expected[1])


def step(net: paddle.nn.Layer, optimizer, seed: int) -> dict[str, np.ndarray]:
    """One training step; returns the gradients backward produced (before clear_grad)."""
    rng = np.random.default_rng(seed)
    x = paddle.to_tensor(rng.standard_normal((8, 64)).astype("float32"))
    y = paddle.to_tensor(rng.integers(0, 10, (8, 1)))
    loss = paddle.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    grads = {name: p.grad.numpy().copy() for name, p in net.named_parameters()}
    optimizer.step()
    optimizer.clear_grad()
    return grads


def test_gradient_and_parameter_histograms_match_numpy_at_log_freq() -> None:
    run = wakelog.init(mode="offline")
    net = mlp()
    optimizer = paddle.optimizer.SGD(learning_rate=0.1, parameters=net.parameters())
    wakelog.watch(net, log="all", log_freq=2)
    expected = []
    for i in range(4):
        weights = {name: p.numpy().copy() for name, p in net.named_parameters()}
        grads = step(net, optimizer, seed=i)
        expected.append((weights, grads))
        run.log({"i": i})
    run.finish()
    rows = history(run.run_dir)
    logged = [i for i, row in enumerate(rows) if any(k.startswith("gradients/") for k in row)]
    assert logged == [1, 3]  # every 2nd backward pass / training forward
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    for index in logged:
        weights, grads = expected[index]
        for name in names:
            for kind, values in (("gradients", grads[name]), ("parameters", weights[name])):
                stub = rows[index][f"{kind}/{name}"]
                counts, edges = np.histogram(values, 64)
                assert stub["_type"] == "histogram"
                assert stub["values"] == counts.tolist(), (kind, name)
                np.testing.assert_allclose(stub["bins"], edges, rtol=1e-6)


def test_model_summary_logged_once_with_counts() -> None:
    run = wakelog.init(mode="offline")
    (handle,) = run.watch(mlp(), log=None)
    assert not handle.active  # log=None: the summary only, no hooks
    run.finish()
    (row,) = history(run.run_dir)
    stub = row["model/summary"]
    table = __import__("json").loads((run.run_dir / "files" / stub["path"]).read_text())
    assert table["columns"] == ["layer", "type", "parameter_shapes", "parameters", "trainable"]
    assert table["data"] == [
        ["0", "Linear", "[64, 32], [32]", 64 * 32 + 32, 64 * 32 + 32],
        ["1", "ReLU", "", 0, 0],
        ["2", "Linear", "[32, 10], [10]", 330, 330],
        ["(total)", "Sequential", "", MLP_PARAMETERS, MLP_PARAMETERS],
    ]
    assert run.summary["model/parameters"] == MLP_PARAMETERS


def test_unwatch_and_finish_remove_the_hooks() -> None:
    run = wakelog.init(mode="offline")
    net = mlp()
    optimizer = paddle.optimizer.SGD(learning_rate=0.1, parameters=net.parameters())
    (handle,) = wakelog.watch(net, log="all", log_freq=1)
    step(net, optimizer, 0)
    run.log({"i": 0})
    wakelog.unwatch(net)
    assert not handle.active
    step(net, optimizer, 1)
    run.log({"i": 1})
    (handle,) = run.watch(net, log="gradients", log_freq=1)
    run.finish()
    assert not handle.active
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "log() after finish" from a forgotten hook
        step(net, optimizer, 2)
    rows = history(run.run_dir)
    assert any(k.startswith("gradients/") for k in rows[0])
    assert not any(k.startswith(("gradients/", "parameters/")) for k in rows[1])


class Scale(paddle.nn.Layer):
    """A layer with one low-precision parameter and a forward the CPU kernels support."""

    def __init__(self, dtype: str) -> None:
        super().__init__()
        self.weight = self.create_parameter([64, 32], dtype="float32")
        self.weight.set_value(paddle.linspace(-0.75, 0.5, 64 * 32).reshape([64, 32]))
        self.to(dtype=dtype)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        return (x * self.weight.astype("float32")).sum()


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_parameters_and_gradients_are_cast_to_float32(dtype: str) -> None:
    run = wakelog.init(mode="offline")
    net = Scale(dtype)
    weights = net.weight.astype("float32").numpy().copy()
    wakelog.watch(net, log="all", log_freq=1)
    x = paddle.to_tensor(np.linspace(-2, 3, 64 * 32, dtype=np.float32).reshape(64, 32))
    net(x).backward()
    gradient = net.weight.grad.astype("float32").numpy()
    run.finish()
    row = history(run.run_dir)[0]
    for key, values in (("parameters/weight", weights), ("gradients/weight", gradient)):
        counts, edges = np.histogram(values, 64)
        assert row[key]["values"] == counts.tolist()
        np.testing.assert_allclose(row[key]["bins"], edges)  # real values, not uint16 bit patterns
    assert row["parameters/weight"]["bins"][0] == -0.75 and row["gradients/weight"]["bins"][-1] == 3


def test_several_models_get_prefixes_and_a_paddle_model_is_unwrapped() -> None:
    run = wakelog.init(mode="offline")
    first, second = mlp(), mlp(1)
    hapi = paddle.Model(second)
    run.watch([first, hapi], log="parameters", log_freq=1)
    first(paddle.randn([2, 64]))
    second(paddle.randn([2, 64]))
    run.finish()
    keys = set().union(*history(run.run_dir))
    assert {"parameters/0.weight", "parameters/graph_1.0.weight"} <= keys
    assert {"model/summary", "model/graph_1/summary"} <= keys


def test_eval_forwards_do_not_log_parameters() -> None:
    run = wakelog.init(mode="offline")
    net = mlp()
    wakelog.watch(net, log="parameters", log_freq=1)
    net.eval()
    net(paddle.randn([2, 64]))
    run.log({"x": 1})
    run.finish()
    assert not any(k.startswith("parameters/") for k in history(run.run_dir)[-1])


def test_bad_calls() -> None:
    with pytest.raises(wakelog.UsageError, match="init"):
        wakelog.watch(mlp())
    run = wakelog.init(mode="offline")
    with pytest.raises(TypeError, match="paddle.nn.Layer"):
        wakelog.watch(object())
    with pytest.raises(wakelog.UsageError):
        wakelog.watch(mlp(), log="weights")
    with pytest.raises(wakelog.UsageError):
        wakelog.watch(mlp(), log_freq=0)
    run.finish()


def test_disabled_run_puts_no_hooks() -> None:
    run = wakelog.init(mode="disabled")
    assert run.watch(mlp(), log="all") == []
    run.finish()
