"""Sweep the digits CNN's learning rate, batch size and optimizer, trained with ``paddle.Model.fit``
and ``WakelogCallback``; the search is ``sweep_digits.yaml`` (a wandb sweep configuration)::

    python examples/paddle/sweep_digits.py --sweep --count 4   # create the sweep, run 4 trials here
    wakelog sweep sweep_digits.yaml && wakelog agent ENTITY/PROJECT/ID   # the same from the shell
    python -m wakelog.demo.sweep_digits --lr 0.01                # one training, no sweep

Each trial is one ``train()``: ``wakelog.init`` inside it receives the trial's values in
``wakelog.config`` (locked against changes), so the script reads its hyper-parameters from there.
``wakelog demo --sweep`` runs this against a local server.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import paddle
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import wakelog
from wakelog.demo.train_digits import SmallCNN
from wakelog.integration.paddle import WakelogCallback, seed_everything

SWEEP_FILE = Path(__file__).resolve().with_name("sweep_digits.yaml")
OPTIMIZERS = {
    "adam": lambda lr, params: paddle.optimizer.Adam(learning_rate=lr, parameters=params),
    "momentum": lambda lr, params: paddle.optimizer.Momentum(
        learning_rate=lr, momentum=0.9, parameters=params
    ),
    "sgd": lambda lr, params: paddle.optimizer.SGD(learning_rate=lr, parameters=params),
}


class Digits(paddle.io.Dataset):
    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        super().__init__()
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.images[index], self.labels[index : index + 1]


def _data(seed: int) -> tuple[Digits, Digits]:
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[:, None]  # N×1×8×8 in [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target.astype("int64"), test_size=0.2, random_state=seed
    )
    return Digits(x_train, y_train), Digits(x_test, y_test)


def train(defaults: dict | None = None, project: str | None = None) -> None:
    """One trial: the sweep's values arrive in ``wakelog.config``; ``defaults`` fill the rest. In a
    sweep the run goes to the sweep's project."""
    defaults = {"lr": 1e-3, "batch_size": 64, "optimizer": "adam", "epochs": 4, "seed": 0, **(defaults or {})}
    run = wakelog.init(project=project, config=defaults)
    config = wakelog.config
    seed_everything(config.seed)
    train_set, test_set = _data(config.seed)
    model = paddle.Model(SmallCNN())
    optimizer = OPTIMIZERS[config.optimizer](config.lr, model.parameters())
    model.prepare(optimizer, paddle.nn.CrossEntropyLoss(), paddle.metric.Accuracy())
    callback = WakelogCallback(log_freq=10)
    model.fit(
        train_set,
        test_set,
        batch_size=config.batch_size,
        epochs=config.epochs,
        verbose=0,
        callbacks=[callback],
    )
    print(f"trial {run.id}: eval accuracy {run.summary['eval/acc']:.3f}", flush=True)
    wakelog.finish()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="create the sweep and run an agent here")
    parser.add_argument("--count", type=int, default=4, help="trials the agent runs (with --sweep)")
    parser.add_argument("--project", default="paddle-digits")
    # The values a trial's command line carries (wandb's ${args}); wakelog.config has them too.
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args(argv)
    if not args.sweep:
        values = {
            "lr": args.lr,
            "batch_size": args.batch_size,
            "optimizer": args.optimizer,
            "epochs": args.epochs,
        }
        train(values, project=None if os.environ.get("WAKELOG_SWEEP_ID") else args.project)
        return 0
    sweep_id = wakelog.sweep(str(SWEEP_FILE), project=args.project)
    wakelog.agent(sweep_id, function=train, count=args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
