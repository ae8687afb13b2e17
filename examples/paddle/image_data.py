"""Data and model for the ResNet examples: CIFAR-10 from a local folder, or scikit-learn's digits.

CIFAR-10 cannot be downloaded by these examples; point ``--data-dir`` at a folder holding either
the python version of the dataset, extracted (``cifar-10-batches-py/data_batch_1`` … ``_5`` and
``test_batch``), or its archive ``cifar-10-python.tar.gz`` (the file Paddle's own
``paddle.vision.datasets.Cifar10`` caches). ``--dataset digits`` runs the same code anywhere on
scikit-learn's bundled 8×8 digits, upscaled to 32×32 RGB.
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np

CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
DIGIT_CLASSES = [str(i) for i in range(10)]
_TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
_TEST_BATCH = "test_batch"
# Per-channel mean and std of the CIFAR-10 training set (on the 0..1 scale).
CIFAR10_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
CIFAR10_STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)


class DatasetMissingError(FileNotFoundError):
    """The dataset is not in the folder given; the message says what is expected."""


def _read_batch(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    entry = pickle.loads(raw, encoding="bytes")
    data = np.asarray(entry[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(entry[b"labels"], dtype=np.int64)
    return data, labels


def _missing(data_dir: Path, why: str) -> DatasetMissingError:
    return DatasetMissingError(
        f"CIFAR-10 not found in {data_dir} ({why}). Expected the python version of the dataset "
        "from https://www.cs.toronto.edu/~kriz/cifar.html: either the archive cifar-10-python.tar.gz "
        "or the folder cifar-10-batches-py/ extracted from it (data_batch_1 … data_batch_5, "
        "test_batch). It cannot be downloaded from here; copy it there, or run on scikit-learn's "
        "bundled digits with --dataset digits."
    )


def load_cifar10(data_dir: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)``; images are uint8 N×3×32×32, labels int64."""
    data_dir = Path(data_dir).expanduser()
    if not data_dir.is_dir():
        raise _missing(data_dir, "no such folder")
    batches: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for folder in (data_dir / "cifar-10-batches-py", data_dir):
        if all((folder / name).is_file() for name in [*_TRAIN_BATCHES, _TEST_BATCH]):
            for name in [*_TRAIN_BATCHES, _TEST_BATCH]:
                batches[name] = _read_batch((folder / name).read_bytes())
            break
    else:
        archive = data_dir / "cifar-10-python.tar.gz"
        if not archive.is_file():
            raise _missing(data_dir, "neither cifar-10-batches-py/ nor cifar-10-python.tar.gz is there")
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if member.isfile() and name in [*_TRAIN_BATCHES, _TEST_BATCH]:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        batches[name] = _read_batch(handle.read())
        missing = [n for n in [*_TRAIN_BATCHES, _TEST_BATCH] if n not in batches]
        if missing:
            raise _missing(data_dir, f"{archive.name} lacks {', '.join(missing)}")
    x_train = np.concatenate([batches[n][0] for n in _TRAIN_BATCHES])
    y_train = np.concatenate([batches[n][1] for n in _TRAIN_BATCHES])
    x_test, y_test = batches[_TEST_BATCH]
    return x_train, y_train, x_test, y_test


def load_digits_rgb(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's digits as uint8 N×3×32×32 images (8×8 upscaled 4×), split 80/20."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    small = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)  # N×8×8, 0..255
    big = small.repeat(4, axis=1).repeat(4, axis=2)  # N×32×32
    images = np.repeat(big[:, None], 3, axis=1)  # N×3×32×32
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target.astype(np.int64), test_size=0.2, random_state=seed, stratify=digits.target
    )
    return x_train, y_train, x_test, y_test


def load(dataset: str, data_dir: str | None, seed: int = 0, limit: int | None = None) -> dict:
    """The chosen dataset as a dict: x_train, y_train, x_test, y_test, classes, mean, std."""
    if dataset == "cifar10":
        if data_dir is None:
            raise _missing(Path("."), "pass --data-dir")
        x_train, y_train, x_test, y_test = load_cifar10(data_dir)
        classes, mean, std = CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD
    elif dataset == "digits":
        x_train, y_train, x_test, y_test = load_digits_rgb(seed)
        classes = DIGIT_CLASSES
        mean = np.full(3, x_train.mean() / 255.0, dtype=np.float32)
        std = np.full(3, x_train.std() / 255.0, dtype=np.float32)
    else:
        raise ValueError(f"unknown dataset {dataset!r}: use cifar10 or digits")
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[: max(limit // 4, 1)], y_test[: max(limit // 4, 1)]
    return {
        "x_train": x_train,
        "y_train": y_train,
        "x_test": x_test,
        "y_test": y_test,
        "classes": classes,
        "mean": mean,
        "std": std,
    }


def normalise(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """uint8 N×3×H×W → float32, per-channel standardised."""
    return ((images.astype(np.float32) / 255.0) - mean[:, None, None]) / std[:, None, None]


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """CIFAR's standard augmentation on a uint8 batch: 4-pixel padded random crop, random flip."""
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (4, 4), (4, 4)), mode="reflect")
    out = np.empty_like(images)
    tops, lefts = rng.integers(0, 9, n), rng.integers(0, 9, n)
    flips = rng.random(n) < 0.5
    for i in range(n):
        crop = padded[i, :, tops[i] : tops[i] + h, lefts[i] : lefts[i] + w]
        out[i] = crop[:, :, ::-1] if flips[i] else crop
    return out


def build_resnet(arch: str, num_classes: int, stem: str):
    """A paddle.vision ResNet; the ``cifar`` stem (3×3 stride-1 conv, no max-pool) suits 32×32 input.

    The ImageNet stem shrinks a 32×32 image to 8×8 before the first block: much cheaper (what the
    smoke tests use) but less accurate.
    """
    import paddle
    from paddle.vision import models

    builders = {"resnet18": models.resnet18, "resnet34": models.resnet34, "resnet50": models.resnet50}
    if arch not in builders:
        raise ValueError(f"unknown --arch {arch!r}: use one of {', '.join(builders)}")
    model = builders[arch](num_classes=num_classes)
    if stem == "cifar":
        model.conv1 = paddle.nn.Conv2D(3, 64, kernel_size=3, stride=1, padding=1, bias_attr=False)
        model.maxpool = paddle.nn.Identity()
    elif stem != "imagenet":
        raise ValueError(f"unknown --stem {stem!r}: use cifar or imagenet")
    return model
