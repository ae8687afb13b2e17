"""Train a small CNN on scikit-learn's bundled digits with PaddlePaddle, logged with wakelog.

The classic wandb manual loop, unchanged but for the import; it runs anywhere, offline, on a CPU
in well under a minute::

    python examples/paddle/train_digits.py --epochs 3     # this file (linked there)
    python -m wakelog.demo.train_digits --epochs 3        # the same, from an installed wakelog

``wakelog demo`` runs it against a local server.
"""

from __future__ import annotations

import argparse

import numpy as np
import paddle
import paddle.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import wakelog as wandb


class SmallCNN(paddle.nn.Layer):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = paddle.nn.Conv2D(1, 16, 3, padding=1)
        self.conv2 = paddle.nn.Conv2D(16, 32, 3, padding=1)
        self.fc = paddle.nn.Linear(32 * 2 * 2, num_classes)

    def forward(self, x: paddle.Tensor) -> paddle.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(paddle.flatten(x, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--project", default="paddle-digits")
    args = parser.parse_args()

    paddle.seed(args.seed)
    np.random.seed(args.seed)
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[:, None]  # N×1×8×8 in [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target.astype("int64"), test_size=0.2, random_state=args.seed
    )

    run = wandb.init(project=args.project, config=args)
    wandb.config.update({"model": "SmallCNN", "train_size": len(x_train)})
    model = SmallCNN()
    optimizer = paddle.optimizer.Adam(learning_rate=wandb.config.lr, parameters=model.parameters())

    for epoch in range(args.epochs):
        model.train()
        order = np.random.permutation(len(x_train))
        for start in range(0, len(order), args.batch_size):
            batch = order[start : start + args.batch_size]
            logits = model(paddle.to_tensor(x_train[batch]))
            loss = F.cross_entropy(logits, paddle.to_tensor(y_train[batch]))
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            wandb.log({"train/loss": loss, "epoch": epoch}, commit=False)
            wandb.log({"train/lr": optimizer.get_lr()})

        model.eval()
        with paddle.no_grad():
            logits = model(paddle.to_tensor(x_test))
            predictions = logits.argmax(axis=1).numpy()
        accuracy = float((predictions == y_test).mean())
        wandb.log({"eval/accuracy": accuracy, "epoch": epoch})
        print(f"epoch {epoch}: eval accuracy {accuracy:.3f}")

    wandb.run.summary["best_accuracy"] = accuracy
    paddle.save(model.state_dict(), "final_model.pdparams")
    wandb.save("final_model.pdparams", policy="now")
    wandb.finish()
    print(f"run {'page: ' + run.url if run.url else 'recorded in ' + str(run.run_dir)}")


if __name__ == "__main__":
    main()
