"""ROC and precision-recall points for one class, in numpy, so the plots need no scikit-learn.

The points are the ones ``sklearn.metrics.roc_curve`` (with its default
``drop_intermediate=True``) and ``precision_recall_curve`` return; the tests
compare them with scikit-learn's own output where it is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def _counts(is_positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positives when thresholding at each distinct score, highest first."""
    import numpy as np

    order = np.argsort(scores, kind="mergesort")[::-1]
    scores = scores[order]
    hits = is_positive[order].astype(np.float64)
    # The last sample of each run of equal scores: a threshold there counts the whole run.
    last = np.r_[np.flatnonzero(np.diff(scores)), hits.size - 1]
    tps = np.cumsum(hits)[last]
    fps = 1 + last - tps
    return fps, tps


def roc_points(is_positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates, starting at (0, 0), without collinear interior points."""
    import numpy as np

    fps, tps = _counts(is_positive, scores)
    if fps.size > 2:
        corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.flatnonzero(np.r_[True, corner, True])
        fps, tps = fps[keep], tps[keep]
    fps = np.r_[0.0, fps]
    tps = np.r_[0.0, tps]
    with np.errstate(invalid="ignore", divide="ignore"):  # no negatives (or positives): NaN, as sklearn
        fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
        tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
    return fpr, tpr


def pr_points(is_positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall, by decreasing recall, ending at (precision 1, recall 0)."""
    import numpy as np

    fps, tps = _counts(is_positive, scores)
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    recall = tps / tps[-1] if tps[-1] > 0 else np.ones_like(tps)
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0]
