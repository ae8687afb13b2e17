"""Train ResNet50 on CIFAR-10 through ``paddle.Model.fit`` with ``WakelogCallback``.

The same training as ``train_resnet_cifar.py``, written the hapi way. The callback records the
config, train/eval metrics, learning rate, throughput and the best checkpoint; afterwards the
script logs a confusion matrix and the misclassified test images::

    python examples/paddle/fit_resnet_cifar.py --data-dir ~/data/cifar10 --epochs 30
    python examples/paddle/fit_resnet_cifar.py --dataset digits --epochs 2 --stem imagenet
"""

from __future__ import annotations

import sys

import numpy as np
import paddle
from image_data import DatasetMissingError, augment, build_resnet, load, normalise
from paddle.static import InputSpec
from train_resnet_cifar import parse_args

import wakelog
from wakelog.integration.paddle import WakelogCallback, seed_everything

MAX_IMAGES = 64  # misclassified test images logged


class ImageDataset(paddle.io.Dataset):
    """uint8 N×3×32×32 images → (standardised float32 image, label of shape [1])."""

    def __init__(self, images, labels, mean, std, augment_seed: int | None = None) -> None:
        super().__init__()
        self.images, self.labels, self.mean, self.std = images, labels, mean, std
        self.rng = None if augment_seed is None else np.random.default_rng(augment_seed)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        image = self.images[index : index + 1]
        if self.rng is not None:
            image = augment(image, self.rng)
        return normalise(image, self.mean, self.std)[0], self.labels[index : index + 1]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seed_everything(args.seed)
    try:
        data = load(args.dataset, args.data_dir, seed=args.seed, limit=args.limit)
    except DatasetMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    mean, std, classes = data["mean"], data["std"], data["classes"]
    train = ImageDataset(
        data["x_train"],
        data["y_train"],
        mean,
        std,
        augment_seed=args.seed if args.dataset == "cifar10" else None,
    )
    test = ImageDataset(data["x_test"], data["y_test"], mean, std)
    steps_per_epoch = -(-len(train) // args.batch_size)

    network = build_resnet(args.arch, len(classes), args.stem)
    model = paddle.Model(
        network,
        inputs=[InputSpec([None, 3, 32, 32], "float32", "image")],
        labels=[InputSpec([None, 1], "int64", "label")],
    )
    schedule = paddle.optimizer.lr.CosineAnnealingDecay(args.lr, T_max=args.epochs * steps_per_epoch)
    optimizer = paddle.optimizer.Momentum(
        learning_rate=schedule, momentum=0.9, weight_decay=args.weight_decay, parameters=model.parameters()
    )
    model.prepare(optimizer, paddle.nn.CrossEntropyLoss(), paddle.metric.Accuracy())

    callback = WakelogCallback(
        project=args.project,
        log_freq=args.log_freq,
        log_checkpoints="best",
        monitor="acc",
        watch="gradients",
        config={"dataset": args.dataset, "arch": args.arch, "stem": args.stem, "seed": args.seed},
    )
    model.fit(train, test, batch_size=args.batch_size, epochs=args.epochs, verbose=2, callbacks=[callback])

    # Predictions for the test set, in order: a confusion matrix and the images it got wrong.
    (logits,) = model.predict(
        test, batch_size=args.batch_size, verbose=0, stack_outputs=True, callbacks=[callback]
    )
    predicted = np.asarray(logits).argmax(axis=1)
    actual = data["y_test"]
    wrong = np.flatnonzero(predicted != actual)[:MAX_IMAGES]
    images = [
        wakelog.Image(
            data["x_test"][i], caption=f"predicted {classes[predicted[i]]}, true {classes[actual[i]]}"
        )
        for i in wrong
    ]
    wakelog.log(
        {
            "eval/confusion_matrix": wakelog.plot.confusion_matrix(
                y_true=actual, preds=predicted, class_names=classes
            ),
            "eval/misclassified": images,
        }
    )
    run = callback.run
    run.summary["test/accuracy"] = float((predicted == actual).mean())
    wakelog.finish()
    print(f"run recorded in {run.run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
