"""Tiny PaddlePaddle models and data for the integration tests (fast on a CPU)."""

from __future__ import annotations

import warnings

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "No ccache found" on import
    import paddle
from paddle.static import InputSpec

FEATURES, CLASSES = 64, 10


class Digits(paddle.io.Dataset):
    """Samples ``start:stop`` of a fixed synthetic 10-class problem: 64 features, labels of shape
    [1] as hapi wants. The label is the argmax of a fixed linear map, so a small MLP learns it.
    (Synthetic rather than scikit-learn's digits: importing sklearn costs a second per process.)
    """

    def __init__(self, start: int, stop: int) -> None:
        super().__init__()
        rng = np.random.default_rng(1234)
        x = rng.standard_normal((2000, FEATURES)).astype("float32")
        mapping = rng.standard_normal((FEATURES, CLASSES)).astype("float32")
        self.x = x[start:stop]
        self.y = (x @ mapping).argmax(axis=1).astype("int64")[start:stop, None]

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int):
        return self.x[index], self.y[index]


def mlp(seed: int = 0) -> paddle.nn.Layer:
    paddle.seed(seed)
    return paddle.nn.Sequential(
        paddle.nn.Linear(FEATURES, 32), paddle.nn.ReLU(), paddle.nn.Linear(32, CLASSES)
    )


MLP_PARAMETERS = FEATURES * 32 + 32 + 32 * CLASSES + CLASSES


def hapi_model(network: paddle.nn.Layer | None = None, optimizer=None) -> paddle.Model:
    network = network if network is not None else mlp()
    model = paddle.Model(
        network,
        inputs=[InputSpec([None, FEATURES], "float32", "x")],
        labels=[InputSpec([None, 1], "int64", "label")],
    )
    optimizer = optimizer or paddle.optimizer.Adam(learning_rate=0.01, parameters=network.parameters())
    model.prepare(optimizer, paddle.nn.CrossEntropyLoss(), paddle.metric.Accuracy())
    return model


def eval_loss_and_accuracy(network: paddle.nn.Layer, data: Digits) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over the whole set, computed directly."""
    network.eval()
    with paddle.no_grad():
        logits = network(paddle.to_tensor(data.x))
        losses = paddle.nn.functional.cross_entropy(logits, paddle.to_tensor(data.y), reduction="none")
    network.train()
    predicted = logits.numpy().argmax(axis=1)
    return float(losses.numpy().mean()), float((predicted == data.y[:, 0]).mean())
