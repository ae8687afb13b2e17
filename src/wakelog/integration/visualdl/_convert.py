"""What each ``LogWriter.add_*`` call becomes in wakelog: ``{key: value}`` for one history row.

Each converter takes the call's arguments by VisualDL's names (``self`` included) and returns the
row's values, or None when the call records nothing in the history (``add_hparams`` goes to the
config). Pixels are made as VisualDL makes them (its own ``denormalization`` and
``convert_to_HWC``), histograms with VisualDL's ``numpy.histogram`` bucketing, PR and ROC curves
with VisualDL's thresholds (``curve_points``: VisualDL's own ``compute_curve`` uses ``np.float``,
gone since numpy 1.24).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wakelog.sdk import media
from wakelog.sdk._init import current_run

_MINIMUM_COUNT = 1e-7  # VisualDL's floor under a curve's denominators


def scalars(main_tag: str, tag_scalar_dict: dict[str, Any], **_: Any) -> dict[str, Any]:
    return {f"{main_tag}/{sub}": float(value) for sub, value in tag_scalar_dict.items()}


def image(tag: str, img: Any, dataformats: str = "HWC", **_: Any) -> dict[str, Any]:
    from visualdl.component.base_component import convert_to_HWC, denormalization

    pixels = convert_to_HWC(denormalization(np.array(img, copy=True)), dataformats)
    return {tag: media.Image(pixels)}


def figure(tag: str, figure: Any, **_: Any) -> dict[str, Any]:
    return {tag: media.Image(figure)}


def text(tag: str, text_string: Any, **_: Any) -> dict[str, Any]:
    return {tag: str(text_string)}


def histogram(tag: str, values: Any, buckets: int = 10, **_: Any) -> dict[str, Any]:
    counts, edges = np.histogram(values, bins=buckets)
    return {tag: media.Histogram(np_histogram=(counts, edges))}


def audio(tag: str, audio_array: Any, sample_rate: int = 8000, **_: Any) -> dict[str, Any]:
    samples = np.clip(np.asarray(audio_array, dtype=np.float64).squeeze(), -1.0, 1.0)
    return {tag: media.Audio(samples, sample_rate=int(sample_rate))}


def curve_points(labels: Any, predictions: Any, num_thresholds: int, weights: Any) -> dict[str, np.ndarray]:
    """True/false positives and negatives at VisualDL's ``num_thresholds`` evenly spaced thresholds."""
    truth = np.asarray(labels, dtype=np.float64)
    scores = np.asarray(predictions, dtype=np.float64)
    weight = 1.0 if weights is None else weights
    buckets = np.floor(scores * (num_thresholds - 1)).astype(np.int32)
    span = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(buckets, bins=num_thresholds, range=span, weights=truth * weight)
    fp_buckets, _ = np.histogram(buckets, bins=num_thresholds, range=span, weights=(1.0 - truth) * weight)
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    return {
        "threshold": np.linspace(0.0, 1.0, num_thresholds),
        "tp": tp,
        "fp": fp,
        "tn": fp[0] - fp,
        "fn": tp[0] - tp,
    }


def _curve_table(columns: dict[str, np.ndarray]) -> media.Table:
    names = list(columns)
    rows = np.column_stack([columns[n] for n in names]).astype(float).tolist()
    return media.Table(columns=names, data=rows)


def pr_curve(
    tag: str, labels: Any, predictions: Any, num_thresholds: int = 10, weights: Any = None, **_: Any
) -> dict[str, Any]:
    points = curve_points(labels, predictions, num_thresholds, weights)
    tp, fp, fn = points["tp"], points["fp"], points["fn"]
    points["precision"] = tp / np.maximum(_MINIMUM_COUNT, tp + fp)
    points["recall"] = tp / np.maximum(_MINIMUM_COUNT, tp + fn)
    return {tag: media.plot.line(_curve_table(points), "recall", "precision", title=tag)}


def roc_curve(
    tag: str, labels: Any, predictions: Any, num_thresholds: int = 10, weights: Any = None, **_: Any
) -> dict[str, Any]:
    points = curve_points(labels, predictions, num_thresholds, weights)
    tp, fp, tn, fn = points["tp"], points["fp"], points["tn"], points["fn"]
    points["tpr"] = tp / np.maximum(_MINIMUM_COUNT, tp + fn)
    points["fpr"] = fp / np.maximum(_MINIMUM_COUNT, fp + tn)
    return {tag: media.plot.line(_curve_table(points), "fpr", "tpr", title=tag)}


def embeddings(
    tag: str,
    mat: Any = None,
    metadata: Any = None,
    metadata_header: Any = None,
    labels: Any = None,
    hot_vectors: Any = None,
    labels_meta: Any = None,
    **_: Any,
) -> dict[str, Any]:
    """A table: the label columns (``metadata_header``, else ``label``) and an ``embedding`` column."""
    matrix = mat if mat is not None else hot_vectors
    matrix = matrix.tolist() if isinstance(matrix, np.ndarray) else matrix
    vectors = [[float(x) for x in row] for row in matrix]  # rows may differ in length, as in VisualDL
    found = metadata if metadata is not None else labels
    found = found.tolist() if isinstance(found, np.ndarray) else list(found)
    header = metadata_header if metadata_header is not None else labels_meta
    columns_of_labels = found if found and isinstance(found[0], list) else [found]
    names = list(header) if header else [f"label_{i}" for i in range(len(columns_of_labels))]
    if len(columns_of_labels) == 1 and not header:
        names = ["label"]
    rows = [[*(column[i] for column in columns_of_labels), vector] for i, vector in enumerate(vectors)]
    return {tag: media.Table(columns=[*names, "embedding"], data=rows)}


def hparams(hparams_dict: Any, metrics_list: Any, **_: Any) -> None:
    """Into the run's config (VisualDL keeps ints, floats and strings, and drops None)."""
    run = current_run()
    if run is not None and isinstance(hparams_dict, dict) and isinstance(metrics_list, list):
        kept = {k: v for k, v in hparams_dict.items() if isinstance(v, int | float | str)}
        run.config.update(kept, allow_val_change=True)


#: ``LogWriter`` method → converter (``add_scalar`` has its own fast wrapper in ``_patch.py``).
CONVERTERS = {
    "add_scalars": scalars,
    "add_image": image,
    "add_figure": figure,
    "add_text": text,
    "add_histogram": histogram,
    "add_audio": audio,
    "add_pr_curve": pr_curve,
    "add_roc_curve": roc_curve,
    "add_embeddings": embeddings,
    "add_hparams": hparams,
}
