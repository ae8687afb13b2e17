"""Train ResNet50 on CIFAR-10 with PaddlePaddle in a hand-written loop, logged with wakelog.

A wandb-style loop (``import wakelog as wandb``): per-step loss, accuracy and learning rate,
per-epoch evaluation, gradient histograms (``wandb.watch``) and the final checkpoint. CIFAR-10
must already be on disk (``--data-dir``, see ``image_data.py``); ``--dataset digits`` runs the
same script on scikit-learn's bundled digits::

    python examples/paddle/train_resnet_cifar.py --data-dir ~/data/cifar10 --epochs 30
    python examples/paddle/train_resnet_cifar.py --dataset digits --epochs 2 --stem imagenet

On a CPU, use ``--stem imagenet`` (and ``--limit``) for a quick run: the CIFAR stem keeps 32×32
feature maps through the first stage and costs ~5 s per batch of 16 there.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import paddle
import paddle.nn.functional as F
from image_data import DatasetMissingError, augment, build_resnet, load, normalise

import wakelog as wandb
from wakelog.integration.paddle import seed_everything


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["cifar10", "digits"], default="cifar10")
    parser.add_argument("--data-dir", help="folder with cifar-10-batches-py/ or cifar-10-python.tar.gz")
    parser.add_argument("--arch", choices=["resnet18", "resnet34", "resnet50"], default="resnet50")
    parser.add_argument("--stem", choices=["cifar", "imagenet"], default="cifar")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--limit", type=int, default=None, help="use only this many training images")
    parser.add_argument("--log-freq", type=int, default=10, help="log train metrics every N steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--project", default="paddle-cifar10")
    return parser.parse_args(argv)


def evaluate(model: paddle.nn.Layer, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float]:
    model.eval()
    losses, correct = 0.0, 0
    with paddle.no_grad():
        for start in range(0, len(x), batch_size):
            xb, yb = (
                paddle.to_tensor(x[start : start + batch_size]),
                paddle.to_tensor(y[start : start + batch_size]),
            )
            logits = model(xb)
            losses += float(F.cross_entropy(logits, yb[:, None], reduction="sum"))
            correct += int((logits.argmax(axis=1) == yb).astype("int64").sum())
    model.train()
    return losses / len(x), correct / len(x)


def define_metrics() -> None:
    """Train metrics on their own step counter; eval metrics per epoch, their best in the summary."""
    wandb.define_metric("train/step")
    wandb.define_metric("train/*", step_metric="train/step")
    wandb.define_metric("epoch")
    wandb.define_metric("eval/*", step_metric="epoch", summary="max")
    wandb.define_metric("eval/loss", step_metric="epoch", summary="min")


def train_epoch(
    model: paddle.nn.Layer,
    optimizer: paddle.optimizer.Optimizer,
    schedule: paddle.optimizer.lr.LRScheduler,
    data: dict,
    args: argparse.Namespace,
    epoch: int,
    step: int,
    rng: np.random.Generator,
) -> int:
    """One pass over the shuffled training set, logging every ``--log-freq`` steps; returns the new step."""
    model.train()
    y_train = data["y_train"]
    order = rng.permutation(len(y_train))
    started, seen = time.perf_counter(), 0
    for start in range(0, len(order), args.batch_size):
        batch = order[start : start + args.batch_size]
        images = data["x_train"][batch]
        if args.dataset == "cifar10":
            images = augment(images, rng)
        x = paddle.to_tensor(normalise(images, data["mean"], data["std"]))
        y = paddle.to_tensor(y_train[batch])
        logits = model(x)
        loss = F.cross_entropy(logits, y[:, None])
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        lr = optimizer.get_lr()
        schedule.step()
        step += 1
        seen += len(batch)
        if step % args.log_freq == 0 or start + args.batch_size >= len(order):
            accuracy = (logits.argmax(axis=1) == y).astype("float32").mean()
            elapsed = time.perf_counter() - started
            wandb.log(
                {
                    "train/step": step,
                    "train/loss": loss,
                    "train/acc": accuracy,
                    "train/lr": lr,
                    "train/epoch": epoch + (start + len(batch)) / len(order),
                    "train/samples_per_sec": seen / elapsed,
                }
            )
            started, seen = time.perf_counter(), 0
    return step


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seed_everything(args.seed)
    try:
        data = load(args.dataset, args.data_dir, seed=args.seed, limit=args.limit)
    except DatasetMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    x_test = normalise(data["x_test"], data["mean"], data["std"])
    y_train, y_test = data["y_train"], data["y_test"]
    steps_per_epoch = -(-len(y_train) // args.batch_size)

    run = wandb.init(project=args.project, config=vars(args))
    wandb.config.update(
        {"train_size": len(y_train), "test_size": len(y_test), "steps_per_epoch": steps_per_epoch}
    )
    define_metrics()

    model = build_resnet(args.arch, len(data["classes"]), args.stem)
    schedule = paddle.optimizer.lr.CosineAnnealingDecay(args.lr, T_max=args.epochs * steps_per_epoch)
    optimizer = paddle.optimizer.Momentum(
        learning_rate=schedule, momentum=0.9, weight_decay=args.weight_decay, parameters=model.parameters()
    )
    wandb.watch(model, log="gradients", log_freq=100)
    rng = np.random.default_rng(args.seed)
    step = 0
    for epoch in range(args.epochs):
        step = train_epoch(model, optimizer, schedule, data, args, epoch, step, rng)
        eval_loss, eval_acc = evaluate(model, x_test, y_test, args.batch_size)
        wandb.log({"epoch": epoch, "eval/loss": eval_loss, "eval/acc": eval_acc})
        print(f"epoch {epoch}: eval loss {eval_loss:.4f}, accuracy {eval_acc:.3f}", flush=True)

    checkpoint = f"{run.dir}/{args.arch}-{args.dataset}.pdparams"
    paddle.save(model.state_dict(), checkpoint)
    wandb.save(checkpoint, base_path=run.dir, policy="now")
    wandb.finish()
    print(f"run recorded in {run.run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
